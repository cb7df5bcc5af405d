// template-cases.ts holds the cases of the template engine's differential test
// against Go (test/peer/template-go.test.ts): hand-written templates covering
// every construct, builtin and printf verb, a seeded generator, the shared data,
// and how our engine renders one case.

import { Template, TemplateError } from '../../../src/template/index.js';
import { TEMPLATE_FUNCS } from '../../../src/alertmanager/template-funcs.js';
import { GoDuration, GoTime } from '../../../src/compat/gotime.js';

/** Case is one template with its data. */
export interface Case {
  text: string;
  defs?: string[];
  data: unknown;
  missingKey?: 'default' | 'zero' | 'error';
  /** times become time.Time values (unix ms, UTC) added to the data map under their names. */
  times?: Record<string, number>;
  /** durs become time.Duration values (nanoseconds) added to the data map. */
  durs?: Record<string, number>;
}

/** Result is an output or an error text. */
export interface Result {
  out: string;
  parseErr?: string;
  execErr?: string;
}

const FUNCS = {
  // Alertmanager's time functions (the Go side defines them the same way).
  tz: TEMPLATE_FUNCS.tz,
  date: TEMPLATE_FUNCS.date,
  upper: (s: unknown) => String(s).toUpperCase(),
  join: (sep: unknown, s: unknown) => (s as string[]).join(String(sep)),
  fail: () => {
    throw new Error('file does not exist');
  },
};

/** render renders a case with our engine. */
export function render(c: Case): Result {
  const tmpl = new Template('t', { funcs: FUNCS, missingKey: c.missingKey ?? 'default' });
  try {
    (c.defs ?? []).forEach((d, j) => tmpl.parse(d, 'def' + String.fromCharCode(97 + j)));
    tmpl.parse(c.text, 't');
  } catch (e) {
    if (e instanceof TemplateError) return { out: '', parseErr: e.message };
    throw e;
  }
  try {
    return { out: tmpl.execute(withTimes(c), 't') };
  } catch (e) {
    if (e instanceof TemplateError) return { out: '', execErr: e.message };
    throw e;
  }
}

/** withTimes adds a case's time.Time and time.Duration values to its data, as the Go side does. */
function withTimes(c: Case): unknown {
  if (c.times === undefined && c.durs === undefined) return c.data;
  const m: Record<string, unknown> = { ...((c.data ?? {}) as Record<string, unknown>) };
  for (const [k, ms] of Object.entries(c.times ?? {})) m[k] = new GoTime(ms);
  for (const [k, ns] of Object.entries(c.durs ?? {})) m[k] = new GoDuration(BigInt(ns));
  return m;
}

const WINTER = Date.UTC(2026, 0, 15, 13, 4, 5, 678);
const SUMMER = Date.UTC(2026, 6, 4, 22, 30, 0, 0);
const ZERO = -62135596800000;

/** TIME_CASES are Alertmanager template data times (StartsAt, EndsAt are time.Time) and the tz/date functions. */
export const TIME_CASES: Case[] = [
  '{{.W}}|{{.S}}|{{.Z}}',
  '{{.W.Format "2006-01-02T15:04:05.000Z07:00"}}|{{.S.Format "Mon Jan _2 3:04PM MST 2006"}}|{{.Z.Format "2006-01-02"}}',
  '{{.W.Unix}} {{.W.UnixMilli}} {{.W.UnixNano}} {{.Z.Unix}}',
  '{{.W.Year}} {{.W.Month}} {{.W.Day}} {{.W.Weekday}} {{.W.YearDay}} {{.W.Hour}}:{{.W.Minute}}:{{.W.Second}} {{.W.Nanosecond}}',
  '{{.W.IsZero}} {{.Z.IsZero}} {{.W.Before .S}} {{.W.After .S}} {{.W.Equal .W}}',
  '{{.S.Sub .W}}|{{.W.Sub .S}}|{{.W.Add .D}}|{{.W.UTC}}',
  '{{.D}} {{.D0}} {{.Dms}} {{.Dus}} {{.Dns}} {{.Dneg}} {{.Dlong}}|{{.D.Seconds}} {{.D.Minutes}} {{.Dms.Milliseconds}}',
  '{{printf "%v|%s" .W .D}}',
  '{{tz "Europe/Berlin" .W}}|{{tz "Europe/Berlin" .S}}',
  '{{(tz "America/New_York" .W).Format "Mon Jan 2 15:04:05 MST 2006"}}|{{(tz "America/New_York" .S).Format "15:04 MST -07:00"}}',
  '{{tz "Asia/Kolkata" .W}}|{{tz "Asia/Tokyo" .W}}|{{tz "Australia/Sydney" .W}}|{{tz "Australia/Sydney" .S}}',
  '{{tz "Europe/London" .W}}|{{tz "Europe/London" .S}}|{{tz "Europe/Dublin" .W}}|{{tz "Europe/Dublin" .S}}',
  '{{tz "America/Sao_Paulo" .W}}|{{tz "Asia/Dubai" .W}}|{{tz "Asia/Kathmandu" .W}}|{{tz "America/St_Johns" .S}}',
  '{{tz "America/Los_Angeles" .S}}|{{tz "Europe/Moscow" .W}}|{{tz "Pacific/Auckland" .W}}|{{tz "Africa/Johannesburg" .W}}',
  '{{tz "UTC" .W}}|{{tz "" .S}}|{{(tz "Europe/Paris" .S).Hour}}|{{(tz "Europe/Paris" .S).Day}}',
  '{{date "Monday, 02-Jan-06 15:04:05 MST" .W}}|{{date "2006-01-02 15:04:05.999 -0700" (tz "Asia/Kolkata" .S)}}',
  '{{tz "Nope/Zone" .W}}',
].map((text) => ({
  text,
  data: {},
  times: { W: WINTER, S: SUMMER, Z: ZERO },
  durs: { D: 1_500_000_000, D0: 0, Dms: 1_500_000, Dus: 250_000, Dns: 42, Dneg: -2_000_000_000, Dlong: 93_600_500_000_000 },
}));

/** DATA is the dot of the cases. */
export const DATA = {
  s: 'hello',
  e: '',
  n: 42,
  f: 3.25,
  big: 1e6,
  small: 0.000012,
  neg: -7.5,
  z: 0,
  t: true,
  no: false,
  nil: null,
  l: ['a', 'b', 'c'],
  nums: [1, 2.5, 3],
  el: [],
  m: { b: 2, a: 1, c: 'x' },
  em: {},
  nest: { inner: { deep: 'v', list: [{ k: 'one' }, { k: 'two' }] } },
  html: '<a href="x">&\'</a>',
  uni: 'héllo wörld ✓',
  labels: { alertname: 'HighLatency', instance: 'host:9090', severity: 'page' },
};

/** HAND are the hand-written templates. */
export const HAND: string[] = [
  'plain text',
  '{{.s}}',
  '{{.n}} {{.f}} {{.big}} {{.small}} {{.neg}} {{.z}}',
  '{{.t}} {{.no}} {{.nil}} {{.missing}} {{.missing.deeper}}',
  '{{.l}} {{.nums}} {{.el}} {{.m}} {{.em}}',
  '{{.nest.inner.deep}} {{.nest.inner.list}}',
  '{{3}} {{-3}} {{3.0}} {{1e3}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{\'a\'}} {{.5}} {{1.5e-7}}',
  '{{"str\\t\\n\\"q\\" \\u00e9 \\x41"}} {{`raw\\n`}}',
  '{{true}} {{false}}',
  '{{if .t}}yes{{end}} {{if .no}}yes{{else}}no{{end}}',
  '{{if .no}}a{{else if .z}}b{{else if .s}}c{{else}}d{{end}}',
  '{{with .s}}[{{.}}]{{end}} {{with .e}}x{{else}}empty{{end}} {{with .no}}x{{else with .n}}n={{.}}{{end}}',
  '{{range .l}}<{{.}}>{{end}}',
  '{{range $i, $e := .l}}{{$i}}={{$e}};{{end}}',
  '{{range $k, $v := .m}}{{$k}}:{{$v}},{{end}}',
  '{{range .el}}x{{else}}none{{end}}',
  '{{range $i := 4}}{{$i}}{{end}}',
  '{{range .nums}}{{if eq . 2.5}}{{break}}{{end}}{{.}} {{end}}',
  '{{range .l}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}',
  '{{range .nest.inner.list}}{{.k}} {{$.s}} {{end}}',
  '{{$x := 5}}{{$x}} {{$x = 7}}{{$x}}',
  '{{$x := .s}}{{with .n}}{{$x}}-{{.}}{{end}}',
  '{{define "sub"}}[{{.}}]{{end}}{{template "sub" .s}}{{template "sub" 5}}',
  '{{block "b" .n}}block {{.}}{{end}}',
  '{{template "nope"}}',
  'a  {{- .s -}}  b {{- /* comment */ -}} c {{/* c2 */}} d',
  '{{.s | printf "%s!"}} {{.n | printf "%d-%v"  "x"}}',
  '{{printf "%v %v %v %v" .n .f .s .t}}',
  '{{printf "%d %5d %-5d| %05d %+d %x %X %o %b %c %q %U" 42 42 42 42 42 255 255 8 5 65 65 65}}',
  '{{printf "%f %.2f %8.3f %-8.3f| %e %E %.3e %g %G %.3g" 3.14159 3.14159 3.14159 3.14159 1234.5678 1234.5678 1234.5678 1234.5678 0.000001234 1234.5678}}',
  '{{printf "%s %10s %-10s| %.2s %q %x % x %X" "go" "go" "go" "golang" "a\\"b" "hi" "hi" "hi"}}',
  '{{printf "%t %v" true false}}',
  '{{printf "%d" "x"}} {{printf "%s" 5}} {{printf "%d %d" 1}} {{printf "%d" 1 2}} {{printf "%z" 1}}',
  '{{printf "%v %v" .l .m}} {{printf "%d" .nums}} {{printf "%s" .l}}',
  '{{printf "%6.2f|%-8.1e|%+.1f|% d|%%" 1.0 12345.678 2.25 5}}',
  '{{printf "%v %v %v %v %v" 1e20 1e21 123456789.0 0.0001 0.00001}}',
  '{{printf "%g %g %.2g %.10g" 100000.0 1000000.0 123.0 1.0}}',
  '{{print "a" 1 2 "b" 3.5 nil}} {{println "a" 1}}',
  '{{len .s}} {{len .l}} {{len .m}} {{len .uni}}',
  '{{index .l 1}} {{index .m "a"}} {{index .m "zz"}} {{index .nest "inner" "deep"}} {{index .s 1}}',
  '{{index .l 5}}',
  '{{slice .s 1 3}} {{slice .l 1}} {{slice .l 0 2}} {{slice .s}}',
  '{{not .t}} {{not .e}} {{and 1 0 2}} {{and 1 2}} {{or 0 "" "x"}} {{or 0 ""}}',
  '{{and .no .missing.x}} {{or .t (index .l 9)}}',
  '{{eq 1 1}} {{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 0.5}} {{ge "b" "a"}}',
  '{{eq .n 42.0}} {{eq .s "hello"}} {{lt .f 4.0}}',
  '{{eq 1 .f}}',
  '{{lt true false}}',
  '{{html .html}} {{js .html}} {{urlquery .uni "a b&c"}}',
  '{{html .n}} {{js 1 "x"}}',
  '{{upper .s}} {{.s | upper}} {{join "," .l}} {{upper (printf "%s-%s" .s "x")}}',
  '{{fail}}',
  '{{(printf "%s" .s)}} {{(index .nest "inner").deep}}',
  '{{$m := .m}}{{$m.a}} {{$.s}}',
  '{{.s.x}}',
  '{{.nil.x}}',
  '{{nil}}',
  '{{foo}}',
  '{{.s 1}}',
  '{{if}}x{{end}}',
  '{{end}}',
  '{{if .t}}unclosed',
  '{{range .l}}{{else}}{{else}}{{end}}',
  '{{.x',
  '{{$undefined}}',
  '{{break}}',
  '{{"unterminated}}',
  '{{printf "%s" | printf}}',
  '{{3 | printf "%d"}}',
  'line1\nline2 {{index .l 7}}',
  '{{with $x := .n}}{{$x}}{{end}}',
  '{{range $i, $e := .m}}{{$i}}{{end}}',
  '{{print .l .m .em .nil}}',
  '{{printf "%v" .nest}}',
  '{{printf "%.3s|%5.1s|" "abcdef" "xyz"}}',
  '{{printf "%T %T %T %T %T %T" 1 1.5 "s" true .l .m}}',
  '{{printf "%08.3f|%-08d|%+08d" -3.14159 42 42}}',
  '{{printf "%#x %#o %#v" 255 8 "s"}}',
  '{{printf "%c%c%c" 72 105 0x2713}}',
  '{{len 3}}',
  '{{index .n 0}}',
  '{{slice .l 2 1}}',
  'a\n{{define "y"}}\n{{.a}{{end}}',
  '{{define "y"}}{{if}}{{end}}{{end}}',
];

/** mulberry32 is a small seeded PRNG, so the generated cases are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** generate makes count templates from a fixed seed. */
export function generate(count: number): string[] {
  const rnd = mulberry32(20261204);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const values = ['.s', '.n', '.f', '.big', '.small', '.neg', '.z', '.t', '.no', '.e', '.l', '.m', '.nums', '.missing', '.labels.alertname', '.nest.inner.deep', '1', '-2', '0', '2.5', '1e6', '"x y"', '`raw`', 'true', '$', '.labels'];
  const nums = ['.n', '.f', '.big', '.small', '.neg', '.z', '3', '-4', '0.1', '1e-7', '123456.789', '1e21', '2.5'];
  const ints = ['3', '-4', '0', '255', '65', '100000'];
  const verbs = ['%v', '%d', '%s', '%q', '%x', '%f', '%.1f', '%.3f', '%e', '%.2e', '%g', '%.4g', '%8.2f', '%-6v|', '%06d', '%+v', '%t', '%5s', '%-5s|', '%c', '%X', '%o', '%b', '%10.3e', '% d', '%#v'];
  const expr = (depth: number): string => {
    const r = rnd();
    if (depth > 2 || r < 0.35) return pick(values);
    if (r < 0.5) return `(printf "${pick(verbs)}" ${pick(rnd() < 0.5 ? nums : values)})`;
    if (r < 0.6) return `(len ${pick(['.s', '.l', '.m', '.labels', '.e'])})`;
    if (r < 0.7) return `(index .l ${pick(['0', '1', '2'])})`;
    if (r < 0.8) return `(${pick(['eq', 'ne', 'lt', 'le', 'gt', 'ge'])} ${pick(ints)} ${pick(ints)})`;
    if (r < 0.9) return `(${pick(['and', 'or'])} ${expr(depth + 1)} ${expr(depth + 1)})`;
    return `(not ${expr(depth + 1)})`;
  };
  const stmt = (depth: number): string => {
    const r = rnd();
    const trimL = rnd() < 0.2 ? '- ' : '';
    const trimR = rnd() < 0.2 ? ' -' : '';
    if (depth > 2 || r < 0.3) return ` {{${trimL}${expr(depth)}${trimR}}} `;
    if (r < 0.45) return `{{printf "${pick(verbs)} ${pick(verbs)}" ${pick(nums)} ${pick(ints)}}}`;
    if (r < 0.55) return `{{if ${expr(depth)}}}A${stmt(depth + 1)}{{else}}B${stmt(depth + 1)}{{end}}`;
    if (r < 0.65) return `{{range $i, $v := ${pick(['.l', '.m', '.nums', '.labels', '.el'])}}}[{{$i}}:{{$v}}${stmt(depth + 1)}]{{else}}none{{end}}`;
    if (r < 0.75) return `{{with ${expr(depth)}}}<{{.}}>${stmt(depth + 1)}{{end}}`;
    if (r < 0.85) return `{{$v${depth} := ${expr(depth)}}}{{$v${depth}}}`;
    if (r < 0.92) return `{{print ${expr(depth)} ${expr(depth)} ${expr(depth)}}}`;
    return `{{${expr(depth)} | printf "${pick(verbs)}"}}`;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rnd() * 4);
    let s = '';
    for (let j = 0; j < n; j++) s += stmt(0) + (rnd() < 0.3 ? '\n' : '');
    out.push(s);
  }
  return out;
}

/** allCases are the hand-written and generated cases. */
export function allCases(): Case[] {
  return [
    ...HAND.map((text) => ({ text, data: DATA })),
    ...generate(400).map((text) => ({ text, data: DATA })),
    { text: '{{.missing}}', data: DATA, missingKey: 'zero' },
    { text: '{{.missing}}', data: DATA, missingKey: 'error' },
    { text: '{{.nest.nope}}', data: DATA, missingKey: 'error' },
    { text: '{{template "defa" .s}}|{{template "defb" .}}', defs: ['<{{.}}>', '{{define "inner"}}in{{end}}{{template "inner"}}'], data: DATA },
    { text: '{{.}}', data: 'root string' },
    { text: '{{.}} {{len .}}', data: [1, 'two', null] },
    ...TIME_CASES,
  ];
}

