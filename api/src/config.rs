//! How `portal` runs. Every setting is a flag or a `PORTAL_*` variable, and the
//! defaults serve a fresh checkout on SQLite with no setup.

use std::net::SocketAddr;

/// A configured secret: usable, but never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Settings of `portal serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Database: sqlite://, postgres:// or mysql:// URL.
    #[arg(
        long,
        env = "PORTAL_DATABASE_URL",
        default_value = "sqlite://portal.db?mode=rwc"
    )]
    pub database_url: String,
    /// Listen address; port 0 picks a free port.
    #[arg(long, env = "PORTAL_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Most database connections the pool opens.
    #[arg(long, env = "PORTAL_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "PORTAL_WORKERS")]
    pub workers: Option<usize>,
    /// Key that signs paging cursors; every node must share it. Random when unset
    /// (cursors then stop working at restart).
    #[arg(long, env = "PORTAL_CURSOR_KEY", hide_env_values = true)]
    pub cursor_key: Option<Secret>,
    /// Seed demo data (thousands of therapists) when the database is empty.
    #[arg(long, env = "PORTAL_DEMO", default_value_t = false)]
    pub demo: bool,
}

impl Config {
    /// Defaults for a database URL, on a free loopback port: what the tests boot.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_max_connections: 8,
            workers: Some(2),
            cursor_key: None,
            demo: false,
        }
    }
}
