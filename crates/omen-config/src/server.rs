//! The `[server]` table of the configuration: where `omen serve` listens, where it keeps its
//! state, how large a request may be, and who may call it.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:9310"
//! data_dir = "omen-data"
//! max_body_bytes = 8388608        # a compressed request body, checked before decoding
//! max_decoded_bytes = 67108864    # the decoded length the snappy header claims
//!
//! external_url = "http://omen.example:9310"   # for the links in alerts
//! alert_resend_interval = "1m"                  # firing alerts re-sent to Alertmanager
//!
//! [server.auth]                   # optional; without it every request is let through
//! bearer_token_file = "/etc/omen/token"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Default `listen`: loopback only; listening wider is a decision to write down.
pub fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9310))
}

/// Default `data_dir`: `omen-data` under the working directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("omen-data")
}

/// Default `max_body_bytes`: 8 MiB. Prometheus sends about 100 KiB at its default batch size.
pub fn default_max_body_bytes() -> usize {
    8 << 20
}

/// The largest `max_decoded_bytes` accepted: a decoded request must fit 32-bit offsets.
const MAX_DECODED_BYTES_LIMIT: usize = u32::MAX as usize;

/// Default `max_decoded_bytes`: 64 MiB.
pub fn default_max_decoded_bytes() -> usize {
    64 << 20
}

/// Where and how `omen serve` serves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Where snapshots of the learned state are kept.
    pub data_dir: PathBuf,
    /// The largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// The largest decoded request accepted, from the snappy header (413 above it).
    pub max_decoded_bytes: usize,
    /// Authentication; none by default.
    pub auth: AuthConfig,
    /// The URL people reach Omen at, for the links in alerts (`generatorURL`, the explanation's
    /// `series_url`). Default: `http://` + `listen`.
    pub external_url: Option<String>,
    /// How often firing alerts are sent to Alertmanager again (each with `endsAt` four
    /// intervals ahead, so Alertmanager resolves them if Omen stops).
    #[serde(with = "omen_core::human_duration")]
    pub alert_resend_interval: std::time::Duration,
}

/// Default `alert_resend_interval`: 1 minute, Prometheus's `--rules.alert.resend-delay`.
pub fn default_alert_resend_interval() -> std::time::Duration {
    std::time::Duration::from_secs(60)
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            data_dir: default_data_dir(),
            max_body_bytes: default_max_body_bytes(),
            max_decoded_bytes: default_max_decoded_bytes(),
            auth: AuthConfig::default(),
            external_url: None,
            alert_resend_interval: default_alert_resend_interval(),
        }
    }
}

/// A bearer token, a basic user and password, or both; secrets inline or in files.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The bearer token (`Authorization: Bearer <token>`).
    pub bearer_token: Option<String>,
    /// A file holding the bearer token (surrounding white space is trimmed).
    pub bearer_token_file: Option<PathBuf>,
    /// The basic-auth user name.
    pub basic_username: Option<String>,
    /// The basic-auth password.
    pub basic_password: Option<String>,
    /// A file holding the basic-auth password.
    pub basic_password_file: Option<PathBuf>,
}

impl ServerConfig {
    /// Check the ranges; the error names the setting.
    pub fn validate(&self) -> Result<()> {
        if self.alert_resend_interval < std::time::Duration::from_secs(1) {
            return Err(Error::Setting(
                "invalid setting `server.alert_resend_interval`: must be at least 1s".into(),
            ));
        }
        if let Some(url) = &self.external_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::Setting(format!(
                "invalid setting `server.external_url`: `{url}` is not an http:// or https:// URL"
            )));
        }
        if self.max_body_bytes == 0 {
            return Err(Error::Setting(
                "invalid setting `server.max_body_bytes`: must be above 0".into(),
            ));
        }
        if self.max_decoded_bytes < self.max_body_bytes {
            return Err(Error::Setting(format!(
                "invalid setting `server.max_decoded_bytes`: must be at least \
                 server.max_body_bytes ({})",
                self.max_body_bytes
            )));
        }
        // The intake indexes a request's decoded labels and samples with 32-bit offsets.
        if self.max_decoded_bytes > MAX_DECODED_BYTES_LIMIT {
            return Err(Error::Setting(format!(
                "invalid setting `server.max_decoded_bytes`: must be at most \
                 {MAX_DECODED_BYTES_LIMIT} (4 GiB - 1)"
            )));
        }
        let auth = &self.auth;
        if auth.bearer_token.is_some() && auth.bearer_token_file.is_some() {
            return Err(Error::Setting(
                "invalid setting `server.auth.bearer_token_file`: set it or bearer_token, not both"
                    .into(),
            ));
        }
        if auth.basic_password.is_some() && auth.basic_password_file.is_some() {
            return Err(Error::Setting(
                "invalid setting `server.auth.basic_password_file`: set it or basic_password, \
                 not both"
                    .into(),
            ));
        }
        let has_password = auth.basic_password.is_some() || auth.basic_password_file.is_some();
        if auth.basic_username.is_some() != has_password {
            return Err(Error::Setting(
                "invalid setting `server.auth.basic_username`: basic auth needs both a user \
                 name and a password"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The URL for the links in alerts: `external_url`, or `http://` + `listen` when unset.
    pub fn external_url(&self) -> String {
        self.external_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Read the secrets kept in files into the inline fields, relative to the configuration
    /// file's directory.
    pub fn read_secrets(&mut self, base: &Path) -> Result<()> {
        let read = |file: &Path| -> Result<String> {
            let path = base.join(file);
            let text = std::fs::read_to_string(&path).map_err(|err| {
                Error::Secret(format!(
                    "cannot read the secret file `{}`: {err}",
                    path.display()
                ))
            })?;
            let secret = text.trim().to_string();
            if secret.is_empty() {
                return Err(Error::Secret(format!(
                    "the secret file `{}` is empty",
                    path.display()
                )));
            }
            Ok(secret)
        };
        if let Some(file) = self.auth.bearer_token_file.take() {
            self.auth.bearer_token = Some(read(&file)?);
        }
        if let Some(file) = self.auth.basic_password_file.take() {
            self.auth.basic_password = Some(read(&file)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            ("max_body_bytes = 0", "server.max_body_bytes"),
            (
                "max_body_bytes = 100\nmax_decoded_bytes = 10",
                "server.max_decoded_bytes",
            ),
            ("max_decoded_bytes = 4294967296", "server.max_decoded_bytes"),
            (
                "[auth]\nbasic_username = \"u\"",
                "server.auth.basic_username",
            ),
            (
                "[auth]\nbearer_token = \"a\"\nbearer_token_file = \"f\"",
                "server.auth.bearer_token_file",
            ),
        ];
        for (text, want) in cases {
            let config: ServerConfig = toml::from_str(text).unwrap();
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn secrets_are_read_from_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "abc\n").unwrap();
        let mut config: ServerConfig =
            toml::from_str("[auth]\nbearer_token_file = \"token\"").unwrap();
        config.validate().unwrap();
        config.read_secrets(dir.path()).unwrap();
        assert_eq!(config.auth.bearer_token.as_deref(), Some("abc"));
        std::fs::write(dir.path().join("empty"), " \n").unwrap();
        let mut config: ServerConfig =
            toml::from_str("[auth]\nbearer_token_file = \"empty\"").unwrap();
        assert!(
            config
                .read_secrets(dir.path())
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
