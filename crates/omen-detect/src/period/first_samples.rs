//! The first samples of a season search, held until their intervals fix the slot width.
//!
//! They are needed for the first few samples of a series' life only, but the finder is part of
//! every live series while its search runs (up to three weeks), so the empty case must cost as
//! little as possible: one word (a `Vec` inline would take three, which decided whether a live
//! series fits the allocator's 768-byte class).

/// Up to `STEP_SAMPLES` `(timestamp in ms, value)` pairs, oldest first; one null pointer when
/// there are none.
#[derive(Debug, Clone, PartialEq, Default)]
// The box is the point: one word when empty, where the `Vec` alone takes three.
#[allow(clippy::box_collection)]
pub(super) struct FirstSamples(Option<Box<Vec<(i64, f64)>>>);

impl FirstSamples {
    pub(super) fn push(&mut self, sample: (i64, f64)) {
        self.0
            .get_or_insert_with(|| Box::new(Vec::with_capacity(super::STEP_SAMPLES)))
            .push(sample);
    }

    pub(super) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(super) fn as_slice(&self) -> &[(i64, f64)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The samples, leaving none (and nothing allocated) behind.
    pub(super) fn take(&mut self) -> Vec<(i64, f64)> {
        self.0.take().map(|samples| *samples).unwrap_or_default()
    }

    /// Bytes held on the heap: the box and the samples' capacity.
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |samples| {
            size_of::<Vec<(i64, f64)>>() + samples.capacity() * size_of::<(i64, f64)>()
        })
    }
}

impl From<Vec<(i64, f64)>> for FirstSamples {
    fn from(samples: Vec<(i64, f64)>) -> Self {
        Self((!samples.is_empty()).then(|| Box::new(samples)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_one_word_and_holds_nothing() {
        assert_eq!(size_of::<FirstSamples>(), size_of::<usize>());
        let mut samples = FirstSamples::default();
        assert_eq!((samples.len(), samples.heap_bytes()), (0, 0));
        samples.push((1, 2.0));
        samples.push((3, 4.0));
        assert_eq!(samples.as_slice(), &[(1, 2.0), (3, 4.0)]);
        assert!(samples.heap_bytes() > 0);
        assert_eq!(samples.take(), vec![(1, 2.0), (3, 4.0)]);
        assert_eq!((samples.len(), samples.heap_bytes()), (0, 0));
        assert_eq!(FirstSamples::from(Vec::new()), FirstSamples::default());
    }
}
