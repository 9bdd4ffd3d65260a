//! Objects answered in one pass when a query selects only their plain fields.
//!
//! async-graphql resolves every field of every object as a boxed future of its own,
//! through the extension chain, with a registry lookup and a type name built for each.
//! For a page of twenty therapists with a dozen fields each, that is most of what a
//! GraphQL page costs beyond REST (see bench/README.md). A type whose fields are plain
//! values can say what each field is ([`PlainFields`]); wrapped in [`Plain`], a
//! selection of nothing but such fields (and `__typename`) is answered straight from
//! the value. Anything else (fragments, directives, a field it does not name) takes
//! the ordinary path, so the answer is the same either way.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

/// A GraphQL object whose fields are plain values.
pub trait PlainFields: OutputType {
    /// The value of field `name` as the object's own resolver would answer it, or
    /// `None` for a field that must be resolved the ordinary way.
    fn plain_field(&self, name: &str) -> Option<Value>;
}

/// `T` as GraphQL sees it, answered in one pass where it can be.
pub struct Plain<T>(pub T);

/// An item of a connection's lists, which answer in one pass when every item can.
pub trait OnePass: OutputType {
    /// The item as `ctx` selects it, or `None` when it must be resolved the ordinary
    /// way (by default, always).
    fn in_one_pass(&self, _ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        None
    }
}

impl<T: PlainFields> OnePass for Plain<T> {
    fn in_one_pass(&self, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        self.plain_object(ctx)
    }
}

impl<T: PlainFields> OutputType for Plain<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self.plain_object(ctx) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

impl<T: PlainFields> Plain<T> {
    fn plain_object(&self, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        object_in_one_pass(ctx, |field| {
            if !field.selection_set.node.items.is_empty() {
                return None;
            }
            match field.name.node.as_str() {
                "__typename" => Some(Value::String(self.0.introspection_type_name().into_owned())),
                name => self.0.plain_field(name),
            }
        })
    }
}

/// The object `ctx` selects, each field's value from `value_of`, when the selection is
/// fields only, without directives, each key once, and `value_of` answers every field;
/// otherwise `None`, and the ordinary path answers.
pub(super) fn object_in_one_pass<'a>(
    ctx: &ContextSelectionSet<'a>,
    value_of: impl Fn(&'a Field) -> Option<Value>,
) -> Option<Value> {
    let set = ctx.item;
    let mut object = async_graphql::indexmap::IndexMap::with_capacity(set.node.items.len());
    for selection in &set.node.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() {
            return None;
        }
        let value = value_of(field)?;
        let key: &Name = &field.response_key().node;
        // A key selected twice is merged by the ordinary path; leave it to that.
        if object.insert(key.clone(), value).is_some() {
            return None;
        }
    }
    Some(Value::Object(object))
}
