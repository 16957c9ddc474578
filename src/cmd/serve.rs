//! `omen serve`: the configuration with the command line's overrides and its secrets read,
//! handed to the server (`omen-server`), which runs until SIGTERM or SIGINT.

use std::path::Path;

use anyhow::Result;
use omen_config::Config;

use crate::cli::ServeArgs;

pub(crate) fn run(args: &ServeArgs) -> Result<()> {
    omen_server::init_logging();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        config.server.data_dir = dir.clone();
    }
    // Secret files are relative to the configuration file.
    let base = args
        .config
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    config.server.read_secrets(base)?;
    omen_server::run(config)?;
    Ok(())
}
