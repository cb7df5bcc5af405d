// test-options.ts builds the options of a tenant's alertmanager as the unit
// tests run it: tenant "t" with its state in dir, an hour of retention, no
// metrics, no URL checks and templates that expand to their text.

import { Logger } from '../log.js';
import type { InstanceOptions } from './instance.js';
import type { Expander } from './notifiers/notifier.js';

/** testInstanceOptions are the unit tests' instance options in dir, with extra options on top. */
export function testInstanceOptions(dir: string, extra: Partial<InstanceOptions> = {}): InstanceOptions {
  return {
    tenant: 't',
    dataDir: dir,
    retentionMs: 3_600_000,
    externalURL: 'http://am',
    logger: new Logger(),
    metrics: { notification: () => undefined },
    checkUrl: () => undefined,
    makeExpander: (): Expander => ({ text: (s) => s, html: (s) => s }),
    ...extra,
  };
}
