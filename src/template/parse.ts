// parse.ts builds the trees of a Go text/template source, as Go's
// text/template/parse package does: one tree per template name (the source's
// own and each {{define}} / {{block}}), with Go's parse error texts
// (`template: NAME:LINE: ...`).

import { type Item, type ItemType, lex } from './lex.js';
import { TemplateError } from './errors.js';

/** Pos locates a node: byte offset in the source and its line. */
export interface Pos {
  pos: number;
  line: number;
}

/** Arg is an operand of a command. */
export type Arg =
  | ({ kind: 'field'; ident: string[] } & Pos)
  | ({ kind: 'variable'; ident: string[] } & Pos)
  | ({ kind: 'identifier'; name: string } & Pos)
  | ({ kind: 'chain'; node: Arg; field: string[] } & Pos)
  | ({ kind: 'dot' } & Pos)
  | ({ kind: 'nil' } & Pos)
  | ({ kind: 'bool'; value: boolean } & Pos)
  | ({ kind: 'number'; text: string; int?: bigint; float?: number; isChar: boolean } & Pos)
  | ({ kind: 'string'; text: string; value: string } & Pos)
  | ({ kind: 'pipe'; pipe: Pipe } & Pos);

/** Command is one stage of a pipeline: a function or value with its arguments. */
export interface Command extends Pos {
  args: Arg[];
}

/** Pipe is a pipeline with its optional variable declaration or assignment. */
export interface Pipe extends Pos {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

/** ControlNode is an if, range or with. */
export type ControlNode = { kind: 'if' | 'range' | 'with'; pipe: Pipe; list: Node[]; elseList: Node[] | undefined } & Pos;

/** TemplateNode invokes a named template. */
export type TemplateNode = { kind: 'template'; name: string; pipe: Pipe | undefined } & Pos;

/** Node is a statement of a template body. */
export type Node =
  | ({ kind: 'text'; text: string } & Pos)
  | ({ kind: 'action'; pipe: Pipe } & Pos)
  | ControlNode
  | TemplateNode
  | ({ kind: 'break' | 'continue' } & Pos);

/** EndElse is an {{end}} or {{else}} closing an item list. */
interface EndElse extends Pos {
  kind: 'end' | 'else';
  elseIf?: boolean;
}

function isEndElse(n: Node | EndElse): n is EndElse {
  return n.kind === 'end' || n.kind === 'else';
}

/** Tree is one named template. */
export interface Tree {
  name: string;
  /** parseName is the name of the source the tree was parsed from (used in error positions). */
  parseName: string;
  text: string;
  root: Node[];
}

/** isEmptyTree reports whether a tree holds only white space (Go lets such a tree be redefined). */
export function isEmptyTree(nodes: Node[]): boolean {
  return nodes.every((n) => n.kind === 'text' && n.text.trim() === '');
}

/** parseTemplates parses `text` named `name` into trees; `isFunc` tells which function names are defined. */
export function parseTemplates(name: string, text: string, isFunc: (name: string) => boolean): Map<string, Tree> {
  return new Parser(name, text, isFunc).parse();
}

function itemString(it: Item): string {
  switch (it.type) {
    case 'eof':
      return 'EOF';
    case 'error':
      return it.val;
    case 'keyword':
      return `<${it.val}>`;
    default:
      return it.val.length > 10 ? `${goQuote(it.val.slice(0, 10))}...` : goQuote(it.val);
  }
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (m, h: string) => (h === '007f' ? '\\x7f' : `\\x${h.slice(2)}`));
}

class Parser {
  private readonly items: Item[];
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private readonly trees = new Map<string, Tree>();

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly isFunc: (name: string) => boolean,
  ) {
    this.items = lex(text);
  }

  private fail(msg: string, line?: number): never {
    const l = line ?? this.items[Math.max(0, this.i - 1)]?.line ?? 1;
    // Go names the source being parsed (ParseName), also inside a {{define}}.
    throw new TemplateError(`template: ${this.name}:${l}: ${msg}`);
  }

  private next(): Item {
    const it = this.items[this.i] ?? this.items[this.items.length - 1]!;
    if (this.i < this.items.length) this.i++;
    return it;
  }

  private backup(n = 1): void {
    this.i -= n;
  }

  private peek(): Item {
    return this.items[this.i] ?? this.items[this.items.length - 1]!;
  }

  private nextNonSpace(): Item {
    let it = this.next();
    while (it.type === 'space') it = this.next();
    return it;
  }

  private peekNonSpace(): Item {
    const it = this.nextNonSpace();
    this.backup();
    return it;
  }

  private unexpected(it: Item, context: string): never {
    if (it.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== it.line) {
        extra = ` in ${context}`;
        if (it.val.endsWith(' action')) extra = extra.slice(' in '.length);
      }
      this.fail(`${itemString(it)}${extra}`, it.line);
    }
    this.fail(`unexpected ${itemString(it)} in ${context}`, it.line);
  }

  private expect(type: ItemType, context: string): Item {
    const it = this.nextNonSpace();
    if (it.type !== type) this.unexpected(it, context);
    return it;
  }

  parse(): Map<string, Tree> {
    const root: Node[] = [];
    for (;;) {
      const it = this.peek();
      if (it.type === 'eof') break;
      if (it.type === 'leftDelim') {
        let j = this.i + 1;
        while (this.items[j]?.type === 'space') j++;
        const kw = this.items[j];
        if (kw?.type === 'keyword' && kw.val === 'define') {
          this.actionLine = it.line;
          this.i = j + 1;
          this.parseDefinition();
          this.actionLine = 0;
          continue;
        }
      }
      const n = this.textOrAction();
      if (isEndElse(n)) this.fail(`unexpected ${n.kind === 'end' ? '{{end}}' : '{{else}}'}`, n.line);
      root.push(n);
    }
    this.add({ name: this.name, parseName: this.name, text: this.text, root });
    return this.trees;
  }

  private add(tree: Tree): void {
    const old = this.trees.get(tree.name);
    if (old !== undefined && !isEmptyTree(old.root) && !isEmptyTree(tree.root)) {
      this.fail(`template: multiple definition of template "${tree.name}"`);
    }
    if (old === undefined || isEmptyTree(old.root)) this.trees.set(tree.name, tree);
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const nameItem = this.nextNonSpace();
    if (nameItem.type !== 'string' && nameItem.type !== 'rawString') this.unexpected(nameItem, context);
    const name = unquote(nameItem.val, nameItem.type, (m) => this.fail(m));
    this.expect('rightDelim', context);
    this.parseBody(name, context);
  }

  /** parseBody parses the body of a {{define}} or {{block}} up to its {{end}} and adds it as template `name`. */
  private parseBody(name: string, context: string): void {
    const saved = { vars: this.vars, rangeDepth: this.rangeDepth };
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.fail(`unexpected {{else}} in ${context}`, end.line);
    this.vars = saved.vars;
    this.rangeDepth = saved.rangeDepth;
    this.add({ name, parseName: this.name, text: this.text, root: list });
  }

  /** itemList parses nodes up to {{end}} or {{else}}, which it returns. */
  private itemList(): [Node[], EndElse] {
    const list: Node[] = [];
    for (;;) {
      if (this.peekNonSpace().type === 'eof') this.fail('unexpected EOF', this.peekNonSpace().line);
      const n = this.textOrAction();
      if (isEndElse(n)) return [list, n];
      list.push(n);
    }
  }

  private textOrAction(): Node | EndElse {
    const it = this.nextNonSpace();
    if (it.type === 'text') return { kind: 'text', text: it.val, pos: it.pos, line: it.line };
    if (it.type === 'leftDelim') {
      this.actionLine = it.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    if (it.type === 'error') this.fail(it.val, it.line);
    this.unexpected(it, 'input');
  }

  private action(): Node | EndElse {
    const it = this.nextNonSpace();
    if (it.type === 'keyword') {
      switch (it.val) {
        case 'block':
          return this.blockControl(it);
        case 'break':
        case 'continue': {
          if (this.rangeDepth === 0) this.fail(`{{${it.val}}} outside {{range}}`, it.line);
          const end = this.nextNonSpace();
          if (end.type !== 'rightDelim') this.unexpected(end, `{{${it.val}}}`);
          return { kind: it.val, pos: it.pos, line: it.line };
        }
        case 'else': {
          const peek = this.peekNonSpace();
          if (peek.type === 'keyword' && (peek.val === 'if' || peek.val === 'with')) {
            return { kind: 'else', line: it.line, pos: it.pos, elseIf: true };
          }
          this.expect('rightDelim', 'else');
          return { kind: 'else', line: it.line, pos: it.pos };
        }
        case 'end':
          this.expect('rightDelim', 'end');
          return { kind: 'end', line: it.line, pos: it.pos };
        case 'if':
          return this.control('if', it);
        case 'range':
          return this.control('range', it);
        case 'with':
          return this.control('with', it);
        case 'template':
          return this.templateControl(it);
        default:
          break;
      }
    }
    this.backup();
    const pipe = this.pipeline('command', 'rightDelim');
    return { kind: 'action', pipe, pos: it.pos, line: it.line };
  }

  private control(kind: 'if' | 'range' | 'with', kw: Item): Node {
    const savedVars = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (next.kind === 'else') {
      if (next.elseIf === true) {
        // {{else if ...}} / {{else with ...}}: an else list holding one nested control, sharing our {{end}}.
        const kw2 = this.nextNonSpace();
        if (kind === 'range' || kw2.val !== kind) this.fail(`unexpected <${kw2.val}> in else`, kw2.line);
        const nested = this.control(kind, kw2);
        elseList = [nested];
        this.vars.length = savedVars;
        return { kind, pipe, list, elseList, pos: kw.pos, line: kw.line };
      }
      [elseList, next] = this.itemList();
      if (next.kind !== 'end') this.fail('expected end; found {{else}}', next.line);
    }
    this.vars.length = savedVars;
    return { kind, pipe, list, elseList, pos: kw.pos, line: kw.line };
  }

  private parseTemplateName(it: Item, context: string): string {
    if (it.type !== 'string' && it.type !== 'rawString') this.unexpected(it, context);
    return unquote(it.val, it.type, (m) => this.fail(m));
  }

  private templateControl(kw: Item): Node {
    const context = 'template clause';
    const token = this.nextNonSpace();
    const name = this.parseTemplateName(token, context);
    let pipe: Pipe | undefined;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    void kw;
    return { kind: 'template', name, pipe, pos: token.pos, line: token.line };
  }

  private blockControl(kw: Item): Node {
    const context = 'block clause';
    const name = this.parseTemplateName(this.nextNonSpace(), context);
    const pipe = this.pipeline(context, 'rightDelim');
    this.parseBody(name, context);
    return { kind: 'template', name, pipe, pos: kw.pos, line: kw.line };
  }

  private pipeline(context: string, end: ItemType): Pipe {
    const first = this.peekNonSpace();
    const pipe: Pipe = { decl: [], isAssign: false, cmds: [], pos: first.pos, line: first.line };
    // Variable declarations: $x := / $x = / (range) $i, $e :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.type === 'variable') {
      const next = this.nextNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        pipe.decl.push(v.val);
        if (!pipe.isAssign) this.vars.push(v.val);
        else if (!this.vars.includes(v.val)) this.fail(`undefined variable "${v.val}"`, v.line);
      } else if (next.type === 'comma' && context === 'range') {
        const v2 = this.nextNonSpace();
        if (v2.type !== 'variable') this.fail('range can only initialize variables', v2.line);
        const op = this.nextNonSpace();
        if (op.type !== 'declare' && op.type !== 'assign') this.fail('range can only initialize variables', op.line);
        pipe.isAssign = op.type === 'assign';
        pipe.decl.push(v.val, v2.val);
        if (!pipe.isAssign) this.vars.push(v.val, v2.val);
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    for (;;) {
      const it = this.nextNonSpace();
      if (it.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (it.type) {
        case 'bool':
        case 'char':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(it, context);
      }
    }
  }

  private checkPipeline(pipe: Pipe, context: string): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const a = c.args[0]!;
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(a.kind)) {
        this.fail(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): Command {
    const first = this.peekNonSpace();
    const cmd: Command = { args: [], pos: first.pos, line: first.line };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== undefined) cmd.args.push(operand);
      const it = this.next();
      switch (it.type) {
        case 'space':
          continue;
        case 'rightDelim':
        case 'rightParen':
          this.backup();
          break;
        case 'pipe':
          break;
        default:
          this.unexpected(it, 'operand');
      }
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (node === undefined) return undefined;
    if (this.peek().type !== 'field') return node;
    const fields: string[] = [];
    const at = { pos: this.peek().pos, line: this.peek().line };
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { ...node, ident: [...node.ident, ...fields], ...at };
      case 'variable':
        return { ...node, ident: [...node.ident, ...fields], ...at };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(`unexpected . after term ${goQuote(argString(node))}`);
      // falls through (unreachable)
      default:
        return { kind: 'chain', node, field: fields, ...at };
    }
  }

  private term(): Arg | undefined {
    const it = this.nextNonSpace();
    const at = { pos: it.pos, line: it.line };
    switch (it.type) {
      case 'identifier':
        if (!this.isFunc(it.val)) this.fail(`function "${it.val}" not defined`, it.line);
        return { kind: 'identifier', name: it.val, ...at };
      case 'dot':
        return { kind: 'dot', ...at };
      case 'nil':
        return { kind: 'nil', ...at };
      case 'variable': {
        const name = it.val;
        if (!this.vars.includes(name)) this.fail(`undefined variable "${name}"`, it.line);
        return { kind: 'variable', ident: [name], ...at };
      }
      case 'field':
        return { kind: 'field', ident: [it.val.slice(1)], ...at };
      case 'bool':
        return { kind: 'bool', value: it.val === 'true', ...at };
      case 'char':
      case 'number':
        return this.number(it);
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        return { kind: 'pipe', pipe, ...at };
      }
      case 'string':
      case 'rawString':
        return { kind: 'string', text: it.val, value: unquote(it.val, it.type, (m) => this.fail(m, it.line)), ...at };
      default:
        this.backup();
        return undefined;
    }
  }

  private number(it: Item): Arg {
    const at = { pos: it.pos, line: it.line };
    if (it.type === 'char') {
      const s = unquote(it.val, 'char', (m) => this.fail(m, it.line));
      const cp = s.codePointAt(0) ?? 0;
      return { kind: 'number', text: it.val, int: BigInt(cp), float: cp, isChar: true, ...at };
    }
    const text = it.val;
    if (text.endsWith('i')) this.fail(`complex numbers are not supported: ${text}`, it.line);
    const clean = text.replace(/_/g, '');
    const n: { kind: 'number'; text: string; int?: bigint; float?: number; isChar: boolean } & Pos = { kind: 'number', text, isChar: false, ...at };
    const neg = clean.startsWith('-');
    const body = clean.replace(/^[+-]/, '');
    if (/^0[xX][0-9a-fA-F]+$|^0[oO]?[0-7]+$|^0[bB][01]+$|^[1-9][0-9]*$|^0$/.test(body)) {
      let v: bigint;
      if (/^0[oO]/.test(body)) v = BigInt('0o' + body.slice(2));
      else if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
      else v = BigInt(body);
      if (neg) v = -v;
      if (v >= -(1n << 63n) && v < 1n << 63n) {
        n.int = v;
        n.float = Number(v);
        return n;
      }
    }
    let f: number;
    if (/^0[xX]/.test(body)) f = parseHexFloat(body);
    else f = Number(body);
    if (Number.isNaN(f) || (!/^[0-9.eE+-]+$/.test(body) && !/^0[xX]/.test(body))) this.fail(`illegal number syntax: ${goQuote(text)}`, it.line);
    if (neg) f = -f;
    n.float = f;
    // A float constant with an integral value is also an int (Go's constant rules).
    if (Number.isInteger(f) && Math.abs(f) < 2 ** 63 && /[eE]/.test(body) && !body.includes('.')) n.int = BigInt(f);
    return n;
  }
}

function parseHexFloat(s: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (m === null) return NaN;
  const int = m[1] === '' ? 0 : parseInt(m[1]!, 16);
  const frac = m[2] === undefined || m[2] === '' ? 0 : parseInt(m[2], 16) / 16 ** m[2].length;
  return (int + frac) * 2 ** Number(m[3]);
}

/** unquote decodes a Go string, raw string or char literal. */
export function unquote(text: string, type: ItemType, fail: (msg: string) => never): string {
  if (type === 'rawString') return text.slice(1, -1).replace(/\r/g, '');
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case "'":
        if (type !== 'char') fail('invalid syntax');
        out += "'";
        break;
      case '"':
        if (type === 'char') fail('invalid syntax');
        out += '"';
        break;
      case 'x': {
        const h = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('invalid syntax');
        out += String.fromCharCode(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = e === 'u' ? 4 : 8;
        const h = body.slice(i + 1, i + 1 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) fail('invalid syntax');
        out += String.fromCodePoint(parseInt(h, 16));
        i += len;
        break;
      }
      default: {
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) fail('invalid syntax');
          out += String.fromCharCode(parseInt(o, 8));
          i += 2;
          break;
        }
        fail('invalid syntax');
      }
    }
  }
  return out;
}

/** argString renders an operand as Go's parse nodes print themselves. */
export function argString(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return a.ident.map((f) => '.' + f).join('');
    case 'variable':
      return a.ident.join('.');
    case 'identifier':
      return a.name;
    case 'chain': {
      const inner = a.node.kind === 'pipe' ? `(${pipeString(a.node.pipe)})` : argString(a.node);
      return inner + a.field.map((f) => '.' + f).join('');
    }
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.value);
    case 'number':
      return a.text;
    case 'string':
      return a.text;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
  }
}

/** commandString renders a command as Go's CommandNode.String. */
export function commandString(c: Command): string {
  return c.args.map((a) => argString(a)).join(' ');
}

/** pipeString renders a pipeline as Go's PipeNode.String. */
export function pipeString(p: Pipe): string {
  let s = '';
  if (p.decl.length > 0) s = `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} `;
  return s + p.cmds.map(commandString).join(' | ');
}
