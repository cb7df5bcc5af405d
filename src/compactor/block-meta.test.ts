import t from 'tap';
import { checkMeta, decodeMeta, encodeMeta, goTimeString, parseUlid, sanitizeForUpload } from './block-meta.js';

t.test('parseUlid accepts 26 Crockford characters within 128 bits, canonical upper case', async (t) => {
  t.equal(parseUlid('01hzy5c7yq9v0m3t3k8z6x2w1a'), '01HZY5C7YQ9V0M3T3K8Z6X2W1A');
  t.equal(parseUlid('7ZZZZZZZZZZZZZZZZZZZZZZZZZ'), '7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
  t.equal(parseUlid('8ZZZZZZZZZZZZZZZZZZZZZZZZZ'), undefined, 'overflow');
  t.equal(parseUlid('01HZY5C7YQ9V0M3T3K8Z6X2W1'), undefined, 'too short');
  t.equal(parseUlid('01HZY5C7YQ9V0M3T3K8Z6X2W1U'), undefined, 'U is not Crockford');
  t.equal(parseUlid('../../../../../../../etc/x'), undefined);
});

t.test("goTimeString is Go's time.Time.String() in UTC", async (t) => {
  t.equal(goTimeString(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02 03:04:05 +0000 UTC');
  t.equal(goTimeString(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), '2024-01-02 03:04:05.12 +0000 UTC');
  t.equal(goTimeString(0), '1970-01-01 00:00:00 +0000 UTC');
});

t.test('decodeMeta refuses what Go cannot unmarshal and keeps only block.Meta fields', async (t) => {
  t.equal(decodeMeta('{'), undefined);
  t.equal(decodeMeta('[]'), undefined);
  t.equal(decodeMeta('{"minTime": 1.5}'), undefined);
  t.equal(decodeMeta('{"ulid": "nope"}'), undefined);
  t.equal(decodeMeta('{"thanos": {"files": [{"rel_path": 3}]}}'), undefined);
  const m = decodeMeta(
    JSON.stringify({
      extra: true,
      version: 1,
      maxTime: 20,
      minTime: 10,
      ulid: '01HZY5C7YQ9V0M3T3K8Z6X2W1A',
      stats: { numSeries: 2, numSamples: 0 },
      compaction: { level: 3, parents: [{ ulid: '01HZY5C7YQ9V0M3T3K8Z6X2W1B', minTime: 1, maxTime: 2 }] },
      thanos: { labels: { __org_id__: 'x' }, files: [{ rel_path: 'index', size_bytes: 5 }, { rel_path: 'meta.json' }] },
    }),
  )!;
  sanitizeForUpload(m, '01HZY5C7YQ9V0M3T3K8Z6X2W1C');
  t.equal(
    encodeMeta(m),
    '{"ulid":"01HZY5C7YQ9V0M3T3K8Z6X2W1C","minTime":10,"maxTime":20,"stats":{"numSeries":2},"compaction":{"level":3,"sources":["01HZY5C7YQ9V0M3T3K8Z6X2W1C"]},' +
      '"version":1,"thanos":{"labels":{},"downsample":{"resolution":0},"source":"upload","files":[{"rel_path":"index","size_bytes":5},{"rel_path":"meta.json"}]}}\n',
  );
  t.equal(checkMeta(m, 0, 1000), undefined);
  t.equal(checkMeta(m, 4, 1000), 'block exceeds the maximum block size limit of 4 bytes');
});
