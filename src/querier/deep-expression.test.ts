// deep-expression.test.ts: expressions thousands of operators long answer as
// Prometheus answers them (its LALR parser and evaluator have no depth limit
// for them) instead of overflowing the stack: the parser, the type checker,
// the duration pre-pass and the evaluator walk operator chains with explicit
// stacks. Through the server (query worker, native storage) and the parser.

import t from 'tap';
import type { Expr } from '../promql/parser/ast.js';
import { exprType, parseExpr } from '../promql/parser/parser.js';
import { encodeWriteRequestSnappy, REMOTE_WRITE_HEADERS } from '../remote/write-request.js';
import { startTestServer } from '../testing/server.js';

const N = 20_000;
const chain = (operand: string, op: string, operators: number): string => Array(operators + 1).fill(operand).join(` ${op} `);

t.test('the parser builds 20,000-operator chains with the right associativity', async (t) => {
  const left = parseExpr(chain('1', '+', N));
  let depth = 0;
  for (let e: Expr = left; e.type === 'BinaryExpr'; e = e.lhs) depth++;
  t.equal(depth, N, '+ is left-associative: the chain hangs on lhs');
  t.equal(exprType(left), 'scalar');
  const right = parseExpr(chain('2', '^', N));
  depth = 0;
  for (let e: Expr = right; e.type === 'BinaryExpr'; e = e.rhs) depth++;
  t.equal(depth, N, '^ is right-associative: the chain hangs on rhs');
  t.equal(exprType(parseExpr(chain('x', '^', N))), 'vector', 'a vector operand makes the chain a vector');
  t.throws(() => parseExpr(`${chain('1', '+', N)} + "a"`), { message: /binary expression must contain only scalar and instant vector types/ }, 'the last operand is still checked');
  const p = parseExpr('2 ^ 3 ^ 2');
  t.match(p, { op: '^', lhs: { val: 2 }, rhs: { op: '^', lhs: { val: 3 }, rhs: { val: 2 } } }, 'a short ^ chain as before');
});

t.test('20,000-operator queries through the server', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const base = `http://127.0.0.1:${srv.port}/prometheus/api/v1`;
  const now = Math.floor(Date.now() / 1000) * 1000;
  const push = await fetch(`http://127.0.0.1:${srv.port}/api/v1/push`, {
    method: 'POST',
    headers: { ...REMOTE_WRITE_HEADERS, 'X-Scope-OrgID': 'deep' },
    body: new Uint8Array(encodeWriteRequestSnappy([{ labels: [['__name__', 'deep_metric'], ['a', '1']], samples: [[now - 60_000, 2], [now, 3]] }])),
  });
  t.equal(push.status, 200, 'pushed');
  const query = async (path: string, q: string, extra: string): Promise<{ status: number; body: { status: string; data?: unknown; error?: string } }> => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'X-Scope-OrgID': 'deep', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent(q)}&${extra}`,
      signal: AbortSignal.timeout(60_000),
    });
    return { status: r.status, body: (await r.json()) as { status: string; data?: unknown } };
  };

  const sum = await query('/query', chain('1', '+', N), `time=${now / 1000}`);
  t.same(sum, { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [now / 1000, String(N + 1)] } } }, '1 + 1 + ... is 20001');

  const vec = await query('/query', chain('deep_metric', '+', N), `time=${now / 1000}`);
  t.same(vec.body.data, { resultType: 'vector', result: [{ metric: { a: '1' }, value: [now / 1000, String(3 * (N + 1))] }] }, 'a selector added to itself 20,000 times');

  const range = await query('/query_range', chain('deep_metric', '-', N), `start=${(now - 60_000) / 1000}&end=${now / 1000}&step=60`);
  t.same(
    range.body.data,
    { resultType: 'matrix', result: [{ metric: { a: '1' }, values: [[(now - 60_000) / 1000, String(2 - 2 * N)], [now / 1000, String(3 - 3 * N)]] }] },
    'a range query over a 20,000-operator chain',
  );

  const pow = await query('/query', chain('1', '^', N), `time=${now / 1000}`);
  t.same(pow.body.data, { resultType: 'scalar', result: [now / 1000, '1'] }, 'a right-associative ^ chain');

  const nested = await query('/query', `sum(${chain('deep_metric', '*', N)}) - 1`, `time=${now / 1000}`);
  t.equal(nested.status, 200, 'a chain inside an aggregation');
  t.same(nested.body.data, { resultType: 'vector', result: [{ metric: {}, value: [now / 1000, '+Inf'] }] }, '3^20001 overflows to +Inf as in Go');
});
