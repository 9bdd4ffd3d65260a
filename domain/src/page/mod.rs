//! One page of a keyset-paginated list: the request (size, direction, cursor) and the
//! result (items, their cursors, exact has-more flags on both sides). Lists never use
//! OFFSET: a page costs the same at any depth.

use sea_orm::sea_query::Order;
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, ModelTrait, QueryFilter, QueryOrder,
    QueryTrait, Select, Value,
};

use crate::DomainError;
use crate::sql::past;

/// Which way a page walks from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the start of the list, or from just after the cursor.
    Forward,
    /// From the end of the list, or from just before the cursor.
    Backward,
}

/// The size limits of one kind of list.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default: u64,
    pub max: u64,
}

/// Directory, accounts, audit and conversation lists.
pub const LIST_LIMITS: PageLimits = PageLimits {
    default: 20,
    max: 100,
};

/// A validated request for one page.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u64,
    pub direction: Direction,
    /// The cursor to continue from, with the parameter it came in (for error messages).
    pub cursor: Option<(&'static str, String)>,
    /// Whether every item needs its own cursor (GraphQL edges), not just the ends.
    pub each_cursor: bool,
}

impl PageRequest {
    /// The REST form: `limit`, and at most one of `after` and `before`.
    pub fn rest(
        limits: PageLimits,
        limit: Option<i64>,
        after: Option<String>,
        before: Option<String>,
    ) -> Result<Self, DomainError> {
        let limit = check_size(limits, "limit", limit)?.unwrap_or(limits.default);
        match (after, before) {
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "before",
                "`after` and `before` cannot be combined: page forward with `after` or backward with `before`",
            )),
            (None, Some(before)) => Ok(Self {
                limit,
                direction: Direction::Backward,
                cursor: Some(("before", before)),
                each_cursor: false,
            }),
            (after, None) => Ok(Self {
                limit,
                direction: Direction::Forward,
                cursor: after.map(|c| ("after", c)),
                each_cursor: false,
            }),
        }
    }

    /// The GraphQL Cursor Connections form: `first`/`after` forward, `last`/`before` backward.
    pub fn connection(
        limits: PageLimits,
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> Result<Self, DomainError> {
        let first = check_size(limits, "first", first)?;
        let last = check_size(limits, "last", last)?;
        match (first, after, last, before) {
            (Some(_), _, Some(_), _) => Err(DomainError::invalid(
                "last",
                "`first` and `last` cannot be combined",
            )),
            (_, Some(_), _, Some(_)) => Err(DomainError::invalid(
                "before",
                "`after` and `before` cannot be combined",
            )),
            (Some(_), _, None, Some(_)) => Err(DomainError::invalid(
                "before",
                "`before` pages backward: use it with `last`",
            )),
            (None, Some(_), Some(_), None) => Err(DomainError::invalid(
                "after",
                "`after` pages forward: use it with `first`",
            )),
            (None, None, Some(last), before) => Ok(Self {
                limit: last,
                direction: Direction::Backward,
                cursor: before.map(|c| ("before", c)),
                each_cursor: true,
            }),
            (None, None, None, Some(before)) => Ok(Self {
                limit: limits.default,
                direction: Direction::Backward,
                cursor: Some(("before", before)),
                each_cursor: true,
            }),
            (first, after, None, None) => Ok(Self {
                limit: first.unwrap_or(limits.default),
                direction: Direction::Forward,
                cursor: after.map(|c| ("after", c)),
                each_cursor: true,
            }),
        }
    }

    /// The first page of a list, `limit` rows, for internal walks such as exports.
    pub fn first(limit: u64) -> Self {
        Self {
            limit,
            direction: Direction::Forward,
            cursor: None,
            each_cursor: false,
        }
    }

    /// Opens the cursor, if any, with `key` for `scope`.
    pub(crate) fn position<T: serde::de::DeserializeOwned>(
        &self,
        key: &crate::cursor::CursorKey,
        scope: &str,
    ) -> Result<Option<T>, DomainError> {
        self.cursor
            .as_ref()
            .map(|(parameter, token)| key.open(scope, parameter, token))
            .transpose()
    }
}

fn check_size(
    limits: PageLimits,
    parameter: &'static str,
    size: Option<i64>,
) -> Result<Option<u64>, DomainError> {
    match size {
        None => Ok(None),
        Some(n) if (1..=limits.max as i64).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(DomainError::invalid(
            parameter,
            format!("must be between 1 and {} (got {n})", limits.max),
        )),
    }
}

/// One page of a list, in the list's declared order whichever way it was walked.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// With `PageRequest::each_cursor`, `cursors[i]` continues the list from
    /// `items[i]`; otherwise only the first and the last item's cursors are here.
    pub cursors: Vec<String>,
    /// Rows exist after the last item.
    pub has_next: bool,
    /// Rows exist before the first item.
    pub has_prev: bool,
}

impl<T> Page<T> {
    /// A page of `rows` in list order answering `request`: every row gets its cursor
    /// when the request wants them all (connections), else only the first and the last
    /// (all a REST page links to; signing cursors nobody uses is wasted work).
    pub(crate) fn new(
        request: &PageRequest,
        rows: Vec<T>,
        has_next: bool,
        has_prev: bool,
        cursor_of: impl Fn(&T) -> String,
    ) -> Self {
        let cursors = match (request.each_cursor, rows.first(), rows.last()) {
            (true, _, _) => rows.iter().map(cursor_of).collect(),
            (false, Some(first), Some(last)) if rows.len() > 1 => {
                vec![cursor_of(first), cursor_of(last)]
            }
            (false, Some(only), _) => vec![cursor_of(only)],
            _ => Vec::new(),
        };
        Self {
            cursors,
            items: rows,
            has_next,
            has_prev,
        }
    }

    /// Cursor of the first item, to page backward from.
    pub fn start_cursor(&self) -> Option<&str> {
        self.cursors.first().map(String::as_str)
    }

    /// Cursor of the last item, to page forward from.
    pub fn end_cursor(&self) -> Option<&str> {
        self.cursors.last().map(String::as_str)
    }

    /// The same page with every item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            cursors: self.cursors,
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }

    /// The same page with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            cursors: self.cursors,
            has_next: self.has_next,
            has_prev: self.has_prev,
        })
    }
}

/// The key a list is ordered by: a sort column, then the id as tie-breaker (the two
/// may be the same column when the id alone orders the list).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyset<C> {
    pub sort: C,
    pub id: C,
    /// Whether the list's declared order is ascending.
    pub ascending: bool,
}

/// Rows of one page, in list order, with exact flags on both sides.
pub(crate) struct Rows<M> {
    pub rows: Vec<M>,
    pub has_next: bool,
    pub has_prev: bool,
}

/// Reads one page of `select` ordered by `keys`, continuing from `position` (the sort
/// and id values of the cursor's row). Reads `limit + 1` rows past the cursor, so the
/// flag on the side it walks toward needs no count, and starts at the cursor's own row:
/// when that row still exists it proves rows lie behind, so a deep page is one
/// statement like the first. Only when it was deleted meanwhile does one index probe
/// decide the flag behind.
pub(crate) async fn read_page<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    keys: Keyset<E::Column>,
    position: Option<(Value, Value)>,
    page: &PageRequest,
) -> Result<Rows<E::Model>, DomainError> {
    read_page_as(db, select, keys, position, page, |row: &E::Model| {
        (row.get(keys.sort), row.get(keys.id))
    })
    .await
}

/// `read_page` for rows of type `R` rather than the entity's model (for a `select` with
/// columns of its own), whose key values `key_of` reads.
pub(crate) async fn read_page_as<E: EntityTrait, R: FromQueryResult>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    keys: Keyset<E::Column>,
    position: Option<(Value, Value)>,
    page: &PageRequest,
    key_of: impl Fn(&R) -> (Value, Value),
) -> Result<Rows<R>, DomainError> {
    let forward = page.direction == Direction::Forward;
    let walk = |forward: bool, inclusive: bool| {
        let ascending = keys.ascending == forward;
        let mut select = select.clone();
        if let Some((sort, id)) = &position {
            select = select.filter(past(
                keys.sort,
                keys.id,
                sort.clone(),
                id.clone(),
                ascending,
                inclusive,
            ));
        }
        let order = if ascending { Order::Asc } else { Order::Desc };
        select
            .order_by(keys.sort, order.clone())
            .order_by(keys.id, order)
    };
    let mut rows: Vec<R> = match &position {
        None => first_rows(db, walk(forward, false), page.limit + 1).await?,
        Some(_) => first_rows(db, walk(forward, true), page.limit + 2).await?,
    };
    let anchor_found = match (&position, rows.first()) {
        (Some(anchor), Some(first)) => key_of(first) == *anchor,
        _ => false,
    };
    if anchor_found {
        rows.remove(0);
    }
    let more_ahead = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    let more_behind = match position {
        None => false,
        Some(_) if anchor_found => true,
        // The cursor's row is gone: is anything left on its side?
        Some(_) => !first_rows::<E, R>(db, walk(!forward, true), 1)
            .await?
            .is_empty(),
    };
    if forward {
        Ok(Rows {
            rows,
            has_next: more_ahead,
            has_prev: more_behind,
        })
    } else {
        rows.reverse();
        Ok(Rows {
            rows,
            has_next: more_behind,
            has_prev: more_ahead,
        })
    }
}

/// The first `count` rows of `select`. The count is written into the SQL instead of
/// being bound: PostgreSQL cannot reuse one plan for a bound LIMIT (its generic plan
/// assumes a tenth of the table), so it planned the statement anew on every page,
/// which cost the first page a fifth of its throughput (`bench/directory.sh`).
async fn first_rows<E: EntityTrait, R: FromQueryResult>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    count: u64,
) -> Result<Vec<R>, DbErr> {
    let mut statement = select.build(db.get_database_backend());
    statement.sql.push_str(&format!(" LIMIT {count}"));
    R::find_by_statement(statement).all(db).await
}
