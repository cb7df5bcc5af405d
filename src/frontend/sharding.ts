// sharding.ts rewrites a query for query sharding as Mimir's query-frontend
// does (querymiddleware/astmapper: sharding.go, parallel.go): every
// shardable leg, such as `sum by (job) (rate(x[5m]))`, becomes the same
// aggregation over the concatenation of one partial query per shard
// (`sum by (job) (rate(x{__query_shard__="1_of_4"}[5m]))`, ...), each run by
// the queriers, which select only the series of their shard. Shardable legs
// are the aggregations sum, min, max, group (of the shards' own), count (the
// sum of the shards' counts) and avg (the shards' sums over the shards'
// counts) with no aggregation inside and only parallelizable functions;
// comparisons of such an expression with a constant; and function calls
// over subqueries without aggregations. Anything else (absent, sort,
// histogram_quantile, topk, ...) stays in the outer expression, which the
// query-frontend evaluates over the shards' answers with the PromQL engine.
// A binary expression is sharded only when all of its selectors are, so
// that no unsharded leg's raw series travel to the frontend.
//
// The concatenations are vector selectors named `__embedded_queries__`
// (Mimir's EmbeddedQueriesSquasher): the rewritten query prints, and the
// frontend finds each one's shard queries in the `embedded` list.
//
// Exactness. min, max, group, count (integers) and concatenations answer
// as the plain query does to the bit. A sum over shards does not: each
// shard rounds its Kahan sum and compensation into one float, and the
// shards' sums are added in another order than the plain query adds the
// series, so a compensation lost in one shard (2 + 1e100 in one, 8 - 1e100
// in another: 10 plain, 0 sharded) or an overflow that happens in one
// order and not in the other (and Prometheus's avg then switching to an
// incremental mean) changes the answer. The frontend therefore checks, per
// output series and step, the shards' answers of every concatenation the
// outer expression adds up (`summed`: the sum legs of sum and avg) before
// using them (shardSumsExact), and runs the query unsharded instead when
// any check fails:
//   - a NaN from any shard passes: some input is NaN (or ±Inf of both
//     signs), and the plain sum and avg are NaN as well;
//   - otherwise a ±Inf from a shard, or a ±Inf Kahan sum of the shards'
//     finite sums, fails (an overflow, or an infinite input the plain
//     query may have met in another order, or averaged incrementally);
//   - otherwise the shards' sums must not cancel: the sum of their
//     magnitudes at most SUM_CANCELLATION_LIMIT times the magnitude of
//     their Kahan sum. Each shard's answer loses at most half an ulp of
//     itself in rounding its sum and compensation to one float, so the
//     sharded answer then differs from the plain one by about 2^-40 of
//     itself at most (some 4500 ulps).
// Not covered: values that cancel inside a shard but overflow in the plain
// query's order (big, big, -big, -big sums to ±Inf plain, and to 0 over two
// shards holding one big and one -big each), which only the magnitudes of
// the shards' inputs would reveal.

import { MatchType, type LabelMatcher } from '../model/matchers.js';
import { childrenOf, someNode, type AggregateExpr, type AggregateOp, type BinaryExpr, type Call, type Expr, type VectorSelector } from '../promql/parser/ast.js';
import { formatExpr } from '../promql/parser/printer.js';
import { kahanSumInc } from '../promql/engine/float-ops.js';
import { labelsKey } from '../promql/engine/labels.js';
import type { Series } from '../promql/engine/value.js';

/** SHARD_LABEL is the reserved label of the shard matcher (Mimir's sharding.ShardLabel). */
export const SHARD_LABEL = '__query_shard__';
/** EMBEDDED_QUERIES_NAME is the metric name of a concatenation of shard queries. */
export const EMBEDDED_QUERIES_NAME = '__embedded_queries__';
/** QUERIES_LABEL holds a concatenation's shard queries (JSON), as Mimir's squasher writes them. */
const QUERIES_LABEL = '__queries__';

/** SHARDABLE_AGGREGATIONS are Mimir's summableAggregates. */
const SHARDABLE_AGGREGATIONS: ReadonlySet<AggregateOp> = new Set<AggregateOp>(['sum', 'min', 'max', 'count', 'avg', 'group']);

/** NON_PARALLEL_FUNCS are Mimir's NonParallelFuncs: their value over a shard is not part of their value over all. */
const NON_PARALLEL_FUNCS: ReadonlySet<string> = new Set([
  'absent',
  'absent_over_time',
  'info',
  'histogram_quantile',
  'limitk',
  'limit_ratio',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
  'sort',
  'time',
  'vector',
  'histogram_avg',
]);

/** FUNCS_WITH_DEFAULT_TIME_ARG read time() when called without arguments. */
const FUNCS_WITH_DEFAULT_TIME_ARG: ReadonlySet<string> = new Set(['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year']);

/** COMPARISONS are the binary operators a vector-to-constant expression is sharded on. */
const COMPARISONS: ReadonlySet<string> = new Set(['>', '>=', '<', '<=']);

/** ShardedQuery is a rewritten query. */
export interface ShardedQuery {
  /** expr is the outer expression; its `__embedded_queries__` selectors are the concatenations. */
  expr: Expr;
  /** embedded maps each concatenation (its embeddedKey; equal legs share one) to its shard queries. */
  embedded: Map<string, string[]>;
  /** shardedQueries counts the shard queries (Mimir's MapperStats.GetShardedQueries). */
  shardedQueries: number;
  /** summed are the concatenations (embeddedKey) whose shard answers the outer expression adds up (see shardSumsExact). */
  summed: Set<string>;
}

/** formatShardLabelValue renders a 0-based shard as Mimir's `<n>_of_<total>` (1-based). */
export function formatShardLabelValue(index: number, count: number): string {
  return `${index + 1}_of_${count}`;
}

/** isAggregate tells aggregation nodes. */
function isAggregate(n: Expr): boolean {
  return n.type === 'AggregateExpr';
}

/** argsWithDefaults are a call's arguments with the omitted time() of the date functions. */
function argsWithDefaults(call: Call): Expr[] {
  if (call.args.length === 0 && FUNCS_WITH_DEFAULT_TIME_ARG.has(call.func)) return [{ type: 'Call', func: 'time', args: [], pos: call.pos }];
  return call.args;
}

/** isConstantScalar: numbers, operators over them and time() only (Mimir's isConstantScalar). */
function isConstantScalar(e: Expr): boolean {
  return !someNode(e, (n) => {
    switch (n.type) {
      case 'NumberLiteral':
      case 'UnaryExpr':
      case 'ParenExpr':
        return false;
      case 'BinaryExpr':
        return n.returnBool;
      case 'Call':
        return n.func !== 'time';
      default:
        return true;
    }
  });
}

/** isSubqueryCall: a call with a subquery argument (possibly parenthesised). */
function isSubqueryCall(call: Call): boolean {
  return call.args.some((a) => {
    let x = a;
    while (x.type === 'ParenExpr') x = x.expr;
    return x.type === 'SubqueryExpr';
  });
}

/** containsEmbedded: the query names the reserved concatenation metric itself (never sharded again). */
function containsEmbedded(e: Expr): boolean {
  return someNode(e, (n) => n.type === 'VectorSelector' && n.matchers.some((m) => m.name === '__name__' && m.value === EMBEDDED_QUERIES_NAME));
}

/** canParallelize is Mimir's CanParallelize: may expr run per shard with its shards' answers concatenated (or re-aggregated)? */
export function canParallelize(e: Expr): boolean {
  switch (e.type) {
    case 'AggregateExpr':
      // Grouping by __name__ keeps names the shards' answers have already dropped (delayed name removal).
      if (!e.without && e.grouping.includes('__name__')) return false;
      return SHARDABLE_AGGREGATIONS.has(e.op) && !someNode(e.expr, isAggregate) && canParallelize(e.expr);
    case 'BinaryExpr': {
      const ok = (a: Expr, b: Expr): boolean => canParallelize(a) && !someNode(a, isAggregate) && !isConstantScalar(a) && isConstantScalar(b);
      return e.matching === undefined && !e.returnBool && (ok(e.lhs, e.rhs) || ok(e.rhs, e.lhs));
    }
    case 'Call':
      // scalar() of one shard's series is not scalar() of all (Mimir would shard it).
      if (e.func === 'scalar' && countSelectors(e) > 0) return false;
      return !NON_PARALLEL_FUNCS.has(e.func) && argsWithDefaults(e).every(canParallelize);
    case 'SubqueryExpr':
      return !someNode(e, isAggregate) && canParallelize(e.expr);
    case 'ParenExpr':
    case 'UnaryExpr':
      return canParallelize(e.expr);
    case 'MatrixSelector':
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return true;
  }
}

/** countSelectors counts the vector selectors of e (matrix selectors' included). */
function countSelectors(e: Expr): number {
  let n = 0;
  someNode(e, (x) => {
    if (x.type === 'VectorSelector') n++;
    return false;
  });
  return n;
}

/** Analysis is Mimir's ShardingAnalysisResult: are all of e's selectors sharded, and how many shard legs it has. */
interface Analysis {
  all: boolean;
  legs: number;
}

const UNSHARDED: Analysis = { all: false, legs: 0 };

/** analyze is Mimir's ShardingAnalyzer.Analyze, memoized per node. */
function analyze(e: Expr, memo: Map<Expr, Analysis>): Analysis {
  const hit = memo.get(e);
  if (hit !== undefined) return hit;
  const out = analyzeNode(e, memo);
  memo.set(e, out);
  return out;
}

function analyzeNode(e: Expr, memo: Map<Expr, Analysis>): Analysis {
  switch (e.type) {
    case 'VectorSelector':
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return UNSHARDED;
    case 'ParenExpr':
    case 'UnaryExpr':
      return analyze(e.expr, memo);
    case 'NumberLiteral':
    case 'StringLiteral':
      return { all: true, legs: 0 };
    case 'AggregateExpr': {
      if (canParallelize(e)) return { all: true, legs: e.op === 'avg' ? 2 : 1 };
      const inner = analyze(e.expr, memo);
      if (!inner.all) return UNSHARDED;
      if (e.param === undefined) return inner;
      const param = analyze(e.param, memo);
      return param.all ? { all: true, legs: inner.legs + param.legs } : UNSHARDED;
    }
    case 'BinaryExpr': {
      if (COMPARISONS.has(e.op) && canParallelize(e)) return { all: true, legs: 1 };
      const l = analyze(e.lhs, memo);
      if (!l.all) return UNSHARDED;
      const r = analyze(e.rhs, memo);
      return r.all ? { all: true, legs: l.legs + r.legs } : UNSHARDED;
    }
    case 'Call': {
      if (isSubqueryCall(e)) return someNode(e, isAggregate) || !canParallelize(e) ? UNSHARDED : { all: true, legs: 1 };
      for (const a of argsWithDefaults(e)) if (!analyze(a, memo).all) return UNSHARDED;
      return { all: true, legs: countSelectors(e) };
    }
  }
}

/**
 * isBarrier tells the calls whose arguments are not sharded, although Mimir
 * would shard them: absent() reads its argument's matchers (a concatenation
 * would change its labels), info() selects target_info series itself, and
 * label_replace()/label_join() on __name__ read names the shards' answers
 * have already dropped.
 */
function isBarrier(call: Call): boolean {
  switch (call.func) {
    case 'absent':
    case 'absent_over_time':
    case 'info':
      return true;
    case 'label_replace':
    case 'label_join':
      return call.args.some((a) => a.type === 'StringLiteral' && a.val === '__name__');
    default:
      return false;
  }
}

/** withShard returns a copy of e whose every selector also matches the given shard. */
function withShard(e: Expr, index: number, count: number): Expr {
  const copy = structuredClone(e);
  const shard: LabelMatcher = { name: SHARD_LABEL, type: MatchType.Equal, value: formatShardLabelValue(index, count) };
  someNode(copy, (n) => {
    if (n.type === 'VectorSelector') n.matchers = [{ ...shard }, ...n.matchers];
    return false;
  });
  return copy;
}

/** Mapper rewrites one query for a number of shards. */
class Mapper {
  readonly embedded = new Map<string, string[]>();
  readonly summed = new Set<string>();
  shardedQueries = 0;
  private readonly memo = new Map<Expr, Analysis>();

  constructor(private readonly shards: number) {}

  /** concat is the selector standing for the shard queries of `perShard` (one per shard). */
  private concat(perShard: (shard: number) => Expr, like: Expr): VectorSelector {
    const queries: string[] = [];
    for (let i = 0; i < this.shards; i++) queries.push(formatExpr(perShard(i)));
    this.shardedQueries += this.shards;
    const key = JSON.stringify({ Concat: queries });
    this.embedded.set(key, queries);
    return {
      type: 'VectorSelector',
      name: EMBEDDED_QUERIES_NAME,
      matchers: [
        { name: '__name__', type: MatchType.Equal, value: EMBEDDED_QUERIES_NAME },
        { name: QUERIES_LABEL, type: MatchType.Equal, value: key },
      ],
      offsetMs: 0,
      pos: like.pos,
    };
  }

  /** aggregateOver is `outer by|without (grouping) (concat of inner-op per shard)`. */
  private aggregateOver(e: AggregateExpr, outer: AggregateOp, inner: AggregateOp): AggregateExpr {
    const sharded = this.concat((i) => ({ type: 'AggregateExpr', op: inner, expr: withShard(e.expr, i, this.shards), grouping: [...e.grouping], without: e.without, pos: e.pos }), e);
    if (outer === 'sum' && inner === 'sum') this.summed.add(embeddedKey(sharded)!);
    const out: AggregateExpr = { type: 'AggregateExpr', op: outer, expr: sharded, grouping: [...e.grouping], without: e.without, pos: e.pos };
    if (e.param !== undefined) out.param = e.param;
    return out;
  }

  private shardAggregate(e: AggregateExpr): Expr {
    switch (e.op) {
      case 'sum':
      case 'min':
      case 'max':
      case 'group':
        return this.aggregateOver(e, e.op, e.op);
      case 'count':
        return this.aggregateOver(e, 'sum', 'count');
      case 'avg':
        return {
          type: 'ParenExpr',
          expr: { type: 'BinaryExpr', op: '/', lhs: this.aggregateOver(e, 'sum', 'sum'), rhs: this.aggregateOver(e, 'sum', 'count'), returnBool: false, pos: e.pos },
          pos: e.pos,
        };
      default:
        return e;
    }
  }

  /** map rewrites e (Mimir's ASTExprMapper with the shard summer, outside any shard). */
  map(e: Expr): Expr {
    switch (e.type) {
      case 'AggregateExpr':
        if (canParallelize(e)) return this.shardAggregate(e);
        // Grouping by __name__ reads names its operand's shard answers would have dropped.
        if (!e.without && e.grouping.includes('__name__')) return e;
        return this.mapChildren(e);
      case 'VectorSelector':
      case 'SubqueryExpr':
        return e;
      case 'Call':
        if (isSubqueryCall(e)) {
          if (someNode(e, isAggregate) || !canParallelize(e)) return e;
          return this.concat((i) => withShard(e, i, this.shards), e);
        }
        if (isBarrier(e)) return e;
        return this.mapChildren(e);
      case 'BinaryExpr':
        if (canParallelize(e)) {
          if (!COMPARISONS.has(e.op)) return this.mapChildren(e);
          const be: BinaryExpr = e;
          return this.concat((i) => ({ type: 'BinaryExpr', op: be.op, lhs: withShard(be.lhs, i, this.shards), rhs: withShard(be.rhs, i, this.shards), returnBool: false, pos: be.pos }), e);
        }
        if (!analyze(e, this.memo).all) return e;
        return this.mapChildren(e);
      default:
        return this.mapChildren(e);
    }
  }

  /** mapChildren maps the evaluated children of e (a shallow copy of e when any changed). */
  private mapChildren(e: Expr): Expr {
    const kids = childrenOf(e);
    if (kids.length === 0) return e;
    const mapped = kids.map((k) => this.map(k));
    if (mapped.every((m, i) => m === kids[i])) return e;
    switch (e.type) {
      case 'MatrixSelector':
        return e;
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
        return { ...e, expr: mapped[0]! };
      case 'BinaryExpr':
        return { ...e, lhs: mapped[0]!, rhs: mapped[1]! };
      case 'AggregateExpr':
        return e.param !== undefined ? { ...e, param: mapped[0]!, expr: mapped[1]! } : { ...e, expr: mapped[0]! };
      case 'Call':
        return { ...e, args: mapped };
      default:
        return e;
    }
  }
}

/** embeddedKey is the key of a concatenation selector in ShardedQuery.embedded, undefined for any other selector. */
export function embeddedKey(vs: VectorSelector): string | undefined {
  if (vs.name !== EMBEDDED_QUERIES_NAME) return undefined;
  return vs.matchers.find((m) => m.name === QUERIES_LABEL && m.type === MatchType.Equal)?.value;
}

/**
 * shardQuery rewrites expr for `shards` shards; undefined when nothing in it
 * can be sharded, or when the outer expression would still select series
 * itself (a selector left beside sharded legs, as in `clamp(sum(x), scalar(y), 1)`).
 */
export function shardQuery(expr: Expr, shards: number): ShardedQuery | undefined {
  if (shards < 1 || containsEmbedded(expr)) return undefined;
  const m = new Mapper(shards);
  const out = m.map(expr);
  if (m.shardedQueries === 0) return undefined;
  if (someNode(out, (n) => n.type === 'VectorSelector' && embeddedKey(n) === undefined)) return undefined;
  return { expr: out, embedded: m.embedded, shardedQueries: m.shardedQueries, summed: m.summed };
}

/**
 * SUM_CANCELLATION_LIMIT bounds how much the shards' sums of one output
 * series and step may cancel: the sum of their magnitudes over the
 * magnitude of their sum (2^12, for a relative error of 2^12 * 2^-52).
 */
export const SUM_CANCELLATION_LIMIT = 2 ** 12;

/**
 * shardSumsExact tells whether adding up the shards' answers of a summed
 * concatenation (series of equal labels are one output series) gives the
 * plain query's sum, by the rules of the header; false when the query must
 * run unsharded.
 */
export function shardSumsExact(series: readonly Series[]): boolean {
  const groups = new Map<string, Series[]>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [s]);
    else g.push(s);
  }
  for (const g of groups.values()) {
    const steps = g[0]!.values.length;
    for (let i = 0; i < steps; i++) {
      let nan = false;
      let inf = false;
      let magnitudes = 0;
      let sum = 0;
      let c = 0;
      for (const s of g) {
        if (!s.present[i]) continue;
        const v = s.values[i]!;
        if (Number.isNaN(v)) nan = true;
        else if (!Number.isFinite(v)) inf = true;
        magnitudes += Math.abs(v);
        [sum, c] = kahanSumInc(v, sum, c);
      }
      if (nan) continue;
      if (inf) return false;
      const total = sum + c;
      if (!Number.isFinite(total) || magnitudes > SUM_CANCELLATION_LIMIT * Math.abs(total)) return false;
    }
  }
  return true;
}

/** shardableLegs is how many sharded legs expr has (its shard queries with one shard), 0 when it is not shardable. */
export function shardableLegs(expr: Expr): number {
  return shardQuery(expr, 1)?.shardedQueries ?? 0;
}

/** longestRegexpMatcherBytes is the length in bytes of the longest regexp matcher value of expr's selectors. */
export function longestRegexpMatcherBytes(expr: Expr): number {
  let longest = 0;
  someNode(expr, (n) => {
    if (n.type === 'VectorSelector') {
      for (const m of n.matchers) {
        if (m.type === MatchType.Regexp || m.type === MatchType.NotRegexp) longest = Math.max(longest, Buffer.byteLength(m.value, 'utf8'));
      }
    }
    return false;
  });
  return longest;
}
