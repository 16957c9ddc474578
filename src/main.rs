//! The `omen` command: parse the arguments, run the subcommand, report an error and exit.

mod allocator;
mod cli;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // reqwest runs on rustls without a default crypto provider (no aws-lc C build): ring it is.
    // An error means one is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
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
