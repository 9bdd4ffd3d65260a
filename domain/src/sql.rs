//! SQL shared by every list: continuing a keyset walk past a cursor, a prefix match
//! that an index can serve, and a row count PostgreSQL can plan once.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryTrait,
    Select, Value,
};

/// Rows past `(sort, id)` when walking the order `(sort, id)` ascending
/// (`ascending = true`) or descending; with `inclusive`, the row at `(sort, id)` too.
/// Spelled `sort >= s AND (sort > s OR id > i)` rather than as a row comparison: the
/// leading range lets every backend's planner seek the `(…, sort, id)` index, which
/// MariaDB does not do for row constructors.
pub(crate) fn past<C: ColumnTrait>(
    sort: C,
    id: C,
    sort_value: impl Into<Value>,
    id_value: impl Into<Value>,
    ascending: bool,
    inclusive: bool,
) -> Condition {
    let sort_value = sort_value.into();
    let id_value = id_value.into();
    let (bound, beyond, id_beyond) = match (ascending, inclusive) {
        (true, false) => (
            sort.gte(sort_value.clone()),
            sort.gt(sort_value),
            id.gt(id_value),
        ),
        (true, true) => (
            sort.gte(sort_value.clone()),
            sort.gt(sort_value),
            id.gte(id_value),
        ),
        (false, false) => (
            sort.lte(sort_value.clone()),
            sort.lt(sort_value),
            id.lt(id_value),
        ),
        (false, true) => (
            sort.lte(sort_value.clone()),
            sort.lt(sort_value),
            id.lte(id_value),
        ),
    };
    Condition::all()
        .add(bound)
        .add(Condition::any().add(beyond).add(id_beyond))
}

/// Values of `column` that start with `prefix`, as a range on a code-point-ordered
/// column, so that its index serves it on every backend (LIKE would depend on
/// collation and escaping).
pub(crate) fn starts_with<C: ColumnTrait>(column: C, prefix: &str) -> Condition {
    let mut upper = prefix.to_owned();
    upper.push(char::MAX);
    Condition::all()
        .add(column.gte(prefix))
        .add(column.lt(upper))
}

/// The first `count` rows of `select`. The count is written into the SQL instead of
/// being bound: PostgreSQL cannot reuse one plan for a bound LIMIT (its generic plan
/// assumes a tenth of the table), so it planned the statement anew on every page,
/// which cost the first page a fifth of its throughput (`bench/directory.sh`). The
/// same held for a history window's bound seq range, whose generic plan a written
/// LIMIT brings within reach of the custom one.
pub(crate) async fn first_rows<E: EntityTrait, R: FromQueryResult>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    count: u64,
) -> Result<Vec<R>, DbErr> {
    let mut statement = select.build(db.get_database_backend());
    statement.sql.push_str(&format!(" LIMIT {count}"));
    R::find_by_statement(statement).all(db).await
}
