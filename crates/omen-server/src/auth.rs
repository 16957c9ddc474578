//! Optional authentication of every request but the health checks: a bearer token or a basic
//! user and password, as Prometheus's `remote_write` block sends them (`authorization:` or
//! `basic_auth:`). A request without the right `Authorization` header gets 401.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use omen_config::AuthConfig;

/// The `Authorization` header values that are accepted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    accepted: Vec<Vec<u8>>,
}

impl Credentials {
    /// The accepted header values for `config`; none means every request is let through.
    pub(crate) fn new(config: &AuthConfig) -> Self {
        let mut accepted = Vec::new();
        if let Some(token) = &config.bearer_token {
            accepted.push(format!("Bearer {token}").into_bytes());
        }
        if let (Some(user), Some(password)) = (&config.basic_username, &config.basic_password) {
            let encoded = STANDARD.encode(format!("{user}:{password}"));
            accepted.push(format!("Basic {encoded}").into_bytes());
        }
        Self { accepted }
    }

    /// Whether no authentication is configured.
    pub(crate) fn is_open(&self) -> bool {
        self.accepted.is_empty()
    }

    fn accepts(&self, header: Option<&HeaderValue>) -> bool {
        if self.is_open() {
            return true;
        }
        let Some(given) = header.map(HeaderValue::as_bytes) else {
            return false;
        };
        self.accepted.iter().any(|want| same_bytes(want, given))
    }
}

/// Compares in time that depends only on the lengths, so that a wrong token's timing does not
/// tell how much of it was right.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: 401 with `WWW-Authenticate` unless the request carries accepted credentials.
pub(crate) async fn require(
    State(credentials): State<std::sync::Arc<Credentials>>,
    request: Request,
    next: Next,
) -> Response {
    if credentials.accepts(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "missing or wrong credentials: send the bearer token or basic auth set in [server.auth]\n",
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer, Basic realm=\"omen\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(token: Option<&str>, basic: Option<(&str, &str)>) -> AuthConfig {
        AuthConfig {
            bearer_token: token.map(String::from),
            basic_username: basic.map(|b| b.0.to_string()),
            basic_password: basic.map(|b| b.1.to_string()),
            ..AuthConfig::default()
        }
    }

    #[test]
    fn cases() {
        let header = |s: &str| HeaderValue::from_str(s).unwrap();
        let cases = [
            ("open accepts nothing", config(None, None), None, true),
            (
                "token given",
                config(Some("s3cret"), None),
                Some(header("Bearer s3cret")),
                true,
            ),
            (
                "wrong token",
                config(Some("s3cret"), None),
                Some(header("Bearer s3cre")),
                false,
            ),
            ("no header", config(Some("s3cret"), None), None, false),
            (
                "basic right",
                config(None, Some(("prom", "pw"))),
                Some(header("Basic cHJvbTpwdw==")),
                true,
            ),
            (
                "basic wrong",
                config(None, Some(("prom", "pw"))),
                Some(header("Basic cHJvbTpwWA==")),
                false,
            ),
            (
                "either of two",
                config(Some("t"), Some(("prom", "pw"))),
                Some(header("Bearer t")),
                true,
            ),
        ];
        for (name, config, given, want) in cases {
            let credentials = Credentials::new(&config);
            assert_eq!(credentials.accepts(given.as_ref()), want, "{name}");
        }
    }
}
