//! A client-side deadline on every statement. The server-side statement timeout
//! cannot fire when the server cannot be reached (a frozen network path, a stalled
//! proxy): without this, a request waits as long as TCP does, minutes. A statement
//! past its deadline fails as `unavailable` (503 with `Retry-After`). Its connection
//! was abandoned mid-statement and may still owe an answer (MariaDB's then reads the
//! wrong reply), so it is closed, not pooled again: connections released within
//! [`SUSPECT_AFTER_MISS`] of a missed deadline are closed (the pool opens fresh ones;
//! timeouts are rare, so closing a few healthy ones with it costs little).
//! A read that failed because its pooled connection broke (the server restarted or
//! killed it) is tried once more, on another connection.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
};

use super::warm::WarmReads;

/// How long after a missed deadline released connections are closed rather than
/// pooled: the abandoned connection is released at once, when its statement is
/// dropped.
const SUSPECT_AFTER_MISS: Duration = Duration::from_secs(2);

/// When a statement last missed its deadline, shared with the pool's release hook.
#[derive(Debug)]
pub(crate) struct Misses {
    since: Instant,
    /// Milliseconds after `since` of the last miss, plus one (0: never).
    last: AtomicU64,
}

impl Misses {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            since: Instant::now(),
            last: AtomicU64::new(0),
        })
    }

    fn record(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now.saturating_add(1), Ordering::Relaxed);
    }

    /// Whether a connection released now may be one a missed deadline abandoned.
    pub(crate) fn suspect(&self) -> bool {
        match self.last.load(Ordering::Relaxed) {
            0 => false,
            last => {
                let missed_at = self.since + Duration::from_millis(last - 1);
                missed_at.elapsed() < SUSPECT_AFTER_MISS
            }
        }
    }
}

/// A connection (`DatabaseConnection`, the pool) or transaction with a deadline on
/// every statement.
#[derive(Debug, Clone)]
pub struct Limited<C> {
    inner: C,
    limit: Limit,
}

/// The pool, with a deadline on every statement. Cheap to clone.
pub type Db = Limited<DatabaseConnection>;
/// A transaction of [`Db`], with the same deadline on each statement and on commit.
pub type Txn = Limited<DatabaseTransaction>;

/// The deadline, where misses are recorded, whether a read that failed on a broken
/// connection may go again (on the pool, yes; in a transaction, whose connection it
/// is, no), and the warm connections reads on the pool run on (`warm`).
#[derive(Debug, Clone)]
struct Limit {
    deadline: Duration,
    misses: Arc<Misses>,
    retry_reads: bool,
    warm: Option<Arc<WarmReads>>,
}

impl Limit {
    async fn within<T>(
        &self,
        statement: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T, DbErr> {
        match tokio::time::timeout(self.deadline, statement).await {
            Ok(done) => done,
            Err(_) => {
                self.misses.record();
                Err(DbErr::Conn(RuntimeErr::Internal(
                    "the database did not answer within the statement deadline".to_owned(),
                )))
            }
        }
    }

    /// A read, tried once more when its pooled connection broke.
    async fn read<T, F>(&self, read: impl Fn() -> F) -> Result<T, DbErr>
    where
        F: Future<Output = Result<T, DbErr>>,
    {
        match self.within(read()).await {
            Err(err) if self.retry_reads && crate::error::is_broken_connection(&err) => {
                tracing::warn!(error = %err, "a pooled connection broke; reading again on another");
                self.within(read()).await
            }
            done => done,
        }
    }
}

impl Db {
    pub(crate) fn new(
        inner: DatabaseConnection,
        deadline: Duration,
        misses: Arc<Misses>,
        warm: Option<Arc<WarmReads>>,
    ) -> Self {
        Self {
            inner,
            limit: Limit {
                deadline,
                misses,
                retry_reads: true,
                warm,
            },
        }
    }

    /// Warm read connections (`warm`) open now, and how many of them are idle.
    pub fn warm_connections(&self) -> (usize, usize) {
        self.limit
            .warm
            .as_ref()
            .map_or((0, 0), |warm| warm.figures())
    }

    /// The pool underneath, for what only it can tell (its size, for `/metrics`) and
    /// for migrations, whose index builds may rightly take longer than a statement.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.inner
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Txn, DbErr> {
        let inner = self
            .limit
            .within(sea_orm::TransactionTrait::begin(&self.inner))
            .await?;
        Ok(Txn {
            inner,
            limit: Limit {
                retry_reads: false,
                warm: None,
                ..self.limit.clone()
            },
        })
    }

    /// Whether the database answers a trivial statement within the deadline.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.limit.within(self.inner.ping()).await
    }
}

impl Txn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.limit.within(self.inner.commit()).await
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Limited<C> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.limit.within(self.inner.execute_raw(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.limit.within(self.inner.execute_unprepared(sql)).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.limit.warm {
            Some(warm) => {
                let first = || async {
                    match warm.query(&stmt, true).await {
                        Some(rows) => Ok(rows?.into_iter().next()),
                        None => self.inner.query_one_raw(stmt.clone()).await,
                    }
                };
                self.limit.read(first).await
            }
            None => {
                self.limit
                    .read(|| self.inner.query_one_raw(stmt.clone()))
                    .await
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.limit.warm {
            Some(warm) => {
                let all = || async {
                    match warm.query(&stmt, false).await {
                        Some(rows) => rows,
                        None => self.inner.query_all_raw(stmt.clone()).await,
                    }
                };
                self.limit.read(all).await
            }
            None => {
                self.limit
                    .read(|| self.inner.query_all_raw(stmt.clone()))
                    .await
            }
        }
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }
}
