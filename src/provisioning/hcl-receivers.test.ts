import t from 'tap';
import { encodeHcl } from './export.js';
import { parseHcl } from './import.js';

/** contactPoint wraps one integration as an export's contact point. */
function contactPoint(name: string, type: string, settings: Record<string, unknown>, disableResolveMessage = false): Record<string, unknown> {
  return { orgId: 1, name, receivers: [{ uid: `${name}-uid`, type, settings, disableResolveMessage }] };
}

t.test('webhook: Terraform attribute names, numbers, and the TLS, HMAC and OAuth2 blocks', async (t) => {
  const hcl = encodeHcl({
    apiVersion: 1,
    contactPoints: [
      contactPoint('hooks', 'webhook', {
        url: 'http://localhost',
        httpMethod: 'PUT',
        maxAlerts: '2',
        authorization_scheme: 'basic',
        username: 'u',
        password: 'p',
        title: 'a title',
        message: 'a message',
        tlsConfig: { insecureSkipVerify: false, caCertificate: 'CA' },
        hmacConfig: { secret: 's', header: 'X-Sig', timestampHeader: 'X-Ts' },
        http_config: { oauth2: { client_id: 'id', client_secret: 'sec', token_url: 'http://t', scopes: ['a', 'b'], endpoint_params: { k: 'v' } } },
        notAField: 'dropped',
      }),
    ],
  });
  const want = [
    /^resource "grafana_contact_point" "contact_point_[0-9a-f]{16}" \{/,
    '  name = "hooks"',
    '',
    '  webhook {',
    '    url                  = "http://localhost"',
    '    http_method          = "PUT"',
    '    max_alerts           = 2',
    '    authorization_scheme = "basic"',
    '    basic_auth_user      = "u"',
    '    basic_auth_password  = "p"',
    '    title                = "a title"',
    '    message              = "a message"',
    '',
    '    tlsConfig {',
    '      insecure_skip_verify = false',
    '      ca_certificate       = "CA"',
    '    }',
    '',
    '    hmacConfig {',
    '      secret           = "s"',
    '      header           = "X-Sig"',
    '      timestamp_header = "X-Ts"',
    '    }',
    '',
    '    http_config {',
    '',
    '      oauth2 {',
    '        client_id     = "id"',
    '        client_secret = "sec"',
    '        token_url     = "http://t"',
    '        scopes        = ["a", "b"]',
    '        endpoint_params = {',
    '          k = "v"',
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    '',
  ];
  const lines = hcl.split('\n');
  t.equal(lines.length, want.length, hcl);
  want.forEach((w, i) => (typeof w === 'string' ? t.equal(lines[i], w, `line ${i + 1}`) : t.match(lines[i], w, `line ${i + 1}`)));
  t.notMatch(hcl, /notAField|uid/, 'settings without a Terraform attribute, and the uid, are not written');
});

t.test('email, opsgenie, sns, alertmanager and LINE blocks', async (t) => {
  const hcl = encodeHcl({
    apiVersion: 1,
    contactPoints: [
      contactPoint('mail', 'email', { addresses: 'a@x.org; b@x.org,c@x.org', singleEmail: true, subject: 's' }, true),
      contactPoint('genie', 'opsgenie', {
        apiKey: 'k',
        apiUrl: 'http://og',
        autoClose: false,
        responders: [
          { id: 'team-1', type: 'team' },
          { username: 'bob', type: 'user' },
        ],
      }),
      contactPoint('aws', 'sns', { api_url: 'https://sns', sigv4: { region: 'us-east-1', role_arn: 'arn:r' }, topic_arn: 'arn:t', attributes: { a: 'b' } }),
      contactPoint('am', 'prometheus-alertmanager', { url: 'http://am', basicAuthUser: 'g', basicAuthPassword: 'pw' }),
      contactPoint('line', 'LINE', { token: 'tok', title: 'x' }),
    ],
  });
  t.match(hcl, '  email {\n    addresses               = ["a@x.org", "b@x.org", "c@x.org"]\n    single_email            = true\n    subject                 = "s"\n    disable_resolve_message = true\n  }');
  t.notMatch(hcl, 'send_tags_as', 'absent settings are not written');
  t.match(hcl, '    api_key    = "k"\n    url        = "http://og"\n    auto_close = false\n\n    responders {\n      id   = "team-1"\n      type = "team"\n    }\n    responders {\n      username = "bob"\n      type     = "user"\n    }');
  t.match(hcl, '    api_url = "https://sns"\n\n    sigv4 {\n      region   = "us-east-1"\n      role_arn = "arn:r"\n    }\n\n    topic_arn = "arn:t"\n    attributes = {\n      a = "b"\n    }');
  t.match(hcl, '  alertmanager {\n    url                 = "http://am"\n    basic_auth_user     = "g"\n    basic_auth_password = "pw"\n  }');
  t.match(hcl, '  line {\n    token = "tok"\n    title = "x"\n  }');
});

t.test('HCL read back gives the JSON settings (types and names) of every integration', async (t) => {
  const points = [
    contactPoint('hooks', 'webhook', { url: 'http://h', httpMethod: 'POST', maxAlerts: '5', username: 'u', hmacConfig: { secret: 's', timestampHeader: 'X-Ts' } }),
    contactPoint('mail', 'email', { addresses: 'a@x.org;b@x.org', singleEmail: false }, true),
    contactPoint('genie', 'opsgenie', { apiKey: 'k', responders: [{ id: '1', type: 'team' }, { name: 'n', type: 'schedule' }] }),
    contactPoint('push', 'pushover', { userKey: 'u', apiToken: 't', priority: 1, okPriority: 2, retry: 60, expire: 3600, uploadImage: true }),
    contactPoint('mq', 'mqtt', { brokerUrl: 'tcp://b:1883', qos: '1', retain: true, tlsConfig: { insecureSkipVerify: true } }),
    contactPoint('tg', 'telegram', { bottoken: 't', chatid: '42', disable_notifications: true }),
    contactPoint('kf', 'kafka', { kafkaRestProxy: 'http://k', kafkaTopic: 'topic', apiVersion: 'v3', kafkaClusterId: 'c' }),
    contactPoint('wc', 'wecom', { secret: 's', msgtype: 'text', touser: '@all' }),
    contactPoint('wx', 'webex', { bot_token: 'b', room_id: 'r' }),
    contactPoint('teams', 'teams', { url: 'http://t', sectiontitle: 'sec' }),
    contactPoint('custom', 'someday-integration', { anyKey: 'kept', nested: { x: '1' } }),
  ];
  const back = parseHcl(encodeHcl({ apiVersion: 1, contactPoints: points }));
  t.equal(back.contactPoints?.length, points.length);
  for (const [i, cp] of points.entries()) {
    const want = (cp.receivers as Array<Record<string, unknown>>)[0]!;
    const got = (back.contactPoints![i]!.receivers as Array<Record<string, unknown>>)[0]!;
    t.same({ type: got.type, settings: got.settings, disableResolveMessage: got.disableResolveMessage }, { type: want.type, settings: want.settings, disableResolveMessage: want.disableResolveMessage }, String(cp.name));
  }
});
