// exec.ts executes parsed templates as Go's text/template does: dot and
// variables, field chains over maps, structs and methods, pipelines with the
// previous result as last argument, if/range/with/template, break/continue,
// and Go's execution error texts
// (`template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`).

import { formatValue, goTypeName } from '../compat/gofmt.js';
import { TemplateError } from './errors.js';
import { type Arg, type Command, type ControlNode, type Node, type TemplateNode, type Pipe, type Tree, argString, commandString } from './parse.js';
import { BUILTINS, type FuncMap, SafeHtml, htmlEscape, isTrue, lazyBuiltins } from './funcs.js';
import { GO_STRUCT, MAP_ZERO } from './values.js';

/** MAX_EXEC_DEPTH is Go's maxExecDepth. */
const MAX_EXEC_DEPTH = 100000;

/** ExecOptions are the settings of one template set. */
export interface ExecOptions {
  funcs: FuncMap;
  missingKey: 'default' | 'zero' | 'error';
  html: boolean;
}

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
  /** iface marks a value held as interface {} (a range element), which Go names so in errors. */
  iface?: boolean;
}

/** executeTree renders tree `name` of `trees` with `data` as dot. */
export function executeTree(trees: Map<string, Tree>, name: string, data: unknown, opts: ExecOptions): string {
  const tree = trees.get(name);
  if (tree === undefined) throw new TemplateError(`template: no template "${name}" associated with template "${name}"`);
  const state = new State(trees, opts, tree, [{ name: '$', value: data }]);
  try {
    state.walkList(data, tree.root);
  } catch (e) {
    // JavaScript's stack is smaller than Go's: deep recursion ends as Go's depth limit does.
    if (e instanceof RangeError) throw new TemplateError(`template: ${name}: exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    throw e;
  }
  return state.out.join('');
}

class State {
  out: string[] = [];
  private depth = 0;
  /** ifaceDot tells whether dot is a range element (held as interface {}) rather than a concrete value. */
  private ifaceDot = false;
  private node: { pos: number; line: number; text: string } | undefined;

  constructor(
    private readonly trees: Map<string, Tree>,
    private readonly opts: ExecOptions,
    private tree: Tree,
    private vars: Variable[],
  ) {}

  private at(pos: { pos: number; line: number }, text: string): void {
    this.node = { pos: pos.pos, line: pos.line, text };
  }

  fail(msg: string): never {
    const name = this.tree.name;
    if (this.node === undefined) throw new TemplateError(`template: ${name}: ${msg}`);
    const before = this.tree.text.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const col = nl < 0 ? this.node.pos : this.node.pos - nl - 1;
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    throw new TemplateError(`template: ${this.tree.parseName}:${line}:${col}: executing "${name}" at <${this.node.text.replace(/%/g, '%%')}>: ${msg}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.fail(`undefined variable: ${name}`);
  }

  private varIface(name: string): boolean {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.iface === true;
    return false;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const val = this.evalPipeline(dot, node.pipe);
        const truth = isTrue(indirect(val));
        if (truth && node.kind === 'with') {
          const savedIface = this.ifaceDot;
          this.ifaceDot = false;
          try {
            this.walkList(val, node.list);
          } finally {
            this.ifaceDot = savedIface;
          }
        } else if (truth) this.walkList(dot, node.list);
        else if (node.elseList !== undefined) this.walkList(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkRange(dot: unknown, node: ControlNode): void {
    this.at(node, `range ${pipeText(node.pipe)}`);
    const mark = this.vars.length;
    const val = indirect(this.evalPipeline(dot, node.pipe));
    const mark2 = this.vars.length;
    const one = (index: unknown, elem: unknown): boolean => {
      const decl = node.pipe.decl;
      if (decl.length > 0) {
        if (node.pipe.isAssign) {
          if (decl.length > 1) {
            this.setVar(decl[0]!, index);
            this.setVar(decl[1]!, elem);
          } else this.setVar(decl[0]!, elem);
        } else if (decl.length > 1) {
          this.vars[mark2 - 2] = { name: decl[0]!, value: index };
          this.vars[mark2 - 1] = { name: decl[1]!, value: elem, iface: true };
        } else {
          this.vars[mark2 - 1] = { name: decl[0]!, value: elem, iface: true };
        }
      }
      const savedIface = this.ifaceDot;
      this.ifaceDot = typeof val !== 'bigint';
      try {
        this.walkList(elem, node.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark2;
        this.ifaceDot = savedIface;
      }
      return true;
    };
    let iterated = false;
    if (val === undefined || val === null) {
      // Nothing to iterate.
    } else if (Array.isArray(val)) {
      for (let i = 0; i < val.length; i++) {
        iterated = true;
        if (!one(BigInt(i), val[i])) break;
      }
    } else if (typeof val === 'bigint') {
      if (node.pipe.decl.length > 1) this.fail(`can't use ${String(val)} to iterate over more than one variable`);
      for (let i = 0n; i < val; i++) {
        iterated = true;
        if (!one(i, i)) break;
      }
    } else if (isMapLike(val)) {
      for (const [k, v] of sortedEntries(val)) {
        iterated = true;
        if (!one(k, v)) break;
      }
    } else if (typeof val === 'function') {
      this.fail(`range can't iterate over ${formatValue(val, 'v')}`);
    } else {
      this.fail(`range can't iterate over ${formatValue(val, 'v')}`);
    }
    if (!iterated && node.elseList !== undefined) this.walkList(dot, node.elseList);
    this.vars.length = mark;
  }

  private walkTemplate(dot: unknown, node: TemplateNode): void {
    this.at(node, `{{template ${JSON.stringify(node.name)}${node.pipe ? ' ' + pipeText(node.pipe) : ''}}}`);
    const tree = this.trees.get(node.name);
    if (tree === undefined) this.fail(`template ${JSON.stringify(node.name)} not defined`);
    const newDot = node.pipe === undefined ? null : this.evalPipeline(dot, node.pipe);
    if (this.depth >= MAX_EXEC_DEPTH) this.fail(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const saved = { tree: this.tree, vars: this.vars, iface: this.ifaceDot };
    this.depth++;
    this.tree = tree;
    this.vars = [{ name: '$', value: newDot }];
    this.ifaceDot = false;
    try {
      this.walkList(newDot, tree.root);
    } finally {
      this.depth--;
      this.tree = saved.tree;
      this.vars = saved.vars;
      this.ifaceDot = saved.iface;
    }
  }

  private printValue(node: { pos: number; line: number; pipe: Pipe }, v: unknown): void {
    this.at(node, pipeText(node.pipe));
    const val = indirect(v);
    let s: string;
    if (val === undefined || val === null) s = '<no value>';
    else if (val instanceof SafeHtml) {
      this.out.push(val.value);
      return;
    } else s = formatValue(val, 'v');
    this.out.push(this.opts.html ? htmlEscape(s) : s);
  }

  evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
    }
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final, cmd, this.ifaceDot);
      case 'chain': {
        const base = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, base, first, first.field, cmd.args, final, cmd);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, cmd, final);
      case 'pipe':
        this.notAFunction(cmd.args, final, first);
        return this.evalPipeline(dot, first.pipe);
      case 'variable': {
        const value = this.varValue(first.ident[0]!);
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final, first);
          return value;
        }
        return this.evalFieldChain(dot, value, first, first.ident.slice(1), cmd.args, final, cmd, this.varIface(first.ident[0]!));
      }
      default:
        break;
    }
    this.at(first, argString(first));
    this.notAFunction(cmd.args, final, first);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail('nil is not a command');
      // falls through (unreachable)
      case 'number':
        return idealConstant(first);
      case 'string':
        return first.value;
    }
    this.fail(`can't evaluate command ${JSON.stringify(argString(first))}`);
  }

  private notAFunction(args: Arg[], final: unknown, node: Arg): void {
    if (args.length > 1 || final !== MISSING) {
      this.at(node, argString(node));
      this.fail(`can't give argument to non-function ${argString(args[0]!)}`);
    }
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Arg, ident: string[], args: Arg[], final: unknown, cmd: Command, iface = false): unknown {
    // The first receiver is a concrete value (dot, a variable, a pipeline result: nil acts as no value)
    // unless it is held as interface {} (a range element); later ones come out of a map as interface {}.
    let r = receiver === null && !iface ? undefined : receiver;
    let typeName = iface ? 'interface {}' : goTypeName(r);
    for (let i = 0; i < ident.length - 1; i++) {
      const wasMap = typeof r === 'object' && r !== null && isMapLike(r);
      r = this.evalField(dot, ident[i]!, node, [], MISSING, r, cmd, typeName);
      typeName = wasMap ? 'interface {}' : goTypeName(r);
    }
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r, cmd, typeName);
  }

  private evalField(dot: unknown, fieldName: string, node: Arg, args: Arg[], final: unknown, receiver: unknown, cmd: Command, typeName: string): unknown {
    this.at(node, argString(node));
    if (receiver === undefined) {
      if (this.opts.missingKey === 'error') this.fail(`nil data; no entry for key ${JSON.stringify(fieldName)}`);
      return undefined;
    }
    if (receiver === null) this.fail(`nil pointer evaluating ${typeName}.${fieldName}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (typeof receiver === 'object') {
      const method = methodOf(receiver, fieldName);
      if (method !== undefined) {
        return this.callFunction(dot, method, fieldName, cmd, args, final, node);
      }
      if (receiver instanceof Map || !isStruct(receiver)) {
        if (isMapLike(receiver)) {
          if (hasArgs) this.fail(`${fieldName} is not a method but has arguments`);
          const present = receiver instanceof Map ? receiver.has(fieldName) : Object.prototype.hasOwnProperty.call(receiver, fieldName);
          if (present) return receiver instanceof Map ? receiver.get(fieldName) : (receiver as Record<string, unknown>)[fieldName];
          switch (this.opts.missingKey) {
            case 'error':
              this.fail(`map has no entry for key ${JSON.stringify(fieldName)}`);
            // falls through (unreachable)
            case 'zero':
              return (receiver as { [MAP_ZERO]?: unknown })[MAP_ZERO] ?? null;
            default:
              return undefined;
          }
        }
      } else {
        if (Object.prototype.hasOwnProperty.call(receiver, fieldName)) {
          if (hasArgs) this.fail(`${fieldName} has arguments but cannot be invoked as function`);
          return (receiver as Record<string, unknown>)[fieldName];
        }
        this.fail(`can't evaluate field ${fieldName} in type ${structName(receiver)}`);
      }
    }
    this.fail(`can't evaluate field ${fieldName} in type ${typeName}`);
  }

  private evalFunction(dot: unknown, name: string, cmd: Command, final: unknown): unknown {
    this.at(cmd.args[0]!, name);
    const lazy = lazyBuiltins[name];
    if (lazy !== undefined && this.opts.funcs[name] === undefined) {
      this.at(cmd, commandString(cmd));
      const thunks = cmd.args.slice(1).map((a) => () => this.evalArg(dot, a));
      if (final !== MISSING) thunks.push(() => final);
      try {
        return lazy(thunks);
      } catch (e) {
        if (e instanceof TemplateError) throw e;
        this.at(cmd, commandString(cmd));
        this.fail(`error calling ${name}: ${(e as Error).message}`);
      }
    }
    const fn = this.opts.funcs[name] ?? BUILTINS[name];
    if (fn === undefined) this.fail(`"${name}" is not a defined function`);
    return this.callFunction(dot, fn, name, cmd, cmd.args, final, cmd.args[0]!);
  }

  private callFunction(dot: unknown, fn: (...a: unknown[]) => unknown, name: string, cmd: Command, args: Arg[], final: unknown, _node: Arg): unknown {
    const argv = args.slice(1).map((a) => this.evalArg(dot, a));
    if (final !== MISSING) argv.push(final);
    const builtin = BUILTINS[name] === fn ? name : undefined;
    if (builtin !== undefined) {
      const arity = BUILTIN_ARITY[builtin];
      if (arity !== undefined) {
        const [min, max] = arity;
        if (argv.length < min || (max !== undefined && argv.length > max)) {
          this.at(cmd, commandString(cmd));
          if (max === undefined) this.fail(`wrong number of args for ${name}: want at least ${min} got ${argv.length}`);
          this.fail(`wrong number of args for ${name}: want ${min} got ${argv.length}`);
        }
      }
    }
    try {
      // An invalid (missing) value passed to a function becomes nil, as Go converts it to the zero interface;
      // builtins take reflect.Values and see it as it is.
      return fn(...(builtin !== undefined ? argv : argv.map((a) => (a === undefined ? null : a))));
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(cmd, commandString(cmd));
      this.fail(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  private evalArg(dot: unknown, a: Arg): unknown {
    this.at(a, argString(a));
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.evalFieldChain(dot, dot, a, a.ident, [a], MISSING, { args: [a], pos: a.pos, line: a.line }, this.ifaceDot);
      case 'variable': {
        const value = this.varValue(a.ident[0]!);
        if (a.ident.length === 1) return value;
        return this.evalFieldChain(dot, value, a, a.ident.slice(1), [a], MISSING, { args: [a], pos: a.pos, line: a.line }, this.varIface(a.ident[0]!));
      }
      case 'pipe':
        return this.evalPipeline(dot, a.pipe);
      case 'identifier':
        return this.evalFunction(dot, a.name, { args: [a], pos: a.pos, line: a.line }, MISSING);
      case 'chain': {
        const base = this.evalArg(dot, a.node);
        return this.evalFieldChain(dot, base, a, a.field, [a], MISSING, { args: [a], pos: a.pos, line: a.line });
      }
      case 'bool':
        return a.value;
      case 'number':
        return idealConstant(a);
      case 'string':
        return a.value;
    }
  }
}

/** MISSING marks "no final value" in a pipeline (Go's missingVal). */
const MISSING = Symbol('missing');

const BUILTIN_ARITY: Record<string, [number, number | undefined]> = {
  not: [1, 1],
  len: [1, 1],
  index: [1, undefined],
  slice: [1, undefined],
  printf: [1, undefined],
  eq: [1, undefined],
  ne: [2, 2],
  lt: [2, 2],
  le: [2, 2],
  gt: [2, 2],
  ge: [2, 2],
  call: [1, undefined],
};

function idealConstant(n: Extract<Arg, { kind: 'number' }>): unknown {
  const t = n.text;
  const isHexInt = /^[+-]?0[xX][0-9a-fA-F_]+$/.test(t);
  if (!n.isChar && !isHexInt && /[.eEpP]/.test(t) && n.float !== undefined) return n.float;
  if (n.int !== undefined) return n.int;
  return n.float;
}

function pipeText(p: Pipe): string {
  let s = '';
  if (p.decl.length > 0) s = `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} `;
  return s + p.cmds.map(commandString).join(' | ');
}

/** indirect unwraps nothing in this value model but is kept for symmetry with Go's indirectInterface. */
function indirect(v: unknown): unknown {
  return v;
}

function isStruct(v: object): boolean {
  return (v as { [GO_STRUCT]?: string })[GO_STRUCT] !== undefined;
}

function structName(v: object): string {
  return (v as { [GO_STRUCT]?: string })[GO_STRUCT] ?? 'struct';
}

/** isMapLike tells whether v behaves as a Go map. */
export function isMapLike(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return v instanceof Map || (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof SafeHtml) && !isStruct(v));
}

function sortedEntries(v: Map<unknown, unknown> | Record<string, unknown>): Array<[unknown, unknown]> {
  const entries: Array<[unknown, unknown]> = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return entries.sort((a, b) => {
    const x = a[0] as string | number | bigint;
    const y = b[0] as string | number | bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** methodOf returns the function-valued property `name` of v (a Go method), bound to v. */
function methodOf(v: object, name: string): ((...a: unknown[]) => unknown) | undefined {
  if (v instanceof Map) {
    // A Map subclass is a named map type: its own methods come first, as Go looks up methods before keys.
    const own = (v as unknown as Record<string, unknown>)[name];
    if (typeof own === 'function' && Object.getPrototypeOf(v) !== Map.prototype && (Map.prototype as unknown as Record<string, unknown>)[name] !== own) {
      return (own as (...a: unknown[]) => unknown).bind(v);
    }
    const m = v.get(name);
    return typeof m === 'function' ? (m as (...a: unknown[]) => unknown) : undefined;
  }
  const m = (v as Record<string, unknown>)[name];
  if (typeof m !== 'function') return undefined;
  // Plain-object prototypes (toString, hasOwnProperty...) are not Go methods.
  if (!Object.prototype.hasOwnProperty.call(v, name) && (Object.prototype as unknown as Record<string, unknown>)[name] === m) return undefined;
  return (m as (...a: unknown[]) => unknown).bind(v);
}
