//! One attempt on the wire: the request (headers, signature), and what its result means
//! ([`DeliveryError`] for anything but a 2xx).

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use reqwest::{Client, Response};

use crate::DeliveryError;
use crate::outbox::OutboxEntry;
use crate::settings::Channel;
use crate::signature::{IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_with};

/// How much of a failed answer's body is kept in the dead-letter reason and the audit log.
pub const BODY_PREFIX: usize = 512;

const USER_AGENT_VALUE: &str = concat!("Omen/", env!("CARGO_PKG_VERSION"));

/// The headers of an attempt at `timestamp` (Unix seconds), lowest precedence first: the
/// defaults, the channel's, the notification's, then Omen's own (which nothing overrides).
pub(crate) fn headers(
    channel: &Channel,
    entry: &OutboxEntry,
    timestamp: i64,
) -> Result<HeaderMap, DeliveryError> {
    let mut headers = HeaderMap::with_capacity(8 + channel.headers.len() + entry.headers.len());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    for (name, value) in &channel.headers {
        headers.insert(name, value.clone());
    }
    for (name, value) in &entry.headers {
        let bad = |what: &str| DeliveryError::Request(format!("header `{name}`: invalid {what}"));
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| bad("value"))?;
        headers.insert(name, value);
    }
    let key = HeaderValue::from_str(&entry.key)
        .map_err(|_| DeliveryError::Request("the idempotency key is not a header value".into()))?;
    headers.insert(IDEMPOTENCY_KEY_HEADER, key);
    headers.insert(TIMESTAMP_HEADER, HeaderValue::from(timestamp));
    if let Some(secret) = &channel.secret {
        let signature = sign_with(secret, timestamp, &entry.body);
        let signature = HeaderValue::from_str(&signature)
            .map_err(|_| DeliveryError::Request("the signature is not a header value".into()))?;
        headers.insert(SIGNATURE_HEADER, signature);
    }
    Ok(headers)
}

/// Send `entry` once at `timestamp`; the status of a 2xx answer, or why not.
pub(crate) async fn send(
    client: &Client,
    channel: &Channel,
    entry: &OutboxEntry,
    timestamp: i64,
) -> Result<u16, DeliveryError> {
    let headers = headers(channel, entry, timestamp)?;
    let response = client
        .request(channel.method.clone(), channel.url.clone())
        .headers(headers)
        .body(entry.body.clone())
        .timeout(channel.timeout)
        .send()
        .await
        .map_err(|err| classify(&err, channel.timeout))?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Err(DeliveryError::Status {
        status: status.as_u16(),
        retry_after,
        body: body_prefix(response).await,
    })
}

/// The first [`BODY_PREFIX`] bytes of the body, as lossy UTF-8; whatever arrived if reading
/// fails part way.
async fn body_prefix(mut response: Response) -> String {
    let mut body = Vec::with_capacity(BODY_PREFIX);
    while body.len() < BODY_PREFIX {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk[..chunk.len().min(BODY_PREFIX - body.len())])
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Name a transport failure: a timeout, a TLS failure (a rustls error anywhere in the chain, or
/// a handshake cut short), an answer that is not HTTP (hyper could not parse it, or it ended
/// early), a failed connection, or anything else.
pub(crate) fn classify(error: &reqwest::Error, timeout: Duration) -> DeliveryError {
    if error.is_timeout() {
        return DeliveryError::Timeout(timeout);
    }
    let detail = chain(error);
    let (mut tls, mut protocol) = (false, false);
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = source {
        tls |= current.is::<rustls::Error>();
        if let Some(hyper) = current.downcast_ref::<hyper::Error>() {
            protocol |=
                hyper.is_parse() || hyper.is_parse_status() || hyper.is_incomplete_message();
        }
        source = inner(current);
    }
    let lower = detail.to_ascii_lowercase();
    if tls || (error.is_connect() && lower.contains("handshake")) {
        DeliveryError::Tls(detail)
    } else if protocol {
        DeliveryError::Protocol(detail)
    } else if error.is_connect() {
        DeliveryError::Connect(detail)
    } else if error.is_builder() {
        DeliveryError::Request(detail)
    } else {
        DeliveryError::Transport(detail)
    }
}

/// The next error in the chain. `io::Error::source` skips the error an `io::Error` wraps (it
/// returns that error's source), and rustls' errors reach us wrapped twice in `io::Error`s, so
/// step into the wrapped error instead.
fn inner<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(wrapped) => Some(wrapped),
        None => error.source(),
    }
}

/// The error and its sources, joined by `: ` (reqwest's own message is only the outer layer).
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = inner(error);
    while let Some(current) = source {
        let part = current.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner(current);
    }
    text
}
