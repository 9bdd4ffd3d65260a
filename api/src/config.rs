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
    /// Most database connections requests open. On PostgreSQL and MariaDB half of
    /// them are reads' warm connections (`domain/src/database/warm.rs`) and the pool
    /// opens the rest; on SQLite the pool opens them all.
    #[arg(long, env = "PORTAL_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Milliseconds the client waits for any one database statement before the
    /// request fails fast with 503 (the server-side timeout cannot fire when the
    /// server cannot be reached).
    #[arg(long, env = "PORTAL_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5_000)]
    pub db_statement_timeout_ms: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "PORTAL_WORKERS")]
    pub workers: Option<usize>,
    /// On SIGTERM or SIGINT, seconds that in-flight requests get to finish before
    /// their connections are closed (below an orchestrator's usual 30 s grace).
    #[arg(long, env = "PORTAL_SHUTDOWN_TIMEOUT_SECS", default_value_t = 25)]
    pub shutdown_timeout_secs: u64,
    /// Requests per second one client IP may make (0 turns the limit off). The
    /// probes and `/metrics` are exempt.
    #[arg(long, env = "PORTAL_RATE_LIMIT_PER_SECOND", default_value_t = 200)]
    pub rate_limit_per_second: u32,
    /// Requests one client IP may make at once above the steady rate.
    #[arg(long, env = "PORTAL_RATE_LIMIT_BURST", default_value_t = 400)]
    pub rate_limit_burst: u32,
    /// Origins whose browser apps may call the API and open WebSockets, comma
    /// separated (`https://portal.example.org,https://admin.example.org`). None by
    /// default; the server's own origin may always open WebSockets.
    #[arg(long, env = "PORTAL_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Key that signs paging cursors; every node must share it. Random when unset
    /// (cursors then stop working at restart).
    #[arg(long, env = "PORTAL_CURSOR_KEY", hide_env_values = true)]
    pub cursor_key: Option<Secret>,
    /// Seed demo data (thousands of therapists) when the database is empty.
    #[arg(long, env = "PORTAL_DEMO", default_value_t = false)]
    pub demo: bool,
    /// HS256 key for access tokens (its raw bytes). Required unless the bind address
    /// is loopback, where a random one is generated with a warning.
    #[arg(long, env = "PORTAL_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// `iss` of issued tokens, required on presented ones.
    #[arg(long, env = "PORTAL_JWT_ISSUER", default_value = "therapist-portal")]
    pub jwt_issuer: String,
    /// `aud` of issued tokens, required on presented ones.
    #[arg(
        long,
        env = "PORTAL_JWT_AUDIENCE",
        default_value = "therapist-portal-api"
    )]
    pub jwt_audience: String,
    /// Access token lifetime in seconds.
    #[arg(long, env = "PORTAL_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime in seconds.
    #[arg(long, env = "PORTAL_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,
    /// Seconds of clock skew tolerated on a token's `exp`, `nbf` and `iat`. Sessions
    /// (SSE, WebSocket) end at the token's expiry plus this.
    #[arg(long, env = "PORTAL_JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,
    /// Login and sign-up attempts per minute from one client IP.
    #[arg(long, env = "PORTAL_AUTH_RATE_PER_IP", default_value_t = 30)]
    pub auth_rate_per_ip: u32,
    /// Login and sign-up attempts per minute for one email from one client IP (and
    /// from one device that signed in before).
    #[arg(long, env = "PORTAL_AUTH_RATE_PER_EMAIL", default_value_t = 10)]
    pub auth_rate_per_email: u32,
    /// Login and sign-up attempts per minute for one email from every client IP
    /// together; a device that signed in before is not held by it.
    #[arg(
        long,
        env = "PORTAL_AUTH_RATE_PER_EMAIL_CEILING",
        default_value_t = 100
    )]
    pub auth_rate_per_email_ceiling: u32,
    /// GraphQL points each client (account, or IP when anonymous) may spend per
    /// minute; a request costs its rows times their fields, plus 100 per
    /// `totalCount`. 0 turns the budget off.
    #[arg(
        long,
        env = "PORTAL_GRAPHQL_POINTS_PER_MINUTE",
        default_value_t = 100_000
    )]
    pub graphql_points_per_minute: u32,
    /// Event bus for real time across nodes, e.g. `nats://127.0.0.1:4222`; unset, events
    /// stay in this process (one node).
    #[arg(long, env = "PORTAL_BUS_URL")]
    pub bus_url: Option<String>,
    /// NATS subject the nodes of one deployment share.
    #[arg(long, env = "PORTAL_BUS_SUBJECT", default_value = "portal.events")]
    pub bus_subject: String,
    /// Milliseconds a user stays online after their last session closes.
    #[arg(long, env = "PORTAL_PRESENCE_GRACE_MS", default_value_t = 2_000)]
    pub presence_grace_ms: u64,
    /// Password hashes computed at once (default: one per core). They run at the
    /// lowest CPU priority, so a login storm does not take cores from other requests.
    #[arg(long, env = "PORTAL_HASHING_CONCURRENCY")]
    pub hashing_concurrency: Option<usize>,
    /// Seconds during which repeated reads of one resource by one reader share an
    /// access-log entry (its count and last time go up instead).
    #[arg(
        long,
        env = "PORTAL_ACCESS_LOG_COALESCE_SECS",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(0..=86_400)
    )]
    pub access_log_coalesce_secs: u64,
    /// Support and admin accounts must sign in with a second factor (TOTP); until
    /// they turn it on, their tokens reach only enrolment. Default: on, except on a
    /// loopback bind (the demo's staff sign in with a password alone).
    #[arg(long, env = "PORTAL_REQUIRE_STAFF_2FA")]
    pub require_staff_2fa: Option<bool>,
    /// VAPID private key that signs Web Push requests: the 32-byte P-256 scalar,
    /// base64url. Required unless the bind address is loopback, where a random one is
    /// generated with a warning (browser subscriptions then end with the process).
    #[arg(long, env = "PORTAL_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<Secret>,
    /// Milliseconds a recipient has to read a message before it is pushed to them:
    /// an app with the conversation open does not buzz.
    #[arg(long, env = "PORTAL_PUSH_DELAY_MS", default_value_t = 3_000)]
    pub push_delay_ms: u64,
    /// Seconds after which a push not yet delivered is dropped (and counted).
    #[arg(long, env = "PORTAL_PUSH_MAX_AGE_SECS", default_value_t = 3_600)]
    pub push_max_age_secs: u64,
    /// Days a change stays in the catch-up feed; a sync token older than that is
    /// refused (`invalid_sync_token`) and the client reloads.
    #[arg(long, env = "PORTAL_SYNC_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub sync_retention_days: u64,
    /// The VAPID `sub` claim: a contact push services can reach the operator at
    /// (`mailto:` or `https:`).
    #[arg(
        long,
        env = "PORTAL_VAPID_SUBJECT",
        default_value = "mailto:push-operator@localhost"
    )]
    pub vapid_subject: String,
    /// Accept `http://` Web Push endpoints on loopback and send to loopback
    /// addresses. For tests only: a deployment never needs it.
    #[arg(long, env = "PORTAL_PUSH_ALLOW_LOOPBACK", default_value_t = false)]
    pub push_allow_loopback: bool,
    /// The Firebase service account key file (JSON) that Android pushes are sent
    /// with. Without it, FCM devices are refused at registration.
    #[arg(long, env = "PORTAL_FCM_SERVICE_ACCOUNT_FILE")]
    pub fcm_service_account_file: Option<std::path::PathBuf>,
    /// Where the FCM HTTP v1 API is.
    #[arg(
        long,
        env = "PORTAL_FCM_BASE_URL",
        default_value = "https://fcm.googleapis.com/"
    )]
    pub fcm_base_url: String,
    /// The APNs signing key (`AuthKey_<key id>.p8`) that iOS pushes are sent with,
    /// with its key id and the team id. Without them, APNs devices are refused at
    /// registration.
    #[arg(long, env = "PORTAL_APNS_KEY_FILE")]
    pub apns_key_file: Option<std::path::PathBuf>,
    #[arg(long, env = "PORTAL_APNS_KEY_ID")]
    pub apns_key_id: Option<String>,
    #[arg(long, env = "PORTAL_APNS_TEAM_ID")]
    pub apns_team_id: Option<String>,
    /// Where APNs is: `https://api.sandbox.push.apple.com/` for development builds.
    #[arg(
        long,
        env = "PORTAL_APNS_BASE_URL",
        default_value = "https://api.push.apple.com/"
    )]
    pub apns_base_url: String,
}

impl Config {
    /// Every setting at its default, as `portal serve` has it with no flag and no
    /// `PORTAL_*` variable, over `database_url`. Read from the flags' own
    /// declarations with the environment ignored, so the defaults are written once.
    pub fn defaults(database_url: &str) -> Self {
        use clap::{Args, FromArgMatches};
        let command =
            Self::augment_args(clap::Command::new("portal")).mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(["portal", "--database-url", database_url])
            .expect("the defaults of `portal serve` parse");
        Self::from_arg_matches(&matches).expect("the defaults of `portal serve` are a config")
    }
}

impl Config {
    /// Account settings, with the JWT key resolved: the configured one, or a random
    /// one on a loopback bind (tokens then die with the process); refused elsewhere.
    pub fn account_settings(&self) -> Result<domain::accounts::AccountSettings, String> {
        let secret = match &self.jwt_secret {
            Some(secret) if secret.0.len() >= 32 => secret.0.as_bytes().to_vec(),
            Some(_) => return Err("PORTAL_JWT_SECRET must be at least 32 bytes".to_owned()),
            None if self.bind.ip().is_loopback() => {
                tracing::warn!(
                    "PORTAL_JWT_SECRET is not set: using a random key; tokens stop working when this process restarts"
                );
                rand_secret()
            }
            None => {
                return Err(format!(
                    "PORTAL_JWT_SECRET must be set to serve on {} (only a loopback bind may run without it)",
                    self.bind
                ));
            }
        };
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(domain::accounts::AccountSettings {
            tokens: domain::accounts::TokenSettings {
                secret,
                issuer: self.jwt_issuer.clone(),
                audience: self.jwt_audience.clone(),
                access_ttl: std::time::Duration::from_secs(self.access_token_ttl_secs),
                refresh_ttl: std::time::Duration::from_secs(self.refresh_token_ttl_secs),
                leeway: std::time::Duration::from_secs(self.jwt_leeway_secs),
            },
            throttle: domain::accounts::ThrottleSettings {
                per_ip_per_minute: self.auth_rate_per_ip,
                per_email_per_minute: self.auth_rate_per_email,
                per_email_ceiling_per_minute: self.auth_rate_per_email_ceiling,
            },
            hashing_concurrency: self.hashing_concurrency.unwrap_or(cores),
            require_staff_totp: self
                .require_staff_2fa
                .unwrap_or(!self.bind.ip().is_loopback()),
        })
    }
}

impl Config {
    /// Push settings, with the VAPID key resolved as the JWT key is: the configured
    /// one, or a random one on a loopback bind; refused elsewhere.
    pub fn push_settings(&self) -> Result<domain::push::PushSettings, String> {
        if !(self.vapid_subject.starts_with("mailto:")
            || self.vapid_subject.starts_with("https://"))
        {
            return Err("PORTAL_VAPID_SUBJECT must be a mailto: or https:// contact".to_owned());
        }
        let vapid = match &self.vapid_private_key {
            Some(key) => domain::push::VapidKey::from_base64url(&key.0)
                .map_err(|e| format!("PORTAL_VAPID_PRIVATE_KEY: {e}"))?,
            None if self.bind.ip().is_loopback() => {
                tracing::warn!(
                    "PORTAL_VAPID_PRIVATE_KEY is not set: using a random key; browser push subscriptions stop working when this process restarts"
                );
                domain::push::VapidKey::random()
            }
            None => {
                return Err(format!(
                    "PORTAL_VAPID_PRIVATE_KEY must be set to serve on {} (only a loopback bind may run without it)",
                    self.bind
                ));
            }
        };
        Ok(domain::push::PushSettings {
            vapid,
            fcm: self.fcm_settings()?,
            apns: self.apns_settings()?,
            allow_loopback: self.push_allow_loopback,
            read_delay: std::time::Duration::from_millis(self.push_delay_ms),
            max_age: std::time::Duration::from_secs(self.push_max_age_secs),
            vapid_subject: self.vapid_subject.clone(),
        })
    }
}

impl Config {
    /// FCM, when a service account file is given.
    fn fcm_settings(&self) -> Result<Option<domain::push::FcmSettings>, String> {
        let Some(path) = &self.fcm_service_account_file else {
            return Ok(None);
        };
        let text = read_secret_file("PORTAL_FCM_SERVICE_ACCOUNT_FILE", path)?;
        let account = domain::push::FcmAccount::from_json(&text)
            .map_err(|e| format!("PORTAL_FCM_SERVICE_ACCOUNT_FILE: {e}"))?;
        Ok(Some(domain::push::FcmSettings {
            account,
            base_url: base_url("PORTAL_FCM_BASE_URL", &self.fcm_base_url)?,
        }))
    }

    /// APNs, when its key file, key id and team id are all given.
    fn apns_settings(&self) -> Result<Option<domain::push::ApnsSettings>, String> {
        let (path, key_id, team_id) = match (
            &self.apns_key_file,
            &self.apns_key_id,
            &self.apns_team_id,
        ) {
            (None, None, None) => return Ok(None),
            (Some(path), Some(key_id), Some(team_id)) => (path, key_id, team_id),
            _ => {
                return Err("PORTAL_APNS_KEY_FILE, PORTAL_APNS_KEY_ID and PORTAL_APNS_TEAM_ID go together: set all three or none".to_owned());
            }
        };
        let pem = read_secret_file("PORTAL_APNS_KEY_FILE", path)?;
        let key = domain::push::ApnsKey::from_p8(&pem, key_id, team_id)
            .map_err(|e| format!("PORTAL_APNS_KEY_FILE: {e}"))?;
        Ok(Some(domain::push::ApnsSettings {
            key,
            base_url: base_url("PORTAL_APNS_BASE_URL", &self.apns_base_url)?,
        }))
    }
}

/// A key file's text; the error names the setting and the path, never the content.
fn read_secret_file(setting: &str, path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{setting}: {}: {e}", path.display()))
}

/// An `http(s)://` base URL, ending in `/` so that paths join below it.
fn base_url(setting: &str, value: &str) -> Result<url::Url, String> {
    let with_slash = if value.ends_with('/') {
        value.to_owned()
    } else {
        format!("{value}/")
    };
    match url::Url::parse(&with_slash) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(format!("{setting} must be an http:// or https:// URL")),
    }
}

impl Config {
    /// Refuses what is only safe on a loopback bind, like a missing JWT key: demo data
    /// (its passwords are public) and a random cursor key (cursors would break at every
    /// restart and differ between the nodes behind a load balancer).
    pub fn check_exposure(&self) -> Result<(), String> {
        if self.bind.ip().is_loopback() {
            return Ok(());
        }
        if self.demo {
            return Err(format!(
                "--demo seeds accounts whose passwords are public: it only serves on a loopback bind, not {}",
                self.bind
            ));
        }
        if self.cursor_key.is_none() {
            return Err(format!(
                "PORTAL_CURSOR_KEY must be set to serve on {} (every node must sign cursors with the same key)",
                self.bind
            ));
        }
        Ok(())
    }

    /// The CORS allow-list, checked: empty entries dropped, malformed ones refused.
    pub fn cors_origins(&self) -> Result<Vec<String>, String> {
        let origins: Vec<String> = self
            .cors_origins
            .iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_owned())
            .filter(|origin| !origin.is_empty())
            .collect();
        crate::cors::validate(&origins)?;
        Ok(origins)
    }
}

fn rand_secret() -> Vec<u8> {
    domain::cursor::CursorKey::random_bytes().to_vec()
}
