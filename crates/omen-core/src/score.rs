//! What a detector says about one sample, and why.

use serde::{Deserialize, Serialize};

/// Where a detector is in its life for this series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Still learning the baseline; the score is 0 and must not alert.
    WarmingUp,
    /// A real score.
    Ready,
    /// The value was NaN or infinite; it was skipped and not learned from.
    SkippedNotFinite,
    /// The timestamp was not after the previous sample's; skipped and not learned from.
    SkippedOutOfOrder,
}

/// The models that can contribute to a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Robust location and scale (a spike or dip against the recent level).
    Robust,
    /// Level, trend and season learned from the data.
    Seasonal,
    /// A level shift found by a change-point detector.
    ChangePoint,
    /// The value against the long-run range of the series (a level it rarely or never
    /// reaches).
    Level,
    /// The extreme-value tail fit that calibrates scores to a risk.
    Tail,
}

impl ModelKind {
    /// The name used in explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Robust => "robust",
            ModelKind::Seasonal => "seasonal",
            ModelKind::ChangePoint => "change_point",
            ModelKind::Level => "level",
            ModelKind::Tail => "tail",
        }
    }
}

/// What one model said about a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Which model.
    pub model: ModelKind,
    /// How surprising the sample is to this model, in [0, 1].
    pub score: f64,
}

/// Up to four contributions, stored inline so that scoring a sample never allocates.
///
/// The models and the scores are kept in two arrays (40 bytes) rather than as four optional
/// pairs (64 bytes): a live server publishes a score for every series, so each byte here is
/// paid a million times. Serialized as the four optional pairs, as before.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "ContributionsRepr", into = "ContributionsRepr")]
pub struct Contributions {
    /// The models in the order they were added; `None` past the last.
    models: [Option<ModelKind>; 4],
    /// The score of each model in `models` (0 past the last).
    scores: [f64; 4],
}

/// The serialized form of [`Contributions`].
#[derive(Clone, Copy, Serialize, Deserialize)]
struct ContributionsRepr {
    items: [Option<Contribution>; 4],
}

impl From<ContributionsRepr> for Contributions {
    fn from(repr: ContributionsRepr) -> Self {
        let mut contributions = Contributions::default();
        for item in repr.items.into_iter().flatten() {
            contributions.push(item.model, item.score);
        }
        contributions
    }
}

impl From<Contributions> for ContributionsRepr {
    fn from(contributions: Contributions) -> Self {
        let mut items = [None; 4];
        for (slot, item) in items.iter_mut().zip(contributions.iter()) {
            *slot = Some(item);
        }
        ContributionsRepr { items }
    }
}

impl Contributions {
    /// Add one model's contribution; past four, the call is ignored.
    pub fn push(&mut self, model: ModelKind, score: f64) {
        if let Some(i) = self.models.iter().position(Option::is_none) {
            self.models[i] = Some(model);
            self.scores[i] = score;
        }
    }

    /// The contributions in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = Contribution> + '_ {
        self.models
            .iter()
            .zip(&self.scores)
            .map_while(|(model, &score)| model.map(|model| Contribution { model, score }))
    }

    /// The contribution of `model`, if it gave one.
    pub fn get(&self, model: ModelKind) -> Option<f64> {
        self.iter().find(|c| c.model == model).map(|c| c.score)
    }

    /// The model with the largest contribution.
    pub fn strongest(&self) -> Option<Contribution> {
        self.iter().max_by(|a, b| a.score.total_cmp(&b.score))
    }
}

/// A detector's verdict-free judgement of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Anomaly score in [0, 1]; 0 while warming up or when the sample was skipped.
    pub score: f64,
    /// The value the baseline expected (NaN when it has no opinion yet).
    pub expected: f64,
    /// Lower edge of the normal band (NaN when unknown).
    pub lower: f64,
    /// Upper edge of the normal band (NaN when unknown).
    pub upper: f64,
    /// Whether this is a real score, a warm-up, or a skipped sample.
    pub status: Status,
    /// Which models said what.
    pub contributions: Contributions,
}

impl Score {
    /// A score for a sample that was not scored, with the reason.
    pub fn unscored(status: Status) -> Self {
        Self {
            score: 0.0,
            expected: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            status,
            contributions: Contributions::default(),
        }
    }

    /// True when the score may be used for alerting.
    pub fn is_ready(&self) -> bool {
        self.status == Status::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contributions_keep_order_and_find_strongest() {
        let mut c = Contributions::default();
        c.push(ModelKind::Robust, 0.2);
        c.push(ModelKind::ChangePoint, 0.9);
        c.push(ModelKind::Seasonal, 0.5);
        let models: Vec<_> = c.iter().map(|c| c.model).collect();
        assert_eq!(
            models,
            [
                ModelKind::Robust,
                ModelKind::ChangePoint,
                ModelKind::Seasonal
            ]
        );
        assert_eq!(c.strongest().unwrap().model, ModelKind::ChangePoint);
        assert_eq!(c.get(ModelKind::Seasonal), Some(0.5));
        assert_eq!(c.get(ModelKind::Tail), None);
    }

    #[test]
    fn contributions_are_compact_and_serialized_as_four_optional_pairs() {
        assert_eq!(size_of::<Contributions>(), 40);
        /// The form before the two arrays, field for field.
        #[derive(Serialize)]
        struct Earlier {
            items: [Option<Contribution>; 4],
        }
        let robust = Contribution {
            model: ModelKind::Robust,
            score: 0.25,
        };
        let tail = Contribution {
            model: ModelKind::Tail,
            score: 0.75,
        };
        let earlier = Earlier {
            items: [Some(robust), Some(tail), None, None],
        };
        let mut c = Contributions::default();
        c.push(ModelKind::Robust, 0.25);
        c.push(ModelKind::Tail, 0.75);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            serde_json::to_string(&earlier).unwrap()
        );
        let bytes = postcard::to_stdvec(&earlier).unwrap();
        assert_eq!(postcard::to_stdvec(&c).unwrap(), bytes);
        assert_eq!(postcard::from_bytes::<Contributions>(&bytes).unwrap(), c);
    }

    #[test]
    fn a_fifth_contribution_is_ignored() {
        let mut c = Contributions::default();
        for _ in 0..5 {
            c.push(ModelKind::Robust, 1.0);
        }
        assert_eq!(c.iter().count(), 4);
    }

    #[test]
    fn unscored_is_zero_and_not_ready() {
        let s = Score::unscored(Status::SkippedNotFinite);
        assert_eq!(s.score, 0.0);
        assert!(!s.is_ready());
        assert!(s.expected.is_nan());
    }
}
