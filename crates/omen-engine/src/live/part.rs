//! [`Part`]: the series of one request routed to one shard, packed in three growing buffers
//! (encoded labels, samples, and where each series ends in them), as the shard reads them.

use omen_core::MetricKind;

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
    pub(crate) fn push(
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

    /// Set the kind of every series of [`MetricKind::Unknown`] to `kind_of` its metric name.
    pub(crate) fn resolve_unknown_kinds(&mut self, kind_of: &mut impl FnMut(&str) -> MetricKind) {
        for entry in &mut self.entries {
            if entry.kind == MetricKind::Unknown {
                let start = entry.name_start as usize;
                let name = &self.keys[start..start + entry.name_len as usize];
                // Encoded from `&str`s, cut where a value starts and ends.
                entry.kind = kind_of(std::str::from_utf8(name).unwrap_or(""));
            }
        }
    }
}
