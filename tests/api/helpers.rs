//! The harness: `TestApp` (the real app on a random port) over a `TestDatabase` (a
//! database created for one test and dropped afterwards, also when the test fails).

use std::net::SocketAddr;
use std::path::PathBuf;

use api::config::Secret;
use api::{Application, Config};
use domain::accounts::{NewAccount, create_account};
use domain::actor::Role;
use domain::database::{StatementCounter, Storage};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

/// Emits one test per backend, so a failure says which database broke.
macro_rules! on_every_backend {
    ($test:ident) => {
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test(crate::helpers::Backend::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                super::$test(crate::helpers::Backend::MariaDb).await
            }
        }
    };
}

/// The database engines every test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Backend {
    /// Server URL (any database on it) for creating and dropping test databases.
    fn admin_url(self) -> Option<String> {
        let (var, default) = match self {
            Self::Sqlite => return None,
            Self::Postgres => (
                "PORTAL_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            Self::MariaDb => (
                "PORTAL_TEST_MARIADB_URL",
                "mysql://root@127.0.0.1:3306/test",
            ),
        };
        Some(std::env::var(var).unwrap_or_else(|_| default.to_owned()))
    }
}

/// A uniquely named database that is dropped with this value.
pub struct TestDatabase {
    backend: Backend,
    name: String,
    url: String,
    sqlite_dir: Option<PathBuf>,
}

impl TestDatabase {
    /// Creates an empty database on `backend`.
    pub async fn create(backend: Backend) -> Self {
        let name = format!("portal_test_{}", uuid::Uuid::now_v7().simple());
        match backend.admin_url() {
            None => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("a temp dir for SQLite");
                let url = format!("sqlite://{}?mode=rwc", dir.join("portal.db").display());
                Self {
                    backend,
                    name,
                    url,
                    sqlite_dir: Some(dir),
                }
            }
            Some(admin) => {
                let server = Database::connect(&admin)
                    .await
                    .unwrap_or_else(|err| panic!("{backend:?} at {admin} must be running: {err}"));
                let create = match backend {
                    Backend::MariaDb => format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    ),
                    _ => format!("CREATE DATABASE \"{name}\""),
                };
                server
                    .execute_unprepared(&create)
                    .await
                    .expect("the test database is created");
                server.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                Self {
                    backend,
                    name,
                    url,
                    sqlite_dir: None,
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            std::fs::remove_dir_all(dir).ok();
            return;
        }
        let Some(admin) = self.backend.admin_url() else {
            return;
        };
        let drop_sql = match self.backend {
            Backend::MariaDb => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            _ => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        };
        // Drop cannot await: a short-lived thread with its own runtime does the work.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the test database");
            runtime.block_on(async move {
                let server = Database::connect(&admin).await?;
                server.execute_unprepared(&drop_sql).await?;
                server.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// The key tests sign with, so they can forge tokens that differ in one claim only.
pub const TEST_JWT_SECRET: &str = "a test key of at least thirty-two bytes, never deployed";

/// The configuration every test boots: the defaults, on a free loopback port with a
/// small pool, a fixed token key, and request and sign-in limits that tests which do
/// not test them never reach.
pub fn test_config(database_url: &str) -> Config {
    Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        db_max_connections: 8,
        workers: Some(2),
        rate_limit_per_second: 10_000,
        rate_limit_burst: 10_000,
        jwt_secret: Some(Secret(TEST_JWT_SECRET.to_owned())),
        auth_rate_per_ip: 1_000,
        auth_rate_per_email: 1_000,
        auth_rate_per_email_ceiling: 1_000,
        presence_grace_ms: 300,
        // No push comes due during a test unless it asks for one: the endpoints tests
        // register are never contacted.
        push_delay_ms: 3_600_000,
        ..Config::defaults(database_url)
    }
}

/// An account a test created, with the password it can sign in with.
pub struct TestAccount {
    pub id: uuid::Uuid,
    pub email: String,
    pub password: String,
}

/// The real app on a random port, with a direct handle on its database for seeding.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub storage: Storage,
    pub statements: StatementCounter,
    pub backend: Backend,
    /// Access token of a client account, sent by `get`, `get_json` and `graphql`.
    pub token: String,
    /// Held, not read: the database lives as long as the app. Declared last, so it is
    /// dropped after the handles above have let go of it.
    _database: TestDatabase,
}

impl TestApp {
    /// Boots the app over a fresh database on `backend`.
    pub async fn spawn(backend: Backend) -> Self {
        let db = TestDatabase::create(backend).await;
        let config = test_config(db.url());
        Self::boot(db, config).await
    }

    /// Boots the app with `config` over `db` (which `config` may reach another way).
    pub async fn boot(db: TestDatabase, config: Config) -> Self {
        let backend = db.backend;
        let app = Application::build(config).await.expect("the app boots");
        let address = format!("http://{}", app.local_addr());
        let statements = app.statements();
        tokio::spawn(app.run_until_stopped());
        let storage = Storage::connect(db.url(), 2)
            .await
            .expect("a second connection to the test database");
        let mut app = Self {
            address,
            http: reqwest::Client::new(),
            storage,
            statements,
            backend,
            token: String::new(),
            _database: db,
        };
        let client = app.create_account(Role::Client).await;
        app.token = app.login(&client).await;
        app
    }

    /// A second node over the same database (its own hub and caches, no bus);
    /// returns its address.
    pub async fn another_node(&self) -> String {
        self.another_node_with(test_config(self._database.url()))
            .await
    }

    /// A second node booted with `config`, which should reach this app's database
    /// (see [`Self::database_url`]); returns its address.
    pub async fn another_node_with(&self, config: Config) -> String {
        let node = Application::build(config)
            .await
            .expect("the second node boots");
        let address = format!("http://{}", node.local_addr());
        tokio::spawn(node.run_until_stopped());
        address
    }

    /// The URL of this app's database.
    pub fn database_url(&self) -> &str {
        self._database.url()
    }

    /// A new account with `role`, created the way `portal create-account` does.
    pub async fn create_account(&self, role: Role) -> TestAccount {
        create_account_in(&self.storage, role).await
    }

    /// Signs `account` in through the API; returns its access token.
    pub async fn login(&self, account: &TestAccount) -> String {
        access_token_at(&self.http, &self.address, account).await
    }

    /// Signs `account` in through the API; returns the whole token pair.
    pub async fn sign_in(&self, account: &TestAccount) -> Value {
        let credentials =
            serde_json::json!({ "email": account.email, "password": account.password });
        let response = self.post_json("/v1/auth/login", &credentials, None).await;
        assert_eq!(response.status(), 200, "login of {}", account.email);
        response.json().await.expect("a token pair")
    }

    /// A new account with `role`, signed in; returns its access token.
    pub async fn token_for(&self, role: Role) -> String {
        let account = self.create_account(role).await;
        self.login(&account).await
    }

    /// `POST path` with a JSON body, as `token` (or anonymously).
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.address)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request is answered")
    }

    /// `GET path` as `token` (or anonymously).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request is answered")
    }

    /// `GET path` as the default client.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(path, Some(&self.token)).await
    }

    /// `GET path`, expecting 200 and a JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(status, 200, "GET {path} on {:?}: {body}", self.backend);
        body
    }

    /// A GraphQL request as the default client; returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(query, variables, Some(&self.token)).await
    }

    /// A GraphQL request as `token` (or anonymously); returns the whole response body.
    pub async fn graphql_as(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.post_json(
            "/graphql",
            &serde_json::json!({ "query": query, "variables": variables }),
            token,
        )
        .await
        .json()
        .await
        .expect("a JSON body")
    }

    /// Adds `count` synthetic therapists.
    pub async fn seed_therapists(&self, count: u64) {
        domain::seed::seed_directory(&self.storage.db, count, 5)
            .await
            .expect("therapists are seeded");
    }
}

/// A new account with `role` in the database behind `storage`, created the way
/// `portal create-account` does.
pub async fn create_account_in(storage: &Storage, role: Role) -> TestAccount {
    let email = format!(
        "{}-{}@example.org",
        role.as_str(),
        uuid::Uuid::now_v7().simple()
    );
    let password = "correct horse battery staple".to_owned();
    let new = NewAccount {
        email: email.clone(),
        password: password.clone(),
        display_name: format!("Test {}", role.as_str()),
        role,
    };
    let account = create_account(&storage.db, new)
        .await
        .expect("the account is created");
    TestAccount {
        id: account.id,
        email,
        password,
    }
}

/// Asserts that `response` is an RFC 9457 problem with `status` and `code`; returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("a JSON problem body");
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert!(problem["title"].is_string(), "{problem}");
    assert!(problem["type"].is_string(), "{problem}");
    problem
}

/// A TCP relay in front of a database server that a test can cut and restore, or
/// freeze and thaw, to see how the app behaves while its database is unreachable.
pub struct Relay {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Chunks read from the app and passed on to the server.
    to_server: std::sync::Arc<std::sync::atomic::AtomicU64>,
    frozen: tokio::sync::watch::Sender<bool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    /// Relays 127.0.0.1:`port` to `target` (host:port).
    pub async fn start(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a relay port");
        let port = listener.local_addr().expect("an address").port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let frozen = tokio::sync::watch::channel(false).0;
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let to_server = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (accept_open, accept_links, accept_frozen, accept_to_server) = (
            open.clone(),
            links.clone(),
            frozen.clone(),
            to_server.clone(),
        );
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                let frozen = accept_frozen.subscribe();
                let sent = accept_to_server.clone();
                let link = tokio::spawn(async move {
                    if let Ok(outbound) = tokio::net::TcpStream::connect(&target).await {
                        let (from_client, to_client) = inbound.into_split();
                        let (from_server, to_server) = outbound.into_split();
                        tokio::join!(
                            forward(from_client, to_server, frozen.clone(), Some(sent)),
                            forward(from_server, to_client, frozen, None)
                        );
                    }
                });
                accept_links.lock().expect("relay links").push(link);
            }
        });
        Self {
            port,
            open,
            to_server,
            frozen,
            links,
        }
    }

    /// Chunks the app has sent to the server so far: each statement it sends on a
    /// prepared connection is one, and so is each ping.
    pub fn sent_to_server(&self) -> u64 {
        self.to_server.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Breaks every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("relay links").drain(..) {
            link.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops forwarding in both directions while every socket stays open, as a
    /// stalled network path or proxy does: nothing is refused, nothing answers.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards again what waited and what follows.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

/// Copies `from` to `to`, holding each chunk while the relay is frozen, and counts
/// the chunks in `chunks` when given.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: tokio::sync::watch::Receiver<bool>,
    chunks: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        if read == 0 || frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        if let Some(chunks) = &chunks {
            chunks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

impl TestDatabase {
    /// This database's URL with its host and port replaced by the relay's.
    pub fn url_through(&self, relay: &Relay) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("a URL");
        let (authority, path) = rest.split_once('/').expect("a database path");
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}127.0.0.1:{}/{path}",
            user.unwrap_or_default(),
            relay.port
        )
    }

    /// host:port of the database server.
    pub fn server_address(&self) -> String {
        let rest = self.url.split_once("://").expect("a URL").1;
        let authority = rest.split_once('/').expect("a database path").0;
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, a)| a)
            .to_owned()
    }
}

/// Signs `account` in at the portal listening at `address`; returns its access token.
pub async fn access_token_at(
    http: &reqwest::Client,
    address: &str,
    account: &TestAccount,
) -> String {
    let response = http
        .post(format!("{address}/v1/auth/login"))
        .json(&serde_json::json!({ "email": account.email, "password": account.password }))
        .send()
        .await
        .expect("the request is answered");
    assert_eq!(response.status(), 200, "login of {}", account.email);
    let body: Value = response.json().await.expect("a token pair");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The `code` extension of the first GraphQL error in `response`.
pub fn first_error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error with a code: {response}"))
}
