//! [`Intake`]: one request's series, packed per shard as they are decoded.
//!
//! A request of 500 series with one sample each used to become 500 [`SeriesBatch`]es: six
//! label strings, a label list and a sample list allocated per series on the HTTP thread, and
//! freed on the shard's thread, which then encoded the labels again to look the series up. An
//! intake instead appends each series' encoded labels and samples to its shard's part, three
//! growing buffers per shard and request; the routing hash is computed once, over the encoded
//! labels, and travels with the series to the shard, whose index it keys.

use super::engine::{Accepted, Engine, Overloaded};
use super::labels::{METRIC_NAME, encode, route_hash, shard_of};
use super::series::{MetricKind, SeriesBatch};

/// One series in a [`Part`]: where its labels and samples end in the part's buffers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The routing hash of the encoded labels.
    pub(crate) hash: u64,
    key_end: u32,
    samples_end: u32,
    /// Where the metric name's value lies in the part's `keys` (0, 0 without one).
    name_start: u32,
    name_len: u32,
    pub(crate) kind: MetricKind,
}

/// The series of one request routed to one shard, in request order.
#[derive(Debug, Default)]
pub(crate) struct Part {
    /// The encoded labels of every series, one after another.
    keys: Vec<u8>,
    samples: Vec<(i64, f64)>,
    entries: Vec<Entry>,
}

impl Part {
    /// Samples in the part.
    pub(crate) fn samples(&self) -> usize {
        self.samples.len()
    }

    /// Each series: its entry, encoded labels and samples, in request order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Entry, &[u8], &[(i64, f64)])> {
        let (mut key_start, mut samples_start) = (0, 0);
        self.entries.iter().map(move |entry| {
            let (key_end, samples_end) = (entry.key_end as usize, entry.samples_end as usize);
            let key = &self.keys[key_start..key_end];
            let samples = &self.samples[samples_start..samples_end];
            (key_start, samples_start) = (key_end, samples_end);
            (entry, key, samples)
        })
    }

    /// Adds a series; `name` is where its metric name lies in `key`.
    fn push(
        &mut self,
        hash: u64,
        key: &[u8],
        name: (usize, usize),
        kind: MetricKind,
        samples: &[(i64, f64)],
    ) {
        let offset = |at: usize| u32::try_from(at).expect("a request under 4 GiB");
        let name_start = offset(self.keys.len() + name.0);
        self.keys.extend_from_slice(key);
        self.samples.extend_from_slice(samples);
        self.entries.push(Entry {
            hash,
            key_end: u32::try_from(self.keys.len()).expect("a request under 4 GiB"),
            samples_end: u32::try_from(self.samples.len()).expect("a request under 4 GiB"),
            name_start,
            name_len: offset(name.1),
            kind,
        });
    }
}

/// A request being taken in: series are [pushed](Intake::push) as they are decoded, then the
/// whole request is [submitted](Intake::submit) at once, or dropped (nothing was queued).
///
/// Made by [`Engine::intake`].
#[derive(Debug)]
pub struct Intake<'e> {
    engine: &'e Engine,
    parts: Vec<Part>,
    accepted: Accepted,
    pushed: usize,
    /// The labels of the series being pushed, encoded.
    key: Vec<u8>,
}

impl<'e> Intake<'e> {
    pub(crate) fn new(engine: &'e Engine, shards: usize) -> Self {
        Self {
            engine,
            parts: (0..shards).map(|_| Part::default()).collect(),
            accepted: Accepted {
                series: 0,
                samples: 0,
                not_matched: 0,
            },
            pushed: 0,
            key: Vec::new(),
        }
    }

    /// Add one series' samples (oldest first) to the request. `labels` are `(name, value)`
    /// pairs, `__name__` included, without empty values; sorted here if they are not sorted by
    /// name. A series that no selector matches is counted, not queued; one without samples is
    /// ignored. Pass [`MetricKind::Unknown`] when the kind is not known yet, and settle it with
    /// [`Intake::resolve_unknown_kinds`] before submitting.
    pub fn push(&mut self, labels: &[(&str, &str)], kind: MetricKind, samples: &[(i64, f64)]) {
        if samples.is_empty() {
            return;
        }
        self.pushed += 1;
        let selectors = self.engine.selectors();
        if !selectors.is_empty() && !selectors.iter().any(|s| s.matches_str_pairs(labels)) {
            self.accepted.not_matched += samples.len();
            return;
        }
        self.key.clear();
        let name = if labels.is_sorted_by(|a, b| a.0 <= b.0) {
            encode_noting_name(labels, &mut self.key)
        } else {
            let mut sorted = labels.to_vec();
            sorted.sort_unstable();
            encode_noting_name(&sorted, &mut self.key)
        };
        let hash = route_hash(&self.key);
        let shard = shard_of(hash, self.parts.len());
        self.parts[shard].push(hash, &self.key, name, kind, samples);
        self.accepted.series += 1;
        self.accepted.samples += samples.len();
    }

    /// Set the kind of every series pushed as [`MetricKind::Unknown`] to `kind_of` its metric
    /// name (for a receiver that learns the kinds from metadata that arrives in the same
    /// request as the series, after them).
    pub fn resolve_unknown_kinds(&mut self, mut kind_of: impl FnMut(&str) -> MetricKind) {
        for part in &mut self.parts {
            for entry in &mut part.entries {
                if entry.kind == MetricKind::Unknown {
                    let start = entry.name_start as usize;
                    let name = &part.keys[start..start + entry.name_len as usize];
                    // Encoded from `&str`s, cut where a value starts and ends.
                    entry.kind = kind_of(std::str::from_utf8(name).unwrap_or(""));
                }
            }
        }
    }

    /// Whether no series was pushed (matched or not).
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Queue the request's series for scoring, or refuse the whole request without queueing
    /// any of it (see [`Engine::submit`]). Never blocks.
    pub fn submit(self) -> Result<Accepted, Overloaded> {
        self.engine.submit_parts(self.parts, self.accepted)
    }
}

impl Intake<'_> {
    /// Push every series of `batches` (the owned form).
    pub(crate) fn push_batches(&mut self, batches: &[SeriesBatch]) {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for batch in batches {
            pairs.clear();
            pairs.extend(batch.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            self.push(&pairs, batch.kind, &batch.samples);
        }
    }
}

/// Appends the encoding of sorted `labels` to `out` (see [`encode`]) and says where the metric
/// name's value lies in what it appended: `(start, length)`, `(0, 0)` without one.
fn encode_noting_name(labels: &[(&str, &str)], out: &mut Vec<u8>) -> (usize, usize) {
    let start = out.len();
    let mut name = (0, 0);
    for &(n, v) in labels {
        if n == METRIC_NAME {
            name = (out.len() - start + n.len() + 1, v.len());
        }
        encode(std::iter::once((n, v)), out);
    }
    name
}
