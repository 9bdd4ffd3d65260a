//! How deeply a query nests its fields. Ordinary queries may nest 12 fields deep;
//! schema introspection (`__schema`, `__type`) nests type references by design
//! (graphql-js asks for nine levels of `ofType`, which every GraphiQL and code
//! generator sends), so its fields have a bound of their own. Fragment spreads are
//! followed, so a fragment cannot hide depth.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Deepest nesting of an ordinary query.
pub const MAX_DEPTH: usize = 12;

/// Deepest nesting of a path that enters introspection: graphql-js's query reaches
/// 15; a longer `ofType` chain than any schema needs is refused.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

/// Fragment spreads followed inside one another: valid documents have no cycles,
/// and one that is this deep is refused as too deep.
const MAX_SPREADS: usize = 16;

/// Whether some path of `document` nests deeper than its bound.
pub(super) fn too_deep(document: &ExecutableDocument) -> bool {
    let walk = Walk { document };
    document
        .operations
        .iter()
        .any(|(_, operation)| walk.too_deep(&operation.node.selection_set.node, 0, false, 0))
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
}

impl Walk<'_> {
    fn too_deep(
        &self,
        set: &SelectionSet,
        depth: usize,
        introspecting: bool,
        spreads: usize,
    ) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let introspecting =
                    introspecting || matches!(field.name.node.as_str(), "__schema" | "__type");
                let bound = if introspecting {
                    MAX_INTROSPECTION_DEPTH
                } else {
                    MAX_DEPTH
                };
                depth + 1 > bound
                    || self.too_deep(&field.selection_set.node, depth + 1, introspecting, spreads)
            }
            Selection::InlineFragment(fragment) => self.too_deep(
                &fragment.node.selection_set.node,
                depth,
                introspecting,
                spreads,
            ),
            Selection::FragmentSpread(_) if spreads >= MAX_SPREADS => true,
            Selection::FragmentSpread(spread) => self
                .document
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|fragment| {
                    self.too_deep(
                        &fragment.node.selection_set.node,
                        depth,
                        introspecting,
                        spreads + 1,
                    )
                }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(query: &str) -> bool {
        too_deep(&async_graphql::parser::parse_query(query).expect("a query"))
    }

    fn nested(field: &str, levels: usize) -> String {
        format!(
            "{} name {}",
            format!("{field} {{ ").repeat(levels),
            "} ".repeat(levels)
        )
    }

    #[test]
    fn ordinary_queries_nest_twelve_deep_and_introspection_further() {
        assert!(!deep(&format!("{{ {} }}", nested("a", 11))));
        assert!(deep(&format!("{{ {} }}", nested("a", 12))));
        let of_type = |levels| {
            format!(
                "{{ __type(name: \"Query\") {{ {} }} }}",
                nested("ofType", levels)
            )
        };
        assert!(!deep(&of_type(9)));
        assert!(deep(&of_type(30)));
    }

    #[test]
    fn fragments_do_not_hide_depth() {
        let hidden = format!(
            "{{ a {{ ...F }} }} fragment F on T {{ {} }}",
            nested("b", 11)
        );
        assert!(deep(&hidden));
        let cycle = "{ a { ...F } } fragment F on T { b { ...F } }";
        assert!(deep(cycle));
    }
}
