//! `omen serve` started as a child process on a free loopback port, for integration tests.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http;

/// A free port on 127.0.0.1 (bound and released; another process could take it in between,
/// which on a test machine does not happen in practice).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `omen serve`.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    config: Option<PathBuf>,
    /// The log (stderr) of the runs that ended.
    pub logs: Vec<String>,
}

impl Server {
    /// Start on a free port with `data_dir` and an optional configuration file, and wait until
    /// it is ready.
    pub fn start(data_dir: &Path, config: Option<&Path>) -> Server {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut server = Server {
            child: None,
            addr,
            data_dir: data_dir.to_path_buf(),
            config: config.map(Path::to_path_buf),
            logs: Vec::new(),
        };
        server.restart();
        server
    }

    /// Start (again) on the same address and data directory.
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none(),
            "stop the server before starting it again"
        );
        let mut command = Command::new(env!("CARGO_BIN_EXE_omen"));
        command
            .arg("serve")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        self.child = Some(command.spawn().expect("omen serve starts"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = http::get(self.addr, "/-/ready")
                && response.status == 200
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let log = self.take_log();
                panic!("omen serve exited with {status} before it was ready:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "omen serve was not ready in 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send SIGTERM and wait for a clean exit; returns the run's log.
    pub fn stop(&mut self) -> String {
        let mut child = self.child.take().expect("the server runs");
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let status = child.wait().expect("omen serve exits");
        let mut log = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut log);
        }
        assert!(status.success(), "omen serve exited with {status}:\n{log}");
        self.logs.push(log.clone());
        log
    }

    fn take_log(&mut self) -> String {
        let mut log = String::new();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut log);
            }
        }
        log
    }

    /// A sample's value from `/metrics`: the line that starts with `prefix` (a name and
    /// labels as written on the page), or None.
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        let page = http::get(self.addr, "/metrics")
            .expect("GET /metrics")
            .text();
        metric_in(&page, prefix)
    }
}

/// The value of the first line of `page` that starts with `prefix` followed by a space.
pub fn metric_in(page: &str, prefix: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(prefix)?.strip_prefix(' '))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
