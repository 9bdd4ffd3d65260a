//! Logging: human-readable by default, JSON lines when `PORTAL_LOG_FORMAT=json`;
//! the level comes from `PORTAL_LOG` (default `info`). Beside the log output, the
//! subscriber feeds the pool's acquire waits to `/metrics`.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_env("PORTAL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let output = if std::env::var("PORTAL_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt::layer().json().boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(output.with_filter(filter))
        .with(crate::acquire_waits::layer())
        .try_init();
    // Already installed (a second call in one process) is fine.
    drop(installed);
}
