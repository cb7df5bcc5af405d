//! Query sharding's series filter: a selector with the reserved matcher
//! `__query_shard__="<n>_of_<total>"` (Mimir's `sharding.ShardSelector`)
//! selects only the series whose label-set hash (Prometheus's
//! `labels.StableHash`) modulo `total` is `n - 1`. The query-frontend
//! rewrites shardable queries into one such query per shard; the union of
//! the shards is every series, and no series is in two shards.

use super::postings::{BoxPostings, Postings};

/// SHARD_LABEL is the reserved label name of the shard matcher.
pub const SHARD_LABEL: &str = "__query_shard__";

/// ShardSelector is one shard: `index` is 0-based, printed 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShardSelector {
    pub index: u64,
    pub count: u64,
}

impl ShardSelector {
    /// parse reads `<n>_of_<total>` (1 <= n <= total), with Mimir's error
    /// texts for anything else.
    pub fn parse(value: &str) -> Result<ShardSelector, String> {
        let invalid = || format!("invalid shard ID: {value:?}");
        let parts: Vec<&str> = value.split('_').collect();
        if parts.len() != 3 || parts[1] != "of" {
            return Err(invalid());
        }
        let num = |s: &str| parse_uint(s).map_err(|e| format!("invalid shard ID: {value:?}: {e}"));
        let index = num(parts[0])?;
        let count = num(parts[2])?;
        if index == 0 || count == 0 || index > count {
            return Err(invalid());
        }
        Ok(ShardSelector {
            index: index - 1,
            count,
        })
    }

    /// owns reports whether a series with label-set hash `hash` is in the
    /// shard.
    #[inline]
    pub fn owns(&self, hash: u64) -> bool {
        hash % self.count == self.index
    }
}

/// parse_uint is Go's `strconv.ParseUint(s, 10, 64)`, with its error text.
fn parse_uint(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.ParseUint: parsing {s:?}: invalid syntax"));
    }
    s.parse::<u64>()
        .map_err(|_| format!("strconv.ParseUint: parsing {s:?}: value out of range"))
}

/// ShardedPostings keeps the references of `inner` whose series the shard
/// owns; `hash` gives a series' label-set hash (None: kept, so that a read
/// of an unreadable series reports its error).
pub struct ShardedPostings<'a> {
    inner: BoxPostings<'a>,
    shard: ShardSelector,
    hash: Box<dyn Fn(u32) -> Option<u64> + 'a>,
}

impl<'a> ShardedPostings<'a> {
    pub fn new(
        inner: BoxPostings<'a>,
        shard: ShardSelector,
        hash: Box<dyn Fn(u32) -> Option<u64> + 'a>,
    ) -> Self {
        ShardedPostings { inner, shard, hash }
    }

    fn owned(&self, r: u32) -> bool {
        (self.hash)(r).is_none_or(|h| self.shard.owns(h))
    }

    /// skip advances from a current reference to the first owned one.
    fn skip(&mut self) -> bool {
        loop {
            if self.owned(self.inner.at()) {
                return true;
            }
            if !self.inner.next() {
                return false;
            }
        }
    }
}

impl Postings for ShardedPostings<'_> {
    fn next(&mut self) -> bool {
        self.inner.next() && self.skip()
    }

    fn seek(&mut self, v: u32) -> bool {
        self.inner.seek(v) && self.skip()
    }

    fn at(&self) -> u32 {
        self.inner.at()
    }

    fn err(&self) -> Option<String> {
        self.inner.err()
    }

    fn is_known_empty(&self) -> bool {
        self.inner.is_known_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_as_mimir() {
        assert_eq!(
            ShardSelector::parse("1_of_4"),
            Ok(ShardSelector { index: 0, count: 4 })
        );
        assert_eq!(
            ShardSelector::parse("16_of_16"),
            Ok(ShardSelector {
                index: 15,
                count: 16
            })
        );
        for bad in [
            "0_of_4",
            "5_of_4",
            "1_of_0",
            "1of4",
            "1_on_4",
            "1_of_4_of_5",
            "",
        ] {
            assert_eq!(
                ShardSelector::parse(bad),
                Err(format!("invalid shard ID: {bad:?}")),
                "{bad}"
            );
        }
        assert_eq!(
            ShardSelector::parse("a_of_4"),
            Err(
                "invalid shard ID: \"a_of_4\": strconv.ParseUint: parsing \"a\": invalid syntax"
                    .to_string()
            )
        );
        assert_eq!(
            ShardSelector::parse("1_of_-4"),
            Err(
                "invalid shard ID: \"1_of_-4\": strconv.ParseUint: parsing \"-4\": invalid syntax"
                    .to_string()
            )
        );
    }
}
