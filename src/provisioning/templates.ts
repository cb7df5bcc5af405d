// templates.ts checks notification template groups as Grafana does before
// storing them: the text must parse with the Alertmanager's function map on
// top of the shared Go template engine (src/template/).

import { ConfigError, type AlertmanagerConfig } from '../alertmanager/config.js';
import { validateTemplates } from '../alertmanager/templates.js';
import { ProvisioningError } from './errors.js';

/** validateTemplateText parses a template group; a parse error is Grafana's ErrTemplateInvalid (400). */
export function validateTemplateText(name: string, text: string): void {
  try {
    validateTemplates([{ filename: name, body: text }], { templates: ['*'] } as unknown as AlertmanagerConfig);
  } catch (err) {
    const msg = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    throw new ProvisioningError(400, `Invalid format of the submitted template: ${msg}`, 'alerting.notifications.templates.invalidFormat');
  }
}
