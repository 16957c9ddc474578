//! `omen check-config FILE`: parse and validate a configuration without starting anything.
//! An unknown key, a wrong type or an out-of-range value is an error naming the key and its
//! line; a good file prints what it sets.

use anyhow::Result;

use omen_config::Config;

use crate::cli::CheckConfigArgs;

pub(crate) fn run(args: &CheckConfigArgs) -> Result<()> {
    let config = Config::load(Some(&args.file))?;
    let live = &config.live;
    println!("{}: ok", args.file.display());
    println!(
        "  serve: listen {}, data dir {}",
        config.server.listen,
        config.server.data_dir.display()
    );
    let auth = &config.server.auth;
    let mut methods = Vec::new();
    if auth.bearer_token.is_some() || auth.bearer_token_file.is_some() {
        methods.push("bearer token");
    }
    if auth.basic_username.is_some() {
        methods.push("basic");
    }
    println!(
        "  auth: {}",
        if methods.is_empty() {
            "none".to_string()
        } else {
            methods.join(" or ")
        }
    );
    println!(
        "  live: {} shards, at most {} series, series dropped after {:?} without data, snapshot every {:?}",
        live.shards, live.max_active_series, live.series_ttl, live.snapshot_interval
    );
    if live.matchers.is_empty() {
        println!("  modelled series: all");
    } else {
        println!(
            "  modelled series: those matching {}",
            live.matchers.join(" or ")
        );
    }
    println!(
        "  detector: warm-up {} samples, target risk {}; verdict threshold {}",
        config.detector.warm_up, config.detector.target_risk, config.verdict.threshold
    );
    let alert = &config.alert;
    println!(
        "  alerts: {} rules, {} maintenance windows, {} actions",
        alert.rules.len(),
        alert.maintenance.len(),
        alert.actions.len()
    );
    let channels: Vec<String> = config
        .notify
        .channels
        .iter()
        .map(|c| format!("{} ({})", c.name, c.kind.as_str()))
        .collect();
    println!(
        "  notify: {}",
        if channels.is_empty() {
            "no channels".to_string()
        } else {
            channels.join(", ")
        }
    );
    Ok(())
}
