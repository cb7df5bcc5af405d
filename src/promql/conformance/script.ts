// script.ts parses promqltest scripts (Prometheus's promql/promqltest format)
// into commands:
//
//   load <interval> | load_with_nhcb <interval>   then series lines
//   clear
//   eval[_fail|_warn|_info|_ordered] instant [at <dur>] <expr>
//   eval[_fail|_warn|_info] range from <dur> to <dur> step <dur> <expr>
//     then: expect fail|warn|info|ordered|no_warn|no_info [msg: text | regex: re]
//           expect range vector from <dur> to <dur> step <dur>
//           expect string "<text>"
//           expected_fail_message <text> | expected_fail_regexp <re>
//           a scalar result line, or `{labels} values...` result lines
//
// Lines are trimmed, `#` comment lines are blank, a blank line ends a block.
// Times are durations since the unix epoch, as in promqltest.

import type { Labels } from '../engine/types.js';
import { parseNumberText, parseSeriesDesc, type SequenceValue } from './series.js';

/** ExpectType is the kind of an `expect` line. */
export type ExpectType = 'fail' | 'warn' | 'info' | 'ordered' | 'no_warn' | 'no_info';

/** Expectation is one `expect` line: exact message, regexp, or (neither) anything. */
export interface Expectation {
  type: ExpectType;
  message?: string;
  regex?: RegExp;
}

/** ExpectedSeries is one result line. pos is its 1-based position among result lines. */
export interface ExpectedSeries {
  labels: Labels;
  values: SequenceValue[];
  pos: number;
}

/** LoadCmd loads series at startMs + i*intervalMs. */
export interface LoadCmd {
  type: 'load';
  line: number;
  intervalMs: number;
  withNhcb: boolean;
  series: Array<{ labels: Labels; values: SequenceValue[]; startOffsets?: Array<number | undefined> }>;
}

/** ClearCmd empties the storage. */
export interface ClearCmd {
  type: 'clear';
  line: number;
}

/** EvalCmd evaluates expr and checks the result. */
export interface EvalCmd {
  type: 'eval';
  line: number;
  expr: string;
  isRange: boolean;
  /** startMs is the instant query's time, or the range start. */
  startMs: number;
  endMs: number;
  stepMs: number;
  fail: boolean;
  warn: boolean;
  info: boolean;
  ordered: boolean;
  expectedFailMessage?: string;
  expectedFailRegexp?: RegExp;
  expects: Expectation[];
  /** expectScalar: the result is one bare number. */
  expectScalar: boolean;
  scalar?: number;
  /** expectedString is set by `expect string`. */
  expectedString?: string;
  /** rangeVector is set by `expect range vector`: an instant query returning a matrix. */
  rangeVector?: { startMs: number; endMs: number; stepMs: number };
  /** series are the expected result lines, keyed by their label set. */
  series: ExpectedSeries[];
  /** excludeFromRangeQuery skips the range-mode re-check of instant queries. */
  excludeFromRangeQuery: boolean;
}

/** Command is one step of a script. */
export type Command = LoadCmd | ClearCmd | EvalCmd;

/** ScriptError is a malformed script line (1-based line number). */
export class ScriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ScriptError';
  }
}

const PAT_LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const PAT_EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const PAT_EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const PAT_EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const PAT_EXPECT_RANGE = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;
const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** parseDurationMs parses Prometheus's model.Duration ("1m", "1h30m", "0"). */
export function parseDurationMs(s: string): number {
  if (s === '0') return 0;
  const m = PROM_DURATION.exec(s);
  if (s === '' || m === null || m.slice(1).every((p) => p === undefined)) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
  let total = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) total += Number(m[i + 1]) * UNIT_MS[i]!;
  return total;
}

/** goUnquote unquotes a Go string literal ("..." with escapes, or `...`). */
function goUnquote(s: string): string {
  if (s.length >= 2 && s.startsWith('`') && s.endsWith('`')) return s.slice(1, -1);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return JSON.parse(s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string;
  throw new Error('expected string literal not valid - check that the string is correctly quoted');
}

/** parseScalarLine is promqltest's parseNumber: Go ParseInt (base 0) then ParseFloat. */
function parseScalarLine(s: string): number | undefined {
  if (/^[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+)$/.test(s)) {
    const neg = s.startsWith('-');
    const body = s.replace(/^[+-]/, '').replace(/_/g, '');
    const lower = body.toLowerCase();
    const v = lower.startsWith('0x') || lower.startsWith('0b') || lower.startsWith('0o') ? Number(lower) : parseInt(body, 8);
    return neg ? -v : v;
  }
  if (!/^[+-]?([iI]nf(inity)?|NaN|nan|(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?)$/.test(s)) return undefined;
  try {
    return parseNumberText(s.replace(/_/g, '').replace(/^([+-]?)nan$/, '$1NaN'));
  } catch {
    return undefined;
  }
}

/** getLines trims every line and blanks comment lines, as promqltest does. */
function getLines(input: string): string[] {
  return input.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
}

function parseLoad(lines: string[], i: number): [number, LoadCmd] {
  const m = PAT_LOAD.exec(lines[i]!);
  if (m === null) throw new ScriptError(i + 1, 'invalid load command. (load[_with_nhcb] <step:duration>)');
  let intervalMs: number;
  try {
    intervalMs = parseDurationMs(m[2]!);
  } catch (err) {
    throw new ScriptError(i + 1, `invalid step definition ${JSON.stringify(m[2])}: ${(err as Error).message}`);
  }
  const cmd: LoadCmd = { type: 'load', line: i + 1, intervalMs, withNhcb: m[1] === 'with_nhcb', series: [] };
  // A start-timestamp line (`metric@st <offsets>`) gives the start timestamps of the sample line
  // right after it, as offsets from each sample's time (promqltest's parseSTLine).
  let pending: { line: number; labels: Labels; offsets: Array<number | undefined> } | undefined;
  while (i + 1 < lines.length && lines[i + 1] !== '') {
    i++;
    const def = lines[i]!;
    const st = /^(\S*?)@st[ \t]+(.*)$/.exec(def);
    if (st !== null) {
      if (pending !== undefined) throw new ScriptError(pending.line, '@st line has no following sample line');
      try {
        pending = { line: i + 1, labels: parseSeriesDesc(`${st[1]!} _`).labels, offsets: parseStartOffsets(st[2]!) };
      } catch (err) {
        throw new ScriptError(i + 1, `invalid @st line: ${(err as Error).message}`);
      }
      continue;
    }
    let series: LoadCmd['series'][number];
    try {
      series = parseSeriesDesc(def);
    } catch (err) {
      throw new ScriptError(i + 1, (err as Error).message);
    }
    if (pending !== undefined) {
      if (labelsKeyOf(pending.labels) !== labelsKeyOf(series.labels)) throw new ScriptError(pending.line, '@st metric does not match the following sample line metric');
      if (pending.offsets.length !== series.values.length) {
        throw new ScriptError(pending.line, `@st line has ${pending.offsets.length} values but sample line has ${series.values.length}`);
      }
      series = { ...series, startOffsets: pending.offsets };
      pending = undefined;
    }
    cmd.series.push(series);
  }
  if (pending !== undefined) throw new ScriptError(pending.line, '@st line has no following sample line');
  return [i, cmd];
}

function labelsKeyOf(ls: Labels): string {
  return JSON.stringify(Object.entries(ls).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * parseStartOffsets parses an @st line's items (promqltest's parseSTSequence): `_`, `_xN`, `<dur>`,
 * `<dur>xN` (N+1 equal offsets), `<dur>+<dur>xN` / `<dur>-<dur>xN` (N+1 offsets stepping);
 * durations may be signed. Offsets are ms; undefined where omitted.
 */
export function parseStartOffsets(text: string): Array<number | undefined> {
  const out: Array<number | undefined> = [];
  for (const item of text.trim().split(/\s+/)) {
    if (item === '_') {
      out.push(undefined);
      continue;
    }
    const blanks = /^_x(\d+)$/.exec(item);
    if (blanks !== null) {
      if (Number(blanks[1]) === 0) throw new Error(`invalid ST item ${JSON.stringify(item)}: invalid repeat count`);
      for (let k = 0; k < Number(blanks[1]); k++) out.push(undefined);
      continue;
    }
    const m = /^([+-]?\d+[a-wyzA-Z]*)(?:([+-])(\d+[a-wyzA-Z]*))?(?:x(\d+))?$/.exec(item);
    if (m === null || (m[2] !== undefined && m[4] === undefined)) throw new Error(`invalid ST item ${JSON.stringify(item)}`);
    const base = signedDurationMs(m[1]!);
    const delta = m[3] === undefined ? 0 : (m[2] === '-' ? -1 : 1) * signedDurationMs(m[3]);
    const n = m[4] === undefined ? 0 : Number(m[4]);
    for (let k = 0; k <= n; k++) out.push(base + k * delta);
  }
  return out;
}

/** signedDurationMs parses an optionally signed Prometheus duration (`0` alone allowed) to ms. */
function signedDurationMs(s: string): number {
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  const ms = /^\d+$/.test(body) && Number(body) === 0 ? 0 : parseDurationMs(body);
  return neg ? -ms : ms;
}

function newEval(line: number, expr: string, isRange: boolean, startMs: number, endMs: number, stepMs: number): EvalCmd {
  return {
    type: 'eval', line, expr, isRange, startMs, endMs, stepMs,
    fail: false, warn: false, info: false, ordered: false,
    expects: [], expectScalar: false, series: [], excludeFromRangeQuery: false,
  };
}

function parseExpect(line: number, def: string): Expectation {
  const m = PAT_EXPECT.exec(def);
  if (m === null) throw new ScriptError(line, 'invalid expect statement, must match `expect <type> <match_type>: <string>` format');
  const e: Expectation = { type: m[1] as ExpectType };
  if (m[2] === 'msg') e.message = m[3]!.trim();
  else if (m[2] === 'regex') e.regex = goRegExp(m[3]!.trim());
  return e;
}

/** goRegExp compiles an RE2 pattern as a JavaScript RegExp (close enough for the scripts' patterns). */
export function goRegExp(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), 'u');
}

function parseEval(lines: string[], i: number): [number, EvalCmd] {
  const text = lines[i]!;
  const inst = PAT_EVAL_INSTANT.exec(text);
  const rng = inst === null ? PAT_EVAL_RANGE.exec(text) : null;
  if (inst === null && rng === null) {
    throw new ScriptError(i + 1, "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range from <from> to <to> step <step> <query>'");
  }
  let cmd: EvalCmd;
  let mod: string | undefined;
  try {
    if (inst !== null) {
      mod = inst[1];
      cmd = newEval(i + 1, inst[3]!, false, parseDurationMs(inst[2] ?? '0'), 0, 0);
      cmd.endMs = cmd.startMs;
    } else {
      mod = rng![1];
      const from = parseDurationMs(rng![2]!);
      const to = parseDurationMs(rng![3]!);
      if (to < from) throw new Error(`invalid test definition, end timestamp (${rng![3]}) is before start timestamp (${rng![2]})`);
      cmd = newEval(i + 1, rng![5]!, true, from, to, parseDurationMs(rng![4]!));
    }
  } catch (err) {
    if (err instanceof ScriptError) throw err;
    throw new ScriptError(i + 1, (err as Error).message);
  }
  if (mod === 'ordered') cmd.ordered = true;
  else if (mod === 'fail') cmd.fail = true;
  else if (mod === 'warn') cmd.warn = true;
  else if (mod === 'info') cmd.info = true;

  let pos = 0;
  while (i + 1 < lines.length && lines[i + 1] !== '') {
    i++;
    const def = lines[i]!;
    if (cmd.fail && def.startsWith('expected_fail_message')) {
      cmd.expectedFailMessage = def.slice('expected_fail_message'.length).trim();
      break;
    }
    if (cmd.fail && def.startsWith('expected_fail_regexp')) {
      cmd.expectedFailRegexp = goRegExp(def.slice('expected_fail_regexp'.length).trim());
      break;
    }
    if (def.startsWith('expect range vector')) {
      const m = PAT_EXPECT_RANGE.exec(def);
      if (m === null) throw new ScriptError(i + 1, `invalid range vector definition ${JSON.stringify(def)}`);
      cmd.rangeVector = { startMs: parseDurationMs(m[1]!), endMs: parseDurationMs(m[2]!), stepMs: parseDurationMs(m[3]!) };
      cmd.excludeFromRangeQuery = true;
      pos++;
      continue;
    }
    if (def.startsWith('expect string')) {
      const rest = def.slice('expect string'.length).trim();
      if (rest === '') throw new ScriptError(i + 1, 'expected string literal not valid - a quoted string literal is required');
      try {
        cmd.expectedString = goUnquote(rest);
      } catch (err) {
        throw new ScriptError(i + 1, (err as Error).message);
      }
      cmd.excludeFromRangeQuery = true;
      pos++;
      continue;
    }
    if (def.split(' ')[0] === 'expect') {
      const e = parseExpect(i + 1, def);
      cmd.expects.push(e);
      continue;
    }
    pos++;
    const scalar = parseScalarLine(def);
    if (scalar !== undefined) {
      cmd.expectScalar = true;
      cmd.scalar = scalar;
      cmd.series = [];
      break;
    }
    let desc;
    try {
      desc = parseSeriesDesc(def);
    } catch (err) {
      throw new ScriptError(i + 1, (err as Error).message);
    }
    if (desc.values.length > 1 && !cmd.isRange && cmd.rangeVector === undefined) {
      throw new ScriptError(i + 1, "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query");
    }
    cmd.expectScalar = false;
    const key = JSON.stringify(desc.labels);
    const existing = cmd.series.findIndex((s) => JSON.stringify(s.labels) === key);
    const entry: ExpectedSeries = { labels: desc.labels, values: desc.values, pos };
    if (existing >= 0) cmd.series[existing] = entry;
    else cmd.series.push(entry);
  }
  return [i, cmd];
}

/** isOrdered: eval_ordered or an `expect ordered` line. */
export function isOrdered(cmd: EvalCmd): boolean {
  return cmd.ordered || cmd.expects.some((e) => e.type === 'ordered');
}

/** isFail: eval_fail or an `expect fail` line. */
export function isFail(cmd: EvalCmd): boolean {
  return cmd.fail || cmd.expects.some((e) => e.type === 'fail');
}

/** parseScript parses a whole script. */
export function parseScript(input: string): Command[] {
  const lines = getLines(input);
  const cmds: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const word = l.split(/[ \t]+/, 1)[0]!.toLowerCase();
    if (word === 'clear') {
      cmds.push({ type: 'clear', line: i + 1 });
    } else if (word.startsWith('load')) {
      const [next, cmd] = parseLoad(lines, i);
      i = next;
      cmds.push(cmd);
    } else if (word.startsWith('eval')) {
      const [next, cmd] = parseEval(lines, i);
      i = next;
      cmds.push(cmd);
    } else {
      throw new ScriptError(i + 1, `invalid command ${JSON.stringify(l)}`);
    }
  }
  return cmds;
}
