//! Omen's integration tests: one test binary (one link instead of one per file), each file a
//! module. They run the built `omen` binary as a user runs it, against real Prometheus,
//! Alertmanager and node-exporter where those are installed (see `.ci/run`), on real Parquet
//! and over real HTTP. Run one file's tests with `cargo test --test integration <module>::`.

mod support;

mod cli_analyze;
mod cli_analyze_alerts;
mod cli_check_config;
mod cli_detect;
mod cli_eval_labelled;
mod cli_sql;
mod e2e_alertmanager;
mod e2e_prometheus;
mod eval_nab;
mod golden;
mod scores_pyarrow;
mod serve_alerts;
mod serve_compliance;
mod serve_http;
