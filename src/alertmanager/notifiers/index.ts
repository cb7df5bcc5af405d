// index.ts imports every integration so each registers itself with the
// registry; the Alertmanager imports this module once.

import './webhook.js';

import './slack.js';
import './pagerduty.js';
import './opsgenie.js';
import './discord.js';
import './msteams.js';
import './webex.js';
import './telegram.js';
import './pushover.js';
import './victorops.js';
import './wechat.js';
import './rocketchat.js';
import './email.js';
import './jira.js';
import './sns.js';
import './mattermost.js';
import './incidentio.js';

export { integrationFor, registerIntegration, RECEIVER_KEYS, type GlobalConfig } from './registry.js';
