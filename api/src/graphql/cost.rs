//! What a GraphQL request costs, computed from its documents before anything runs,
//! and the per-client budget it is charged to (in the spirit of GitHub's points).
//!
//! Depth, complexity and alias limits each bound one dimension of one operation; a
//! batch of ten operations, each with thirty aliased pages of a hundred rows and a
//! `totalCount`, respects them all and still costs seconds. The cost here multiplies
//! what a page selects by the rows it asks for, counts `totalCount` as the scan it
//! is, and sums over the batch: a request over [`MAX_REQUEST_COST`] is refused whole
//! (`query_too_complex`), and one within it is charged to its client, whose budget
//! refills at a configured number of points per minute (`rate_limited`, HTTP 429
//! with `Retry-After`, when spent).

use std::num::NonZeroU32;
use std::sync::Arc;

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{BatchRequest, Name, Value};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Most points one HTTP request (a whole batch) may cost.
pub const MAX_REQUEST_COST: u64 = 10_000;
/// What `totalCount` costs: a count over every matching row, not one page.
pub const TOTAL_COUNT_COST: u64 = 100;
/// Rows a paged field returns when the request does not say.
const DEFAULT_PAGE_ROWS: u64 = 20;
/// Fragment spreads followed inside one another before the walk stops counting
/// deeper (valid documents have no cycles; invalid ones are refused later anyway).
const MAX_SPREAD_DEPTH: usize = 16;
/// Keys kept before idle ones are pruned, so memory stays bounded.
const PRUNE_ABOVE: usize = 10_000;

/// The fields of a page that hold its rows.
const ROW_FIELDS: [&str; 3] = ["edges", "nodes", "items"];

/// Fields that return a page, and the arguments that say how many rows. Every field
/// of the schema that returns a connection or a window must be here (a test reads
/// the schema and checks).
pub(crate) const PAGED_FIELDS: [(&str, &[&str]); 8] = [
    ("therapists", &["first", "last"]),
    ("accounts", &["first", "last"]),
    ("auditEntries", &["first", "last"]),
    ("myAccessLog", &["first", "last"]),
    ("accessLog", &["first", "last"]),
    ("conversations", &["first", "last"]),
    ("messages", &["first", "last"]),
    ("messagesAround", &["older", "newer"]),
];

/// The cost of every operation of every request in `batch`, summed; once the sum
/// passes [`MAX_REQUEST_COST`] the rest is not even parsed (an attack is refused for
/// the price of its first expensive document).
pub fn of_batch(batch: &mut BatchRequest) -> u64 {
    let requests: Vec<&mut async_graphql::Request> = match batch {
        BatchRequest::Single(request) => vec![request],
        BatchRequest::Batch(requests) => requests.iter_mut().collect(),
    };
    let mut total: u64 = 0;
    for request in requests {
        let variables = request.variables.clone();
        // Parsed once: the schema reuses the document. One that does not parse is
        // refused by the schema as `invalid_query` and costs nothing here.
        let cost = request
            .parsed_query()
            .map(|document| of_document(document, &variables))
            .unwrap_or(0);
        total = total.saturating_add(cost);
        if total > MAX_REQUEST_COST {
            break;
        }
    }
    total
}

fn of_document(document: &ExecutableDocument, variables: &Variables) -> u64 {
    let walk = Walk {
        document,
        variables,
    };
    document
        .operations
        .iter()
        .map(|(_, operation)| walk.set(&operation.node.selection_set.node, 1, 0))
        .fold(0, u64::saturating_add)
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
}

impl Walk<'_> {
    /// The cost of `set`, where the fields that hold a page's rows (`edges`, `nodes`,
    /// `items`) count `rows` times; the rest (`pageInfo`, `totalCount`) once.
    fn set(&self, set: &SelectionSet, rows: u64, spreads: usize) -> u64 {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    let once = self.field(&field.node, spreads);
                    if ROW_FIELDS.contains(&field.node.name.node.as_str()) {
                        once.saturating_mul(rows)
                    } else {
                        once
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node, rows, spreads)
                }
                Selection::FragmentSpread(spread) if spreads < MAX_SPREAD_DEPTH => self
                    .document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .map_or(0, |fragment| {
                        self.set(&fragment.node.selection_set.node, rows, spreads + 1)
                    }),
                Selection::FragmentSpread(_) => 0,
            })
            .fold(0, u64::saturating_add)
    }

    fn field(&self, field: &Field, spreads: usize) -> u64 {
        let name = field.name.node.as_str();
        if name == "totalCount" {
            return TOTAL_COUNT_COST;
        }
        let rows = PAGED_FIELDS
            .iter()
            .find(|(paged, _)| *paged == name)
            .map_or(1, |(_, size_arguments)| self.rows(field, size_arguments));
        self.set(&field.selection_set.node, rows, spreads)
            .saturating_add(1)
    }

    /// Rows a paged field asks for: the sum of its size arguments, or the default.
    fn rows(&self, field: &Field, size_arguments: &[&str]) -> u64 {
        let given: Vec<u64> = size_arguments
            .iter()
            .filter_map(|argument| field.get_argument(argument))
            .filter_map(|value| {
                let value = value
                    .node
                    .clone()
                    .into_const_with(|name: Name| self.variables.get(&name).cloned().ok_or(()))
                    .ok()?;
                match value {
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                }
            })
            .collect();
        if given.is_empty() {
            DEFAULT_PAGE_ROWS
        } else {
            given.into_iter().fold(0, u64::saturating_add)
        }
    }
}

/// Points each client may spend per minute; shared by the workers of a node.
#[derive(Clone)]
pub struct Budget(Option<Arc<DefaultKeyedRateLimiter<String>>>);

impl Budget {
    /// `points_per_minute` per client (also the most it may spend at once); 0 turns
    /// the budget off.
    pub fn new(points_per_minute: u32) -> Self {
        let Some(points) = NonZeroU32::new(points_per_minute) else {
            return Self(None);
        };
        Self(Some(Arc::new(RateLimiter::hashmap(Quota::per_minute(
            points,
        )))))
    }

    /// Charges `cost` to `client`; `Err(seconds to wait)` when its budget cannot pay.
    pub fn charge(&self, client: &str, cost: u64) -> Result<(), u64> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        let Some(cost) = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX)) else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        match limiter.check_key_n(&client.to_owned(), cost) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(crate::rate_limit::seconds_until(&not_until)),
            // More than a whole minute's budget: it can never pass.
            Err(_) => Err(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let request = async_graphql::Request::new(query).variables(Variables::from_json(variables));
        of_batch(&mut BatchRequest::Single(request))
    }

    #[test]
    fn pages_multiply_what_they_select_and_total_counts_are_scans() {
        let page = "{ therapists(first: 10) { nodes { id displayName } } }";
        // therapists: 1 + 10 × (nodes: 1 + id + displayName)
        assert_eq!(cost(page, serde_json::Value::Null), 1 + 10 * 3);
        let by_variable = "query($n: Int) { therapists(first: $n) { nodes { id } } }";
        assert_eq!(
            cost(by_variable, serde_json::json!({ "n": 50 })),
            1 + 50 * 2
        );
        assert_eq!(cost(by_variable, serde_json::json!({})), 1 + 20 * 2);
        let counted = "{ therapists { totalCount pageInfo { hasNextPage } } }";
        assert_eq!(
            cost(counted, serde_json::Value::Null),
            1 + TOTAL_COUNT_COST + 2
        );
        let fragment =
            "{ therapists(first: 2) { ...f } } fragment f on TherapistConnection { nodes { id } }";
        assert_eq!(cost(fragment, serde_json::Value::Null), 1 + 2 * 2);
    }

    #[test]
    fn every_paged_field_of_the_schema_is_costed_by_its_rows() {
        let sdl = super::super::sdl();
        let paged: Vec<&str> = sdl
            .lines()
            .map(str::trim)
            .filter(|line| line.ends_with("Connection!") || line.ends_with("MessageWindow!"))
            .filter_map(|line| line.split(['(', ':']).next())
            .collect();
        assert!(paged.len() >= PAGED_FIELDS.len(), "{paged:?}");
        for field in paged {
            assert!(
                PAGED_FIELDS.iter().any(|(name, _)| *name == field),
                "{field} returns a page but is not in PAGED_FIELDS"
            );
        }
    }
}
