// re2.ts is the one TypeScript owner of Go's regexp (RE2) syntax: patterns of
// PromQL matchers, Alertmanager matchers and template functions are
// translated to JavaScript RegExp source here (named groups, \z, POSIX
// classes, the scoped flag groups (?i) and (?i:...) that Node 20 lacks,
// spelled as both cases of each letter), compiled anchored as Prometheus
// anchors them, and their compile errors worded as Go's regexp/syntax words
// the common ones. The native core has its own translation to Rust's regex
// (native/core/src/index/re2.rs) for the matching it does itself.

function bothCases(ch: string): string {
  const lo = ch.toLowerCase();
  const up = ch.toUpperCase();
  return lo === up ? '' : lo + up;
}

/**
 * re2Source translates an RE2 pattern into JavaScript RegExp source:
 * `(?P<name>` groups, `\z`, and the scoped flag groups `(?i)` / `(?i:...)`
 * (which Node 20 lacks) by spelling letters in both cases.
 */
export function re2Source(pattern: string): string {
  let out = '';
  const stack: boolean[] = [];
  let ci = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (n === 'z') out += '$';
      else if (n === 'A') out += '^';
      else out += c + n;
      i += 2;
      continue;
    }
    if (c === '[') {
      // character class: copy, adding the other case of letters when ci
      let j = i + 1;
      let cls = '[';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      if (pattern[j] === ']') {
        cls += '\\]';
        j++;
      }
      while (j < pattern.length && pattern[j] !== ']') {
        if (pattern[j] === '\\') {
          cls += pattern[j] + (pattern[j + 1] ?? '');
          j += 2;
          continue;
        }
        const end = pattern[j] === '[' && pattern[j + 1] === ':' ? pattern.indexOf(':]', j + 2) : -1;
        if (end >= 0) {
          const name = pattern.slice(j + 2, end);
          const posix: Record<string, string> = {
            alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s', word: '\\w',
            xdigit: '0-9a-fA-F', punct: '!-\\/:-@\\[-`{-~', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
          };
          cls += posix[name] ?? '';
          j = end + 2;
          continue;
        }
        const ch = pattern[j];
        if (pattern[j + 1] === '-' && pattern[j + 2] !== undefined && pattern[j + 2] !== ']') {
          const to = pattern[j + 2];
          cls += `${ch}-${to}`;
          if (ci && /[a-zA-Z]/.test(ch) && /[a-zA-Z]/.test(to)) {
            const flip = (x: string) => (x === x.toLowerCase() ? x.toUpperCase() : x.toLowerCase());
            cls += `${flip(ch)}-${flip(to)}`;
          }
          j += 3;
          continue;
        }
        cls += ch + (ci ? bothCases(ch).replace(ch, '') : '');
        j++;
      }
      // An unterminated class stays unterminated, so that compiling it fails as RE2's does.
      out += j < pattern.length ? cls + ']' : cls;
      i = j + 1;
      continue;
    }
    if (c === '(') {
      // Only RE2's flags (i, m, s, U) make a flag group; anything else is left to fail.
      const flags = /^\(\?([imsU]*)(-[imsU]*)?(\)|:)/.exec(pattern.slice(i));
      if (flags && !pattern.startsWith('(?P<', i) && !pattern.startsWith('(?<', i)) {
        const on = flags[1].includes('i');
        const off = (flags[2] ?? '').includes('i');
        if (flags[3] === ')') {
          // (?i) applies to the rest of the enclosing group
          if (on) ci = true;
          if (off) ci = false;
          i += flags[0].length;
          continue;
        }
        stack.push(ci);
        if (on) ci = true;
        if (off) ci = false;
        out += '(?:';
        i += flags[0].length;
        continue;
      }
      stack.push(ci);
      if (pattern.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
        continue;
      }
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      ci = stack.pop() ?? false;
      out += c;
      i++;
      continue;
    }
    if (ci && /[a-zA-Z]/.test(c)) {
      out += `[${bothCases(c)}]`;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** compileAnchored compiles an RE2 pattern anchored at both ends with `.` matching newlines, as Prometheus does. */
export function compileAnchored(pattern: string): RegExp {
  return new RegExp(`^(?:${re2Source(pattern)})$`, 's');
}

/** compileRE2 compiles a matcher pattern anchored as Prometheus does (^(?s:...)$), or undefined when it cannot. */
export function compileRE2(pattern: string): RegExp | undefined {
  const source = re2Source(pattern);
  for (const flags of ['su', 's']) {
    try {
      return new RegExp(`^(?:${source})$`, flags);
    } catch {
      // Try without the unicode flag: it rejects escapes RE2 accepts.
    }
  }
  return undefined;
}

/**
 * regexpError reports why a matcher regexp cannot compile, worded as Go's
 * regexp/syntax errors for the common cases (JavaScript approximates RE2).
 */
export function regexpError(value: string): string | undefined {
  const perl = /\(\?[=!]|\(\?<[=!]|\\[1-9]/.exec(value);
  if (perl !== null) return `error parsing regexp: invalid or unsupported Perl syntax: \`${perl[0]}\``;
  if (compileRE2(value) !== undefined) return undefined;
  let msg = '';
  try {
    new RegExp(re2Source(value), 's');
  } catch (err) {
    msg = (err as Error).message;
  }
  if (/Unterminated group/.test(msg)) return `error parsing regexp: missing closing ): \`${value}\``;
  if (/Unmatched '\)'/.test(msg)) return `error parsing regexp: unexpected ): \`${value}\``;
  if (/Unterminated character class/.test(msg)) return `error parsing regexp: missing closing ]: \`${value.slice(value.lastIndexOf('['))}\``;
  if (/Nothing to repeat/.test(msg)) {
    const missing = /(^|[(|])([*+?]|\{\d)/.exec(value);
    if (missing !== null) return `error parsing regexp: missing argument to repetition operator: \`${missing[2]}\``;
    const nested = /(?:[*+?]|\{\d+(?:,\d*)?\})(?:[*+]|\{\d+(?:,\d*)?\})/.exec(value);
    if (nested !== null) return `error parsing regexp: invalid nested repetition operator: \`${nested[0]}\``;
  }
  return `error parsing regexp: ${msg}`;
}
