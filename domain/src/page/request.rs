//! What a door asks a list for (`PageArgs`, unchecked) and what the list reads
//! (`PageRequest`, checked against the list's own limits).

use crate::DomainError;

/// Which way a page walks from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the start of the list, or from just after the cursor.
    Forward,
    /// From the end of the list, or from just before the cursor.
    Backward,
}

/// The size limits of one kind of list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: u64,
    pub max: u64,
}

impl PageLimits {
    /// `size`, or the default when it is absent; 400 naming `parameter` when it is
    /// outside `1..=max`.
    pub(crate) fn size(
        self,
        parameter: &'static str,
        size: Option<i64>,
    ) -> Result<u64, DomainError> {
        Ok(self.checked(parameter, size)?.unwrap_or(self.default))
    }

    fn checked(
        self,
        parameter: &'static str,
        size: Option<i64>,
    ) -> Result<Option<u64>, DomainError> {
        match size {
            None => Ok(None),
            Some(n) if (1..=self.max as i64).contains(&n) => Ok(Some(n as u64)),
            Some(n) => Err(DomainError::invalid(
                parameter,
                format!("must be between 1 and {} (got {n})", self.max),
            )),
        }
    }
}

/// A page as a client asked for it, in the shape of the door it came through.
/// Unchecked: the service that owns the list checks it against its limits.
#[derive(Debug, Clone)]
pub enum PageArgs {
    /// REST: `limit`, and at most one of `after` and `before`.
    Rest {
        limit: Option<i64>,
        after: Option<String>,
        before: Option<String>,
    },
    /// GraphQL Cursor Connections: `first`/`after` forward, `last`/`before` backward.
    Connection {
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
        /// Whether every item needs its own cursor (the client selected the edges'
        /// cursors), not just the first and the last (for `pageInfo`).
        each_cursor: bool,
    },
}

/// A page checked against its list's limits.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    pub limit: u64,
    pub direction: Direction,
    /// The cursor to continue from, with the parameter it came in (for error messages).
    pub cursor: Option<(&'static str, String)>,
    /// Whether every item needs its own cursor (GraphQL edges), not just the ends.
    pub each_cursor: bool,
}

impl PageArgs {
    /// Checks the arguments against `limits`.
    pub(crate) fn check(self, limits: PageLimits) -> Result<PageRequest, DomainError> {
        match self {
            Self::Rest {
                limit,
                after,
                before,
            } => rest(limits, limit, after, before),
            Self::Connection {
                first,
                after,
                last,
                before,
                each_cursor,
            } => Ok(PageRequest {
                each_cursor,
                ..connection(limits, first, after, last, before)?
            }),
        }
    }
}

fn rest(
    limits: PageLimits,
    limit: Option<i64>,
    after: Option<String>,
    before: Option<String>,
) -> Result<PageRequest, DomainError> {
    let limit = limits.size("limit", limit)?;
    match (after, before) {
        (Some(_), Some(_)) => Err(DomainError::invalid(
            "before",
            "`after` and `before` cannot be combined: page forward with `after` or backward with `before`",
        )),
        (None, Some(before)) => Ok(PageRequest {
            limit,
            direction: Direction::Backward,
            cursor: Some(("before", before)),
            each_cursor: false,
        }),
        (after, None) => Ok(PageRequest {
            limit,
            direction: Direction::Forward,
            cursor: after.map(|c| ("after", c)),
            each_cursor: false,
        }),
    }
}

fn connection(
    limits: PageLimits,
    first: Option<i64>,
    after: Option<String>,
    last: Option<i64>,
    before: Option<String>,
) -> Result<PageRequest, DomainError> {
    let first = limits.checked("first", first)?;
    let last = limits.checked("last", last)?;
    let (limit, direction, cursor) = match (first, after, last, before) {
        (Some(_), _, Some(_), _) => {
            return Err(DomainError::invalid(
                "last",
                "`first` and `last` cannot be combined",
            ));
        }
        (_, Some(_), _, Some(_)) => {
            return Err(DomainError::invalid(
                "before",
                "`after` and `before` cannot be combined",
            ));
        }
        (Some(_), _, None, Some(_)) => {
            return Err(DomainError::invalid(
                "before",
                "`before` pages backward: use it with `last`",
            ));
        }
        (None, Some(_), Some(_), None) => {
            return Err(DomainError::invalid(
                "after",
                "`after` pages forward: use it with `first`",
            ));
        }
        (None, None, Some(last), before) => {
            (last, Direction::Backward, before.map(|c| ("before", c)))
        }
        (None, None, None, Some(before)) => (
            limits.default,
            Direction::Backward,
            Some(("before", before)),
        ),
        (first, after, None, None) => (
            first.unwrap_or(limits.default),
            Direction::Forward,
            after.map(|c| ("after", c)),
        ),
    };
    Ok(PageRequest {
        limit,
        direction,
        cursor,
        each_cursor: false,
    })
}

impl PageRequest {
    /// The first page of a list, `limit` rows, for internal walks such as exports.
    pub(crate) fn first(limit: u64) -> Self {
        Self {
            limit,
            direction: Direction::Forward,
            cursor: None,
            each_cursor: false,
        }
    }

    /// The page after `cursor`, `limit` rows, for internal walks.
    pub(crate) fn after(limit: u64, cursor: String) -> Self {
        Self {
            cursor: Some(("after", cursor)),
            ..Self::first(limit)
        }
    }
}
