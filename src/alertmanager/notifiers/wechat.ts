// wechat.ts is the WeChat Work integration: an access token from
// `gettoken` (cached two hours) and a text or markdown message posted to
// `message/send`, as Alertmanager 0.35.

import { validateHttpConfig, NotifyError, type HTTPClientConfig, type Notifier } from './notifier.js';
import { globalString, inheritHttp, setDefaults, tmplRef } from './defaults.js';
import { goJson, nonEmpty, omit, renderer, secret, send, urlError, withSlash } from './payload.js';
import { registerIntegration, type IntegrationDeps } from './registry.js';

const TOKEN_TTL_MS = 2 * 3600_000;

/** WechatConfig is one entry of wechat_configs. */
export interface WechatConfig {
  send_resolved?: boolean;
  http_config?: HTTPClientConfig;
  api_secret?: string;
  api_secret_file?: string;
  corp_id?: string;
  message?: string;
  api_url?: string;
  to_user?: string;
  to_party?: string;
  to_tag?: string;
  agent_id?: string;
  message_type?: string;
}

function createWechat(entry: Record<string, unknown>, deps: IntegrationDeps): Notifier {
  const c = entry as WechatConfig;
  let accessToken = '';
  let accessTokenAt = 0;
  return {
    async notify(ctx, alerts) {
      const r = renderer(ctx, alerts);
      if (accessToken === '' || Date.now() - accessTokenAt > TOKEN_TTL_MS) {
        const u = new URL(c.api_url as string);
        u.pathname += 'gettoken';
        u.search = new URLSearchParams([
          ['corpid', r.text(c.corp_id)],
          ['corpsecret', r.text(secret(c.api_secret, c.api_secret_file))],
        ]).toString();
        const res = await send(ctx, c.http_config, u.toString(), undefined, { checkUrl: deps.checkUrl, method: 'GET' });
        let tok: { access_token?: string };
        try {
          tok = JSON.parse(res.body.toString('utf8')) as { access_token?: string };
        } catch (err) {
          throw new NotifyError((err as Error).message, false);
        }
        if (!nonEmpty(tok.access_token)) throw new NotifyError(`invalid APISecret for CorpID: ${c.corp_id ?? ''}`, false);
        accessToken = tok.access_token;
        accessTokenAt = Date.now();
      }
      const content = { content: r.text(c.message) };
      const markdown = c.message_type === 'markdown';
      const msg = {
        text: markdown ? { content: '' } : content,
        touser: omit(r.text(c.to_user)),
        toparty: omit(r.text(c.to_party)),
        totag: omit(r.text(c.to_tag)),
        agentid: omit(r.text(c.agent_id)),
        safe: '0',
        msgtype: omit(c.message_type ?? ''),
        markdown: markdown ? content : { content: '' },
      };
      const u = new URL(c.api_url as string);
      u.pathname += 'message/send';
      u.searchParams.set('access_token', accessToken);
      const res = await send(ctx, c.http_config, u.toString(), goJson(msg) + '\n', { checkUrl: deps.checkUrl, details: () => '' });
      if (res.status !== 200) throw new NotifyError(`unexpected status code ${res.status}`, true);
      let answer: { errcode?: number; errmsg?: string };
      try {
        answer = JSON.parse(res.body.toString('utf8')) as { errcode?: number; errmsg?: string };
      } catch (err) {
        throw new NotifyError((err as Error).message, true);
      }
      if ((answer.errcode ?? 0) === 0) return;
      if (answer.errcode === 42001) {
        accessToken = '';
        throw new NotifyError(answer.errmsg ?? '', true);
      }
      throw new NotifyError(answer.errmsg ?? '', false);
    },
  };
}

registerIntegration({
  key: 'wechat_configs',
  name: 'wechat',
  sendResolvedDefault: false,
  validate(entry, global) {
    setDefaults(entry, {
      message: tmplRef('wechat.default.message'),
      to_user: tmplRef('wechat.default.to_user'),
      to_party: tmplRef('wechat.default.to_party'),
      to_tag: tmplRef('wechat.default.to_tag'),
      agent_id: tmplRef('wechat.default.agent_id'),
    });
    const c = entry as WechatConfig;
    if (!nonEmpty(c.message_type)) c.message_type = 'text';
    if (!/^(text|markdown)$/.test(c.message_type)) return `weChat message type ${JSON.stringify(c.message_type)} does not match valid options ^(text|markdown)$`;
    if (nonEmpty(c.api_secret) && nonEmpty(c.api_secret_file)) return 'at most one of api_secret & api_secret_file must be configured';
    inheritHttp(entry, global);
    if (c.api_url === undefined) c.api_url = globalString(global, 'wechat_api_url');
    if (c.api_url === undefined) return 'no global Wechat URL set';
    const e = urlError(c.api_url, 'api_url');
    if (e !== undefined) return e;
    if (!nonEmpty(c.api_secret) && !nonEmpty(c.api_secret_file)) {
      if (!nonEmpty(global.wechat_api_secret) && !nonEmpty(global.wechat_api_secret_file)) return 'no global Wechat Api Secret set either inline or in a file';
      c.api_secret = global.wechat_api_secret as string | undefined;
      c.api_secret_file = global.wechat_api_secret_file as string | undefined;
    }
    if (!nonEmpty(c.corp_id)) c.corp_id = globalString(global, 'wechat_api_corp_id');
    if (!nonEmpty(c.corp_id)) return 'no global Wechat CorpID set';
    c.api_url = withSlash(c.api_url);
    return validateHttpConfig(c.http_config);
  },
  create: createWechat,
});
