// gostrings.test.ts checks compareGoStrings against the UTF-8 byte order
// (Buffer.compare), the order Go and Prometheus sort label names and values by.

import t from 'tap';
import { compareGoStrings } from './gostrings.js';

const sign = (n: number): number => Math.sign(n);

t.test('orders as the UTF-8 bytes do', async (t) => {
  const words = ['', 'a', 'ab', 'b', 'B', '_', 'z', '\u00e9', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '\u{1f600}a', 'a\u{1f600}', 'a\uffff', 'job', 'job_name', '\u{10ffff}'];
  for (const a of words) {
    for (const b of words) {
      t.equal(sign(compareGoStrings(a, b)), sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
  // Where UTF-16 order differs: a code point above 0xFFFF sorts after U+FFFF.
  t.ok(compareGoStrings('\u{1f600}', '\uffff') > 0);
  t.ok('\u{1f600}' < '\uffff', 'JavaScript compares code units the other way');
});
