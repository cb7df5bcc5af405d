// log.test.ts checks the logfmt rendering and the -log.level threshold.

import t from 'tap';
import { Logger, formatLine, logfmtValue, setLogLevel, setLogSink } from './log.js';

t.test('logfmt values', async (t) => {
  t.equal(logfmtValue('plain'), 'plain');
  t.equal(logfmtValue('two words'), '"two words"');
  t.equal(logfmtValue('a=b'), '"a=b"');
  t.equal(logfmtValue('say "hi"'), '"say \\"hi\\""');
  t.equal(logfmtValue(''), '""');
  t.equal(logfmtValue(42), '42');
  t.equal(logfmtValue(new Error('bad thing')), '"bad thing"');
  t.match(formatLine('warn', 'hello world', { user: 'a', n: 1 }), /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=warn msg="hello world" user=a n=1\n$/);
});

t.test('threshold', async (t) => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  const log = new Logger({ component: 'test' });
  setLogLevel('warn');
  log.info('hidden');
  log.warn('shown');
  log.error('also shown', { err: 'x' });
  t.equal(lines.length, 2);
  t.match(lines[0], 'level=warn msg=shown component=test');
  t.match(lines[1], 'level=error msg="also shown" component=test err=x');
  t.equal(log.enabled('debug'), false);
  setLogLevel('debug');
  log.debug('now visible');
  t.equal(lines.length, 3);
});
