// grafana-contact-points.test.ts (peer suite): provisioned Grafana contact
// points delivered for real. An `sns` contact point publishes through a real
// SNS API (moto's server, PyPI `moto[server]`) to a topic whose SQS
// subscription the test reads back: the subject and message are Grafana's
// default title and message. A `victorops` contact point posts to a local
// sink at the REST endpoint its url names, with Grafana's title and message.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../../src/remote/write-request.js';
import { httpRequest, type ClientResponse } from '../../src/testing/http-client.js';
import { startTestServer } from '../../src/testing/server.js';
import { s3SkipReason, startS3Server } from './lib/s3-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 300 && Date.now() < end; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** aws calls moto's query API (form-encoded Action=...; moto does not check signatures) and returns the XML answer. */
async function aws(endpoint: string, service: 'sns' | 'sqs', params: Record<string, string>): Promise<string> {
  const res = await fetch(`http://${endpoint}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `AWS4-HMAC-SHA256 Credential=peer-access-key/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0` },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${params.Action}: ${res.status} ${text}`);
  return text;
}

function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m?.[1];
}

function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#34;/g, '"').replace(/&apos;/g, "'").replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#xA;/g, '\n').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');
}

t.test('sns and victorops contact points deliver Grafana texts', { skip: s3SkipReason() }, async (t) => {
  const moto = await startS3Server('unused');
  t.teardown(() => moto.stop());
  const topicArn = xmlValue(await aws(moto.endpoint, 'sns', { Action: 'CreateTopic', Name: 'grafana-alerts', Version: '2010-03-31' }), 'TopicArn')!;
  const queueUrl = xmlValue(await aws(moto.endpoint, 'sqs', { Action: 'CreateQueue', QueueName: 'grafana-alerts', Version: '2012-11-05' }), 'QueueUrl')!;
  const queueArn = 'arn:aws:sqs:us-east-1:123456789012:grafana-alerts';
  await aws(moto.endpoint, 'sns', { Action: 'Subscribe', TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Version: '2010-03-31' });
  t.match(topicArn, /^arn:aws:sns:us-east-1:\d+:grafana-alerts$/);

  const posted: Array<{ url: string; body: Record<string, unknown> }> = [];
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posted.push({ url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"result":"success"}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  t.teardown(() => sink.close());
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

  const srv = await startTestServer({ 'grafana-provisioning.base-interval': 1000, 'ruler.external.url': 'http://grafana.test:3000/' });
  t.teardown(() => srv.close());
  const call = (method: string, path: string, body: unknown): Promise<ClientResponse> =>
    httpRequest(srv.port, `/api/v1/provisioning${path}`, { method, headers: { 'X-Scope-OrgID': '1', 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const ok = async (p: Promise<ClientResponse>, status: number): Promise<void> => {
    const r = await p;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.body}`);
  };

  const push = await httpRequest(srv.port, '/api/v1/push', {
    method: 'POST',
    headers: { 'X-Scope-OrgID': '1', ...REMOTE_WRITE_HEADERS },
    body: encodeWriteRequestSnappy([{ labels: [['__name__', 'queue_depth'], ['queue', 'q1']], samples: [[Date.now(), 42]] }]),
  });
  t.equal(push.status, 200);

  await ok(
    call('POST', '/contact-points', {
      name: 'aws',
      type: 'sns',
      settings: { api_url: `http://${moto.endpoint}/`, topic_arn: topicArn, sigv4: { region: 'us-east-1', access_key: 'peer-access-key', secret_key: 'peer-secret-key' } },
    }),
    202,
  );
  await ok(call('POST', '/contact-points', { name: 'vo', type: 'victorops', settings: { url: `${sinkUrl}/integrations/generic/20131114/alert/the-api-key/the-routing-key` } }), 202);
  // The secret inside sigv4 is redacted in answers.
  const listed = JSON.parse((await httpRequest(srv.port, '/api/v1/provisioning/contact-points?name=aws', { headers: { 'X-Scope-OrgID': '1' } })).body) as Array<{ settings: { sigv4: Record<string, string> } }>;
  t.equal(listed[0]?.settings.sigv4.secret_key, '[REDACTED]');
  t.equal(listed[0]?.settings.sigv4.region, 'us-east-1');
  await ok(
    call('PUT', '/policies', {
      receiver: 'aws',
      group_by: ['alertname'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
      routes: [
        { receiver: 'vo', object_matchers: [['team', '=', 'ops']], continue: true },
        { receiver: 'aws', object_matchers: [['queue', '=~', 'q.*']] },
      ],
    }),
    202,
  );
  await ok(
    call('PUT', '/folder/queues/rule-groups/depth', {
      interval: 1,
      rules: [
        {
          uid: 'deep-queue',
          title: 'Deep queue',
          condition: 'C',
          data: [
            { refId: 'A', relativeTimeRange: { from: 60, to: 0 }, datasourceUid: 'mimir', model: { expr: 'queue_depth', instant: true } },
            { refId: 'C', relativeTimeRange: { from: 0, to: 0 }, datasourceUid: '__expr__', model: { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'gt', params: [10] } }] } },
          ],
          noDataState: 'OK',
          execErrState: 'Error',
          for: '0s',
          labels: { team: 'ops' },
          annotations: { summary: 'queue {{ $labels.queue }} holds {{ $values.A.Value }}' },
        },
      ],
    }),
    200,
  );

  const expectedMessage = [
    '**Firing**',
    '',
    'Value: A=42, C=1',
    'Labels:',
    ' - alertname = Deep queue',
    ' - grafana_folder = queues',
    ' - queue = q1',
    ' - team = ops',
    'Annotations:',
    ' - summary = queue q1 holds 42',
    'Source: http://grafana.test:3000/alerting/grafana/deep-queue/view?orgId=1',
    'Silence: http://grafana.test:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Ddeep-queue&matcher=queue%3Dq1&matcher=team%3Dops&orgId=1',
    '',
  ].join('\n');

  // SNS: the message arrives in the subscribed queue, in SNS's notification envelope.
  const envelope = await until('a message in the SQS queue', async () => {
    const xml = await aws(moto.endpoint, 'sqs', { Action: 'ReceiveMessage', QueueUrl: queueUrl, MaxNumberOfMessages: '1', Version: '2012-11-05' });
    const body = xmlValue(xml, 'Body');
    return body === undefined ? undefined : (JSON.parse(unescapeXml(body)) as { Type: string; TopicArn: string; Subject: string; Message: string });
  });
  t.equal(envelope.Type, 'Notification');
  t.equal(envelope.TopicArn, topicArn);
  t.equal(envelope.Subject, '[FIRING:1] Deep queue (queues q1 ops)');
  t.equal(envelope.Message, expectedMessage);

  // VictorOps: posted to <api_url><api key>/<routing key>.
  const vo = await until('a VictorOps post', () => posted.find((p) => p.url.includes('/alert/')));
  t.equal(vo.url, '/integrations/generic/20131114/alert/the-api-key/the-routing-key');
  t.equal(vo.body.message_type, 'CRITICAL');
  t.equal(vo.body.entity_display_name, '[FIRING:1] Deep queue (queues q1 ops)');
  t.equal(vo.body.state_message, expectedMessage);
});
