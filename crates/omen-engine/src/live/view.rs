//! What readers see of each series: the latest score, published by the shard that owns it.
//!
//! Each shard keeps a table of views behind a lock that only it writes. It gathers changes in
//! a pending list (one entry per series, the newest winning) and applies them in one short
//! write, taken with `try_write` so that a reader rendering `/metrics` never stalls scoring;
//! a change waits for the next try instead (forced after a second).

use omen_core::{Labels, MetricKind, Score};

/// The latest state of one series, as the HTTP layer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesView {
    /// The series' labels.
    pub labels: Labels,
    /// Its kind: a counter's `value` and `score` are of its per-second rate.
    pub kind: MetricKind,
    /// The last sample's timestamp, Unix milliseconds.
    pub timestamp_ms: i64,
    /// The last sample's value as received.
    pub raw_value: f64,
    /// The value the detector judged: the raw value, or a counter's rate (NaN when a counter
    /// was only primed).
    pub value: f64,
    /// The detector's score: score, expected value, band, status (warm-up or ready), and what
    /// each model said.
    pub score: Score,
    /// The verdict on the last sample.
    pub anomaly: bool,
    /// The series ended with a staleness marker (its target went away); the view keeps the
    /// last score.
    pub stale: bool,
    /// Samples the detector has learned from.
    pub samples_learned: u64,
    /// When the anomaly interval open now started, if one is.
    pub interval_start_ms: Option<i64>,
}

impl SeriesView {
    /// The series went stale: the view keeps its last score, with no interval open.
    fn mark_stale(&mut self) {
        self.stale = true;
        self.interval_start_ms = None;
    }
}

/// A change to one slot of the table.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    /// The series has a new view.
    Set(SeriesView),
    /// The series went stale: keep its view, marked.
    Stale,
    /// The series is gone.
    Remove,
}

impl Change {
    /// `later` applied after `self`, as one change.
    pub(crate) fn then(self, later: Change) -> Change {
        match (self, later) {
            (Change::Set(mut view), Change::Stale) => {
                view.mark_stale();
                Change::Set(view)
            }
            (Change::Remove, Change::Stale) => Change::Remove,
            (_, later) => later,
        }
    }
}

/// Slots in one chunk of a [`ViewTable`]: 64 views, under 10 KiB, so that a shard of a few
/// series does not hold a large, mostly empty chunk.
const CHUNK: usize = 64;

/// The views of one shard, by slot.
///
/// Kept in chunks of `CHUNK` slots rather than one box a view: a box took a 192-byte block and
/// a pointer for every series, a chunk takes the views themselves (152 bytes each), and
/// growing the table adds a chunk without moving a view (so a publish never copies the
/// table). The shard reuses freed slots first, so chunks stay full; one whose views are all
/// gone (after a mass expiry) is freed.
#[derive(Debug, Default)]
pub(crate) struct ViewTable {
    chunks: Vec<Option<Chunk>>,
    /// The chunks allocated (the `Some`s in `chunks`), for [`ViewTable::heap_bytes`] at every
    /// publish without a walk over the table.
    allocated: usize,
}

/// `CHUNK` slots of views and how many of them hold one.
#[derive(Debug)]
struct Chunk {
    views: Box<[Option<SeriesView>]>,
    live: u32,
}

impl ViewTable {
    /// The view of `slot`, if it has one.
    #[cfg(test)]
    fn get(&self, slot: usize) -> Option<&SeriesView> {
        self.chunks.get(slot / CHUNK)?.as_ref()?.views[slot % CHUNK].as_ref()
    }

    /// The views in slot order, each with its slot, from slot `from` on.
    pub(crate) fn iter_from(&self, from: usize) -> impl Iterator<Item = (usize, &SeriesView)> {
        self.chunks
            .iter()
            .enumerate()
            .skip(from / CHUNK)
            .filter_map(|(c, chunk)| Some((c, chunk.as_ref()?)))
            .flat_map(|(c, chunk)| {
                chunk
                    .views
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, view)| Some((c * CHUNK + i, view.as_ref()?)))
            })
            .skip_while(move |(slot, _)| *slot < from)
    }

    /// The views in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &SeriesView> {
        self.iter_from(0).map(|(_, view)| view)
    }

    /// Bytes held on the heap: the chunks in use and the list of them.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.allocated * CHUNK * size_of::<Option<SeriesView>>()
            + self.chunks.capacity() * size_of::<Option<Chunk>>()
    }

    fn set(&mut self, slot: usize, view: SeriesView) {
        let c = slot / CHUNK;
        if self.chunks.len() <= c {
            self.chunks.resize_with(c + 1, || None);
        }
        let chunk = self.chunks[c].get_or_insert_with(|| {
            self.allocated += 1;
            Chunk {
                views: (0..CHUNK).map(|_| None).collect(),
                live: 0,
            }
        });
        let place = &mut chunk.views[slot % CHUNK];
        if place.is_none() {
            chunk.live += 1;
        }
        *place = Some(view);
    }

    fn mark_stale(&mut self, slot: usize) {
        if let Some(view) = self.view_mut(slot) {
            view.mark_stale();
        }
    }

    fn remove(&mut self, slot: usize) {
        let c = slot / CHUNK;
        let Some(Some(chunk)) = self.chunks.get_mut(c) else {
            return;
        };
        if chunk.views[slot % CHUNK].take().is_some() {
            chunk.live -= 1;
            if chunk.live == 0 {
                self.chunks[c] = None;
                self.allocated -= 1;
            }
        }
    }

    fn view_mut(&mut self, slot: usize) -> Option<&mut SeriesView> {
        self.chunks.get_mut(slot / CHUNK)?.as_mut()?.views[slot % CHUNK].as_mut()
    }
}

const NONE: u32 = u32::MAX;

/// Changes not yet applied to the table, at most one per slot.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    changes: Vec<(u32, Change)>,
    /// For each slot, its entry in `changes`, or `NONE`.
    at: Vec<u32>,
}

impl Pending {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Bytes held on the heap, at capacity (the views the changes carry are inline).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.changes.capacity() * size_of::<(u32, Change)>() + self.at.capacity() * size_of::<u32>()
    }

    /// Record a change of `slot`, merged with a pending one.
    pub(crate) fn push(&mut self, slot: u32, change: Change) {
        let i = slot as usize;
        if self.at.len() <= i {
            self.at.resize(i + 1, NONE);
        }
        match self.at[i] {
            NONE => {
                self.at[i] = self.changes.len() as u32;
                self.changes.push((slot, change));
            }
            entry => {
                let old = std::mem::replace(&mut self.changes[entry as usize].1, Change::Remove);
                self.changes[entry as usize].1 = old.then(change);
            }
        }
    }

    /// Apply every change to the table and forget them.
    pub(crate) fn apply(&mut self, table: &mut ViewTable) {
        for (slot, change) in self.changes.drain(..) {
            let i = slot as usize;
            self.at[i] = NONE;
            match change {
                Change::Set(view) => table.set(i, view),
                Change::Stale => table.mark_stale(i),
                Change::Remove => table.remove(i),
            }
        }
        // A slow publish may have gathered a change for every series; do not keep that room.
        if self.changes.capacity() > 1 << 16 {
            self.changes.shrink_to(1 << 12);
        }
    }
}

#[cfg(test)]
mod tests {
    use omen_core::Status;

    use super::*;

    fn view(value: f64) -> SeriesView {
        SeriesView {
            labels: Labels::from_pairs(&[("__name__".into(), "x".into())]),
            kind: MetricKind::Gauge,
            timestamp_ms: 0,
            raw_value: value,
            value,
            score: Score::unscored(Status::WarmingUp),
            anomaly: false,
            stale: false,
            samples_learned: 1,
            interval_start_ms: Some(0),
        }
    }

    /// The table after applying `changes` (slot, change) in one or two publishes.
    fn run(before: &[(u32, Change)], changes: &[(u32, Change)]) -> Vec<Option<(f64, bool)>> {
        let mut table = ViewTable::default();
        let mut pending = Pending::default();
        for (slot, change) in before {
            pending.push(*slot, change.clone());
        }
        pending.apply(&mut table);
        for (slot, change) in changes {
            pending.push(*slot, change.clone());
        }
        pending.apply(&mut table);
        assert!(pending.is_empty());
        let slots = before.iter().chain(changes).map(|(slot, _)| *slot + 1);
        (0..slots.max().unwrap_or(0) as usize)
            .map(|i| table.get(i).map(|v| (v.value, v.stale)))
            .collect()
    }

    #[test]
    fn named_cases() {
        struct Case {
            name: &'static str,
            before: Vec<(u32, Change)>,
            changes: Vec<(u32, Change)>,
            want: Vec<Option<(f64, bool)>>,
        }
        let cases = [
            Case {
                name: "the newest view wins",
                before: vec![],
                changes: vec![(1, Change::Set(view(1.0))), (1, Change::Set(view(2.0)))],
                want: vec![None, Some((2.0, false))],
            },
            Case {
                name: "stale after a pending view marks it",
                before: vec![],
                changes: vec![(0, Change::Set(view(1.0))), (0, Change::Stale)],
                want: vec![Some((1.0, true))],
            },
            Case {
                name: "stale marks a published view",
                before: vec![(0, Change::Set(view(3.0)))],
                changes: vec![(0, Change::Stale)],
                want: vec![Some((3.0, true))],
            },
            Case {
                name: "a removed slot reused by a new series",
                before: vec![(0, Change::Set(view(1.0)))],
                changes: vec![(0, Change::Remove), (0, Change::Set(view(5.0)))],
                want: vec![Some((5.0, false))],
            },
            Case {
                name: "removed",
                before: vec![(0, Change::Set(view(1.0)))],
                changes: vec![(0, Change::Set(view(2.0))), (0, Change::Remove)],
                want: vec![None],
            },
        ];
        for case in cases {
            assert_eq!(run(&case.before, &case.changes), case.want, "{}", case.name);
        }
    }

    #[test]
    fn views_live_in_chunks_that_are_freed_when_empty() {
        // What a series' view costs (the chunk's slot): 152 bytes, not a 192-byte block.
        assert!(size_of::<Option<SeriesView>>() <= 152);
        let per_chunk = CHUNK * size_of::<Option<SeriesView>>();
        let mut table = ViewTable::default();
        for slot in [0, 5, CHUNK + 1, 3 * CHUNK] {
            table.set(slot, view(slot as f64));
        }
        let slots = |table: &ViewTable, from| -> Vec<usize> {
            table.iter_from(from).map(|(slot, _)| slot).collect()
        };
        assert_eq!(slots(&table, 0), [0, 5, CHUNK + 1, 3 * CHUNK]);
        assert_eq!(slots(&table, 6), [CHUNK + 1, 3 * CHUNK]);
        assert_eq!(slots(&table, CHUNK + 1), [CHUNK + 1, 3 * CHUNK]);
        assert!(slots(&table, 3 * CHUNK + 1).is_empty());
        // Chunks 0, 1 and 3: the empty chunk 2 is not allocated.
        assert!((3 * per_chunk..4 * per_chunk).contains(&table.heap_bytes()));
        table.remove(CHUNK + 1);
        table.remove(CHUNK + 1);
        assert!((2 * per_chunk..3 * per_chunk).contains(&table.heap_bytes()));
        assert_eq!(slots(&table, 0), [0, 5, 3 * CHUNK]);
        table.set(CHUNK + 2, view(7.0));
        assert_eq!(table.get(CHUNK + 2).map(|v| v.value), Some(7.0));
        assert_eq!(table.iter().count(), 4);
    }
}
