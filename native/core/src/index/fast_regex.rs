//! FastRegexMatcher: a fully anchored Prometheus label regex with string fast
//! paths, after Prometheus's `model/labels/regexp.go`.
//!
//! Patterns built only from literals, `.*`, `.+`, groups and alternation
//! (`a|b|c`, `foo.*`, `.*foo`, `.*foo.*`, `(a|b)-.*`, ...) are decided
//! without a regex engine: literal alternatives become a set lookup, the
//! others "globs" (anchored prefix, in-order literals, anchored suffix).
//! Everything else compiles to `^(?s:<pattern>)$` with the `regex` crate,
//! guarded by the pattern's literal prefix when it has one.

use ahash::AHashSet;

use super::re2;

/// Most alternatives the cross product of groups may produce
/// (Prometheus's `maxSetMatches`).
const MAX_SET_MATCHES: usize = 256;

/// Above this many literals a hash set beats a linear scan
/// (Prometheus's `minEqualMultiStringMatcherMapThreshold`).
const SET_MAP_THRESHOLD: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    /// `.*` (min 0) or `.+` (min 1), possibly several in a row: at least
    /// `min` characters of anything.
    Wild(usize),
}

type Seq = Vec<Tok>;

/// parse_simple reads patterns made of literals, escaped punctuation, `.*`,
/// `.+`, `(...)`, `(?:...)` and `|` into the list of alternatives they
/// denote; None for anything else (left to the regex engine).
fn parse_simple(pattern: &str) -> Option<Vec<Seq>> {
    let mut body = pattern.strip_prefix('^').unwrap_or(pattern);
    if let Some(stripped) = body.strip_suffix('$') {
        // `\$` is a literal dollar; `\\$` is a backslash then the anchor.
        let backslashes = stripped.bytes().rev().take_while(|&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            body = stripped;
        }
    }
    let chars: Vec<char> = body.chars().collect();
    let mut p = SimpleParser { c: &chars, i: 0 };
    let alts = p.alternation(0)?;
    (p.i == chars.len()).then_some(alts)
}

struct SimpleParser<'a> {
    c: &'a [char],
    i: usize,
}

impl SimpleParser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn quantifier_follows(&self) -> bool {
        matches!(self.peek(), Some('*' | '+' | '?' | '{'))
    }

    fn alternation(&mut self, depth: usize) -> Option<Vec<Seq>> {
        let mut alts: Vec<Seq> = Vec::new();
        let mut cur: Vec<Seq> = vec![Vec::new()];
        loop {
            let Some(ch) = self.peek() else {
                alts.append(&mut cur);
                return Some(alts);
            };
            match ch {
                ')' => {
                    if depth == 0 {
                        return None;
                    }
                    alts.append(&mut cur);
                    return Some(alts);
                }
                '|' => {
                    self.i += 1;
                    alts.append(&mut cur);
                    cur = vec![Vec::new()];
                }
                '(' => {
                    self.i += 1;
                    if self.peek() == Some('?') {
                        if self.c.get(self.i + 1) != Some(&':') {
                            return None;
                        }
                        self.i += 2;
                    }
                    let sub = self.alternation(depth + 1)?;
                    if self.peek() != Some(')') {
                        return None;
                    }
                    self.i += 1;
                    if self.quantifier_follows() {
                        return None;
                    }
                    cur = cross(cur, sub)?;
                }
                '.' => {
                    self.i += 1;
                    let min = match self.peek() {
                        Some('*') => 0,
                        Some('+') => 1,
                        _ => return None,
                    };
                    self.i += 1;
                    if self.peek() == Some('?') {
                        self.i += 1; // lazy: same set of full matches
                    }
                    if self.quantifier_follows() {
                        return None;
                    }
                    cur.iter_mut().for_each(|s| s.push(Tok::Wild(min)));
                }
                '*' | '+' | '?' | '{' | '}' | '[' | ']' | '^' | '$' => return None,
                _ => {
                    let lit = if ch == '\\' {
                        let e = self.c.get(self.i + 1).copied()?;
                        if !e.is_ascii_punctuation() {
                            return None;
                        }
                        self.i += 2;
                        e
                    } else {
                        self.i += 1;
                        ch
                    };
                    if self.quantifier_follows() {
                        return None;
                    }
                    for s in cur.iter_mut() {
                        match s.last_mut() {
                            Some(Tok::Lit(l)) => l.push(lit),
                            _ => s.push(Tok::Lit(lit.to_string())),
                        }
                    }
                }
            }
        }
    }
}

/// cross concatenates every alternative of `a` with every one of `b`.
fn cross(a: Vec<Seq>, b: Vec<Seq>) -> Option<Vec<Seq>> {
    if a.len() > 1 && b.len() > 1 && a.len() * b.len() > MAX_SET_MATCHES {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in &a {
        for y in &b {
            let mut s = x.clone();
            s.extend(y.iter().cloned());
            out.push(s);
        }
    }
    Some(out)
}

/// normalize merges adjacent literals and adjacent wildcards.
fn normalize(seq: Seq) -> Seq {
    let mut out: Seq = Vec::with_capacity(seq.len());
    for t in seq {
        match (out.last_mut(), t) {
            (_, Tok::Lit(l)) if l.is_empty() => {}
            (Some(Tok::Lit(a)), Tok::Lit(b)) => a.push_str(&b),
            (Some(Tok::Wild(a)), Tok::Wild(b)) => *a += b,
            (_, t) => out.push(t),
        }
    }
    out
}

/// Glob matches `prefix W l1 W l2 ... W suffix` where each `W` is "at least
/// n characters of anything".
#[derive(Debug, Clone)]
struct Glob {
    prefix: String,
    suffix: String,
    /// (minimum characters before, literal) pairs, in order.
    middle: Vec<(usize, String)>,
    /// Minimum characters after the last middle literal.
    tail_min: usize,
}

/// skip_chars returns the byte offset `n` characters after `pos` in `s`.
fn skip_chars(s: &str, pos: usize, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(pos);
    }
    s[pos..]
        .char_indices()
        .nth(n)
        .map(|(o, _)| pos + o)
        .or_else(|| (s[pos..].chars().count() == n).then_some(s.len()))
}

impl Glob {
    /// from_seq builds a glob from a normalized sequence holding at least
    /// one wildcard.
    fn from_seq(seq: Seq) -> Glob {
        let mut prefix = String::new();
        let mut suffix = String::new();
        let mut middle = Vec::new();
        let mut pending = 0;
        let last = seq.len() - 1;
        for (i, t) in seq.into_iter().enumerate() {
            match t {
                Tok::Lit(l) if i == 0 => prefix = l,
                Tok::Lit(l) if i == last => suffix = l,
                Tok::Lit(l) => middle.push((std::mem::take(&mut pending), l)),
                Tok::Wild(n) => pending = n,
            }
        }
        Glob {
            prefix,
            suffix,
            middle,
            tail_min: pending,
        }
    }

    fn matches(&self, s: &str) -> bool {
        if s.len() < self.prefix.len() + self.suffix.len()
            || !s.starts_with(&self.prefix)
            || !s.ends_with(&self.suffix)
        {
            return false;
        }
        let m = &s[self.prefix.len()..s.len() - self.suffix.len()];
        let mut pos = 0;
        // Leftmost placement of each literal leaves the most room for the
        // rest, so greedy search is exact.
        for (min, lit) in &self.middle {
            let Some(start) = skip_chars(m, pos, *min) else {
                return false;
            };
            match m[start..].find(lit.as_str()) {
                Some(off) => pos = start + off + lit.len(),
                None => return false,
            }
        }
        skip_chars(m, pos, self.tail_min).is_some()
    }
}

/// StringMatcher decides a pattern without a regex engine.
#[derive(Debug, Clone)]
enum StringMatcher {
    /// `.*`
    Any,
    /// At least n characters: `.+` is NonEmpty(1).
    MinChars(usize),
    Equal(String),
    SmallSet(Vec<String>),
    Set(AHashSet<String>),
    Glob(Glob),
    Or(Vec<StringMatcher>),
}

impl StringMatcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            StringMatcher::Any => true,
            StringMatcher::MinChars(1) => !s.is_empty(),
            StringMatcher::MinChars(n) => s.chars().nth(n - 1).is_some(),
            StringMatcher::Equal(v) => s == v,
            StringMatcher::SmallSet(vs) => vs.iter().any(|v| v == s),
            StringMatcher::Set(vs) => vs.contains(s),
            StringMatcher::Glob(g) => g.matches(s),
            StringMatcher::Or(ms) => ms.iter().any(|m| m.matches(s)),
        }
    }

    /// build turns parsed alternatives into a matcher; the second value is
    /// the sorted literal set when every alternative is a plain literal.
    fn build(alts: Vec<Seq>) -> (StringMatcher, Vec<String>) {
        let mut literals: Vec<String> = Vec::new();
        let mut others: Vec<StringMatcher> = Vec::new();
        for seq in alts {
            let seq = normalize(seq);
            match seq.as_slice() {
                [] => literals.push(String::new()),
                [Tok::Lit(l)] => literals.push(l.clone()),
                [Tok::Wild(0)] => return (StringMatcher::Any, Vec::new()),
                [Tok::Wild(n)] => others.push(StringMatcher::MinChars(*n)),
                _ => others.push(StringMatcher::Glob(Glob::from_seq(seq))),
            }
        }
        literals.sort_unstable();
        literals.dedup();
        let set = match literals.len() {
            0 => None,
            1 => Some(StringMatcher::Equal(literals[0].clone())),
            n if n < SET_MAP_THRESHOLD => Some(StringMatcher::SmallSet(literals.clone())),
            _ => Some(StringMatcher::Set(literals.iter().cloned().collect())),
        };
        let set_matches = if others.is_empty() {
            literals
        } else {
            Vec::new()
        };
        let mut all: Vec<StringMatcher> = set.into_iter().chain(others).collect();
        let m = if all.len() == 1 {
            all.pop().expect("one")
        } else {
            StringMatcher::Or(all)
        };
        (m, set_matches)
    }

    /// prefix returns a literal every matching string starts with.
    fn prefix(&self) -> String {
        match self {
            StringMatcher::Any | StringMatcher::MinChars(_) => String::new(),
            StringMatcher::Equal(v) => v.clone(),
            StringMatcher::Glob(g) => g.prefix.clone(),
            StringMatcher::SmallSet(vs) => common_prefix(vs),
            StringMatcher::Set(vs) => common_prefix(&vs.iter().cloned().collect::<Vec<_>>()),
            StringMatcher::Or(ms) => {
                common_prefix(&ms.iter().map(|m| m.prefix()).collect::<Vec<_>>())
            }
        }
    }
}

fn common_prefix(parts: &[String]) -> String {
    let Some(first) = parts.first() else {
        return String::new();
    };
    let mut len = first.len();
    for p in &parts[1..] {
        len = first
            .char_indices()
            .zip(p.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(len);
    }
    first[..len].to_string()
}

/// regex_literal_prefix returns literal text every match of a pattern the
/// simple parser rejected must start with. It is conservative: patterns with
/// any `|` get none, and the last literal before a repetition or a group is
/// not counted.
fn regex_literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    const META: &[char] = &[
        '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
    ];
    let end = pattern.find(META).unwrap_or(pattern.len());
    let mut prefix = &pattern[..end];
    if matches!(
        pattern[end..].chars().next(),
        Some('*' | '+' | '?' | '{' | '(')
    ) {
        // A repetition applies to the last literal character, also across a
        // flag group: `ab(?i)*` is `ab*`.
        prefix = match prefix.char_indices().last() {
            Some((i, _)) => &prefix[..i],
            None => prefix,
        };
    }
    prefix.to_string()
}

/// FastRegexMatcher matches label values against a Prometheus regex, which
/// is anchored at both ends and lets `.` match newlines.
#[derive(Debug, Clone)]
pub struct FastRegexMatcher {
    re_string: String,
    /// Exact matcher when the pattern is simple enough; otherwise None and
    /// `re` is set.
    fast: Option<StringMatcher>,
    re: Option<regex::Regex>,
    /// Sorted distinct literals when the pattern is exactly such a set.
    set_matches: Vec<String>,
    /// Literal prefix of every match ("" when unknown).
    prefix: String,
}

impl FastRegexMatcher {
    /// new compiles `pattern`; errors read like Go's regexp parse errors.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if let Some(alts) = parse_simple(pattern) {
            let (fast, set_matches) = StringMatcher::build(alts);
            let prefix = fast.prefix();
            return Ok(FastRegexMatcher {
                re_string: pattern.to_string(),
                fast: Some(fast),
                re: None,
                set_matches,
                prefix,
            });
        }
        let mut m = Self::new_regex(pattern)?;
        m.prefix = regex_literal_prefix(pattern);
        Ok(m)
    }

    /// new_regex compiles `pattern` with the regex engine only, no fast
    /// paths; the reference the fast paths are tested against.
    pub fn new_regex(pattern: &str) -> Result<Self, String> {
        let translated = re2::translate(pattern)?;
        let re = regex::RegexBuilder::new(&format!("^(?s:{translated})$"))
            .size_limit(64 << 20)
            .build()
            .map_err(|e| rust_error(pattern, e))?;
        Ok(FastRegexMatcher {
            re_string: pattern.to_string(),
            fast: None,
            re: Some(re),
            set_matches: Vec::new(),
            prefix: String::new(),
        })
    }

    /// matches reports whether the whole of `s` matches the pattern.
    #[inline]
    pub fn matches(&self, s: &str) -> bool {
        if let Some(f) = &self.fast {
            return f.matches(s);
        }
        s.starts_with(&self.prefix) && self.re.as_ref().is_some_and(|re| re.is_match(s))
    }

    /// as_str returns the pattern as given.
    pub fn as_str(&self) -> &str {
        &self.re_string
    }

    /// set_matches returns the sorted literals the pattern is exactly
    /// equivalent to (`a|b|c`, `(x|y)z`), or an empty slice.
    pub fn set_matches(&self) -> &[String] {
        &self.set_matches
    }

    /// prefix returns a literal every matching string starts with ("" when
    /// unknown), for range scans over sorted label values.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// is_optimized reports whether matching skips the regex engine.
    pub fn is_optimized(&self) -> bool {
        self.fast.is_some()
    }
}

fn rust_error(pattern: &str, e: regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => re2::parse_error("expression too large", pattern),
        other => {
            let msg = other.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            let last = last.strip_prefix("error: ").unwrap_or(last);
            re2::parse_error(last, pattern)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::testutil::Rng;

    fn fast(p: &str) -> FastRegexMatcher {
        FastRegexMatcher::new(p).unwrap_or_else(|e| panic!("{p:?}: {e}"))
    }

    #[test]
    fn fast_path_kinds() {
        assert!(matches!(
            fast("a|b|c").fast,
            Some(StringMatcher::SmallSet(_))
        ));
        assert_eq!(fast("a|b|c").set_matches(), &["a", "b", "c"]);
        assert_eq!(fast("foo").set_matches(), &["foo"]);
        assert_eq!(fast("(a|b)(c|d)").set_matches(), &["ac", "ad", "bc", "bd"]);
        assert_eq!(fast("^foo\\.bar$").set_matches(), &["foo.bar"]);
        assert_eq!(fast("").set_matches(), &[""]);
        assert!(matches!(fast(".*").fast, Some(StringMatcher::Any)));
        assert!(matches!(fast(".+").fast, Some(StringMatcher::MinChars(1))));
        assert!(matches!(fast("foo.*").fast, Some(StringMatcher::Glob(_))));
        assert!(fast("foo.*").set_matches().is_empty());
        assert_eq!(fast("foo.*").prefix(), "foo");
        assert_eq!(fast("foo.*|foobar").prefix(), "foo");
        assert_eq!(fast("foo[0-9]+").prefix(), "foo");
        assert_eq!(fast("fooo*").prefix(), "foo");
        assert_eq!(fast("foo(?i)*").prefix(), "fo");
        assert_eq!(fast("foo(a|b)[0-9]").prefix(), "");
        assert!(!fast("(?i)foo").is_optimized());
        let big: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
        let m = fast(&big.join("|"));
        assert!(matches!(m.fast, Some(StringMatcher::Set(_))));
        assert!(m.matches("v999") && !m.matches("v1000"));
    }

    #[test]
    fn anchoring_and_newlines() {
        for p in [
            "foo", "(?:foo)", "^foo$", "fo[o]", "f(o)+", "fo.*|x", "f.+|x",
        ] {
            let m = fast(p);
            assert!(m.matches("foo"), "{p}");
            assert!(!m.matches("xfoo"), "{p}");
        }
        for p in ["foo", "(?:foo)", "^foo$", "fo[o]", "f(o)+", ".*foo", ".+oo"] {
            let m = fast(p);
            assert!(m.matches("foo"), "{p}");
            assert!(!m.matches("foox") && !m.matches("foo\n"), "{p}");
        }
        assert!(fast(".*").matches("a\nb"));
        assert!(fast("a.b").matches("a\nb"));
        assert!(fast(".+").matches("\n"));
    }

    #[test]
    fn invalid_patterns_report_go_errors() {
        assert_eq!(
            FastRegexMatcher::new("a(b").unwrap_err(),
            "error parsing regexp: missing closing ): `a(b`"
        );
        assert!(FastRegexMatcher::new("a)").is_err());
        assert!(FastRegexMatcher::new(".**").is_err());
        assert!(FastRegexMatcher::new("a{1001}").is_err());
    }

    /// Patterns exercising every fast path, plus some that fall back.
    const PATTERNS: &[&str] = &[
        "",
        "a",
        "ab",
        "a|b",
        "a|b|",
        "|a",
        "a||b",
        "abc|ab|a",
        "(a|b)c",
        "(a|)(b|)",
        "(?:a|b)(?:c|d)",
        ".*",
        ".+",
        ".*?",
        ".+?",
        ".*.*",
        ".+.+",
        ".*.+",
        "a.*",
        ".*a",
        ".*a.*",
        "a.+",
        ".+a",
        ".+a.+",
        "a.*b",
        "a.+b",
        "ab.*ba",
        "a.*a",
        ".*a.*b.*",
        ".*ab.*ba.*",
        "a.*b.*a",
        ".+a.*b.+",
        "(a|b).*",
        ".*(a|b)",
        ".*(ab|ba).*",
        "a.*|b",
        "a|.*b",
        "(a.*|.+b)c",
        "^a.*$",
        "^(a|b)$",
        "a\\.b",
        "a\\|b",
        "\\.*",
        "\\$",
        "a\\\\",
        "(a)",
        "((a|b)|c)",
        "a(b(c|d)e|f)g",
        "a+",
        "a*b",
        "[ab]+",
        "a{2}",
        "(?i)ab",
        "a?b",
        ".",
        "..",
        "a.",
        "[^a]*",
        "\\d+",
        "é.*",
        ".*é",
        "(é|ü)+",
    ];

    fn alphabet_string(rng: &mut Rng) -> String {
        const ALPHABET: &[&str] = &["a", "b", "c", ".", "|", "\n", "é", "\\", "$"];
        let len = rng.below(7) as usize;
        (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
            .collect()
    }

    #[test]
    fn fast_paths_agree_with_regex_engine() {
        let mut rng = Rng::new(1234);
        let inputs: Vec<String> = (0..3000).map(|_| alphabet_string(&mut rng)).collect();
        for p in PATTERNS {
            let f = fast(p);
            let r = FastRegexMatcher::new_regex(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            for s in &inputs {
                assert_eq!(f.matches(s), r.matches(s), "pattern {p:?} value {s:?}");
                if f.matches(s) {
                    assert!(
                        s.starts_with(f.prefix()),
                        "pattern {p:?} prefix {:?} value {s:?}",
                        f.prefix()
                    );
                }
            }
            if !f.set_matches().is_empty() {
                for s in &inputs {
                    assert_eq!(
                        f.set_matches().iter().any(|m| m == s),
                        r.matches(s),
                        "set {p:?} {s:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn random_simple_patterns_agree_with_regex_engine() {
        // Random patterns over the simple grammar, against the engine.
        const PIECES: &[&str] = &["a", "b", "ab", ".*", ".+", "|", "(", ")", "\\.", "é"];
        let mut rng = Rng::new(77);
        let inputs: Vec<String> = (0..400).map(|_| alphabet_string(&mut rng)).collect();
        let mut tried = 0;
        while tried < 400 {
            let n = 1 + rng.below(7) as usize;
            let p: String = (0..n)
                .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
                .collect();
            let Ok(r) = FastRegexMatcher::new_regex(&p) else {
                assert!(
                    FastRegexMatcher::new(&p).is_err(),
                    "{p:?} accepted by fast path only"
                );
                continue;
            };
            tried += 1;
            let f = fast(&p);
            for s in &inputs {
                assert_eq!(f.matches(s), r.matches(s), "pattern {p:?} value {s:?}");
            }
        }
    }

    #[test]
    fn skip_chars_counts_characters() {
        assert_eq!(skip_chars("héllo", 0, 2), Some(3));
        assert_eq!(skip_chars("hé", 0, 2), Some(3));
        assert_eq!(skip_chars("hé", 0, 3), None);
        assert_eq!(skip_chars("", 0, 0), Some(0));
        assert_eq!(skip_chars("", 0, 1), None);
        assert_eq!(
            common_prefix(&["foobar".into(), "foobaz".into(), "fooé".into()]),
            "foo"
        );
        assert_eq!(common_prefix(&["é1".into(), "é2".into()]), "é");
    }
}
