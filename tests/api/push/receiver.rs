//! The Web Push receiver (`tests/push/webpush_receiver.py`) as a child process: a
//! push service on loopback holding a browser's keys, which decrypts each push with
//! Mozilla's `http_ece` and checks its VAPID token with `cryptography`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::fake::Reports;

/// A running receiver; killed when dropped.
pub(crate) struct Receiver {
    child: Child,
    reports: Reports,
    pub port: u16,
    pub p256dh: String,
    pub auth: String,
    keys: PathBuf,
}

impl Receiver {
    /// A receiver with new keys that answers `statuses` first, then 201.
    pub(crate) async fn start(statuses: &[u16]) -> Self {
        let keys = std::env::temp_dir().join(format!("webpush-keys-{}.json", uuid::Uuid::new_v4()));
        Self::spawn(keys, 0, statuses).await
    }

    /// Stops it, as a push service that went away; the keys and port are kept.
    pub(crate) async fn stop(mut self) -> StoppedReceiver {
        let _ = self.child.kill().await;
        StoppedReceiver {
            keys: self.keys.clone(),
            port: self.port,
        }
    }

    async fn spawn(keys: PathBuf, port: u16, statuses: &[u16]) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/push/webpush_receiver.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--keys")
            .arg(&keys)
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if !statuses.is_empty() {
            command
                .arg("--status")
                .args(statuses.iter().map(u16::to_string));
        }
        let mut child = command
            .spawn()
            .expect("python3 runs the receiver (pip install http_ece)");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the receiver starts")
            .expect("its stdout")
            .expect("a first line with its port and keys");
        let info: Value = serde_json::from_str(&first).expect("JSON");
        // Each later line reports one push.
        let (reporter, reports) = Reports::channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let report = serde_json::from_str(&line).expect("a JSON report");
                if reporter.send(report).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            reports,
            port: u16::try_from(info["port"].as_u64().expect("a port")).expect("a port"),
            p256dh: info["p256dh"].as_str().expect("p256dh").to_owned(),
            auth: info["auth"].as_str().expect("auth").to_owned(),
            keys,
        }
    }

    /// The subscription a browser would hand its app for `device`.
    pub(crate) fn subscription(&self, device: &str) -> Value {
        json!({
            "kind": "webpush",
            "endpoint": format!("http://127.0.0.1:{}/push/{device}", self.port),
            "expirationTime": null,
            "keys": { "p256dh": self.p256dh, "auth": self.auth },
        })
    }

    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next push's report, or `None` if none comes within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<Value> {
        self.reports.next(wait).await
    }

    /// Every push that arrives within `wait`.
    pub(crate) async fn all_within(&mut self, wait: Duration) -> Vec<Value> {
        self.reports.all_within(wait).await
    }
}

/// A receiver that was stopped: the same browser's push service, down.
pub(crate) struct StoppedReceiver {
    keys: PathBuf,
    port: u16,
}

impl StoppedReceiver {
    /// The same push service again: same keys, same port.
    pub(crate) async fn start_again(self) -> Receiver {
        Receiver::spawn(self.keys, self.port, &[]).await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
