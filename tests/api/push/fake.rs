//! What the local stand-ins for push services share: a report of every request they
//! were sent, read by the test in order, and the answers a test scripts for them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

/// The reports a stand-in sends, one per request it was sent.
pub(crate) struct Reports(mpsc::UnboundedReceiver<Value>);

/// Where a stand-in sends its reports.
pub(crate) type Reporter = mpsc::UnboundedSender<Value>;

impl Reports {
    pub(crate) fn channel() -> (Reporter, Self) {
        let (reporter, reports) = mpsc::unbounded_channel();
        (reporter, Self(reports))
    }

    /// The next report, or `None` if none comes within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.0.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every report that comes within `wait`.
    pub(crate) async fn all_within(&mut self, wait: Duration) -> Vec<Value> {
        let until = tokio::time::Instant::now() + wait;
        let mut reports = Vec::new();
        while let Some(left) = until.checked_duration_since(tokio::time::Instant::now()) {
            match self.next(left).await {
                Some(report) => reports.push(report),
                None => break,
            }
        }
        reports
    }
}

/// The statuses a stand-in answers with, in order; success once they run out.
#[derive(Debug, Default)]
pub(crate) struct Script(Mutex<VecDeque<u16>>);

impl Script {
    pub(crate) fn new(statuses: &[u16]) -> Self {
        Self(Mutex::new(statuses.iter().copied().collect()))
    }

    pub(crate) fn next_status(&self) -> u16 {
        self.0.lock().expect("script").pop_front().unwrap_or(200)
    }
}

/// A key file for the server to read, in a fresh temporary path.
pub(crate) fn key_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{name}-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, text).expect("a key file written");
    path
}

/// A header's value as text, or null.
pub(crate) fn header(request: &actix_web::HttpRequest, name: &str) -> Value {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map_or(Value::Null, |text| Value::String(text.to_owned()))
}
