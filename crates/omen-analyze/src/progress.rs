//! The progress bar of a run, on a terminal only.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use omen_ingest::MetricsTable;

/// A progress bar over the input's rows on a terminal; hidden otherwise.
pub(crate) fn progress_bar(table: &MetricsTable) -> ProgressBar {
    if !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // With SQL the result may have any number of rows: count without a total.
    if table.has_sql() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {human_pos} rows scored ({per_sec})")
                .expect("a valid template"),
        );
        return bar;
    }
    let bar = ProgressBar::new(table.input_rows());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} rows ({per_sec}, {eta} left)",
        )
        .expect("a valid template"),
    );
    bar
}
