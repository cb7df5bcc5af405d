// expressions.ts evaluates Grafana's server-side expressions (`__expr__`
// nodes of a rule's data): math, reduce, resample, threshold and
// classic_conditions, over the results of the other nodes (numbers: one
// value per label set; series: points per label set), as Grafana's expr
// package defines them.

import { parseDuration } from '../config/duration.js';

/** Labels is a label set. */
export type Labels = Record<string, string>;
/** NumberItem is one labelled value (null: no value). */
export interface NumberItem {
  labels: Labels;
  value: number | null;
}
/** SeriesItem is one labelled series of [unix ms, value] points. */
export interface SeriesItem {
  labels: Labels;
  points: Array<[number, number | null]>;
}
/** NodeResult is what a query or expression node produces. */
export type NodeResult = { kind: 'number'; items: NumberItem[] } | { kind: 'series'; items: SeriesItem[] };

/** ExpressionError is a failed expression (the rule then takes its execErrState). */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}

type Model = Record<string, unknown>;

/** refOf reads a node reference ("A" or "$A"). */
function refOf(v: unknown): string {
  return String(v ?? '')
    .trim()
    .replace(/^\$\{?/, '')
    .replace(/\}$/, '');
}

/** dependencies lists the refIds an expression model reads. */
export function dependencies(model: Model): string[] {
  const type = String(model.type ?? '');
  if (type === 'math') return [...String(model.expression ?? '').matchAll(/\$\{?([A-Za-z0-9_\- ]+?)\}?(?![A-Za-z0-9_])/g)].map((m) => m[1]!.trim());
  if (type === 'classic_conditions') {
    return ((model.conditions as Model[] | undefined) ?? []).map((c) => refOf(((c.query as Model | undefined)?.params as unknown[] | undefined)?.[0]));
  }
  return [refOf(model.expression)];
}

/** evaluateExpression runs one expression node given its inputs' results. */
export function evaluateExpression(refId: string, model: Model, input: (ref: string) => NodeResult): NodeResult {
  const type = String(model.type ?? '');
  switch (type) {
    case 'reduce':
      return reduceNode(model, input(refOf(model.expression)));
    case 'math':
      return mathNode(String(model.expression ?? ''), input);
    case 'threshold':
      return thresholdNode(model, input(refOf(model.expression)));
    case 'resample':
      return resampleNode(model, input(refOf(model.expression)));
    case 'classic_conditions':
      return classicNode(model, input);
    default:
      throw new ExpressionError(`failed to build expression ${refId}: expression type '${type}' in '${refId}' not implemented`);
  }
}

// --- reduce -------------------------------------------------------------------

const REDUCERS: Record<string, (vs: number[]) => number> = {
  last: (vs) => (vs.length === 0 ? NaN : vs[vs.length - 1]!),
  mean: (vs) => (vs.length === 0 ? NaN : vs.reduce((a, b) => a + b, 0) / vs.length),
  min: (vs) => (vs.length === 0 || vs.some((v) => Number.isNaN(v)) ? NaN : Math.min(...vs)),
  max: (vs) => (vs.length === 0 || vs.some((v) => Number.isNaN(v)) ? NaN : Math.max(...vs)),
  sum: (vs) => vs.reduce((a, b) => a + b, 0),
  count: (vs) => vs.length,
  median: (vs) => {
    if (vs.length === 0) return NaN;
    const s = [...vs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  },
};

function reduceNode(model: Model, input: NodeResult): NodeResult {
  const reducer = String(model.reducer ?? '');
  const fn = REDUCERS[reducer];
  if (fn === undefined) throw new ExpressionError(`reducer '${reducer}' is not implemented`);
  // Reducing a number leaves it as it is.
  if (input.kind === 'number') return input;
  const settings = (model.settings as Model | undefined) ?? {};
  const mode = String(settings.mode ?? '');
  const replaceWith = Number(settings.replaceWithValue ?? 0);
  return {
    kind: 'number',
    items: input.items.map((s) => {
      let vs: number[];
      if (mode === 'dropNN') vs = s.points.map((p) => p[1]).filter((v): v is number => v !== null && !Number.isNaN(v));
      else if (mode === 'replaceNN') vs = s.points.map((p) => (p[1] === null || Number.isNaN(p[1]) ? replaceWith : p[1]));
      else vs = s.points.map((p) => (p[1] === null ? NaN : p[1]));
      return { labels: s.labels, value: fn(vs) };
    }),
  };
}

// --- threshold ------------------------------------------------------------------

/** compareThreshold applies a threshold or classic-condition evaluator to a value. */
export function compareThreshold(type: string, params: number[], v: number): boolean {
  const [a = 0, b = 0] = params;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  switch (type) {
    case 'gt':
      return v > a;
    case 'lt':
      return v < a;
    case 'eq':
      return v === a;
    case 'ne':
      return v !== a;
    case 'gte':
      return v >= a;
    case 'lte':
      return v <= a;
    case 'within_range':
      return v > lo && v < hi;
    case 'outside_range':
      return v < lo || v > hi;
    case 'within_range_included':
      return v >= lo && v <= hi;
    case 'outside_range_included':
      return v <= lo || v >= hi;
    default:
      throw new ExpressionError(`unsupported threshold type '${type}'`);
  }
}

function thresholdNode(model: Model, input: NodeResult): NodeResult {
  const conds = (model.conditions as Model[] | undefined) ?? [];
  const ev = (conds[0]?.evaluator as Model | undefined) ?? {};
  const type = String(ev.type ?? '');
  const params = ((ev.params as unknown[] | undefined) ?? []).map(Number);
  compareThreshold(type, params, 0);
  const test = (v: number | null): number | null => (v === null ? null : compareThreshold(type, params, v) ? 1 : 0);
  if (input.kind === 'number') return { kind: 'number', items: input.items.map((i) => ({ labels: i.labels, value: test(i.value) })) };
  return { kind: 'series', items: input.items.map((s) => ({ labels: s.labels, points: s.points.map(([t, v]) => [t, test(v)] as [number, number | null]) })) };
}

// --- resample -------------------------------------------------------------------

function resampleNode(model: Model, input: NodeResult): NodeResult {
  if (input.kind !== 'series') throw new ExpressionError('can only resample type series');
  let windowMs: number;
  try {
    windowMs = parseDuration(String(model.window ?? ''));
  } catch {
    throw new ExpressionError(`failed to parse resample "window" duration field "${String(model.window ?? '')}"`);
  }
  if (!(windowMs > 0)) throw new ExpressionError('resample window must be positive');
  const down = String(model.downsampler ?? 'last');
  const up = String(model.upsampler ?? 'pad');
  const fn = REDUCERS[down === 'mean' ? 'mean' : down];
  if (fn === undefined) throw new ExpressionError(`downsampling ${down} not implemented`);
  return {
    kind: 'series',
    items: input.items.map((s) => {
      if (s.points.length === 0) return { labels: s.labels, points: [] };
      const first = Math.ceil(s.points[0]![0] / windowMs) * windowMs;
      const last = s.points[s.points.length - 1]![0];
      const out: Array<[number, number | null]> = [];
      let prev: number | null = null;
      for (let t = first, n = 0; t <= last + windowMs && n < 100_000; t += windowMs, n++) {
        const vs = s.points.filter(([pt, v]) => pt > t - windowMs && pt <= t && v !== null).map((p) => p[1] as number);
        let v: number | null;
        if (vs.length > 0) v = fn(vs);
        else if (up === 'pad') v = prev;
        else if (up === 'backfilling') v = s.points.find(([pt, pv]) => pt > t && pv !== null)?.[1] ?? null;
        else v = NaN;
        if (t > last && vs.length === 0) break;
        out.push([t, v]);
        if (v !== null && !Number.isNaN(v)) prev = v;
      }
      return { labels: s.labels, points: out };
    }),
  };
}

// --- classic conditions -----------------------------------------------------------

const CLASSIC_REDUCERS: Record<string, (vs: number[]) => number | null> = {
  avg: (vs) => (vs.length === 0 ? null : vs.reduce((a, b) => a + b, 0) / vs.length),
  min: (vs) => (vs.length === 0 ? null : Math.min(...vs)),
  max: (vs) => (vs.length === 0 ? null : Math.max(...vs)),
  sum: (vs) => (vs.length === 0 ? null : vs.reduce((a, b) => a + b, 0)),
  count: (vs) => vs.length,
  last: (vs) => (vs.length === 0 ? null : vs[vs.length - 1]!),
  median: (vs) => (vs.length === 0 ? null : REDUCERS.median!(vs)),
  diff: (vs) => (vs.length === 0 ? null : vs[vs.length - 1]! - vs[0]!),
  diff_abs: (vs) => (vs.length === 0 ? null : Math.abs(vs[vs.length - 1]! - vs[0]!)),
  percent_diff: (vs) => (vs.length === 0 ? null : ((vs[vs.length - 1]! - vs[0]!) / Math.abs(vs[0]!)) * 100),
  percent_diff_abs: (vs) => (vs.length === 0 ? null : Math.abs(((vs[vs.length - 1]! - vs[0]!) / vs[0]!) * 100)),
  count_non_null: (vs) => vs.length,
};

function classicNode(model: Model, input: (ref: string) => NodeResult): NodeResult {
  const conds = (model.conditions as Model[] | undefined) ?? [];
  let firing = false;
  let noData = true;
  conds.forEach((c, i) => {
    const ref = refOf(((c.query as Model | undefined)?.params as unknown[] | undefined)?.[0]);
    const reducerType = String((c.reducer as Model | undefined)?.type ?? 'last');
    const reducer = CLASSIC_REDUCERS[reducerType];
    if (reducer === undefined) throw new ExpressionError(`reducer '${reducerType}' is not implemented`);
    const ev = (c.evaluator as Model | undefined) ?? {};
    const evType = String(ev.type ?? '');
    const params = ((ev.params as unknown[] | undefined) ?? []).map(Number);
    const r = input(ref);
    const series: number[][] =
      r.kind === 'series'
        ? r.items.map((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null && !Number.isNaN(v)))
        : r.items.map((n) => (n.value === null ? [] : [n.value]));
    let matched = false;
    for (const vs of series) {
      const v = reducer(vs);
      if (v !== null) noData = false;
      if (evType === 'no_value') matched ||= v === null;
      else if (v !== null && compareThreshold(evType, params, v)) matched = true;
    }
    const op = String((c.operator as Model | undefined)?.type ?? 'and');
    if (i === 0) firing = matched;
    else if (op === 'or') firing = firing || matched;
    else firing = firing && matched;
  });
  if (noData && !firing) return { kind: 'number', items: [] };
  return { kind: 'number', items: [{ labels: {}, value: firing ? 1 : 0 }] };
}

// --- math -------------------------------------------------------------------------

type MathValue = { kind: 'scalar'; value: number | null } | NodeResult;

const FUNCS: Record<string, (v: number) => number> = {
  abs: Math.abs,
  log: Math.log,
  round: Math.round,
  ceil: Math.ceil,
  floor: Math.floor,
  is_nan: (v) => (Number.isNaN(v) ? 1 : 0),
  is_inf: (v) => (v === Infinity || v === -Infinity ? 1 : 0),
  is_number: (v) => (Number.isFinite(v) ? 1 : 0),
};

class MathParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly input: (ref: string) => NodeResult,
  ) {}

  parse(): MathValue {
    const v = this.or();
    this.space();
    if (this.i < this.s.length) throw new ExpressionError(`failed to parse expression '${this.s}': unexpected '${this.s.slice(this.i)}'`);
    return v;
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private eat(op: string): boolean {
    this.space();
    if (this.s.startsWith(op, this.i)) {
      this.i += op.length;
      return true;
    }
    return false;
  }

  private or(): MathValue {
    let l = this.and();
    while (this.eat('||')) l = binary('||', l, this.and());
    return l;
  }

  private and(): MathValue {
    let l = this.cmp();
    while (this.eat('&&')) l = binary('&&', l, this.cmp());
    return l;
  }

  private cmp(): MathValue {
    let l = this.add();
    for (;;) {
      const op = ['==', '!=', '>=', '<=', '>', '<'].find((o) => this.eat(o));
      if (op === undefined) return l;
      l = binary(op, l, this.add());
    }
  }

  private add(): MathValue {
    let l = this.mul();
    for (;;) {
      const op = ['+', '-'].find((o) => this.eat(o));
      if (op === undefined) return l;
      l = binary(op, l, this.mul());
    }
  }

  private mul(): MathValue {
    let l = this.pow();
    for (;;) {
      const op = ['*', '/', '%'].find((o) => this.eat(o));
      if (op === undefined) return l;
      l = binary(op, l, this.pow());
    }
  }

  private pow(): MathValue {
    const l = this.unary();
    if (this.eat('**') || this.eat('^')) return binary('^', l, this.pow());
    return l;
  }

  private unary(): MathValue {
    if (this.eat('!')) return unary((v) => (v === 0 ? 1 : 0), this.unary());
    if (this.eat('-')) return unary((v) => -v, this.unary());
    return this.primary();
  }

  private primary(): MathValue {
    this.space();
    if (this.eat('(')) {
      const v = this.or();
      if (!this.eat(')')) throw new ExpressionError(`failed to parse expression '${this.s}': missing )`);
      return v;
    }
    const rest = this.s.slice(this.i);
    let m = /^\$\{([^}]+)\}|^\$([A-Za-z0-9_]+)/.exec(rest);
    if (m !== null) {
      this.i += m[0].length;
      return this.input((m[1] ?? m[2]!).trim());
    }
    m = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?/.exec(rest);
    if (m !== null) {
      this.i += m[0].length;
      return { kind: 'scalar', value: Number(m[0]) };
    }
    m = /^([a-z_]+)\s*\(/.exec(rest);
    if (m !== null) {
      this.i += m[0].length;
      const name = m[1]!;
      const arg = this.or();
      if (!this.eat(')')) throw new ExpressionError(`failed to parse expression '${this.s}': missing )`);
      if (name === 'is_null') return mapValue(arg, (v) => (v === null ? 1 : 0), true);
      const fn = FUNCS[name];
      if (fn === undefined) throw new ExpressionError(`failed to parse expression '${this.s}': unknown function ${name}`);
      return unary(fn, arg);
    }
    throw new ExpressionError(`failed to parse expression '${this.s}': unexpected '${rest}'`);
  }
}

function mapValue(v: MathValue, fn: (x: number | null) => number | null, nulls = false): MathValue {
  const f = (x: number | null): number | null => (x === null && !nulls ? null : fn(x));
  if (v.kind === 'scalar') return { kind: 'scalar', value: f(v.value) };
  if (v.kind === 'number') return { kind: 'number', items: v.items.map((i) => ({ labels: i.labels, value: f(i.value) })) };
  return { kind: 'series', items: v.items.map((s) => ({ labels: s.labels, points: s.points.map(([t, x]) => [t, f(x)] as [number, number | null]) })) };
}

function unary(fn: (v: number) => number, v: MathValue): MathValue {
  return mapValue(v, (x) => (x === null ? null : fn(x)));
}

function op(o: string, a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  switch (o) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    case '^':
      return a ** b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '&&':
      return a !== 0 && b !== 0 ? 1 : 0;
    case '||':
      return a !== 0 || b !== 0 ? 1 : 0;
    default:
      throw new ExpressionError(`unknown operator ${o}`);
  }
}

function subset(a: Labels, b: Labels): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === v);
}

/** union pairs the items of two sets as Grafana's math does: equal or subset label sets, or one item on each side. */
function union<A extends { labels: Labels }, B extends { labels: Labels }>(as: A[], bs: B[]): Array<[A, B, Labels]> {
  if (as.length === 1 && bs.length === 1) {
    const a = as[0]!;
    const b = bs[0]!;
    return [[a, b, Object.keys(a.labels).length >= Object.keys(b.labels).length ? a.labels : b.labels]];
  }
  const out: Array<[A, B, Labels]> = [];
  for (const a of as) {
    for (const b of bs) {
      if (subset(a.labels, b.labels)) out.push([a, b, b.labels]);
      else if (subset(b.labels, a.labels)) out.push([a, b, a.labels]);
    }
  }
  return out;
}

function binary(o: string, l: MathValue, r: MathValue): MathValue {
  if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', value: op(o, l.value, r.value) };
  if (l.kind === 'scalar') return mapValue(r, (x) => op(o, l.value, x), true);
  if (r.kind === 'scalar') return mapValue(l, (x) => op(o, x, r.value), true);
  if (l.kind === 'number' && r.kind === 'number') return { kind: 'number', items: union(l.items, r.items).map(([a, b, labels]) => ({ labels, value: op(o, a.value, b.value) })) };
  if (l.kind === 'series' && r.kind === 'series') {
    return {
      kind: 'series',
      items: union(l.items, r.items).map(([a, b, labels]) => {
        const bv = new Map(b.points);
        return { labels, points: a.points.filter(([t]) => bv.has(t)).map(([t, v]) => [t, op(o, v, bv.get(t) ?? null)] as [number, number | null]) };
      }),
    };
  }
  const series = (l.kind === 'series' ? l : r) as { kind: 'series'; items: SeriesItem[] };
  const nums = (l.kind === 'number' ? l : r) as { kind: 'number'; items: NumberItem[] };
  const leftIsSeries = l.kind === 'series';
  return {
    kind: 'series',
    items: union(series.items, nums.items).map(([s, n, labels]) => ({
      labels,
      points: s.points.map(([t, v]) => [t, leftIsSeries ? op(o, v, n.value) : op(o, n.value, v)] as [number, number | null]),
    })),
  };
}

function mathNode(expression: string, input: (ref: string) => NodeResult): NodeResult {
  if (expression.trim() === '') throw new ExpressionError('math expression is empty');
  const v = new MathParser(expression, input).parse();
  if (v.kind === 'scalar') return { kind: 'number', items: [{ labels: {}, value: v.value }] };
  return v;
}
