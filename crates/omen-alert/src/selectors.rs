//! The `match` lists of the config: Prometheus selectors, parsed, each error naming its key.

use omen_core::Selector;

use crate::{Error, Result};

/// Parse selectors; an error names `key[i]`.
pub(crate) fn selectors(key: &str, texts: &[String]) -> Result<Vec<Selector>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            text.parse::<Selector>()
                .map_err(|err| Error::config(format!("{key}[{i}]"), format!("`{text}`: {err}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key_and_the_text() {
        struct Case {
            name: &'static str,
            texts: &'static [&'static str],
            want: std::result::Result<usize, &'static str>,
        }
        let cases = [
            Case {
                name: "none",
                texts: &[],
                want: Ok(0),
            },
            Case {
                name: "two good",
                texts: &["up", r#"{job="node"}"#],
                want: Ok(2),
            },
            Case {
                name: "the second bad",
                texts: &["up", "{}"],
                want: Err("rules[0].match[1]"),
            },
        ];
        for case in cases {
            let texts: Vec<String> = case.texts.iter().map(|t| t.to_string()).collect();
            match (selectors("rules[0].match", &texts), case.want) {
                (Ok(parsed), Ok(n)) => assert_eq!(parsed.len(), n, "{}", case.name),
                (Err(err), Err(key)) => {
                    let text = err.to_string();
                    assert!(text.contains(key), "{}: {text}", case.name);
                    assert!(text.contains("`{}`"), "{}: {text}", case.name);
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
    }
}
