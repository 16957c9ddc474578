//! The subcommands' implementations, one module each.

mod detect;
mod eval_nab;

use anyhow::Result;

use crate::cli::{Command, EvalCommand};

/// Run one subcommand.
pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Detect(args) => detect::run(&args),
        Command::Eval(EvalCommand::Nab(args)) => eval_nab::run(&args),
    }
}
