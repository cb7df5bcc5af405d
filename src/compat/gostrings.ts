// gostrings.ts orders strings as Go compares them: by their UTF-8 bytes, which
// is the order of their code points. Prometheus sorts label names and values
// this way (labels.Compare), and so does the Rust core.

/**
 * compareGoStrings orders a and b by UTF-8 bytes without encoding them. UTF-16 code units already
 * follow code-point order except that a surrogate (0xD800-0xDFFF, part of a code point above
 * 0xFFFF) sorts below the units 0xE000-0xFFFF; the first differing units are mapped accordingly.
 */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** codePointRank moves surrogates above every other UTF-16 unit. */
function codePointRank(u: number): number {
  if (u < 0xd800) return u;
  return u <= 0xdfff ? u + 0x2000 : u - 0x800;
}
