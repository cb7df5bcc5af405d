// templates.ts checks notification template groups as Grafana does before
// storing them: the text must parse with Grafana's function map (the
// Alertmanager's and gomplate's namespaces) on top of the shared Go template
// engine (src/template/).

import { ProvisioningError } from './errors.js';
import { grafanaTemplateSet } from './grafana-notify.js';

/** validateTemplateText parses a template group; a parse error is Grafana's ErrTemplateInvalid (400). */
export function validateTemplateText(name: string, text: string): void {
  try {
    grafanaTemplateSet(false).parse(text, name);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ProvisioningError(400, `Invalid format of the submitted template: ${msg}`, 'alerting.notifications.templates.invalidFormat');
  }
}
