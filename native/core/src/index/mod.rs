//! The postings index: which series carry which label pairs, and how label
//! matchers select series from it.
//!
//! - [`postings`]: the `Postings` iterator over sorted series references and
//!   its algebra (intersect, merge, without), lazy and on slices.
//! - [`matcher`]: `Matcher` / `MatchType`, Prometheus label matchers.
//! - `fast_regex` / `re2`: anchored Go-RE2-compatible regexes with string
//!   fast paths.
//! - [`mem_postings`]: `MemPostings`, the head's in-memory inverted index.
//! - [`select`]: the `IndexReader` trait and `postings_for_matchers`.
//! - [`shard`]: query sharding's `__query_shard__` series filter.
//! - [`visibility`]: label-based access control applied to selections.

mod fast_regex;
pub mod matcher;
pub mod mem_postings;
pub mod postings;
mod re2;
pub mod select;
pub mod shard;
#[cfg(test)]
mod testutil;
pub mod visibility;

pub use fast_regex::FastRegexMatcher;
pub use matcher::{MatchType, Matcher};
pub use mem_postings::MemPostings;
pub use postings::{
    expand, intersect, intersect_sorted, merge, merge_sorted, without, without_sorted, BoxPostings,
    EmptyPostings, ListPostings, Postings, VecPostings,
};
pub use select::{postings_for_matchers, select_postings, IndexReader};
pub use shard::{ShardSelector, SHARD_LABEL};
