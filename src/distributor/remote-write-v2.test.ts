// remote-write-v2.test.ts: content negotiation of pushes and the written-count headers.

import t from 'tap';
import { negotiateRemoteWrite, writtenHeaders } from './remote-write-v2.js';

t.test('content types that pick a protocol', async (t) => {
  const cases: Array<[string | undefined, 1 | 2]> = [
    [undefined, 1],
    ['', 1],
    ['application/x-protobuf', 1],
    ['application/x-protobuf;proto=prometheus.WriteRequest', 1],
    ['application/x-protobuf;proto=io.prometheus.write.v2.Request', 2],
    ['application/x-protobuf; proto=io.prometheus.write.v2.Request', 2],
    ['Application/X-Protobuf;charset=utf-8;proto=io.prometheus.write.v2.Request', 2],
    ['application/x-protobuf;charset=utf-8', 1],
  ];
  for (const [contentType, protocol] of cases) {
    t.same(negotiateRemoteWrite(contentType, 'snappy'), { ok: true, protocol }, String(contentType));
  }
});

t.test('refused content types and encodings carry Prometheus texts', async (t) => {
  t.same(negotiateRemoteWrite('text/plain', undefined), {
    ok: false,
    message: 'expected application/x-protobuf as the first (media) part, got text/plain content-type',
  });
  t.same(negotiateRemoteWrite('application/x-protobuf;proto=io.prometheus.write.v3.Request', 'snappy'), {
    ok: false,
    message:
      'got application/x-protobuf;proto=io.prometheus.write.v3.Request content type; unknown remote write protobuf message ' +
      'io.prometheus.write.v3.Request, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request',
  });
  t.same(negotiateRemoteWrite('application/x-protobuf;proto', undefined), {
    ok: false,
    message: 'as per https://www.rfc-editor.org/rfc/rfc9110#parameter expected parameters to be key-values, got proto in application/x-protobuf;proto content-type',
  });
  t.same(negotiateRemoteWrite('application/x-protobuf', 'zstd'), {
    ok: false,
    message: 'zstd encoding (compression) is not accepted by this server; only snappy is acceptable',
  });
  t.same(negotiateRemoteWrite('application/x-protobuf', 'SNAPPY'), { ok: true, protocol: 1 }, 'encoding is case-insensitive');
  t.same(negotiateRemoteWrite('application/x-protobuf', ''), { ok: true, protocol: 1 }, 'empty encoding means snappy');
});

t.test('written headers report stored float samples only', async (t) => {
  const r = { series: 3, samples: 5, exemplars: 2, metadata: 1, histograms: 4, acceptedSamples: 4, createdSeries: 1, discarded: [], dedupedSamples: 0, nonHaSamples: 0 };
  t.same(writtenHeaders(r), {
    'X-Prometheus-Remote-Write-Samples-Written': '4',
    'X-Prometheus-Remote-Write-Histograms-Written': '0',
    'X-Prometheus-Remote-Write-Exemplars-Written': '0',
  });
});
