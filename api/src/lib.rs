//! The therapist portal's HTTP and GraphQL doors. `Application::build` assembles what
//! `portal serve` runs and what the tests boot: migrations, services, routes.

mod acquire_waits;
mod auth;
pub mod cli;
pub mod codes;
pub mod config;
mod cors;
mod docs;
mod drain;
pub mod graphql;
mod gzip;
mod health;
pub mod metrics;
pub mod openapi;
mod probe;
mod problem;
mod rate_limit;
mod rest;
mod routes;
mod shutdown;
mod state;
mod telemetry;
mod views;

use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_service::{ServiceFactoryExt, fn_factory, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::dev::Server;
use actix_web::middleware::{
    Compress, Condition, ErrorHandlers, NormalizePath, TrailingSlash, from_fn,
};
use actix_web::{App, web};
use domain::cursor::CursorKey;
use domain::database::{StatementCounter, Storage};
use domain::events::{Bus, Hub, InProcessBus, NatsBus};
use domain::seed::DemoAccounts;
use migrations::MigratorTrait;
use sea_orm::{EntityTrait, PaginatorTrait};
use utoipa_actix_web::AppExt;

pub use crate::config::Config;
pub use crate::problem::JSON_LIMIT;
use crate::state::AppState;

/// Therapists `--demo` puts in an empty database: well past the old cap of 1000.
const DEMO_THERAPISTS: u64 = 5_000;

/// Connections of the push dispatcher's own pool (it claims, reads and settles).
const PUSH_CONNECTIONS: u32 = 2;

/// Why `portal` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("domain: {0}")]
    Domain(#[from] domain::DomainError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("not ready: {0}")]
    Unhealthy(String),
}

/// A built, bound, not yet running server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
    statements: StatementCounter,
    demo: Option<DemoAccounts>,
    shutdown: shutdown::Shutdown,
    shutdown_timeout: Duration,
}

impl Application {
    /// Connects, migrates, optionally seeds demo data, and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        config.check_exposure().map_err(StartupError::Config)?;
        let account_settings = config.account_settings().map_err(StartupError::Config)?;
        let push_settings = config.push_settings().map_err(StartupError::Config)?;
        let cors_origins = config.cors_origins().map_err(StartupError::Config)?;
        // Bind first: a taken port fails the start before any migration or seeding.
        let listener = TcpListener::bind(config.bind)?;
        let local_addr = listener.local_addr()?;
        let storage = Storage::connect_with_deadline(
            &config.database_url,
            config.db_max_connections,
            Duration::from_millis(config.db_statement_timeout_ms),
        )
        .await?;
        migrations::Migrator::up(storage.db.pool(), None).await?;
        let empty = domain::directory::therapist::Entity::find()
            .count(&storage.db)
            .await?
            == 0;
        let demo = if config.demo && empty {
            tracing::info!(therapists = DEMO_THERAPISTS, "seeding demo data");
            Some(domain::seed::seed_demo(&storage.db, DEMO_THERAPISTS).await?)
        } else {
            None
        };
        let cursor_key = match &config.cursor_key {
            Some(secret) => CursorKey::new(secret.0.as_bytes()),
            None => {
                tracing::warn!(
                    "PORTAL_CURSOR_KEY is not set: using a random key; paging cursors stop working when this process restarts and differ between nodes"
                );
                CursorKey::random()
            }
        };
        let statements = storage.statements.clone();
        let bus: Arc<dyn Bus> = match &config.bus_url {
            Some(url) => Arc::new(NatsBus::connect(url, &config.bus_subject).await?),
            None => Arc::new(InProcessBus::default()),
        };
        let grace = Duration::from_millis(config.presence_grace_ms);
        let hub = Hub::start(bus, storage.db.clone(), grace).await?;
        let state = AppState::new(
            storage,
            cursor_key,
            account_settings,
            push_settings,
            hub,
            cors_origins.clone(),
            Duration::from_secs(config.access_log_coalesce_secs),
        )?;
        let shutdown = state.shutdown.clone();
        let dispatch = Storage::connect_with_deadline(
            &config.database_url,
            PUSH_CONNECTIONS,
            Duration::from_millis(config.db_statement_timeout_ms),
        )
        .await?;
        let retention = Duration::from_secs(config.sync_retention_days * 24 * 3600);
        tokio::spawn(domain::sync::compact_every(
            dispatch.db.clone(),
            retention,
            shutdown.started(),
        ));
        tokio::spawn(domain::sync::sweep_every(
            dispatch.db.clone(),
            shutdown.started(),
        ));
        tokio::spawn(state.push.dispatcher(dispatch.db)?.run(shutdown.started()));
        tokio::spawn(state.access_log.clone().flush_every(shutdown.started()));
        let schema = graphql::build_schema(state.clone());
        let (upgrade_state, upgrade_schema) = (state.clone(), schema.clone());
        let openapi = web::Data::new(openapi::document_json());
        let rate_limit = web::Data::new(rate_limit::RateLimit::new(
            config.rate_limit_per_second,
            config.rate_limit_burst,
        ));

        let graphql_budget =
            web::Data::new(graphql::cost::Budget::new(config.graphql_points_per_minute));
        let graphql_documents = web::Data::new(graphql::documents::Documents::default());
        let upgrade_rate_limit = rate_limit.clone();
        let app = move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .app_data(web::Data::new(state.clone()))
                .app_data(web::Data::new(schema.clone()))
                .app_data(openapi.clone())
                .app_data(rate_limit.clone())
                .app_data(graphql_budget.clone())
                .app_data(graphql_documents.clone())
                .configure(routes::extractor_configs)
                .configure(health::configure)
                .configure(graphql::configure)
                .configure(openapi::configure)
                .configure(docs::configure)
                .configure(metrics::configure)
                .service(utoipa_actix_web::scope("/v1").configure(rest::configure))
                .default_service(web::to(routes::not_found))
                .split_for_parts();
            // Outermost last. Problem bodies are filled inside CORS, so its headers
            // stay on them, and once more outside it for its own rejections.
            app.wrap(ErrorHandlers::new().default_handler(problem::fill_empty_error))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap(from_fn(rate_limit::limit))
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors::cors(&cors_origins),
                ))
                .wrap(ErrorHandlers::new().default_handler(problem::fill_empty_error))
                .wrap(from_fn(metrics::track))
                .wrap(from_fn(auth::with_request_id))
                .wrap(from_fn(gzip::in_place))
                // Outermost, so what is compressed is the answer as sent.
                .wrap(Compress::default())
                .wrap(from_fn(rest::mark_coding))
                .wrap(from_fn(drain::close_when_stopping))
        };
        let workers = config.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        // actix-web's `HttpServer` cannot route upgrades around the app; this is what it
        // builds, plus the WebSocket upgrade hook (see `graphql::websocket`).
        let connections = shutdown.clone();
        let server = actix_server::Server::build()
            .workers(workers)
            .shutdown_timeout(config.shutdown_timeout_secs)
            // Signals are handled in `run_until_stopped`, which tells sessions first.
            .disable_signals()
            .listen("portal", listener, move || {
                let upgrades = Rc::new(graphql::websocket::Upgrades {
                    schema: upgrade_schema.clone(),
                    state: std::sync::Arc::new(upgrade_state.clone()),
                    rate_limit: upgrade_rate_limit.get_ref().clone(),
                });
                let upgrade = fn_factory(move || {
                    let upgrades = upgrades.clone();
                    async move {
                        Ok::<_, ()>(fn_service(move |(request, framed)| {
                            graphql::websocket::upgrade(upgrades.clone(), request, framed)
                        }))
                    }
                });
                let http = HttpService::build()
                    .local_addr(local_addr)
                    .on_connect_ext(|io: &drain::DrainingStream, extensions| {
                        extensions.insert(io.activity());
                    })
                    .upgrade(upgrade)
                    // The app config's host and address only stand in for a request
                    // without a Host header; nothing here builds URLs from them.
                    .finish(map_config(app(), |_| AppConfig::default()));
                // What `HttpService::tcp` does, with the stream wrapped for the drain.
                let connections = connections.clone();
                fn_service(move |io: tokio::net::TcpStream| {
                    let peer = io.peer_addr().ok();
                    let io = drain::DrainingStream::new(io, &connections);
                    std::future::ready(Ok((io, actix_http::Protocol::Http1, peer)))
                })
                .and_then(http)
            })?;
        Ok(Self {
            server: server.run(),
            local_addr,
            statements,
            demo,
            shutdown,
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout_secs),
        })
    }

    /// The address the server listens on (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The demo accounts, when this start seeded them.
    pub fn demo(&self) -> Option<&DemoAccounts> {
        self.demo.as_ref()
    }

    /// Counts the statements this application sends to its database.
    pub fn statements(&self) -> StatementCounter {
        self.statements.clone()
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, tells
    /// WebSocket and SSE sessions to reconnect elsewhere, and returns once in-flight
    /// requests have finished (or the shutdown timeout has passed).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let mut server = self.server;
        let handle = server.handle();
        tokio::select! {
            result = &mut server => return result,
            signalled = shutdown::signalled() => signalled?,
        }
        tracing::info!("stopping: closing sessions, finishing in-flight requests");
        self.shutdown.begin();
        // Until the last connection and session has closed, the node keeps accepting:
        // a load balancer takes a moment to stop routing here, and its probes must
        // still hear `/readyz` say 503. New sessions are told to reconnect at once,
        // and every response closes its connection.
        tokio::select! {
            result = &mut server => return result,
            () = self.shutdown.drained(self.shutdown_timeout) => {}
        }
        // The stop command is sent here and carried out while `server` is polled.
        drop(handle.stop(true));
        server.await
    }
}
