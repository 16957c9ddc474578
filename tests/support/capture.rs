//! A small HTTP server of the test's own on 127.0.0.1 that records every request and answers
//! with a status chosen per path at the time of the request.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request received, with the status it was given.
#[derive(Debug, Clone)]
pub struct Captured {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// The running capture server.
#[derive(Clone)]
pub struct Capture {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Captured>>>,
    statuses: Arc<Mutex<HashMap<String, u16>>>,
}

impl Capture {
    pub fn start() -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let capture = Capture {
            addr: listener.local_addr().unwrap(),
            requests: Arc::default(),
            statuses: Arc::default(),
        };
        let serving = capture.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let serving = serving.clone();
                std::thread::spawn(move || serving.serve(stream));
            }
        });
        capture
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer requests to `path` with `status` from now on (200 by default).
    pub fn answer(&self, path: &str, status: u16) {
        self.statuses
            .lock()
            .unwrap()
            .insert(path.to_owned(), status);
    }

    /// Every request to `path` so far.
    pub fn received(&self, path: &str) -> Vec<Captured> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Wait until a request to `path` satisfies `want`, and return it.
    pub fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        want: impl Fn(&Captured) -> bool,
    ) -> Captured {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.received(path).into_iter().find(|r| want(r)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "nothing wanted arrived at {path} in {timeout:?}; got {:#?}",
                self.received(path)
                    .iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let path = line.split(' ').nth(1).unwrap_or("").to_owned();
            let mut headers = HashMap::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                }
            }
            let length: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let status = self
                .statuses
                .lock()
                .unwrap()
                .get(&path)
                .copied()
                .unwrap_or(200);
            self.requests.lock().unwrap().push(Captured {
                path,
                headers,
                body,
                status,
            });
            let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            if (&stream).write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }
}
