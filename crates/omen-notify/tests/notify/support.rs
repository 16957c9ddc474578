//! Test targets (an axum server that follows a script, a TCP listener that answers garbage),
//! configurations with millisecond backoffs, and waiting for the outbox to get somewhere.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use omen_notify::{ChannelConfig, NotifyConfig, Outbox, RetryConfig, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub(crate) const SECRET: &str = "test-secret";

/// Install rustls' ring provider once per process (the binary does it at start).
pub(crate) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    omen_notify::client_builder().build().unwrap()
}

/// One request the target received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// What the target answered.
    pub(crate) status: u16,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn key(&self) -> &str {
        self.header("idempotency-key").unwrap_or("")
    }
}

/// What the target does with a request: `(status, delay before answering, extra headers,
/// body)`.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) delay: Duration,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

/// Decides the reply from the request and how many requests with its key came before it.
pub(crate) type Script = Arc<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

/// An HTTP target on 127.0.0.1 that records every request.
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Target {
    pub(crate) async fn start(script: Script) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, script)
    }

    pub(crate) fn serve(listener: TcpListener, script: Script) -> Target {
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let handler = move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let script = script.clone();
            async move {
                let mut request = Received {
                    headers,
                    body: body.to_vec(),
                    status: 0,
                };
                let before = log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|r| r.key() == request.key())
                    .count();
                let reply = script(&request, before);
                request.status = reply.status;
                log.lock().unwrap().push(request);
                tokio::time::sleep(reply.delay).await;
                let mut response: Response =
                    (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                for (name, value) in reply.headers {
                    response.headers_mut().insert(name, value.parse().unwrap());
                }
                response
            }
        };
        let app = Router::new().fallback(handler);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Target {
            addr,
            received,
            task,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub(crate) fn received_for(&self, key: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.key() == key)
            .collect()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A script answering `status` to every request.
pub(crate) fn always(status: u16) -> Script {
    Arc::new(move |_, _| Reply::status(status))
}

/// A TCP listener that is not HTTP: it reads what comes, writes `garbage` and closes. After
/// `garbage_first` connections it answers a valid `200` instead.
pub(crate) struct RawTarget {
    pub(crate) addr: SocketAddr,
    pub(crate) connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawTarget {
    pub(crate) async fn start(garbage: &'static [u8], garbage_first: usize) -> RawTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let n = count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buffer = [0_u8; 4096];
                    let _ =
                        tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer))
                            .await;
                    let answer: &[u8] = if n < garbage_first {
                        garbage
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    };
                    let _ = stream.write_all(answer).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        RawTarget {
            addr,
            connections,
            task,
        }
    }
}

impl Drop for RawTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A channel to `url`, signed with [`SECRET`], with millisecond backoffs.
pub(crate) fn channel(name: &str, url: &str) -> ChannelConfig {
    let mut channel = ChannelConfig::new(name, url);
    channel.secret = Some(Secret::new(SECRET));
    channel.timeout = Duration::from_secs(2);
    channel.retry = RetryConfig {
        initial: Duration::from_millis(5),
        max: Duration::from_millis(20),
        give_up_after: Duration::from_secs(60),
    };
    channel
}

pub(crate) fn config(channels: Vec<ChannelConfig>) -> NotifyConfig {
    NotifyConfig {
        channels,
        ..NotifyConfig::default()
    }
}

/// Poll `done` every 10 ms for up to 10 s; panic naming `what` if it never holds.
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until nothing is pending in `outbox`.
pub(crate) async fn drained(outbox: &Outbox) {
    eventually("the outbox to drain", || {
        outbox.counts().unwrap().pending == 0
    })
    .await;
}
