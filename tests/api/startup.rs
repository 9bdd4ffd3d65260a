//! What only a loopback bind may run with: `portal serve` refuses to start, before it
//! binds anything, with demo data (public passwords) or without a shared cursor key
//! on any other address, as it does without a JWT key.

use std::process::Command;

use crate::helpers::{TEST_JWT_SECRET, test_config};

/// Runs `portal serve` on all interfaces with `env`; returns its exit success and
/// what it printed.
fn serve_exposed(env: &[(&str, &str)]) -> (bool, String) {
    let dir =
        std::env::temp_dir().join(format!("portal_startup_{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("portal.db").display());
    let mut command = Command::new(env!("CARGO_BIN_EXE_portal-under-test"));
    command
        .arg("serve")
        .env_clear()
        .env("PORTAL_DATABASE_URL", &url)
        .env("PORTAL_BIND", "0.0.0.0:0")
        .env("PORTAL_JWT_SECRET", TEST_JWT_SECRET);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("portal-under-test runs");
    std::fs::remove_dir_all(&dir).ok();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn demo_data_and_a_random_cursor_key_refuse_a_non_loopback_bind() {
    let (started, output) = serve_exposed(&[("PORTAL_DEMO", "true"), ("PORTAL_CURSOR_KEY", "k")]);
    assert!(!started, "--demo on 0.0.0.0 must not start: {output}");
    assert!(output.contains("--demo"), "{output}");

    let (started, output) = serve_exposed(&[]);
    assert!(
        !started,
        "no cursor key on 0.0.0.0 must not start: {output}"
    );
    assert!(output.contains("PORTAL_CURSOR_KEY"), "{output}");
}

#[test]
fn a_loopback_bind_runs_with_defaults_and_others_with_keys() {
    let mut config = test_config("sqlite::memory:");
    config.demo = true;
    assert_eq!(
        config.check_exposure(),
        Ok(()),
        "loopback: demo and a random key are fine"
    );
    config.bind = "0.0.0.0:8080".parse().expect("an address");
    config.demo = false;
    config.cursor_key = Some(api::config::Secret("shared".to_owned()));
    assert_eq!(config.check_exposure(), Ok(()));
}
