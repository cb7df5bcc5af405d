//! series_labels is the form in which the label sets of a selection cross
//! from Rust to JavaScript (and on between threads and processes): one
//! flatbuffer holding every distinct name and value once (a symbol table)
//! and, per series, its `(name, value)` pairs as symbol numbers, so that a
//! label string shared by many series is written, copied and decoded once.
//! The schema is `docs/format/series-labels.fbs`:
//!
//! ```text
//! table SeriesLabels {
//!   symbols: [string];  // every distinct name and value, first use first
//!   refs: [uint32];     // name and value symbol numbers, pair after pair
//!   offsets: [uint32];  // series i owns refs[offsets[i]..offsets[i + 1]]
//! }
//! ```

use ahash::AHashMap;
use flatbuffers::{FlatBufferBuilder, ForwardsUOffset, Table, Vector, WIPOffset};

/// Field slots of the SeriesLabels table (vtable offsets).
const SLOT_SYMBOLS: u16 = 4;
const SLOT_REFS: u16 = 6;
const SLOT_OFFSETS: u16 = 8;

/// SeriesLabelsBuilder collects label sets, series after series.
#[derive(Debug)]
pub struct SeriesLabelsBuilder {
    ids: AHashMap<Box<str>, u32>,
    symbols: Vec<Box<str>>,
    refs: Vec<u32>,
    offsets: Vec<u32>,
}

impl Default for SeriesLabelsBuilder {
    fn default() -> Self {
        SeriesLabelsBuilder {
            ids: AHashMap::new(),
            symbols: Vec::new(),
            refs: Vec::new(),
            offsets: vec![0],
        }
    }
}

impl SeriesLabelsBuilder {
    /// new returns a builder without series.
    pub fn new() -> Self {
        Self::default()
    }

    /// len is the number of series pushed.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// is_empty reports no series pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn symbol(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.symbols.len() as u32;
        self.symbols.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// push adds the next series' label pairs (sorted by name).
    pub fn push<'a>(&mut self, labels: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (name, value) in labels {
            let n = self.symbol(name);
            let v = self.symbol(value);
            self.refs.push(n);
            self.refs.push(v);
        }
        self.offsets.push(self.refs.len() as u32);
    }

    /// finish returns the flatbuffer.
    pub fn finish(self) -> Vec<u8> {
        let bytes: usize = self.symbols.iter().map(|s| s.len() + 8).sum();
        let mut b = FlatBufferBuilder::with_capacity(
            64 + bytes + 4 * (self.refs.len() + self.offsets.len()),
        );
        let names: Vec<WIPOffset<&str>> = self.symbols.iter().map(|s| b.create_string(s)).collect();
        let symbols = b.create_vector(&names);
        let refs = b.create_vector(&self.refs);
        let offsets = b.create_vector(&self.offsets);
        let t = b.start_table();
        b.push_slot_always(SLOT_SYMBOLS, symbols);
        b.push_slot_always(SLOT_REFS, refs);
        b.push_slot_always(SLOT_OFFSETS, offsets);
        let root = b.end_table(t);
        b.finish_minimal(root);
        let (buf, head) = b.collapse();
        if head == 0 {
            buf
        } else {
            buf[head..].to_vec()
        }
    }
}

/// encode is the flatbuffer of the given label sets.
pub fn encode<'a, S, L>(series: S) -> Vec<u8>
where
    S: IntoIterator<Item = L>,
    L: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut b = SeriesLabelsBuilder::new();
    for labels in series {
        b.push(labels);
    }
    b.finish()
}

/// empty is the flatbuffer of no series.
pub fn empty() -> Vec<u8> {
    SeriesLabelsBuilder::new().finish()
}

/// decode reads the label sets back (checking the buffer's bounds).
pub fn decode(buf: &[u8]) -> Result<Vec<Vec<(String, String)>>, String> {
    let opts = flatbuffers::VerifierOptions::default();
    let mut v = flatbuffers::Verifier::new(&opts, buf);
    let root = v
        .get_uoffset(0)
        .map_err(|e| format!("series labels: {e}"))? as usize;
    v.visit_table(root)
        .and_then(|t| {
            t.visit_field::<ForwardsUOffset<Vector<'_, ForwardsUOffset<&str>>>>(
                "symbols",
                SLOT_SYMBOLS,
                true,
            )?
            .visit_field::<ForwardsUOffset<Vector<'_, u32>>>("refs", SLOT_REFS, true)?
            .visit_field::<ForwardsUOffset<Vector<'_, u32>>>("offsets", SLOT_OFFSETS, true)?
            .finish();
            Ok(())
        })
        .map_err(|e| format!("series labels: {e}"))?;
    // SAFETY: the verifier above checked the root table and its three
    // vectors (offsets, lengths, UTF-8) against the buffer's bounds.
    let t = unsafe { Table::new(buf, root) };
    let field = |slot| unsafe { t.get::<ForwardsUOffset<Vector<'_, u32>>>(slot, None) };
    let symbols =
        unsafe { t.get::<ForwardsUOffset<Vector<'_, ForwardsUOffset<&str>>>>(SLOT_SYMBOLS, None) }
            .ok_or("series labels: no symbols")?;
    let refs = field(SLOT_REFS).ok_or("series labels: no refs")?;
    let offsets = field(SLOT_OFFSETS).ok_or("series labels: no offsets")?;
    let sym = |i: u32| -> Result<String, String> {
        if (i as usize) < symbols.len() {
            Ok(symbols.get(i as usize).to_string())
        } else {
            Err(format!("series labels: symbol {i} out of range"))
        }
    };
    let mut out = Vec::with_capacity(offsets.len().saturating_sub(1));
    for i in 1..offsets.len() {
        let (a, b) = (offsets.get(i - 1) as usize, offsets.get(i) as usize);
        if a > b || b > refs.len() || (b - a) % 2 != 0 {
            return Err(format!("series labels: bad offsets {a}..{b}"));
        }
        let mut labels = Vec::with_capacity((b - a) / 2);
        for k in (a..b).step_by(2) {
            labels.push((sym(refs.get(k))?, sym(refs.get(k + 1))?));
        }
        out.push(labels);
    }
    Ok(out)
}

/// labels_json writes decoded label sets as the JSON array of label
/// objects the tests compare with.
#[cfg(test)]
pub fn labels_json(buf: &[u8]) -> String {
    let mut out = String::from("[");
    for (i, labels) in decode(buf).expect("valid series labels").iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::head::write_owned_labels_json(&mut out, labels);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_interns_symbols() {
        let series: Vec<Vec<(&str, &str)>> = vec![
            vec![("__name__", "up"), ("job", "a")],
            vec![],
            vec![("__name__", "up"), ("job", "é\"\n")],
        ];
        let buf = encode(series.iter().map(|s| s.iter().copied()));
        let back = decode(&buf).unwrap();
        let want: Vec<Vec<(String, String)>> = series
            .iter()
            .map(|s| {
                s.iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(back, want);
        // "__name__", "up", "job", "a", the odd value: five symbols.
        let mut b = SeriesLabelsBuilder::new();
        for s in &series {
            b.push(s.iter().copied());
        }
        assert_eq!((b.len(), b.symbols.len()), (3, 5));
        assert_eq!(
            decode(&encode(Vec::<Vec<(&str, &str)>>::new()))
                .unwrap()
                .len(),
            0
        );
        assert!(decode(&buf[..buf.len() / 2]).is_err());
        assert!(decode(&[]).is_err());
    }
}
