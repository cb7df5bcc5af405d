//! Label matchers: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`, with
//! Prometheus's semantics (`model/labels/matcher.go`).

use std::fmt;
use std::sync::Arc;

use super::fast_regex::FastRegexMatcher;
use super::shard::{ShardSelector, SHARD_LABEL};

/// MatchType is the kind of a label matcher, numbered as in Prometheus
/// (and its remote-read protobuf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum MatchType {
    Equal = 0,
    NotEqual = 1,
    Regexp = 2,
    NotRegexp = 3,
}

impl MatchType {
    /// from_u32 maps Prometheus's numbering back to a MatchType.
    pub fn from_u32(v: u32) -> Option<MatchType> {
        Some(match v {
            0 => MatchType::Equal,
            1 => MatchType::NotEqual,
            2 => MatchType::Regexp,
            3 => MatchType::NotRegexp,
            _ => return None,
        })
    }

    /// as_str returns the PromQL operator.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    /// is_negative is true for `!=` and `!~`.
    pub fn is_negative(self) -> bool {
        matches!(self, MatchType::NotEqual | MatchType::NotRegexp)
    }

    /// inverse swaps `=`/`!=` and `=~`/`!~`.
    pub fn inverse(self) -> MatchType {
        match self {
            MatchType::Equal => MatchType::NotEqual,
            MatchType::NotEqual => MatchType::Equal,
            MatchType::Regexp => MatchType::NotRegexp,
            MatchType::NotRegexp => MatchType::Regexp,
        }
    }
}

impl fmt::Display for MatchType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Matcher tests one label's value. A missing label has the value "".
///
/// Cloning is cheap: the compiled regex is shared.
#[derive(Debug, Clone)]
pub struct Matcher {
    match_type: MatchType,
    name: String,
    value: String,
    /// Set for `=~` and `!~`.
    re: Option<Arc<FastRegexMatcher>>,
    /// Set for the query-sharding matcher `__query_shard__="<n>_of_<total>"`.
    shard: Option<ShardSelector>,
}

impl Matcher {
    /// new builds a matcher; regex matchers are compiled fully anchored, with
    /// `.` matching newlines, and fail with Go's parse error text. An equality
    /// matcher on `__query_shard__` is a shard selector (see
    /// [`super::shard`]) and fails with Mimir's text when malformed.
    pub fn new(match_type: MatchType, name: &str, value: &str) -> Result<Matcher, String> {
        let re = match match_type {
            MatchType::Regexp | MatchType::NotRegexp => {
                Some(Arc::new(FastRegexMatcher::new(value)?))
            }
            MatchType::Equal | MatchType::NotEqual => None,
        };
        let shard = if match_type == MatchType::Equal && name == SHARD_LABEL {
            Some(ShardSelector::parse(value)?)
        } else {
            None
        };
        Ok(Matcher {
            match_type,
            name: name.to_string(),
            value: value.to_string(),
            re,
            shard,
        })
    }

    /// shard is the shard this matcher selects, when it is the
    /// query-sharding matcher.
    pub fn shard(&self) -> Option<ShardSelector> {
        self.shard
    }

    /// matches reports whether the label value `v` satisfies the matcher.
    #[inline]
    pub fn matches(&self, v: &str) -> bool {
        match (self.match_type, &self.re) {
            (MatchType::Equal, _) => v == self.value,
            (MatchType::NotEqual, _) => v != self.value,
            (MatchType::Regexp, Some(re)) => re.matches(v),
            (MatchType::NotRegexp, Some(re)) => !re.matches(v),
            (MatchType::Regexp | MatchType::NotRegexp, None) => {
                unreachable!("regex matcher without regex")
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn match_type(&self) -> MatchType {
        self.match_type
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// inverse returns the matcher selecting exactly the values this one
    /// rejects (sharing the compiled regex).
    pub fn inverse(&self) -> Matcher {
        Matcher {
            match_type: self.match_type.inverse(),
            name: self.name.clone(),
            value: self.value.clone(),
            re: self.re.clone(),
            shard: None,
        }
    }

    /// set_matches returns, for `=~` matchers equivalent to a finite set of
    /// literals (`a|b|c`), those literals sorted; otherwise an empty slice.
    pub fn set_matches(&self) -> &[String] {
        match (&self.re, self.match_type) {
            (Some(re), MatchType::Regexp | MatchType::NotRegexp) => re.set_matches(),
            _ => &[],
        }
    }

    /// prefix returns a literal every value accepted by a `=~` matcher (or
    /// rejected by a `!~` one) starts with; "" when unknown.
    pub fn regex_prefix(&self) -> &str {
        self.re.as_ref().map_or("", |re| re.prefix())
    }

    /// regex returns the compiled regex of `=~`/`!~` matchers.
    pub fn regex(&self) -> Option<&FastRegexMatcher> {
        self.re.as_deref()
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    /// Formats as PromQL does: `name="value"` with Go-style quoting.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.match_type)?;
        for ch in self.value.chars() {
            match ch {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                c if c.is_control() => write!(f, "\\x{:02x}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: MatchType, v: &str) -> Matcher {
        Matcher::new(t, "l", v).unwrap()
    }

    #[test]
    fn match_type_numbering() {
        for (i, t) in [
            MatchType::Equal,
            MatchType::NotEqual,
            MatchType::Regexp,
            MatchType::NotRegexp,
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(MatchType::from_u32(i as u32), Some(t));
            assert_eq!(t as u32, i as u32);
            assert_eq!(t.inverse().inverse(), t);
        }
        assert_eq!(MatchType::from_u32(4), None);
    }

    #[test]
    fn each_type_matches() {
        use MatchType::*;
        let cases: &[(MatchType, &str, &str, bool)] = &[
            (Equal, "bar", "bar", true),
            (Equal, "bar", "baz", false),
            (Equal, "", "", true),
            (Equal, "", "x", false),
            (NotEqual, "bar", "bar", false),
            (NotEqual, "bar", "baz", true),
            (NotEqual, "", "", false),
            (NotEqual, "", "x", true),
            (Regexp, "ba.", "bar", true),
            (Regexp, "ba.", "xbar", false),
            (Regexp, "ba.", "barx", false),
            (Regexp, "ba.", "ba\n", true),
            (Regexp, "", "", true),
            (Regexp, "", "x", false),
            (Regexp, ".*", "", true),
            (Regexp, ".+", "", false),
            (Regexp, "a|b", "a", true),
            (Regexp, "a|b", "ab", false),
            (Regexp, "(?i)FOO", "foo", true),
            (Regexp, "foo.*", "foobar", true),
            (Regexp, ".*bar", "foobar", true),
            (Regexp, ".*ob.*", "foobar", true),
            (Regexp, ".*ob.*", "fbar", false),
            (Regexp, "\\d{2,3}", "123", true),
            (Regexp, "\\d{2,3}", "1234", false),
            (NotRegexp, "ba.", "bar", false),
            (NotRegexp, "ba.", "xbar", true),
            (NotRegexp, "", "", false),
            (NotRegexp, "", "x", true),
            (NotRegexp, ".*", "anything", false),
            (NotRegexp, ".+", "", true),
            (NotRegexp, "a|b", "c", true),
        ];
        for &(t, v, s, want) in cases {
            assert_eq!(m(t, v).matches(s), want, "{} on {s:?}", m(t, v));
            assert_eq!(
                m(t, v).inverse().matches(s),
                !want,
                "inverse of {} on {s:?}",
                m(t, v)
            );
        }
    }

    #[test]
    fn accessors_and_display() {
        let x = Matcher::new(MatchType::NotRegexp, "job", "a\"b|c").unwrap();
        assert_eq!(x.name(), "job");
        assert_eq!(x.value(), "a\"b|c");
        assert_eq!(x.match_type(), MatchType::NotRegexp);
        assert_eq!(x.to_string(), "job!~\"a\\\"b|c\"");
        assert_eq!(x.set_matches(), &["a\"b", "c"]);
        assert!(Matcher::new(MatchType::Equal, "a", "x|y")
            .unwrap()
            .set_matches()
            .is_empty());
        assert_eq!(
            Matcher::new(MatchType::Regexp, "a", "foo.*")
                .unwrap()
                .regex_prefix(),
            "foo"
        );
    }

    #[test]
    fn invalid_regex_is_an_error() {
        let err = Matcher::new(MatchType::Regexp, "a", "(").unwrap_err();
        assert_eq!(err, "error parsing regexp: missing closing ): `(`");
        assert!(Matcher::new(MatchType::NotRegexp, "a", "[").is_err());
        // Equality matchers take any text.
        assert!(Matcher::new(MatchType::Equal, "a", "(").is_ok());
    }
}
