// Tests of the template engine's API beyond what the differential test against
// Go covers (test/peer/template-go.test.ts): template sets, structs, methods,
// typed maps, html escaping and trusted HTML.

import t from 'tap';
import { SafeHtml, Template, TemplateError, goStringMap, goStruct } from './index.js';

t.test('a set holds the parsed template and every define; clone copies it', (t) => {
  const tmpl = new Template('main').parse('{{define "a"}}A{{.}}{{end}}{{define "b"}}B{{end}}main:{{template "a" 1}}');
  t.same(tmpl.names().sort(), ['a', 'b', 'main']);
  t.ok(tmpl.has('a'));
  t.equal(tmpl.execute(null), 'main:A1');
  t.equal(tmpl.execute('x', 'a'), 'Ax');
  const copy = tmpl.clone().parse('{{define "a"}}other{{end}}', 'extra');
  t.equal(copy.execute(null), 'main:other');
  t.equal(tmpl.execute(null), 'main:A1', 'the original set is unchanged');
  t.throws(() => tmpl.execute(null, 'nope'), new TemplateError('template: no template "nope" associated with template "main"'));
  t.end();
});

t.test('funcs are called with evaluated arguments and the piped value last', (t) => {
  const tmpl = new Template('t', { funcs: { add: (a: number, b: number) => a + b, shout: (s: string) => `${s}!` } });
  tmpl.parse('{{add .x .y}} {{.s | shout}} {{shout "a" | shout}}');
  t.equal(tmpl.execute({ x: 1.5, y: 2, s: 'hi' }), '3.5 hi! a!!');
  t.throws(() => new Template('t').parse('{{nope 1}}'), /function "nope" not defined/);
  t.end();
});

t.test('structs: a missing field is an error; function-valued fields are methods', (t) => {
  const data = goStruct(
    {
      Name: 'n',
      Alerts: { Firing: () => ['a1', 'a2'] },
      Greet: (who: string) => `hello ${who}`,
    },
    'template.Data',
  );
  const tmpl = new Template('t').parse('{{.Name}} {{len .Alerts.Firing}} {{.Greet "you"}}');
  t.equal(tmpl.execute(data), 'n 2 hello you');
  t.throws(() => new Template('t').parse('{{.Missing}}').execute(data), /can't evaluate field Missing in type template.Data/);
  t.end();
});

t.test('missingkey: default prints <no value>, zero of a string map prints "", error fails', (t) => {
  const labels = goStringMap({ job: 'api' });
  t.equal(new Template('t').parse('[{{.instance}}]').execute(labels), '[<no value>]');
  t.equal(new Template('t', { missingKey: 'zero' }).parse('[{{.instance}}]').execute(labels), '[]');
  t.throws(() => new Template('t', { missingKey: 'error' }).parse('{{.instance}}').execute(labels), /map has no entry for key "instance"/);
  t.end();
});

t.test('html templates escape action output but not text or trusted HTML', (t) => {
  const tmpl = new Template('t', { html: true, funcs: { safe: (s: string) => new SafeHtml(s) } });
  tmpl.parse('<p>{{.v}}</p>{{safe "<b>ok</b>"}}');
  t.equal(tmpl.execute({ v: '<script>"x" & \'y\'</script>' }), '<p>&lt;script&gt;&#34;x&#34; &amp; &#39;y&#39;&lt;/script&gt;</p><b>ok</b>');
  t.end();
});

t.test('errors carry the template name, line and column as Go words them', (t) => {
  t.throws(() => new Template('rule').parse('a\n{{if}}'), new TemplateError('template: rule:2: missing value for if'));
  t.throws(() => new Template('rule').parse('x{{index .l 5}}').execute({ l: [1] }), new TemplateError('template: rule:1:3: executing "rule" at <index .l 5>: error calling index: index out of range: 5'));
  t.end();
});

t.test('deep template recursion stops at Go\'s limit instead of overflowing the stack', (t) => {
  const tmpl = new Template('t').parse('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}');
  t.throws(() => tmpl.execute(null), /exceeded maximum template depth \(100000\)/);
  t.end();
});
