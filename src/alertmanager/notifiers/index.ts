// index.ts imports every integration so each registers itself with the
// registry; the Alertmanager imports this module once.

import './webhook.js';

export { integrationFor, registerIntegration, RECEIVER_KEYS, type GlobalConfig } from './registry.js';
