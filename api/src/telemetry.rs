//! Logging: human-readable by default, JSON lines when `PORTAL_LOG_FORMAT=json`;
//! the level comes from `PORTAL_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_env("PORTAL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let installed = if std::env::var("PORTAL_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // Already installed (a second call in one process) is fine.
    drop(installed);
}
