//! The GraphQL Cursor Connections shape shared by every list (`edges`, `nodes`,
//! `pageInfo`, plus any extra fields such as `totalCount`), built from a domain `Page`.
//!
//! The shape is async-graphql's (`{T}Connection`, `{T}Edge`, its `PageInfo`), but its
//! lists are answered in one pass where their items allow it (see `plain`): a list
//! resolved the ordinary way costs a future, an extension call and two type names
//! formatted per item (bench/README.md, chat windows, 23:41).

use std::borrow::Cow;

use async_graphql::connection::{EmptyFields, PageInfo};
use async_graphql::parser::types::Field;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{
    Context, ContextSelectionSet, Lookahead, Object, ObjectType, OutputType, Positioned,
    ServerResult, TypeName, Value, registry,
};
use domain::page::{Page, PageArgs};

use super::plain::{OnePass, object_in_one_pass};

/// A page of `T` with opaque string cursors and `Fields` beside the standard ones.
pub struct Connection<T, Fields = EmptyFields> {
    edges: Vec<Edge<T>>,
    has_previous_page: bool,
    has_next_page: bool,
    fields: Fields,
}

/// One item of a page with its cursor.
pub struct Edge<T> {
    node: T,
    cursor: String,
}

impl<T: OutputType, Fields: Send + Sync> TypeName for Connection<T, Fields> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", T::type_name()).into()
    }
}

impl<T: OutputType> TypeName for Edge<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", T::type_name()).into()
    }
}

#[Object(name_type)]
impl<T: OnePass, Fields: ObjectType> Connection<T, Fields> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.edges.last().map(|edge| edge.cursor.clone()),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> Edges<'_, T> {
        Edges(&self.edges)
    }

    /// A list of nodes.
    async fn nodes(&self) -> Nodes<'_, T> {
        Nodes(&self.edges)
    }

    #[graphql(flatten)]
    async fn additional_fields(&self) -> &Fields {
        &self.fields
    }
}

/// An edge in a connection.
#[Object(name_type)]
impl<T: OnePass> Edge<T> {
    /// The item at the end of the edge
    async fn node(&self) -> &T {
        &self.node
    }

    /// A cursor for use in pagination
    async fn cursor(&self) -> &str {
        &self.cursor
    }
}

/// `nodes`: `[T!]!`, in one pass when every item allows it.
pub struct Nodes<'a, T>(&'a [Edge<T>]);

/// `edges`: `[{T}Edge!]!`, in one pass when every item allows it.
pub struct Edges<'a, T>(&'a [Edge<T>]);

impl<T: OnePass> OutputType for Nodes<'_, T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let nodes = || self.0.iter().map(|edge| &edge.node);
        match nodes().map(|node| node.in_one_pass(ctx)).collect() {
            Some(values) => Ok(Value::List(values)),
            None => resolve_list(ctx, field, nodes(), Some(self.0.len())).await,
        }
    }
}

impl<T: OnePass> OutputType for Edges<'_, T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<Edge<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<Edge<T>>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        Vec::<Edge<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let type_name = <Edge<T> as TypeName>::type_name();
        match self
            .0
            .iter()
            .map(|edge| edge.in_one_pass(ctx, &type_name))
            .collect()
        {
            Some(values) => Ok(Value::List(values)),
            None => resolve_list(ctx, field, self.0, Some(self.0.len())).await,
        }
    }
}

impl<T: OnePass> Edge<T> {
    /// The edge as `ctx` selects it, when that is `node` (itself in one pass),
    /// `cursor` and `__typename` only.
    fn in_one_pass(&self, ctx: &ContextSelectionSet<'_>, type_name: &str) -> Option<Value> {
        object_in_one_pass(ctx, |field| match field.name.node.as_str() {
            "node" => self
                .node
                .in_one_pass(&ctx.with_selection_set(&field.selection_set)),
            "cursor" => Some(Value::String(self.cursor.clone())),
            "__typename" => Some(Value::String(type_name.to_owned())),
            _ => None,
        })
    }
}

/// The connection of a domain page, each item converted, with `fields` added. A page
/// read without each item's cursor (nobody selected `edges { cursor }`) gives its
/// inner edges an empty one, never sent.
pub fn connection_of<D, T: OutputType, Fields: ObjectType>(
    page: Page<D>,
    convert: impl Fn(D) -> T,
    fields: Fields,
) -> Connection<T, Fields> {
    let each_cursor = page.cursors.len() == page.items.len();
    let last = page.items.len().saturating_sub(1);
    let mut cursors = page.cursors.into_iter();
    let edges = page
        .items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let cursor = if each_cursor || index == 0 || index == last {
                cursors.next().unwrap_or_default()
            } else {
                String::new()
            };
            Edge {
                node: convert(item),
                cursor,
            }
        })
        .collect();
    Connection {
        edges,
        has_previous_page: page.has_prev,
        has_next_page: page.has_next,
        fields,
    }
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
