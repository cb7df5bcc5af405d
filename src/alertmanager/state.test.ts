// state.test.ts checks the persisted state against Mimir's and Alertmanager
// 0.35's message definitions (testdata/proto, read by protoc): the bucket
// object decodes as alertspb.FullStateDesc with the tenant's nfl: and sil:
// parts, each part's records decode as nflogpb.MeshEntry and
// silencepb.MeshSilence with the values we hold, protoc's own encoding of a
// record is byte for byte ours (field order, packed fingerprints, omitted
// zero values), and state written by older versions (JSON) is migrated.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'tap';
import { failIfMissing, PROTOC, skipUnless } from '../../test/peer/lib/binary.js';
import { ProtoReader } from '../remote/proto-reader.js';
import { loadConfig } from './config.js';
import { TenantAlertmanager } from './instance.js';
import { testInstanceOptions } from './test-options.js';
import { parseMatchers, toApiMatcher } from './matchers.js';
import { NotificationLog } from './nflog.js';
import { Silences } from './silences.js';
import { decodeFullState, decodeNflog, decodeSilences, decodeTenantState, encodeFullState, encodeNflog, encodeSilences } from './state.js';

const PROTO_DIR = fileURLToPath(new URL('../../../src/alertmanager/testdata/proto/', import.meta.url));

/** protoc runs protoc on the test's message definitions with input on stdin. */
function protoc(args: string[], input: Uint8Array): Buffer {
  return execFileSync(PROTOC.path, [`-I${PROTO_DIR}`, ...args], { input, timeout: 20_000 });
}

/** records splits a part's data into its varint-delimited records. */
function records(buf: Uint8Array): Uint8Array[] {
  const r = new ProtoReader(buf);
  const out: Uint8Array[] = [];
  while (!r.done()) out.push(r.bytes());
  return out;
}

const T0 = Date.parse('2026-03-01T10:00:00.250Z');

function sampleState(): { silences: Silences; nflog: NotificationLog } {
  const silences = new Silences({ retentionMs: 3_600_000, now: () => T0 });
  silences.set({ matchers: parseMatchers('{job="web", severity!="info", instance=~"10\\\\..*"}'), startsAt: T0, endsAt: T0 + 7_200_000, createdBy: 'ops', comment: 'maintenance', annotations: { ticket: 'T-1', empty: '' } });
  const nflog = new NotificationLog(3_600_000);
  nflog.log('{}/{team="web"}:{alertname="Down"}', 'web/slack/1', ['00000000000000ff', 'fedcba9876543210'], ['0123456789abcdef'], T0 + 1000, { threadTs: '1700000000.000100', channelId: 'C0123' });
  nflog.log('{}:{alertname="Up"}', 'team/a/webhook/0', ['8000000000000000'], [], T0 + 2000);
  return { silences, nflog };
}

test('FullStateDesc decodes with protoc against the message definitions', { skip: skipUnless(PROTOC) }, async (t) => {
  if (failIfMissing(t, PROTOC)) return;
  const { silences, nflog } = sampleState();
  const full = encodeFullState('tenant-1', nflog.snapshot(), silences.snapshot());
  const desc = protoc(['--decode=alerts.FullStateDesc', 'alerts.proto'], full).toString();
  t.match(desc, /state \{\n\s+parts \{\n\s+key: "nfl:tenant-1"\n\s+data: "/, 'the nflog part');
  t.match(desc, /parts \{\n\s+key: "sil:tenant-1"\n\s+data: "/, 'the silences part');
  const parts = decodeFullState(full);
  t.same([...parts.keys()], ['nfl:tenant-1', 'sil:tenant-1']);

  const nfl = records(parts.get('nfl:tenant-1') as Uint8Array).map((r) => protoc(['--decode=nflogpb.MeshEntry', 'nflog.proto'], r).toString());
  t.equal(nfl.length, 2, 'one MeshEntry per entry');
  const slack = nfl[0] as string;
  t.match(slack, 'group_key: "{}/{team=\\"web\\"}:{alertname=\\"Down\\"}"');
  t.match(slack, /receiver \{\n\s+group_name: "web"\n\s+integration: "slack"\n\s+idx: 1\n\s+\}/);
  // Fingerprints are uint64 values (hex 00000000000000ff = 255, fedcba9876543210 = 18364758544493064720).
  t.match(slack, /firing_alerts: 255\n\s+firing_alerts: 18364758544493064720\n\s+resolved_alerts: 81985529216486895\n/);
  t.match(slack, `timestamp {\n    seconds: ${Math.floor((T0 + 1000) / 1000)}\n    nanos: 250000000\n  }`);
  t.match(slack, /receiver_data \{\n\s+key: "channelId"\n\s+value \{\n\s+str_val: "C0123"\n/);
  t.match(slack, /receiver_data \{\n\s+key: "threadTs"\n\s+value \{\n\s+str_val: "1700000000.000100"\n/);
  t.match(slack, `expires_at {\n  seconds: ${Math.floor((T0 + 1000 + 3_600_000) / 1000)}\n  nanos: 250000000\n}`);
  const hook = nfl[1] as string;
  t.match(hook, /receiver \{\n\s+group_name: "team\/a"\n\s+integration: "webhook"\n\s+\}/, 'a receiver name with a slash; idx 0 left out as proto3');
  t.notMatch(hook, 'receiver_data', 'no store, no receiver data');

  const sil = records(parts.get('sil:tenant-1') as Uint8Array).map((r) => protoc(['--decode=silencepb.MeshSilence', 'silence.proto'], r).toString());
  t.equal(sil.length, 1);
  const s = sil[0] as string;
  const id = silences.all()[0]?.id as string;
  t.match(s, `silence {\n  id: "${id}"\n`);
  // Matchers as 0.35 writes them: in matchers (older readers) and in the first matcher set.
  const matchers = /matchers \{\n\s+name: "job"\n\s+pattern: "web"\n\s+\}\n\s+matchers \{\n\s+type: NOT_EQUAL\n\s+name: "severity"\n\s+pattern: "info"\n\s+\}\n\s+matchers \{\n\s+type: REGEXP\n\s+name: "instance"\n\s+pattern: "10\\\\\.\.\*"\n\s+\}/;
  t.match(s, matchers, 'matchers with their types');
  t.match(s, /matcher_sets \{\n\s+matchers \{\n\s+name: "job"/, 'matcher_sets');
  t.match(s, /created_by: "ops"\n\s+comment: "maintenance"\n\s+annotations \{\n\s+key: "empty"\n\s+value: ""\n\s+\}\n\s+annotations \{\n\s+key: "ticket"\n\s+value: "T-1"\n\s+\}\n\s+matcher_sets/, 'annotations (field 10) between comment and matcher_sets, an empty value kept');
  t.match(s, `ends_at {\n    seconds: ${(T0 + 7_200_000 - 250) / 1000}\n    nanos: 250000000\n  }`);
  t.match(s, `expires_at {\n  seconds: ${(T0 + 7_200_000 + 3_600_000 - 250) / 1000}\n  nanos: 250000000\n}`, 'expires one retention after its end');
});

test('records are byte for byte what protoc encodes from the same values', { skip: skipUnless(PROTOC) }, async (t) => {
  if (failIfMissing(t, PROTOC)) return;
  const nflogText = `entry {
  group_key: "{}:{alertname=\\"A\\"}"
  receiver { group_name: "r" integration: "webhook" idx: 2 }
  timestamp { seconds: 1772359200 nanos: 5000000 }
  firing_alerts: 1
  firing_alerts: 18446744073709551615
  resolved_alerts: 4096
  receiver_data { key: "k" value { str_val: "v" } }
  muted_alerts: 7
  muted_alerts: 18364758544493064720
}
expires_at { seconds: 1772362800 }`;
  const want = protoc(['--encode=nflogpb.MeshEntry', 'nflog.proto'], Buffer.from(nflogText));
  const entry = { firing: ['0000000000000001', 'ffffffffffffffff'], resolved: ['0000000000001000'], timestamp: 1772359200005, expiresAt: 1772362800000, store: { k: 'v' }, muted: ['0000000000000007', 'fedcba9876543210'] };
  const ours = encodeNflog([['{}:{alertname="A"}\x00r/webhook/2', entry]]);
  t.same([...records(ours)[0] as Uint8Array], [...want], 'MeshEntry bytes (muted_alerts packed after receiver_data)');
  t.same(decodeNflog(ours)[0]?.[1], entry, 'every field reads back, the largest uint64 and the muted alerts too');
  t.notOk('muted' in ((decodeNflog(encodeNflog([['g\x00r/webhook/0', { firing: ['0000000000000001'], resolved: [], timestamp: 1, expiresAt: 2 }]]))[0] as [string, object])[1]), 'no muted alerts: none written, none read');
  // Alertmanager writes repeated uint64 packed, but a reader takes the unpacked form too.
  const unpacked = Buffer.from([0x0a, 0x04, 0x48, 0x05, 0x48, 0x06]);
  t.same(decodeNflog(Buffer.concat([Buffer.from([unpacked.length]), unpacked]))[0]?.[1].muted, ['0000000000000005', '0000000000000006']);

  const silenceText = `silence {
  id: "s1"
  matchers { name: "a" pattern: "b" }
  matchers { type: NOT_REGEXP name: "c" pattern: "d+" }
  starts_at { seconds: 1772359200 }
  ends_at { seconds: 1772362800 nanos: 1000000 }
  updated_at { seconds: 1772359100 }
  created_by: "me"
  annotations { key: "a" value: "" }
  annotations { key: "ticket" value: "T-1" }
  matcher_sets { matchers { name: "a" pattern: "b" } matchers { type: NOT_REGEXP name: "c" pattern: "d+" } }
}
expires_at { seconds: 1772366400 nanos: 1000000 }`;
  const wantSil = protoc(['--encode=silencepb.MeshSilence', 'silence.proto'], Buffer.from(silenceText));
  const sil = { id: 's1', matchers: parseMatchers('{a="b", c!~"d+"}'), startsAt: 1772359200000, endsAt: 1772362800001, updatedAt: 1772359100000, createdBy: 'me', comment: '', annotations: { ticket: 'T-1', a: '' } };
  const oursSil = encodeSilences([sil], 3_600_000);
  t.same([...records(oursSil)[0] as Uint8Array], [...wantSil], 'MeshSilence bytes');
  const back = decodeSilences(oursSil)[0];
  t.same(back?.matchers.map(toApiMatcher), sil.matchers.map(toApiMatcher));
  t.same({ ...back, matchers: [] }, { ...sil, matchers: [] });

  // A silence written by Alertmanager before 0.27 has matchers only; one with matcher_sets reads its first set.
  const old = protoc(['--encode=silencepb.MeshSilence', 'silence.proto'], Buffer.from('silence { id: "o" matchers { name: "x" pattern: "y" } }'));
  const delimited = Buffer.concat([Buffer.from([old.length]), old]);
  t.same(decodeSilences(delimited)[0]?.matchers.map(toApiMatcher), [{ name: 'x', value: 'y', isRegex: false, isEqual: true }]);
  const sets = protoc(['--encode=silencepb.MeshSilence', 'silence.proto'], Buffer.from('silence { id: "n" matchers { name: "x" pattern: "y" } matcher_sets { matchers { type: NOT_EQUAL name: "z" pattern: "w" } } }'));
  t.same(decodeSilences(Buffer.concat([Buffer.from([sets.length]), sets]))[0]?.matchers.map(toApiMatcher), [{ name: 'z', value: 'w', isRegex: false, isEqual: false }]);
  // Receiver data written as an int64 or a double reads back as text.
  const data = protoc(['--encode=nflogpb.MeshEntry', 'nflog.proto'], Buffer.from('entry { receiver { group_name: "r" integration: "slack" } receiver_data { key: "n" value { int_val: -5 } } receiver_data { key: "f" value { double_val: 1.5 } } }'));
  t.same(decodeNflog(Buffer.concat([Buffer.from([data.length]), data]))[0]?.[1].store, { n: '-5', f: '1.5' });
});

test('state round trip and migration of the JSON state of older versions', async (t) => {
  const { silences, nflog } = sampleState();
  const full = encodeFullState('t', nflog.snapshot(), silences.snapshot());
  const st = decodeTenantState(full, 't');
  t.same(st.nflog, nflog.records(), 'notification log');
  t.same(st.silences.map((s) => ({ ...s, matchers: s.matchers.map(toApiMatcher) })), silences.all().map((s) => ({ ...s, matchers: s.matchers.map(toApiMatcher) })), 'silences');
  t.same(decodeTenantState(full, 'other'), { silences: [], nflog: [] }, 'another tenant parts are not ours');

  // The JSON of older versions, in the bucket or in the local state.json.
  const legacy = Buffer.from(
    JSON.stringify({
      version: 1,
      silences: JSON.stringify(silences.all().map((s) => ({ ...s, matchers: s.matchers.map(toApiMatcher) }))),
      nflog: JSON.stringify(nflog.records()),
    }),
  );
  const fromJson = decodeTenantState(legacy, 't');
  t.same(fromJson.nflog, st.nflog, 'legacy nflog');
  t.same(fromJson.silences.map((s) => s.matchers.map(toApiMatcher)), st.silences.map((s) => s.matchers.map(toApiMatcher)), 'legacy silences');

  const dir = mkdtempSync(join(tmpdir(), 'am-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'state.json'), legacy);
  const make = (): TenantAlertmanager =>
    new TenantAlertmanager(testInstanceOptions(dir));
  const am = make();
  am.applyConfig(loadConfig('route: {receiver: r}\nreceivers: [{name: r}]\n'), []);
  t.equal(am.silences.all()[0]?.comment, 'maintenance', 'silence migrated');
  t.same(am.nflog.get('{}:{alertname="Up"}', 'team/a/webhook/0')?.firing, ['8000000000000000'], 'nflog migrated');
  t.notOk(existsSync(join(dir, 'state.json')), 'the JSON file is replaced');
  t.same(decodeSilences(readFileSync(join(dir, 'silences'))).map((s) => s.id), [silences.all()[0]?.id], 'silences snapshot file as Mimir names it');
  t.equal(decodeNflog(readFileSync(join(dir, 'notifications'))).length, 2, 'notifications snapshot file');
  // A new silence is written asynchronously and read by the next instance.
  const id = am.silences.set({ matchers: parseMatchers('{a="b"}'), startsAt: Date.now(), endsAt: Date.now() + 60_000, createdBy: 'x', comment: 'new' });
  for (let i = 0; i < 100 && !decodeSilences(readFileSync(join(dir, 'silences'))).some((s) => s.id === id); i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(decodeSilences(readFileSync(join(dir, 'silences'))).some((s) => s.id === id), 'written after the change');
  am.stop();
  const again = make();
  t.ok(again.silences.get(id) !== undefined, 'a restart keeps the silence');
  t.equal(decodeTenantState(again.fullState(), 't').silences.length, 2);
  again.stop();
});

test('a snapshot re-encodes only new entries and always shows the latest', async (t) => {
  const nflog = new NotificationLog(3_600_000);
  nflog.log('g1', 'r/webhook/0', ['0000000000000001'], [], T0);
  nflog.log('g2', 'r/webhook/0', ['0000000000000002'], [], T0);
  const first = nflog.snapshot();
  t.same(decodeNflog(first).map(([k, e]) => [k, e.firing]), [['g1\x00r/webhook/0', ['0000000000000001']], ['g2\x00r/webhook/0', ['0000000000000002']]]);
  // A new notification of g1 replaces its entry; the snapshot has the new one, g2's bytes unchanged.
  nflog.log('g1', 'r/webhook/0', ['0000000000000003'], ['0000000000000001'], T0 + 1000);
  const second = nflog.snapshot();
  t.same(decodeNflog(second).map(([k, e]) => [k, e.firing, e.resolved]), [['g1\x00r/webhook/0', ['0000000000000003'], ['0000000000000001']], ['g2\x00r/webhook/0', ['0000000000000002'], []]]);
  t.same([...second], [...encodeNflog(nflog.records().map(([k, e]) => [k, { ...e }]))], 'the same bytes as a fresh encoding');
});
