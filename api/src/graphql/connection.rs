//! The GraphQL Cursor Connections shape shared by every list (`edges`, `nodes`,
//! `pageInfo`, plus any extra fields such as `totalCount`), built from a domain `Page`.

use async_graphql::connection::{self, Edge, EmptyFields};
use async_graphql::{Context, Lookahead, ObjectType, OutputType};
use domain::page::{Page, PageArgs};

/// A connection over `T` with opaque string cursors.
pub type Connection<T, Fields = EmptyFields> = connection::Connection<String, T, Fields>;

/// The connection of a domain page, each item converted, with `fields` added. A page
/// read without each item's cursor (nobody selected `edges { cursor }`) gives its
/// inner edges an empty one, never sent.
pub fn connection_of<D, T: OutputType, Fields: ObjectType>(
    page: Page<D>,
    convert: impl Fn(D) -> T,
    fields: Fields,
) -> Connection<T, Fields> {
    let mut connection = Connection::with_additional_fields(page.has_prev, page.has_next, fields);
    let each_cursor = page.cursors.len() == page.items.len();
    let last = page.items.len().saturating_sub(1);
    let mut cursors = page.cursors.into_iter();
    connection
        .edges
        .extend(page.items.into_iter().enumerate().map(|(index, item)| {
            let cursor = if each_cursor || index == 0 || index == last {
                cursors.next().unwrap_or_default()
            } else {
                String::new()
            };
            Edge::new(cursor, convert(item))
        }));
    connection
}

/// The domain's page arguments from Cursor Connections arguments; each item's cursor
/// is signed only when the query selects `edges { cursor }`.
pub(crate) fn connection_page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    connection_page_of(ctx.look_ahead(), first, after, last, before)
}

/// The page a connection field asks for, `selection` being what it selects.
pub(crate) fn connection_page_of(
    selection: Lookahead<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs::Connection {
        first: first.map(i64::from),
        after,
        last: last.map(i64::from),
        before,
        each_cursor: selection.field("edges").field("cursor").exists(),
    }
}
