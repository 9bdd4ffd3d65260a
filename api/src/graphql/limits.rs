//! Limits on what one GraphQL request may ask for, beyond async-graphql's complexity
//! check: depth (`depth`), aliases per document and operations per batch. Every refusal,
//! the built-in ones included, carries a stable `extensions.code`.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    BatchRequest, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use super::documents::{ValidationKey, Validations};
use crate::codes;

/// Most aliased fields a document may contain: aliases let one request run the
/// same field many times (`a1: login(...) a2: login(...)`), which the complexity
/// limit only partly bounds.
pub const MAX_ALIASES: usize = 30;

/// Most operations in one batch (a JSON array of requests).
pub const MAX_BATCH: usize = 10;

/// A GraphQL error with a `code` extension.
pub(super) fn coded(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// The answer to a batch over `MAX_BATCH`, or `None` when the batch may run.
pub fn refuse_large_batch(batch: &BatchRequest) -> Option<Response> {
    match batch {
        BatchRequest::Batch(requests) if requests.len() > MAX_BATCH => {
            Some(Response::from_errors(vec![coded(
                format!(
                    "a batch may hold at most {MAX_BATCH} operations; this one has {}",
                    requests.len()
                ),
                codes::BATCH_TOO_LARGE,
            )]))
        }
        _ => None,
    }
}

/// The answer to a request that costs more than `cost::MAX_REQUEST_COST`.
pub fn too_costly(cost: u64) -> Response {
    Response::from_errors(vec![coded(
        format!(
            "this request costs {cost} points; at most {} are allowed (pages count once per row asked for, totalCount {} each; a batch sums its operations)",
            super::cost::MAX_REQUEST_COST,
            super::cost::TOTAL_COUNT_COST
        ),
        codes::QUERY_TOO_COMPLEX,
    )])
}

/// The answer that replaces a response over `MAX_RESPONSE_BYTES`.
pub fn too_large(bytes: usize) -> Response {
    Response::from_errors(vec![coded(
        format!(
            "the response would be {bytes} bytes; at most {} are sent: ask for smaller pages",
            super::MAX_RESPONSE_BYTES
        ),
        codes::RESPONSE_TOO_LARGE,
    )])
}

/// Installs the alias limit and codes the parser's and validator's own refusals.
pub struct QueryLimits;

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimitsExtension)
    }
}

struct QueryLimitsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for QueryLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|err| {
            // The parser's own nesting bound (async-graphql-parser) is a depth limit too.
            let code = if err.message.starts_with("The recursion depth of the query") {
                codes::QUERY_TOO_DEEP
            } else {
                codes::INVALID_QUERY
            };
            with_code(err, code)
        })?;
        if super::depth::too_deep(&document) {
            return Err(coded(
                format!(
                    "Query is nested too deep: at most {} fields ({} inside introspection)",
                    super::depth::MAX_DEPTH,
                    super::depth::MAX_INTROSPECTION_DEPTH
                ),
                codes::QUERY_TOO_DEEP,
            ));
        }
        let aliases = count_aliases(&document);
        if aliases > MAX_ALIASES {
            return Err(coded(
                format!("a query may use at most {MAX_ALIASES} aliases; this one uses {aliases}"),
                codes::TOO_MANY_ALIASES,
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let kept = ctx
            .data_opt::<Validations>()
            .zip(ctx.data_opt::<ValidationKey>());
        if let Some(result) = kept.and_then(|(validations, key)| validations.get(key)) {
            return Ok(result);
        }
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|err| {
                    // async-graphql's wording of its complexity limit (validation/mod.rs).
                    let code = match err.message.as_str() {
                        "Query is too complex." => codes::QUERY_TOO_COMPLEX,
                        _ => codes::INVALID_QUERY,
                    };
                    with_code(err, code)
                })
                .collect::<Vec<_>>()
        })?;
        if let Some((validations, key)) = kept {
            validations.keep(key, result);
        }
        Ok(result)
    }
}

/// `err` with `code`, unless it already has one.
fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let extensions = err.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    err
}

/// Aliased fields in every operation and fragment of `document`, each counted once
/// where it is written.
fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations = document
        .operations
        .iter()
        .map(|(_, operation)| aliases_in(&operation.node.selection_set.node));
    let fragments = document
        .fragments
        .values()
        .map(|fragment| aliases_in(&fragment.node.selection_set.node));
    operations.chain(fragments).sum()
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}
