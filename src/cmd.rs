//! The subcommands' implementations, one module each.

mod detect;

use anyhow::Result;

use crate::cli::Command;

/// Run one subcommand.
pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Detect(args) => detect::run(&args),
    }
}
