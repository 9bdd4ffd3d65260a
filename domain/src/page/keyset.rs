//! Reading one keyset page of rows with exact flags on both sides.

use sea_orm::sea_query::Order;
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Select, Value,
};

use super::{Direction, PageRequest, Rows};
use crate::DomainError;
use crate::sql::{first_rows, past};

/// The key a list is ordered by: a sort column, then the id as tie-breaker (the two
/// may be the same column when the id alone orders the list).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyset<C> {
    pub sort: C,
    pub id: C,
    /// Whether the list's declared order is ascending.
    pub ascending: bool,
}

/// Reads the rows of one page of `select` ordered by `keys`, continuing from
/// `position` (the sort and id values of the cursor's row; `key_of` reads them from
/// a row). Reads `limit + 1` rows past the cursor, so the flag on the side it walks
/// toward needs no count, and starts at the cursor's own row: when that row still
/// exists it proves rows lie behind, so a deep page is one statement like the first.
/// Only when it was deleted meanwhile does one index probe decide the flag behind.
pub(super) async fn read_rows<E: EntityTrait, R: FromQueryResult>(
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
