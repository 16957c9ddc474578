//! [`Intake`]: one request's series, packed per shard as they are decoded.
//!
//! A request of 500 series with one sample each used to become 500 [`SeriesBatch`]es: six
//! label strings, a label list and a sample list allocated per series on the HTTP thread, and
//! freed on the shard's thread, which then encoded the labels again to look the series up. An
//! intake instead appends each series' encoded labels and samples to its shard's part, three
//! growing buffers per shard and request; the routing hash is computed once, over the encoded
//! labels, and travels with the series to the shard, whose index it keys.

use omen_core::{Labels, METRIC_NAME, MetricKind};

use super::engine::{Accepted, Engine, Overloaded};
use super::hash::{route_hash, shard_of};
use super::part::Part;
use super::series::SeriesBatch;

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
            part.resolve_unknown_kinds(&mut kind_of);
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

/// The two ways into the engine.
impl Engine {
    /// Queue a request's series for scoring, or refuse the whole request without queueing any
    /// of it. Never blocks.
    ///
    /// Room is reserved in every shard the request touches before anything is sent, so a
    /// refused request left no trace and a retry is scored once. A shard whose queue is empty
    /// takes a part of any size, so a request larger than a queue is not refused for ever.
    /// A retried request that was in fact applied (the sender timed out on the answer) is
    /// harmless too: its samples are duplicates of each series' last timestamp and are
    /// dropped and counted as `duplicate`.
    ///
    /// A receiver that decodes series one by one builds the request with [`Engine::intake`]
    /// instead, without allocating per series.
    pub fn submit(&self, batches: Vec<SeriesBatch>) -> Result<Accepted, Overloaded> {
        let mut intake = self.intake();
        intake.push_batches(&batches);
        drop(batches);
        intake.submit()
    }

    /// An empty request, to [push](Intake::push) series into as they are decoded and
    /// [submit](Intake::submit) as a whole, as [`Engine::submit`] does.
    pub fn intake(&self) -> Intake<'_> {
        Intake::new(self, self.shard_count())
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

/// Appends the encoding of sorted `labels` to `out` (see [`Labels::encode_into`]) and says where the metric
/// name's value lies in what it appended: `(start, length)`, `(0, 0)` without one.
fn encode_noting_name(labels: &[(&str, &str)], out: &mut Vec<u8>) -> (usize, usize) {
    let start = out.len();
    let mut name = (0, 0);
    for &(n, v) in labels {
        if n == METRIC_NAME {
            name = (out.len() - start + n.len() + 1, v.len());
        }
        Labels::encode_into(std::iter::once((n, v)), out);
    }
    name
}
