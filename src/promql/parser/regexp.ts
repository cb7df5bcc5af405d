// regexp.ts bridges the RE2 syntax of PromQL matchers to JavaScript's
// RegExp for what the parser needs: telling whether a pattern compiles, and
// whether it matches the empty string (and why not, in Go's words). Named groups (?P<name>...) become
// (?<name>...) and inline flags ((?i), (?s:...)) are dropped: case folding
// and flags never change whether the empty string matches. Evaluation uses
// the engine's own translation (or the native core), not this one.

/** re2Source rewrites an RE2 pattern into JavaScript syntax, flags dropped. */
export function re2Source(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A leading ] (or ^]) is a literal inside the class.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += pattern[++i];
      continue;
    }
    if (c === '(' && pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    const flags = c === '(' ? /^\(\?[imsU-]+([:)])/.exec(pattern.slice(i)) : null;
    if (flags !== null) {
      if (flags[1] === ':') out += '(?:';
      i += flags[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
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
