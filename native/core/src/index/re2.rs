//! Go RE2 syntax to Rust `regex` syntax.
//!
//! Prometheus compiles label regexes with Go's `regexp/syntax` (Perl flags,
//! `.` matching newline). The `regex` crate accepts nearly the same language,
//! but a few constructs mean different things, so patterns are rewritten
//! before compiling:
//!
//! - `\d \s \w \b` (and negations) are ASCII-only in Go, Unicode in Rust:
//!   they become explicit ASCII classes / `(?-u:\b)`.
//! - `\<`, `\>` are escaped literals in Go but word boundaries in Rust;
//!   every escaped punctuation becomes `\x{..}`.
//! - `{` that does not start a valid repeat is a literal in Go;
//!   repeat counts above 1000 are errors in Go.
//! - Octal escapes (`\012`) and `\Q...\E` literals exist in Go only.
//! - Rust class set operators (`&&`, `--`, `~~`) and nested classes do not
//!   exist in Go: class members are emitted as `\x{..}`.
//! - Flags other than `i m s U` (Rust's `x`, `u`, `R`) are errors in Go.
//!
//! Errors are worded like Go's: `error parsing regexp: <what>: `<where>``.

/// Go's upper bound for `{n,m}` repeat counts.
const MAX_REPEAT: u32 = 1000;

pub(crate) fn parse_error(code: &str, expr: &str) -> String {
    format!("error parsing regexp: {code}: `{expr}`")
}

fn text(c: &[char]) -> String {
    c.iter().collect()
}

/// translate rewrites the Go RE2 pattern `pat` into equivalent `regex`
/// crate syntax, or returns Go's parse error.
pub(crate) fn translate(pat: &str) -> Result<String, String> {
    let c: Vec<char> = pat.chars().collect();
    let mut t = Translator {
        c: &c,
        out: String::with_capacity(pat.len() + 16),
    };
    t.run(pat)?;
    Ok(t.out)
}

struct Translator<'a> {
    c: &'a [char],
    out: String,
}

/// One member of a bracketed class: a single code point or a whole class.
enum ClassItem {
    Char(u32),
    Class(String),
}

fn push_char(out: &mut String, v: u32) {
    use std::fmt::Write;
    let _ = write!(out, "\\x{{{v:X}}}");
}

fn ascii_class(e: char) -> Option<&'static str> {
    Some(match e {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        's' => "[\\t\\n\\f\\r ]",
        'S' => "[^\\t\\n\\f\\r ]",
        'w' => "[0-9A-Za-z_]",
        'W' => "[^0-9A-Za-z_]",
        _ => return None,
    })
}

impl Translator<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }

    fn run(&mut self, pat: &str) -> Result<(), String> {
        let n = self.c.len();
        let mut i = 0;
        // Output offsets of the open groups' `(`.
        let mut groups: Vec<usize> = Vec::new();
        // Whether the previous item can take a repetition operator.
        let mut can_repeat = false;
        // Start of the previous item when it was a repetition operator.
        let mut last_repeat: Option<usize> = None;
        // Output offset where the last item (atom or group) starts, and
        // whether a repetition has already been applied to it.
        let mut item_start = 0usize;
        let mut item_repeated = false;
        // Flag groups `(?i)` consume nothing, and Go lets a repetition right
        // after one apply to the item before it (`a(?i)*` is `a*`); Rust
        // rejects that, so flag groups are held back and emitted after such
        // a repetition. Greediness (`U`) cannot change a full match.
        let mut pending_flags = String::new();
        while i < n {
            let mut this_repeat = None;
            let ch = self.c[i];
            let repeat_here =
                matches!(ch, '*' | '+' | '?') || (ch == '{' && self.repeat_braces(i).is_some());
            let flag_group_here = ch == '(' && self.at(i + 1) == Some('?');
            if !repeat_here && !flag_group_here {
                self.out.push_str(&std::mem::take(&mut pending_flags));
            }
            if !repeat_here && ch != ')' && ch != '|' && !flag_group_here {
                item_start = self.out.len();
                item_repeated = false;
            }
            match ch {
                '\\' => {
                    i = self.escape(i)?;
                    can_repeat = true;
                }
                '[' => {
                    i = self.class(i)?;
                    can_repeat = true;
                }
                '(' => {
                    let mut group_at = self.out.len();
                    let opens_group = if flag_group_here {
                        let (next, opens_group) = self.group_open(i)?;
                        i = next;
                        if opens_group {
                            // A group is an item: flush held flags before it.
                            let flags = std::mem::take(&mut pending_flags);
                            self.out.insert_str(group_at, &flags);
                            group_at += flags.len();
                        } else {
                            let flags = self.out.split_off(group_at);
                            pending_flags.push_str(&flags);
                        }
                        opens_group
                    } else {
                        self.out.push('(');
                        i += 1;
                        true
                    };
                    // A flags-only `(?i)` leaves the previous item repeatable.
                    if opens_group {
                        groups.push(group_at);
                        can_repeat = false;
                    }
                }
                ')' => {
                    let Some(start) = groups.pop() else {
                        return Err(parse_error("unexpected )", pat));
                    };
                    self.out.push(')');
                    i += 1;
                    can_repeat = true;
                    item_start = start;
                    item_repeated = false;
                }
                '|' => {
                    self.out.push('|');
                    i += 1;
                    can_repeat = false;
                }
                '*' | '+' | '?' | '{' if repeat_here => {
                    let start = i;
                    let (mut j, bounds) = match self.repeat_braces(i) {
                        Some((end, lo, hi)) if ch == '{' => (end, Some((lo, hi, end))),
                        _ => (i + 1, None),
                    };
                    if self.at(j) == Some('?') {
                        j += 1;
                    }
                    self.check_repeat(start, j, can_repeat, last_repeat)?;
                    if let Some((lo, hi, end)) = bounds {
                        if lo > MAX_REPEAT || hi.is_some_and(|h| h > MAX_REPEAT || h < lo) {
                            return Err(parse_error(
                                "invalid repeat count",
                                &text(&self.c[start..end]),
                            ));
                        }
                    }
                    if item_repeated {
                        // Only reachable across a flag group (`a+(?i)?`): Go
                        // repeats the repeated item, Rust would read `+?`.
                        self.out.insert_str(item_start, "(?:");
                        self.out.push(')');
                    }
                    self.out.push_str(&text(&self.c[start..j]));
                    self.out.push_str(&std::mem::take(&mut pending_flags));
                    this_repeat = Some(start);
                    item_repeated = true;
                    can_repeat = true;
                    i = j;
                }
                '{' | '}' | ']' => {
                    // Literal in Go (a `{` that starts no valid repeat).
                    self.out.push('\\');
                    self.out.push(ch);
                    i += 1;
                    can_repeat = true;
                }
                _ => {
                    // `.`, `^`, `$` and plain characters mean the same in both.
                    self.out.push(ch);
                    i += 1;
                    can_repeat = true;
                }
            }
            last_repeat = this_repeat;
        }
        self.out.push_str(&pending_flags);
        if !groups.is_empty() {
            return Err(parse_error("missing closing )", pat));
        }
        Ok(())
    }

    fn check_repeat(
        &self,
        start: usize,
        end: usize,
        can_repeat: bool,
        last_repeat: Option<usize>,
    ) -> Result<(), String> {
        if let Some(prev) = last_repeat {
            return Err(parse_error(
                "invalid nested repetition operator",
                &text(&self.c[prev..end]),
            ));
        }
        if !can_repeat {
            return Err(parse_error(
                "missing argument to repetition operator",
                &text(&self.c[start..end]),
            ));
        }
        Ok(())
    }

    /// repeat_braces parses `{n}`, `{n,}` or `{n,m}` at `i`; returns the
    /// index after `}` and the bounds, or None when Go reads `{` literally.
    fn repeat_braces(&self, i: usize) -> Option<(usize, u32, Option<u32>)> {
        let mut j = i + 1;
        let number = |j: &mut usize| -> Option<u32> {
            let start = *j;
            while self.at(*j).is_some_and(|d| d.is_ascii_digit()) {
                *j += 1;
            }
            if *j == start {
                return None;
            }
            // Saturate: anything this long is over the limit anyway.
            Some(text(&self.c[start..*j]).parse::<u32>().unwrap_or(u32::MAX))
        };
        let lo = number(&mut j)?;
        let hi = if self.at(j) == Some(',') {
            j += 1;
            if self.at(j) == Some('}') {
                None
            } else {
                Some(number(&mut j)?)
            }
        } else {
            Some(lo)
        };
        if self.at(j) != Some('}') {
            return None;
        }
        Some((j + 1, lo, hi))
    }

    /// group_open handles `(?` at `i`: non-capturing groups, named captures
    /// and flag settings. Returns the next index and whether a group opened.
    fn group_open(&mut self, i: usize) -> Result<(usize, bool), String> {
        let rest = &self.c[i..];
        let named = if rest.starts_with(&['(', '?', 'P', '<']) {
            Some(i + 4)
        } else if rest.starts_with(&['(', '?', '<']) {
            Some(i + 3)
        } else {
            None
        };
        if let Some(name_start) = named {
            let end = self.c[name_start..]
                .iter()
                .position(|&ch| ch == '>')
                .map(|p| name_start + p);
            let Some(end) = end else {
                return Err(parse_error("invalid named capture", &text(rest)));
            };
            let name = text(&self.c[name_start..end]);
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err(parse_error(
                    "invalid named capture",
                    &text(&self.c[i..=end]),
                ));
            }
            // Names do not affect matching, and Rust's rules are stricter
            // (no leading digits, no duplicates), so the group goes unnamed.
            self.out.push('(');
            return Ok((end + 1, true));
        }
        // Flags: (?flags) or (?flags:
        let mut j = i + 2;
        let mut saw_flag = false;
        let mut saw_minus = false;
        let unsupported = |j: usize| {
            parse_error(
                "invalid or unsupported Perl syntax",
                &text(&self.c[i..(j + 1).min(self.c.len())]),
            )
        };
        loop {
            match self.at(j) {
                Some('i' | 'm' | 's' | 'U') => saw_flag = true,
                Some('-') => {
                    if saw_minus {
                        return Err(unsupported(j));
                    }
                    saw_minus = true;
                    saw_flag = false;
                }
                Some(end @ (':' | ')')) => {
                    if saw_minus && !saw_flag {
                        return Err(unsupported(j));
                    }
                    // Go accepts `(?)` as a no-op; Rust does not.
                    if j > i + 2 || end == ':' {
                        self.out.push_str(&text(&self.c[i..=j]));
                    }
                    return Ok((j + 1, end == ':'));
                }
                Some(_) => return Err(unsupported(j)),
                None => {
                    return Err(parse_error(
                        "invalid or unsupported Perl syntax",
                        &text(&self.c[i..]),
                    ))
                }
            }
            j += 1;
        }
    }

    /// octal reads Go's octal escape whose first digit is at `i`.
    fn octal(&self, i: usize) -> (u32, usize) {
        let mut v = 0u32;
        let mut j = i;
        while j < i + 3 && self.at(j).is_some_and(|d| ('0'..='7').contains(&d)) {
            v = v * 8 + (self.c[j] as u32 - '0' as u32);
            j += 1;
        }
        (v, j)
    }

    /// hex reads `\x` escapes' digits starting at `i` (just after `x`).
    fn hex(&self, i: usize, esc_start: usize) -> Result<(u32, usize), String> {
        let bad = |end: usize| {
            parse_error(
                "invalid escape sequence",
                &text(&self.c[esc_start..end.min(self.c.len())]),
            )
        };
        if self.at(i) == Some('{') {
            let mut j = i + 1;
            let mut v: u32 = 0;
            while let Some(d) = self.at(j).and_then(|ch| ch.to_digit(16)) {
                v = v.saturating_mul(16).saturating_add(d);
                j += 1;
            }
            if j == i + 1 || self.at(j) != Some('}') || v > 0x10FFFF {
                return Err(bad(j + 1));
            }
            Ok((v, j + 1))
        } else {
            match (
                self.at(i).and_then(|h| h.to_digit(16)),
                self.at(i + 1).and_then(|h| h.to_digit(16)),
            ) {
                (Some(a), Some(b)) => Ok((a * 16 + b, i + 2)),
                _ => Err(bad(i + 2)),
            }
        }
    }

    /// unicode_class copies `\pN`, `\p{Name}` (or `\P`) starting at `i`.
    fn unicode_class(&self, i: usize) -> Result<(String, usize), String> {
        match self.at(i + 2) {
            Some('{') => {
                let close = self.c[i + 2..].iter().position(|&ch| ch == '}');
                match close {
                    Some(p) => Ok((text(&self.c[i..i + 3 + p]), i + 3 + p)),
                    None => Err(parse_error(
                        "invalid character class range",
                        &text(&self.c[i..]),
                    )),
                }
            }
            Some(_) => Ok((text(&self.c[i..i + 3]), i + 3)),
            None => Err(parse_error(
                "invalid character class range",
                &text(&self.c[i..]),
            )),
        }
    }

    /// escape_item decodes the escape at `i` (a backslash) as a class member
    /// or a literal; None for escapes that are assertions or `\Q`.
    fn escape_item(&self, i: usize, in_class: bool) -> Result<(Option<ClassItem>, usize), String> {
        let Some(e) = self.at(i + 1) else {
            return Err(parse_error("trailing backslash at end of expression", ""));
        };
        let invalid = || parse_error("invalid escape sequence", &text(&self.c[i..i + 2]));
        Ok(match e {
            '1'..='7' if !self.at(i + 2).is_some_and(|d| ('0'..='7').contains(&d)) => {
                return Err(invalid())
            }
            '0'..='7' => {
                let (v, j) = self.octal(i + 1);
                (Some(ClassItem::Char(v)), j)
            }
            'x' => {
                let (v, j) = self.hex(i + 2, i)?;
                (Some(ClassItem::Char(v)), j)
            }
            'a' => (Some(ClassItem::Char(7)), i + 2),
            'f' => (Some(ClassItem::Char(12)), i + 2),
            'n' => (Some(ClassItem::Char(10)), i + 2),
            'r' => (Some(ClassItem::Char(13)), i + 2),
            't' => (Some(ClassItem::Char(9)), i + 2),
            'v' => (Some(ClassItem::Char(11)), i + 2),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => (
                Some(ClassItem::Class(
                    ascii_class(e).expect("perl class").to_string(),
                )),
                i + 2,
            ),
            'p' | 'P' => {
                let (s, j) = self.unicode_class(i)?;
                (Some(ClassItem::Class(s)), j)
            }
            'A' | 'z' | 'b' | 'B' | 'Q' if !in_class => (None, i + 2),
            ch if (ch as u32) < 0x80 && !ch.is_ascii_alphanumeric() => {
                (Some(ClassItem::Char(ch as u32)), i + 2)
            }
            _ => return Err(invalid()),
        })
    }

    fn escape(&mut self, i: usize) -> Result<usize, String> {
        let (item, next) = self.escape_item(i, false)?;
        match item {
            Some(ClassItem::Char(v)) => push_char(&mut self.out, v),
            Some(ClassItem::Class(s)) => self.out.push_str(&s),
            None => match self.c[i + 1] {
                'A' => self.out.push_str("\\A"),
                'z' => self.out.push_str("\\z"),
                'b' => self.out.push_str("(?-u:\\b)"),
                'B' => self.out.push_str("(?-u:\\B)"),
                _ => {
                    // \Q...\E: everything up to \E (or the end) is literal.
                    let mut j = next;
                    let mut lit = String::new();
                    while j < self.c.len() {
                        if self.c[j] == '\\' && self.at(j + 1) == Some('E') {
                            j += 2;
                            self.out.push_str(&lit);
                            return Ok(j);
                        }
                        push_char(&mut lit, self.c[j] as u32);
                        j += 1;
                    }
                    // Go wraps a multi-character \Q literal like a group, so a
                    // following repetition applies to all of it.
                    self.out.push_str("(?:");
                    self.out.push_str(&lit);
                    self.out.push(')');
                    return Ok(j);
                }
            },
        }
        Ok(next)
    }

    /// class translates the bracketed class starting at `i`.
    fn class(&mut self, i: usize) -> Result<usize, String> {
        let n = self.c.len();
        let mut j = i + 1;
        self.out.push('[');
        if self.at(j) == Some('^') {
            self.out.push('^');
            j += 1;
        }
        let mut first = true;
        loop {
            let Some(ch) = self.at(j) else {
                return Err(parse_error("missing closing ]", &text(&self.c[i..])));
            };
            if ch == ']' && !first {
                self.out.push(']');
                return Ok(j + 1);
            }
            first = false;
            if ch == '[' && self.at(j + 1) == Some(':') {
                let close = (j + 2..n.saturating_sub(1))
                    .find(|&k| self.c[k] == ':' && self.c[k + 1] == ']');
                if let Some(k) = close {
                    self.out.push_str(&text(&self.c[j..k + 2]));
                    j = k + 2;
                    continue;
                }
            }
            let range_start = j;
            let (lo, next) = self.class_item(j)?;
            j = next;
            match lo {
                // Perl classes nest as `[...]`; `\pL` is valid inside a class.
                ClassItem::Class(s) => self.out.push_str(&s),
                ClassItem::Char(lo) => {
                    if self.at(j) == Some('-') && self.at(j + 1).is_some_and(|nx| nx != ']') {
                        let (hi, next) = self.class_item(j + 1)?;
                        let range_text = || text(&self.c[range_start..next]);
                        let ClassItem::Char(hi) = hi else {
                            // Go reads a range end as one character: `\d` there
                            // is an unknown escape.
                            return Err(parse_error(
                                "invalid escape sequence",
                                &text(&self.c[j + 1..j + 3]),
                            ));
                        };
                        if hi < lo {
                            return Err(parse_error(
                                "invalid character class range",
                                &range_text(),
                            ));
                        }
                        push_char(&mut self.out, lo);
                        self.out.push('-');
                        push_char(&mut self.out, hi);
                        j = next;
                    } else {
                        push_char(&mut self.out, lo);
                    }
                }
            }
        }
    }

    fn class_item(&self, j: usize) -> Result<(ClassItem, usize), String> {
        match self.at(j) {
            Some('\\') => match self.escape_item(j, true)? {
                (Some(item), next) => Ok((item, next)),
                (None, _) => Err(parse_error(
                    "invalid escape sequence",
                    &text(&self.c[j..j + 2]),
                )),
            },
            Some(ch) => Ok((ClassItem::Char(ch as u32), j + 1)),
            None => Err(parse_error("missing closing ]", "")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(p: &str) -> Result<regex::Regex, String> {
        let t = translate(p)?;
        regex::Regex::new(&format!("^(?s:{t})$")).map_err(|e| format!("rust rejected {t:?}: {e}"))
    }

    #[test]
    fn go_errors() {
        let cases = [
            ("(foo", "error parsing regexp: missing closing ): `(foo`"),
            ("foo)", "error parsing regexp: unexpected ): `foo)`"),
            ("[a", "error parsing regexp: missing closing ]: `[a`"),
            (
                "*a",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "a**",
                "error parsing regexp: invalid nested repetition operator: `**`",
            ),
            (
                "a+*",
                "error parsing regexp: invalid nested repetition operator: `+*`",
            ),
            (
                "a\\",
                "error parsing regexp: trailing backslash at end of expression: ``",
            ),
            (
                "\\q",
                "error parsing regexp: invalid escape sequence: `\\q`",
            ),
            (
                "[z-a]",
                "error parsing regexp: invalid character class range: `z-a`",
            ),
            (
                "[a--b]",
                "error parsing regexp: invalid character class range: `a--`",
            ),
            (
                "a{1001}",
                "error parsing regexp: invalid repeat count: `{1001}`",
            ),
            (
                "a{3,2}",
                "error parsing regexp: invalid repeat count: `{3,2}`",
            ),
            (
                "(?x)a",
                "error parsing regexp: invalid or unsupported Perl syntax: `(?x`",
            ),
            (
                "(?P<>a)",
                "error parsing regexp: invalid named capture: `(?P<>`",
            ),
            (
                "(?i-)a",
                "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`",
            ),
            (
                "(?i",
                "error parsing regexp: invalid or unsupported Perl syntax: `(?i`",
            ),
            (
                "(?i)*",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
            (
                "|*",
                "error parsing regexp: missing argument to repetition operator: `*`",
            ),
        ];
        for (p, want) in cases {
            assert_eq!(translate(p).unwrap_err(), want, "pattern {p:?}");
        }
    }

    #[test]
    fn go_semantics() {
        // (pattern, value, matches)
        let cases: &[(&str, &str, bool)] = &[
            ("\\d+", "123", true),
            ("\\d+", "١٢٣", false), // Arabic-Indic digits: not \d in Go
            ("\\w+", "héllo", false),
            ("\\s", "\u{85}", false),
            ("\\s", "\t", true),
            ("a\\<b\\>", "a<b>", true),
            ("a{", "a{", true),
            ("a{x}", "a{x}", true),
            ("a{2}", "aa", true),
            ("a{,2}", "a{,2}", true),
            ("x}", "x}", true),
            ("]", "]", true),
            ("\\101\\0", "A\0", true),
            ("\\Q.*+\\E", ".*+", true),
            ("\\Q.*+\\E", "abc", false),
            ("\\Qab", "ab", true),
            ("[]a]+", "]a]", true),
            ("[^]a]", "b", true),
            ("[a-c-e]+", "a-e", true),
            ("[a-c-e]", "d", false),
            ("[a&&b]+", "a&b", true),
            ("[--/]+", "-./", true),
            ("[-a-]+", "-a-", true),
            ("[\\d\\-x]+", "1-x", true),
            ("[\\D]", "a", true),
            ("[[:alpha:]]+", "abc", true),
            ("[[:^digit:]]", "1", false),
            ("[[a]]", "[]", true),
            ("[\\x41-\\x{43}]+", "ABC", true),
            ("\\pL+", "héllo", true),
            ("\\p{Greek}", "λ", true),
            ("(?i)foo", "FOO", true),
            ("(?P<name>a)(?<b>b)", "ab", true),
            ("(?P<1x>a)", "a", true),
            ("(?P<n>a)(?P<n>b)", "ab", true),
            ("a(?)b", "ab", true),
            // A repetition after a flag group repeats the item before it.
            ("a(?i)*", "", true),
            ("a(?i)*B", "aaab", true),
            ("a+(?U)?~", "~", true),
            ("(a)(?i)(?m){2}", "aa", true),
            ("\\bfoo\\b", "foo", true),
            ("a.b", "a\nb", true),
            ("(?-s:a.b)", "a\nb", false),
            ("^foo$", "foo", true),
            ("(?m)^a$\\n^b$", "a\nb", true),
            ("\\.", ".", true),
            ("\\_\\ ", "_ ", true),
            ("a*?", "aa", true),
            ("\\x{1F600}", "😀", true),
        ];
        for &(p, v, want) in cases {
            let re = compile(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert_eq!(re.is_match(v), want, "pattern {p:?} value {v:?}");
        }
    }
}
