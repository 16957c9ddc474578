//! The `omen` command: parse the arguments, run the subcommand, report an error and exit.

mod atomic_write;
mod cli;
mod cmd;
mod config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot open `x.csv`: No such file or directory".
            eprintln!("omen: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
