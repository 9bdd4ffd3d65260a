//! Prometheus metrics at `GET /metrics` (text format 0.0.4): HTTP requests by route
//! template and status with latency histograms, the database pool and statement count
//! (read at scrape time from `Storage`), waits for a pooled connection, and the
//! real-time counters of the event hub (sessions, presence changes, fan-out, slow
//! subscribers, presence's statements).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use domain::database::Storage;
use domain::events::Hub;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sea_orm::DbBackend;

use crate::state::AppState;

mod push;

/// Upper bounds (seconds) of the latency buckets: 5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The label of requests that matched no route: raw paths would be unbounded.
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The process's metrics. Cheap to clone; every clone counts into the same registry.
#[derive(Clone, Debug)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    outbox: push::OutboxFigures,
}

impl Metrics {
    /// A registry with every metric of `portal`, reading pool and statement figures
    /// from `storage` and the real-time counters from `hub` at each scrape.
    pub fn new(storage: Storage, hub: Hub, push: domain::push::PushCounters) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to sending its response head, by method and route template",
            latency.clone(),
        );
        registry.register(
            "db_pool_acquire_wait_seconds",
            "Time a statement waited for a pooled database connection (process-wide)",
            crate::acquire_waits::histogram(),
        );
        registry.register_collector(Box::new(StorageCollector(storage)));
        registry.register_collector(Box::new(HubCollector(hub)));
        let outbox = push::OutboxFigures::default();
        registry.register_collector(Box::new(push::OutboxCollector(outbox.clone(), push)));
        Self(Arc::new(Inner {
            registry,
            requests,
            latency,
            outbox,
        }))
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in a label.
        if let Err(err) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
        {
            tracing::error!(error = %err, "metrics could not be encoded");
        }
        text
    }

    fn observe(&self, method: &Method, route: Option<&str>, status: u16, started: Instant) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED).to_owned();
        self.0
            .latency
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        self.0
            .requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.to_string(),
            })
            .inc();
    }
}

/// Methods are client-chosen: anything unusual shares one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request under its route template
/// (`/v1/therapists/{id}`, never the raw path, so the label set stays bounded).
pub async fn track(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let method = request.method().clone();
    let response = next.call(request).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &response {
            Ok(response) => (
                response.request().match_pattern(),
                response.status().as_u16(),
            ),
            Err(err) => (None, err.as_response_error().status_code().as_u16()),
        };
        metrics.observe(&method, route.as_deref(), status, started);
    }
    response
}

/// Registers `GET /metrics`, outside the OpenAPI document (it is not part of the API).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.route("/metrics", web::get().to(metrics));
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.push.outbox_stats().await {
        Ok(stats) => state.metrics.0.outbox.record(stats),
        Err(err) => tracing::warn!(error = %err, "the push outbox could not be read for /metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// Reads the real-time counters of the event hub when Prometheus scrapes.
#[derive(Debug)]
struct HubCollector(Hub);

impl Collector for HubCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let m = self.0.metrics();
        let sessions = ConstGauge::new(m.sessions.load(Ordering::Relaxed));
        sessions.encode(encoder.encode_descriptor(
            "realtime_sessions_open",
            "WebSocket connections and SSE streams open on this node",
            None,
            sessions.metric_type(),
        )?)?;
        let connected = ConstGauge::new(i64::from(self.0.bus_connected()));
        connected.encode(encoder.encode_descriptor(
            "realtime_bus_connected",
            "1 while real-time events flow between the nodes (always 1 on one node)",
            None,
            connected.metric_type(),
        )?)?;
        for (name, help, value) in [
            (
                "presence_changes",
                "Presence changes published by this node (after coalescing)",
                &m.presence_changes,
            ),
            (
                "realtime_events_fanned_out",
                "Events handed to local subscribers (the fan-out of messages and presence)",
                &m.events_fanned_out,
            ),
            (
                "realtime_slow_subscribers_dropped",
                "Subscribers dropped with a resync notice for falling behind",
                &m.slow_subscribers_dropped,
            ),
            (
                "realtime_bus_gaps",
                "Times the event bus may have lost events (reconnects, lags); every subscriber was told to resync",
                &m.bus_gaps,
            ),
            (
                "presence_db_statements",
                "Database statements issued by presence (contact loading when a session opens or membership changes; never on a status change)",
                &m.presence_db_statements,
            ),
        ] {
            let counter = ConstCounter::new(value.load(Ordering::Relaxed));
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

/// Reads the pool and the statement counter when Prometheus scrapes.
#[derive(Debug)]
struct StorageCollector(Storage);

impl Collector for StorageCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let statements = ConstCounter::new(self.0.statements.total());
        statements.encode(encoder.encode_descriptor(
            "db_statements",
            "SQL statements sent to the database since start",
            None,
            statements.metric_type(),
        )?)?;
        let Some(pool) = pool_figures(&self.0) else {
            return Ok(());
        };
        let in_use = ConstGauge::new(i64::from(pool.size) - pool.idle);
        let idle = ConstGauge::new(pool.idle);
        let mut family = encoder.encode_descriptor(
            "db_pool_connections",
            "Database connections held by the pool, by state",
            None,
            in_use.metric_type(),
        )?;
        in_use.encode(family.encode_family(&[("state", "in_use")])?)?;
        idle.encode(family.encode_family(&[("state", "idle")])?)?;
        let max = ConstGauge::new(i64::from(pool.max));
        max.encode(encoder.encode_descriptor(
            "db_pool_max_connections",
            "Most connections the pool opens; requests wait (up to 3 s) beyond it",
            None,
            max.metric_type(),
        )?)?;
        let (open, parked) = self.0.db.warm_connections();
        let count = |n: usize| ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
        let (reading, parked) = (count(open.saturating_sub(parked)), count(parked));
        let mut family = encoder.encode_descriptor(
            "db_warm_connections",
            "Connections reads keep per worker thread outside the pool (half of PORTAL_DB_MAX_CONNECTIONS on PostgreSQL and MariaDB), by state",
            None,
            reading.metric_type(),
        )?;
        reading.encode(family.encode_family(&[("state", "reading")])?)?;
        parked.encode(family.encode_family(&[("state", "parked")])?)?;
        Ok(())
    }
}

struct PoolFigures {
    size: u32,
    idle: i64,
    max: u32,
}

fn pool_figures(storage: &Storage) -> Option<PoolFigures> {
    let db = storage.db.pool();
    macro_rules! figures {
        ($pool:expr) => {{
            let pool = $pool;
            PoolFigures {
                size: pool.size(),
                idle: i64::try_from(pool.num_idle()).unwrap_or(i64::MAX),
                max: pool.options().get_max_connections(),
            }
        }};
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(figures!(db.get_sqlite_connection_pool())),
        DbBackend::Postgres => Some(figures!(db.get_postgres_connection_pool())),
        DbBackend::MySql => Some(figures!(db.get_mysql_connection_pool())),
        #[allow(unreachable_patterns, reason = "DbBackend may grow variants")]
        _ => None,
    }
}
