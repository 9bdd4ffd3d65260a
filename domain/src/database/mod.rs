//! Opening the database: pool limits that fail fast, a client-side deadline on every
//! statement (`deadline`), reads that keep their connection warm instead of paying
//! sqlx's release ping (`warm`), SQLite in WAL mode, and a count of every statement
//! issued (the tests and `/metrics` read it).

mod deadline;
mod warm;

pub use deadline::{Db, Limited, Txn};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{ConnectOptions, Database, DbErr};

/// How long a request waits for a pooled connection before it is told to retry.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A pooled connection idle this long is pinged before it is handed out.
const STALE_AFTER: Duration = Duration::from_secs(30);

/// No statement may run longer than this on PostgreSQL or MariaDB.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the client waits for any one statement unless configured otherwise.
pub const DEFAULT_STATEMENT_DEADLINE: Duration = Duration::from_secs(5);
/// How long a readiness probe waits for the database: probes time out at a few
/// seconds, and a slow answer is as bad as none.
const READY_DEADLINE: Duration = Duration::from_secs(2);
/// Server-side TCP keepalive on PostgreSQL sessions (seconds idle, then between
/// probes): the server drops the sessions of a node that vanished. sqlx offers no
/// client-side socket option; the statement deadline covers that side.
const PG_KEEPALIVES: [(&str, &str); 3] = [
    ("tcp_keepalives_idle", "30"),
    ("tcp_keepalives_interval", "10"),
    ("tcp_keepalives_count", "3"),
];
/// Per-connection settings on MariaDB: the statement cap (it has no connect option for
/// it), and filters by specialty or language evaluated as an index probe per row of
/// the ordered walk. With semi-join flattening or materialisation (the defaults) it
/// collects and sorts every match of the filter on each page instead: measured 33x
/// slower at 200,000 therapists (see `bench/explain.sh`).
const MARIADB_SESSION: &str =
    "SET SESSION max_statement_time = 30, optimizer_switch = 'semijoin=off,materialization=off'";

/// How many of a node's `max_connections` are warm read connections (`warm`): half,
/// on PostgreSQL and MariaDB; the pool opens the rest.
fn warm_share(url: &str, max_connections: u32) -> u32 {
    if sea_orm::DbBackend::Sqlite.is_prefix_of(url) {
        0
    } else {
        max_connections / 2
    }
}

/// sqlx reports how long each connection acquire waited as a tracing event (target
/// [`ACQUIRE_EVENT_TARGET`], field `acquired_after_secs`) at this level; `/metrics`
/// turns them into a histogram. Nothing else listens at trace level in production.
const ACQUIRE_TIME_LEVEL: log::LevelFilter = log::LevelFilter::Trace;
/// Target of sqlx's acquire-time events.
pub const ACQUIRE_EVENT_TARGET: &str = "sqlx::pool::acquire";

/// Counts statements sent to the database, for tests and metrics.
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements issued since start-up.
    pub fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// An open pool and the counter of the statements it runs.
#[derive(Debug, Clone)]
pub struct Storage {
    pub db: Db,
    pub statements: StatementCounter,
}

impl Storage {
    /// Opens `url` (sqlite://, postgres:// or mysql://) with a pool that fails fast and
    /// the default statement deadline.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_with_deadline(url, max_connections, DEFAULT_STATEMENT_DEADLINE).await
    }

    /// Opens `url` with a pool that fails fast; no statement waits longer than
    /// `deadline` for its answer.
    pub async fn connect_with_deadline(
        url: &str,
        max_connections: u32,
        deadline: Duration,
    ) -> Result<Self, DbErr> {
        let keep_warm = warm_share(url, max_connections);
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections - keep_warm)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings a connection when it goes back to the pool; pinging it again
            // on every checkout doubled the round trips of a one-statement request.
            // Only connections idle long enough for a proxy or the server to have
            // dropped them are checked before use.
            .test_before_acquire_if_idle_for(STALE_AFTER)
            // Statement text and parameters can carry health data: never logged.
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        let misses = deadline::Misses::new();
        // A connection abandoned by a missed deadline is closed, never pooled again.
        let (sqlite, postgres, mysql) = (misses.clone(), misses.clone(), misses.clone());
        options
            .statement_timeout(STATEMENT_TIMEOUT)
            .map_sqlx_postgres_opts(|opts| opts.options(PG_KEEPALIVES))
            .map_sqlx_sqlite_pool_opts(move |pool| {
                pool.acquire_time_level(ACQUIRE_TIME_LEVEL)
                    .after_release(keep_unless_suspect(&sqlite))
            })
            .map_sqlx_postgres_pool_opts(move |pool| {
                pool.acquire_time_level(ACQUIRE_TIME_LEVEL)
                    .after_release(keep_unless_suspect(&postgres))
            })
            .map_sqlx_mysql_pool_opts(move |pool| {
                pool.acquire_time_level(ACQUIRE_TIME_LEVEL)
                    .after_release(keep_unless_suspect(&mysql))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(conn, MARIADB_SESSION)
                                .await
                                .map(drop)
                        })
                    })
            });
        let mut db = Database::connect(options).await?;
        let statements = StatementCounter::default();
        let counter = statements.clone();
        db.set_metric_callback(move |_| counter.count());
        let keep_warm = usize::try_from(keep_warm).unwrap_or(0);
        let warm = warm::WarmReads::over(&db, keep_warm, MARIADB_SESSION, statements.clone());
        Ok(Self {
            db: Db::new(db, deadline, misses, warm),
            statements,
        })
    }

    /// Whether the database answers a trivial query within two seconds.
    pub async fn ping(&self) -> Result<(), DbErr> {
        tokio::time::timeout(READY_DEADLINE, self.db.ping())
            .await
            .unwrap_or_else(|_| {
                Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(
                    "the database did not answer the readiness probe in time".to_owned(),
                )))
            })
    }
}

/// The pool's release hook: `false` (close it) for a connection released right after
/// a missed deadline, which may be the abandoned one.
fn keep_unless_suspect<C>(
    misses: &Arc<deadline::Misses>,
) -> impl for<'c> Fn(
    &'c mut C,
    sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'c, Result<bool, sqlx::Error>>
+ Send
+ Sync
+ 'static {
    let misses = misses.clone();
    move |_, _| {
        let keep = !misses.suspect();
        Box::pin(async move { Ok(keep) })
    }
}
