//! The pager: checks a client's page arguments against a list's limits, opens the
//! cursor it continues from, reads the rows and seals the cursors of the page.

use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, Select, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keyset::{Keyset, read_rows};
use super::{Page, PageArgs, PageLimits, PageRequest};
use crate::DomainError;
use crate::cursor::CursorKey;

/// What a list's cursor holds: the values of the row it points at.
pub(crate) trait Position: Serialize + DeserializeOwned {
    /// The row's sort and id values, in the list's key order.
    fn key(&self) -> (Value, Value);
}

/// Rows of one page, in list order, with exact flags on both sides.
pub(crate) struct Rows<R> {
    pub rows: Vec<R>,
    pub has_next: bool,
    pub has_prev: bool,
}

/// The paging of one list: its size limits, and the key and scope its cursors are
/// sealed with (a cursor opens only in the list, and with the filters, it came from).
pub(crate) struct Pager<'a> {
    pub cursors: &'a CursorKey,
    pub scope: &'a str,
    pub limits: PageLimits,
}

impl Pager<'_> {
    /// The page `args` ask for, read from `select` in the order of `keys`; each row's
    /// cursor holds `position_of(row)`.
    pub(crate) async fn read<E: EntityTrait, R: FromQueryResult, P: Position>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        keys: Keyset<E::Column>,
        args: PageArgs,
        position_of: impl Fn(&R) -> P,
    ) -> Result<Page<R>, DomainError> {
        let request = self.check(args)?;
        self.read_checked(db, select, keys, &request, position_of)
            .await
    }

    /// [`Pager::read`] for a request already checked (internal walks such as exports).
    pub(crate) async fn read_checked<E: EntityTrait, R: FromQueryResult, P: Position>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        keys: Keyset<E::Column>,
        request: &PageRequest,
        position_of: impl Fn(&R) -> P,
    ) -> Result<Page<R>, DomainError> {
        let position: Option<P> = self.open(request)?;
        let rows = read_rows(
            db,
            select,
            keys,
            position.map(|p| p.key()),
            request,
            |row| position_of(row).key(),
        )
        .await?;
        Ok(self.seal(request, rows, position_of))
    }

    /// `args` checked against this list's limits.
    pub(crate) fn check(&self, args: PageArgs) -> Result<PageRequest, DomainError> {
        args.check(self.limits)
    }

    /// The position the request's cursor holds, if it has one; `invalid_cursor`
    /// naming its parameter when it was not sealed for this list.
    pub(crate) fn open<P: DeserializeOwned>(
        &self,
        request: &PageRequest,
    ) -> Result<Option<P>, DomainError> {
        request
            .cursor
            .as_ref()
            .map(|(parameter, token)| self.cursors.open(self.scope, parameter, token))
            .transpose()
    }

    /// The page of `rows` answering `request`: every row gets its cursor when the
    /// request wants them all (connections), else only the first and the last (all a
    /// REST page links to; signing cursors nobody uses is wasted work).
    pub(crate) fn seal<R, P: Serialize>(
        &self,
        request: &PageRequest,
        rows: Rows<R>,
        position_of: impl Fn(&R) -> P,
    ) -> Page<R> {
        let cursor_of = |row: &R| self.cursors.seal(self.scope, &position_of(row));
        let Rows {
            rows,
            has_next,
            has_prev,
        } = rows;
        let cursors = match (request.each_cursor, rows.first(), rows.last()) {
            (true, _, _) => rows.iter().map(cursor_of).collect(),
            (false, Some(first), Some(last)) if rows.len() > 1 => {
                vec![cursor_of(first), cursor_of(last)]
            }
            (false, Some(only), _) => vec![cursor_of(only)],
            _ => Vec::new(),
        };
        Page {
            items: rows,
            cursors,
            has_next,
            has_prev,
        }
    }
}
