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

/// `portal healthcheck`, as the Dockerfile's HEALTHCHECK runs it, against `bind`.
fn healthcheck(bind: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portal-under-test"))
        .arg("healthcheck")
        .env_clear()
        .env("PORTAL_BIND", bind)
        .output()
        .expect("portal-under-test runs")
}

async fn the_container_healthcheck_passes_only_while_the_server_is_ready(
    backend: crate::helpers::Backend,
) {
    let dockerfile = include_str!("../../Dockerfile");
    assert!(
        dockerfile.contains(r#"CMD ["portal", "healthcheck"]"#),
        "the Dockerfile's HEALTHCHECK runs `portal healthcheck`"
    );
    let app = crate::helpers::TestApp::spawn(backend).await;
    let port = app.address.rsplit(':').next().expect("a port").to_owned();
    // The container binds every interface; the probe asks loopback.
    let ready = healthcheck(&format!("0.0.0.0:{port}"));
    assert!(ready.status.success(), "{ready:?}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let closed = listener.local_addr().expect("an address");
    drop(listener);
    let down = healthcheck(&closed.to_string());
    assert!(
        !down.status.success(),
        "nothing listens on {closed}: {down:?}"
    );
}
on_every_backend!(the_container_healthcheck_passes_only_while_the_server_is_ready);
