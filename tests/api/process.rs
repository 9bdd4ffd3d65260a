//! `portal serve` as a child process, for what only a real process shows: its log
//! output and how it reacts to signals. The binary is `portal-under-test`, the
//! `portal` main built by this package (see `tests/bin/portal.rs`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::actor::Role;
use domain::database::Storage;

use crate::helpers::{TEST_JWT_SECRET, TestAccount, access_token_at, create_account_in};

/// A running `portal serve` whose stdout and stderr lines are collected.
pub struct PortalProcess {
    child: Child,
    pub address: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl PortalProcess {
    /// Starts `portal serve` over `database_url` on a free port with `env` on top of
    /// the test defaults, and waits until it logs that it listens.
    pub fn serve(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portal-under-test"));
        command
            .arg("serve")
            .env("PORTAL_DATABASE_URL", database_url)
            .env("PORTAL_BIND", "127.0.0.1:0")
            .env("PORTAL_JWT_SECRET", TEST_JWT_SECRET)
            .env("PORTAL_WORKERS", "2")
            .env("PORTAL_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("portal-under-test starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let (output, address_tx) = (output.clone(), address_tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(address) = listening_address(&line) {
                        address_tx.send(address).ok();
                    }
                    output.lock().expect("the output lines").push(line);
                }
            });
        }
        let Ok(address) = address_rx.recv_timeout(Duration::from_secs(60)) else {
            child.kill().ok();
            panic!(
                "portal did not start listening:\n{}",
                output.lock().expect("the output lines").join("\n")
            );
        };
        Self {
            child,
            address: format!("http://{address}"),
            output,
        }
    }

    /// A new account with `role` in `storage` (this process's database), signed in
    /// through this process; returns the account and its access token.
    pub async fn signed_in(&self, storage: &Storage, role: Role) -> (TestAccount, String) {
        let account = create_account_in(storage, role).await;
        let token = access_token_at(&reqwest::Client::new(), &self.address, &account).await;
        (account, token)
    }

    /// Every line written so far, stdout and stderr interleaved.
    pub fn output(&self) -> String {
        self.output.lock().expect("the output lines").join("\n")
    }

    /// Sends SIGTERM, as an orchestrator stopping the process does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for PortalProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// The address of the "portal is listening" line, in JSON or text format.
fn listening_address(line: &str) -> Option<String> {
    if !line.contains("portal is listening") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value["fields"]["address"].as_str().map(str::to_owned)
}
