//! `omen check-config`: a good file is summarised; a bad one is refused with the key and line.

use crate::support::omen;

#[test]
fn good_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "a full file",
            "[detector]\nwarm_up = 50\n\n[server]\nlisten = \"127.0.0.1:9999\"\n\n[live]\nseries_ttl = \"30m\"\nmatchers = ['{job=\"node\"}']\n",
            Ok(vec!["ok", "127.0.0.1:9999", "{job=\"node\"}"]),
        ),
        (
            "empty: the defaults",
            "",
            Ok(vec!["ok", "127.0.0.1:9310", "all"]),
        ),
        (
            "an unknown table",
            "[serve]\nlisten = \"x\"\n",
            Err(vec!["line 1", "serve"]),
        ),
        (
            "an unknown key",
            "[live]\nshard = 2\n",
            Err(vec!["line 2", "shard"]),
        ),
        (
            "a bad address",
            "[server]\nlisten = \"nowhere\"\n",
            Err(vec!["line 2", "listen"]),
        ),
        (
            "a value out of range",
            "\n\n[verdict]\nthreshold = 3.0\n",
            Err(vec!["line 4", "verdict.threshold"]),
        ),
        (
            "a bad selector",
            "[live]\nmatchers = ['{job=}']\n",
            Err(vec!["line 2", "live.matchers"]),
        ),
        (
            "a bad duration",
            "[live]\nseries_ttl = \"soon\"\n",
            Err(vec!["line 2", "series_ttl"]),
        ),
    ];
    for (name, text, want) in cases {
        let path = dir.path().join("omen.toml");
        std::fs::write(&path, text).unwrap();
        let run = omen([std::ffi::OsStr::new("check-config"), path.as_os_str()]);
        match want {
            Ok(needles) => {
                assert!(run.success, "{name}: {}", run.stderr);
                for needle in needles {
                    assert!(
                        run.stdout.contains(needle),
                        "{name}: {needle} in\n{}",
                        run.stdout
                    );
                }
            }
            Err(needles) => {
                assert!(!run.success, "{name}: accepted");
                for needle in needles {
                    assert!(
                        run.stderr.contains(needle),
                        "{name}: {needle} in\n{}",
                        run.stderr
                    );
                }
            }
        }
    }
    let missing = omen(["check-config", "/nonexistent/omen.toml"]);
    assert!(!missing.success);
    assert!(
        missing.stderr.contains("/nonexistent/omen.toml"),
        "{}",
        missing.stderr
    );
}
