//! The season search's buffer of time slots, two bytes a slot.
//!
//! The search only ever needs each slot's mean, and only the newest slot still takes samples
//! (timestamps increase). So the newest slot, the open one, is kept exactly (a sum and a
//! weight), and every closed slot is stored as its mean quantised to 15 bits over a running
//! range, plus one bit saying whether the slot is a gap carrying the value before it. A
//! 768-slot buffer is then 1.5 KiB instead of the 9 KiB that `f64` sums and `u32` counts take.
//! Fewer bits were tried: with 11 (1.5 bytes a slot) the seasonal profiles that start from the
//! buffer come out different enough to lose a NAB window (standard 59.8 to 59.7, low FP 45.9
//! to 45.7); with 15 NAB is unchanged to within 0.1 (59.84, 46.02, 66.78).
//!
//! The range grows when a mean falls outside it, to twice what is needed, and the codes are
//! mapped onto the new range; each growth at least doubles the step, so the rounding of all
//! the re-mappings together stays within one step of the final range. The step is then at
//! most a sixteen-thousandth of the values' range: far below anything the autocorrelation or
//! the seasonal profile built from the buffer can tell apart, even when one spike has stretched
//! the range a thousandfold.
//!
//! Merging two closed slots (when the buffer is full and the slot width doubles) averages
//! their means: every slot spans the same time, so each counts the same (a gap counts for
//! nothing). The open slot, merged with the closed slot before it, takes that slot's mean with
//! the weight of a full slot of samples.

/// The bit of a code that marks a gap: the slot received no sample and carries the mean of the
/// slot before it (its code holds that mean).
const CARRIED: u16 = 1;
/// The largest quantised mean (15 bits).
const TOP: u16 = u16::MAX >> 1;
/// Means beyond this magnitude are clipped before they are stored, so that the range and its
/// step stay finite: no metric's season lives out there.
const LIMIT: f64 = 1e300;

/// The slots of a season search: closed slots quantised, the newest one exact.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Slots {
    /// Closed slots, oldest first: `mean_code << 1 | carried`.
    codes: Vec<u16>,
    /// The value of mean code 0.
    lo: f64,
    /// The value of one step of the mean code.
    unit: f64,
    /// The open slot (at index `codes.len()`): the sum of its samples and their weight, in
    /// samples. A weight of 0 means no slot was started yet.
    open_sum: f64,
    open_weight: f64,
}

/// The parts of [`Slots`] as a snapshot stores them.
pub(super) struct SlotsParts {
    pub(super) codes: Vec<u16>,
    pub(super) lo: f64,
    pub(super) unit: f64,
    pub(super) open_sum: f64,
    pub(super) open_weight: f64,
}

impl Slots {
    /// Slots in use, the open one included.
    pub(super) fn len(&self) -> usize {
        if self.open_weight > 0.0 {
            self.codes.len() + 1
        } else {
            0
        }
    }

    /// The step of the closed slots' quantisation (0 while they all hold one value).
    pub(super) fn unit(&self) -> f64 {
        self.unit
    }

    /// Bytes held on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.codes.capacity() * size_of::<u16>()
    }

    /// Add a sample to slot `index`: the open slot, or a later one (the open slot is closed and
    /// the slots in between carry its mean). `capacity` bounds the buffer's allocation.
    pub(super) fn place(&mut self, index: usize, value: f64, capacity: usize) {
        if self.open_weight == 0.0 {
            // The first slot: the finder places its first sample at index 0.
            self.open_sum = value;
            self.open_weight = 1.0;
            return;
        }
        let open = self.codes.len();
        if index <= open {
            self.open_sum += value;
            self.open_weight += 1.0;
            return;
        }
        self.reserve(index, capacity);
        let mean = self.open_sum / self.open_weight;
        let code = self.code_of(mean) << 1;
        self.codes.push(code);
        for _ in open + 1..index {
            self.codes.push(code | CARRIED);
        }
        self.open_sum = value;
        self.open_weight = 1.0;
    }

    /// Room for `closed` closed slots, growing by doubling but never past `capacity` slots in
    /// all: a young series holds what it has seen, and a full buffer holds exactly its slots.
    fn reserve(&mut self, closed: usize, capacity: usize) {
        if closed <= self.codes.capacity() {
            return;
        }
        let want = closed
            .max(2 * self.codes.capacity())
            .max(8)
            .min(capacity.saturating_sub(1).max(closed));
        self.codes.reserve_exact(want - self.codes.len());
    }

    /// Every slot's mean, oldest first, the open slot's last.
    pub(super) fn values(&self) -> Vec<f64> {
        let mut values = Vec::with_capacity(self.len());
        values.extend(self.codes.iter().map(|&code| self.decode(code)));
        if self.open_weight > 0.0 {
            values.push(self.open_sum / self.open_weight);
        }
        values
    }

    /// Merge neighbouring slots pairwise. `slot_weight` is the number of samples a full slot
    /// of the old width holds, the weight a closed slot has when it joins the open one.
    pub(super) fn halve(&mut self, slot_weight: f64) {
        let open = self.codes.len();
        for pair in 0..open / 2 {
            self.codes[pair] = merge(self.codes[2 * pair], self.codes[2 * pair + 1]);
        }
        if open % 2 == 1 {
            let code = self.codes[open - 1];
            if code & CARRIED == 0 {
                self.open_sum += self.decode(code) * slot_weight;
                self.open_weight += slot_weight;
            }
        }
        self.codes.truncate(open / 2);
    }

    /// The mean a code stands for.
    fn decode(&self, code: u16) -> f64 {
        self.lo + f64::from(code >> 1) * self.unit
    }

    /// The quantised mean of `value` (15 bits), growing the range first if it is outside.
    fn code_of(&mut self, value: f64) -> u16 {
        let value = value.clamp(-LIMIT, LIMIT);
        let hi = self.lo + f64::from(TOP) * self.unit;
        if self.codes.is_empty() && self.unit == 0.0 {
            // Nothing stored: the range starts at the first mean.
            self.lo = value;
        } else if value < self.lo || value > hi {
            self.grow(value.min(self.lo), value.max(hi));
        }
        quantise(value, self.lo, self.unit)
    }

    /// Take the range `min..=max`, with as much room again around it, and map every code onto
    /// it.
    fn grow(&mut self, min: f64, max: f64) {
        let needed = max - min;
        let lo = min - needed / 2.0;
        let unit = 2.0 * needed / f64::from(TOP);
        let (old_lo, old_unit) = (self.lo, self.unit);
        for code in &mut self.codes {
            let mean = old_lo + f64::from(*code >> 1) * old_unit;
            *code = quantise(mean, lo, unit) << 1 | (*code & CARRIED);
        }
        self.lo = lo;
        self.unit = unit;
    }

    /// The parts, for a snapshot.
    pub(super) fn parts(&self) -> (&[u16], f64, f64, f64, f64) {
        (
            &self.codes,
            self.lo,
            self.unit,
            self.open_sum,
            self.open_weight,
        )
    }

    /// Slots from a snapshot's parts; None when they cannot be a buffer's.
    pub(super) fn from_parts(parts: SlotsParts, capacity: usize) -> Option<Self> {
        let SlotsParts {
            codes,
            lo,
            unit,
            open_sum,
            open_weight,
        } = parts;
        let sane = codes.len() < capacity
            && lo.is_finite()
            && unit.is_finite()
            && unit >= 0.0
            && open_sum.is_finite()
            && open_weight.is_finite()
            && open_weight >= 0.0
            && (open_weight > 0.0 || codes.is_empty());
        sane.then_some(Self {
            codes,
            lo,
            unit,
            open_sum,
            open_weight,
        })
    }
}

/// The mean code of `value` on the grid `lo + code·unit`.
fn quantise(value: f64, lo: f64, unit: f64) -> u16 {
    if unit <= 0.0 {
        return 0;
    }
    // `as` saturates (and takes NaN to 0): the `min` only guards against rounding.
    (((value - lo) / unit).round() as u16).min(TOP)
}

/// Two neighbouring closed slots as one: the mean of their means; a gap counts for nothing.
fn merge(a: u16, b: u16) -> u16 {
    match (a & CARRIED != 0, b & CARRIED != 0) {
        (true, true) | (false, true) => a,
        (true, false) => b,
        (false, false) => {
            // The mean of the two codes, rounded half to even so that repeated halvings do not
            // drift.
            let sum = u32::from(a >> 1) + u32::from(b >> 1);
            let mut mean = sum >> 1;
            if sum & 1 == 1 && mean & 1 == 1 {
                mean += 1;
            }
            (mean as u16) << 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_series::wiggle;

    const CAPACITY: usize = 1024;

    /// The largest difference between the slots' means and `want`, in units of `want`'s range.
    fn relative_error(slots: &Slots, want: &[f64]) -> f64 {
        let got = slots.values();
        assert_eq!(got.len(), want.len());
        let range = want.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - want.iter().copied().fold(f64::INFINITY, f64::min);
        got.iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs() / range.max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max)
    }

    #[test]
    fn means_survive_quantising_within_a_step_of_the_range() {
        struct Case {
            name: &'static str,
            value: fn(usize) -> f64,
        }
        let cases = [
            Case {
                name: "noise around 100",
                value: |i| 100.0 + wiggle(i),
            },
            Case {
                name: "a trend that keeps growing the range",
                value: |i| i as f64 * 3.7 + wiggle(i),
            },
            Case {
                name: "a spike a million times the noise",
                value: |i| if i == 200 { 1e6 } else { wiggle(i) },
            },
            Case {
                name: "tiny values",
                value: |i| 1e-12 * wiggle(i),
            },
            Case {
                name: "huge values",
                value: |i| 1e200 * (2.0 + wiggle(i)),
            },
        ];
        for case in cases {
            let mut slots = Slots::default();
            let mut want = Vec::new();
            for i in 0..400 {
                let v = (case.value)(i);
                slots.place(i, v, CAPACITY);
                want.push(v);
            }
            let err = relative_error(&slots, &want);
            // Each growth maps the codes once: at most a step of the final range in all, and
            // a step is a sixteen-thousandth of it.
            assert!(err < 2.0 / 16_000.0, "{}: {err}", case.name);
        }
    }

    #[test]
    fn a_constant_stays_exact() {
        let mut slots = Slots::default();
        for i in 0..100 {
            slots.place(i, 42.5, CAPACITY);
        }
        assert!(slots.values().iter().all(|v| *v == 42.5));
        slots.halve(1.0);
        assert!(slots.values().iter().all(|v| *v == 42.5));
    }

    #[test]
    fn gaps_carry_the_mean_before_them_and_count_for_nothing_when_merged() {
        let mut slots = Slots::default();
        slots.place(0, 1.0, CAPACITY);
        slots.place(0, 3.0, CAPACITY);
        slots.place(1, 10.0, CAPACITY);
        // Slots 2 to 4 are a gap: they carry 10.
        slots.place(5, 20.0, CAPACITY);
        let v = slots.values();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-2;
        assert!(close(v[0], 2.0) && close(v[1], 10.0), "{v:?}");
        assert!(v[2..5].iter().all(|x| close(*x, 10.0)), "{v:?}");
        assert_eq!(v[5], 20.0);
        // Pairs (0, 1), (2, 3), (4 carried, 5 open): the open slot does not take the gap.
        slots.halve(1.0);
        let v = slots.values();
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(close(v[0], 6.0) && close(v[1], 10.0), "{v:?}");
        assert_eq!(v[2], 20.0);
    }

    #[test]
    fn the_open_slot_takes_its_closed_neighbour_with_a_full_slot_of_weight() {
        let mut slots = Slots::default();
        for (index, value) in [(0, 2.0), (0, 2.0), (1, 4.0), (1, 4.0), (2, 8.0)] {
            slots.place(index, value, CAPACITY);
        }
        // Slots 0 and 1 closed (2 and 4), slot 2 open with one sample of 8.
        slots.halve(2.0);
        let v = slots.values();
        assert_eq!(v.len(), 2);
        assert!((v[0] - 3.0).abs() < 1e-3, "{v:?}");
        assert_eq!(v[1], 8.0);
        // Slot 3 of the old width is slot 1 now: it joins the open slot.
        let mut slots = Slots::default();
        for (index, value) in [(0, 2.0), (1, 4.0), (1, 4.0), (2, 8.0), (3, 6.0)] {
            slots.place(index, value, CAPACITY);
        }
        slots.halve(2.0);
        let v = slots.values();
        // (8·2 + 6) / 3: the closed slot of mean 8 weighs a full slot, 2 samples.
        assert!((v[1] - 22.0 / 3.0).abs() < 1e-3, "{v:?}");
    }

    #[test]
    fn a_full_buffer_holds_exactly_its_slots() {
        let mut slots = Slots::default();
        for i in 0..CAPACITY {
            slots.place(i, wiggle(i), CAPACITY);
        }
        assert_eq!(slots.len(), CAPACITY);
        assert_eq!(slots.heap_bytes(), (CAPACITY - 1) * 2);
        slots.halve(1.0);
        assert_eq!(
            slots.heap_bytes(),
            (CAPACITY - 1) * 2,
            "halving keeps the room"
        );
    }

    #[test]
    fn non_finite_and_extreme_means_do_not_poison_the_range() {
        let mut slots = Slots::default();
        for (i, v) in [1.0, f64::MAX, -f64::MAX, 2.0, 1e-300, 3.0]
            .into_iter()
            .enumerate()
        {
            slots.place(i, v, CAPACITY);
        }
        assert!(
            slots.values().iter().all(|v| v.is_finite()),
            "{:?}",
            slots.values()
        );
    }
}
