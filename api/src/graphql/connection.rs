//! The GraphQL Cursor Connections shape shared by every list (`edges`, `nodes`,
//! `pageInfo`, plus any extra fields such as `totalCount`), built from a domain `Page`.

use async_graphql::connection::{self, Edge, EmptyFields};
use async_graphql::{ObjectType, OutputType};
use domain::page::{Page, PageArgs};

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

/// The domain's page arguments from Cursor Connections arguments.
pub(crate) fn connection_page(
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
    }
}
