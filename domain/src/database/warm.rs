//! Warm connections for reads, kept per worker thread.
//!
//! Two costs of a read through sqlx's pool are not the statement's:
//! - sqlx pings every connection it takes back into its pool, whatever
//!   `after_release` answers (`return_to_pool` in sqlx-core 0.9, no option to skip):
//!   a second exchange with the database for a one-statement request, a sixth of
//!   PostgreSQL's CPU per chat window (measured on a patched sqlx);
//! - a pooled connection goes to whichever worker asks next, but its socket stays
//!   registered with the runtime that opened it, so that runtime's thread is woken
//!   for the answer and wakes the reader's in turn.
//!
//! `bench/directory.sh`'s floor server, which keeps its connections per thread and
//! never pings, spends PostgreSQL no more CPU per page than pgbench does. So reads on
//! PostgreSQL and MariaDB run on connections of their own: opened by the thread that
//! first needs one, parked on that thread's stand between reads (newest on top, so the
//! same few backends stay busy) and never pinged. At most `keep` exist; when every one
//! is busy, a read uses the pool as before. Transactions and writes always use the
//! pool.
//!
//! A connection whose statement failed is closed, never parked; a failure that says
//! the connection broke closes every parked one too, since the server may have ended
//! them all. A statement past its deadline is dropped with its connection, which
//! closes it (`deadline`). A connection parked for [`IDLE_FOR`] is closed.
//! SQLite's pool is a function call away: its reads use the pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, Connection, Database, Executor, IntoArguments, MySql, Pool, Postgres};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;

use super::StatementCounter;

/// A parked connection unused this long is closed.
const IDLE_FOR: Duration = Duration::from_secs(60);
/// How often parked connections are checked for [`IDLE_FOR`].
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// The warm reads of a PostgreSQL or MariaDB database.
#[derive(Debug)]
pub(crate) enum WarmReads {
    Postgres(Warm<Postgres>),
    MySql(Warm<MySql>),
}

impl WarmReads {
    /// Warm reads of at most `keep` connections, opened as `db`'s pool opens its own
    /// (on MariaDB each runs `mariadb_session` first, as the pool's `after_connect`
    /// does); none for SQLite or when `keep` is 0. Counts each statement in
    /// `statements`.
    pub(crate) fn over(
        db: &DatabaseConnection,
        keep: usize,
        mariadb_session: &'static str,
        statements: StatementCounter,
    ) -> Option<Arc<Self>> {
        if keep == 0 {
            return None;
        }
        let warm = match db.get_database_backend() {
            DbBackend::Postgres => Self::Postgres(Warm::new(
                db.get_postgres_connection_pool(),
                keep,
                None,
                statements,
            )),
            DbBackend::MySql => Self::MySql(Warm::new(
                db.get_mysql_connection_pool(),
                keep,
                Some(mariadb_session),
                statements,
            )),
            _ => return None,
        };
        let warm = Arc::new(warm);
        close_idle_while_alive(Arc::downgrade(&warm));
        Some(warm)
    }

    /// The rows of `statement` (with `first_only`, at most the first), or `None` when
    /// every warm connection is busy and the read should use the pool.
    pub(crate) async fn query(
        &self,
        statement: &Statement,
        first_only: bool,
    ) -> Option<Result<Vec<QueryResult>, DbErr>> {
        match self {
            Self::Postgres(warm) => warm.query(statement, first_only).await,
            Self::MySql(warm) => warm.query(statement, first_only).await,
        }
    }

    /// Warm connections open now, and how many of them are parked.
    pub(crate) fn figures(&self) -> (usize, usize) {
        match self {
            Self::Postgres(warm) => warm.figures(),
            Self::MySql(warm) => warm.figures(),
        }
    }

    fn close_idle(&self) {
        match self {
            Self::Postgres(warm) => warm.close(warm.take_parked(|p| p.since.elapsed() >= IDLE_FOR)),
            Self::MySql(warm) => warm.close(warm.take_parked(|p| p.since.elapsed() >= IDLE_FOR)),
        }
    }
}

/// Closes connections parked for [`IDLE_FOR`], until the reads are dropped.
fn close_idle_while_alive(warm: Weak<WarmReads>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_EVERY).await;
            match warm.upgrade() {
                Some(warm) => warm.close_idle(),
                None => break,
            }
        }
    });
}

/// The warm connections of one database.
pub(crate) struct Warm<DB: Database> {
    options: Arc<<DB::Connection as Connection>::Options>,
    session: Option<&'static str>,
    stands: Mutex<Vec<Stand<DB>>>,
    /// Connections open: parked, or out with a read.
    open: AtomicUsize,
    keep: usize,
    statements: StatementCounter,
}

/// One thread's parked connections, newest last.
struct Stand<DB: Database> {
    thread: ThreadId,
    parked: Vec<Parked<DB>>,
}

struct Parked<DB: Database> {
    conn: DB::Connection,
    since: Instant,
}

impl<DB: Database> std::fmt::Debug for Warm<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warm")
            .field("open", &self.open)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

/// A warm connection out with a read. Dropped without [`Warm::park`] (the read
/// failed, or was dropped at its deadline), its connection is closed.
struct Lease<'w, DB: Database> {
    warm: &'w Warm<DB>,
    conn: Option<DB::Connection>,
}

impl<DB: Database> Drop for Lease<'_, DB> {
    fn drop(&mut self) {
        if self.conn.take().is_some() {
            self.warm.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl<DB> Warm<DB>
where
    DB: Database,
    SqlxValues: IntoArguments<DB>,
    QueryResult: From<DB::Row>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn new(
        pool: &Pool<DB>,
        keep: usize,
        session: Option<&'static str>,
        statements: StatementCounter,
    ) -> Self {
        Self {
            options: pool.connect_options(),
            session,
            stands: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
            keep,
            statements,
        }
    }

    async fn query(
        &self,
        statement: &Statement,
        first_only: bool,
    ) -> Option<Result<Vec<QueryResult>, DbErr>> {
        let mut lease = match self.lease().await? {
            Ok(lease) => lease,
            Err(err) => return Some(Err(err)),
        };
        let conn = lease.conn.as_mut()?;
        self.statements.count();
        let values = statement.values.clone().unwrap_or(Values(Vec::new()));
        let query = sqlx::query_with(
            sqlx::AssertSqlSafe(statement.sql.as_str()),
            SqlxValues(values),
        );
        let rows = if first_only {
            query.fetch_optional(&mut *conn).await.map(Vec::from_iter)
        } else {
            query.fetch_all(&mut *conn).await
        };
        Some(match rows {
            Ok(rows) => {
                self.park(lease);
                Ok(rows.into_iter().map(QueryResult::from).collect())
            }
            Err(err) => {
                let err = DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)));
                if crate::error::is_broken_connection(&err) {
                    self.close(self.take_parked(|_| true));
                }
                Err(err)
            }
        })
    }

    /// This thread's newest parked connection; else a new one while fewer than
    /// `keep` are open; else another thread's oldest parked one; else `None`.
    async fn lease(&self) -> Option<Result<Lease<'_, DB>, DbErr>> {
        let thread = std::thread::current().id();
        let parked = {
            let mut stands = self.lock();
            let own = stands
                .iter_mut()
                .find(|stand| stand.thread == thread)
                .and_then(|stand| stand.parked.pop());
            match own {
                Some(parked) => Some(parked),
                None if self.reserve() => None,
                None => Some(
                    stands
                        .iter_mut()
                        .filter(|stand| !stand.parked.is_empty())
                        .min_by_key(|stand| stand.parked[0].since)
                        .map(|stand| stand.parked.remove(0))?,
                ),
            }
        };
        let lease = |conn| Lease {
            warm: self,
            conn: Some(conn),
        };
        match parked {
            Some(parked) => Some(Ok(lease(parked.conn))),
            None => Some(self.connect().await.map(lease).inspect_err(|_| {
                self.open.fetch_sub(1, Ordering::Relaxed);
            })),
        }
    }

    /// Counts one more connection open, unless `keep` are.
    fn reserve(&self) -> bool {
        self.open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < self.keep).then_some(open + 1)
            })
            .is_ok()
    }

    async fn connect(&self) -> Result<DB::Connection, DbErr> {
        let gone = |err| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err)));
        let mut conn = DB::Connection::connect_with(&self.options)
            .await
            .map_err(gone)?;
        if let Some(session) = self.session {
            conn.execute(session).await.map_err(gone)?;
        }
        Ok(conn)
    }

    /// Parks `lease`'s connection on this thread's stand.
    fn park(&self, mut lease: Lease<'_, DB>) {
        let Some(conn) = lease.conn.take() else {
            return;
        };
        let thread = std::thread::current().id();
        let parked = Parked {
            conn,
            since: Instant::now(),
        };
        let mut stands = self.lock();
        match stands.iter_mut().find(|stand| stand.thread == thread) {
            Some(stand) => stand.parked.push(parked),
            None => stands.push(Stand {
                thread,
                parked: vec![parked],
            }),
        }
    }

    /// Takes the parked connections `which` selects off every stand.
    fn take_parked(&self, which: impl Fn(&Parked<DB>) -> bool) -> Vec<DB::Connection> {
        let mut taken = Vec::new();
        for stand in self.lock().iter_mut() {
            let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut stand.parked)
                .into_iter()
                .partition(|parked| which(parked));
            stand.parked = kept;
            taken.extend(gone.into_iter().map(|parked| parked.conn));
        }
        taken
    }

    /// Closes `conns` (telling the server, where the runtime allows it).
    fn close(&self, conns: Vec<DB::Connection>) {
        if conns.is_empty() {
            return;
        }
        self.open.fetch_sub(conns.len(), Ordering::Relaxed);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for conn in conns {
                    drop(conn.close().await);
                }
            });
        }
    }

    fn figures(&self) -> (usize, usize) {
        let parked = self.lock().iter().map(|stand| stand.parked.len()).sum();
        (self.open.load(Ordering::Relaxed), parked)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Stand<DB>>> {
        self.stands.lock().unwrap_or_else(|p| p.into_inner())
    }
}
