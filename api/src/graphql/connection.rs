//! The GraphQL Cursor Connections shape shared by every list (`edges`, `nodes`,
//! `pageInfo`, plus any extra fields such as `totalCount`), built from a domain `Page`.

use async_graphql::connection::{self, Edge, EmptyFields};
use async_graphql::{ObjectType, OutputType};
use domain::page::{Page, PageLimits, PageRequest};

use super::graphql_error;

/// A connection over `T` with opaque string cursors.
pub type Connection<T, Fields = EmptyFields> = connection::Connection<String, T, Fields>;

/// The connection of a domain page, each item converted, with `fields` added.
pub fn connection_of<D, T: OutputType, Fields: ObjectType>(
    page: Page<D>,
    convert: impl Fn(D) -> T,
    fields: Fields,
) -> Connection<T, Fields> {
    let mut connection = Connection::with_additional_fields(page.has_prev, page.has_next, fields);
    connection.edges.extend(
        page.cursors
            .into_iter()
            .zip(page.items)
            .map(|(cursor, item)| Edge::new(cursor, convert(item))),
    );
    connection
}

/// A page request from Cursor Connections arguments, checked by the domain's rules.
pub(crate) fn connection_page(
    limits: PageLimits,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<PageRequest> {
    PageRequest::connection(
        limits,
        first.map(i64::from),
        after,
        last.map(i64::from),
        before,
    )
    .map_err(graphql_error)
}
