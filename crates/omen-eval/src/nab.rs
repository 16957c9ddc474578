//! NAB (Numenta Anomaly Benchmark v1.1) scoring, as specified in `docs/nab-scoring.md`.
//!
//! The caller reads NAB's data files and runs a detector; this module takes the per-row anomaly
//! scores ([`FileScores`]), the ground-truth windows ([`Windows`]) and the profiles
//! ([`Profile`]) and returns the numbers NAB's scoreboard reports ([`score_corpus`]).
//!
//! | file | job | spec |
//! |---|---|---|
//! | `profile.rs` | cost weights and `profiles.json` | §1 |
//! | `windows.rs` | `combined_windows.json`, timestamps to rows | §1, §9 |
//! | `sigmoid.rs` | S(y) and the value of each row | §3–§4 |
//! | `rows.rs` | validation, probation, pooled scorable rows | §2, §8 |
//! | `sweep.rs` | raw score at T and the threshold sweep | §5–§6 |
//! | `score.rs` | corpus entry points and normalisation | §6–§7 |
//! | `scoreboard.rs` | published `final_results.json` | §10–§11 |

mod alerts;
mod profile;
mod rows;
mod score;
mod scoreboard;
mod sigmoid;
mod sweep;
#[cfg(test)]
pub(crate) mod tests_support;
mod windows;

pub use alerts::AlertTally;
pub use profile::{Profile, REWARD_LOW_FN_RATE, REWARD_LOW_FP_RATE, STANDARD};
pub use rows::{FileScores, probation_rows};
pub use score::{
    FileResult, ProfileResult, score_corpus, score_corpus_at_threshold, score_file_at_threshold,
};
pub use scoreboard::{ScoreboardEntry, load_scoreboard};
pub use sigmoid::{RowPlace, max_true_positive, scaled_sigmoid};
pub use sweep::{NO_DETECTION_THRESHOLD, Tally};
pub use windows::{RowWindow, Windows, locate_windows};
