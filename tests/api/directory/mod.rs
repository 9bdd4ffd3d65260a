//! The therapist directory: every therapist reachable through cursors, in the
//! declared order, both ways, through REST and GraphQL; bad paging is a clear 400.

mod export;
mod tags_on_row;

use std::collections::HashSet;

use chrono::Utc;
use domain::directory::therapist;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, assert_problem};

/// Ids of every stored therapist in the directory's name order: lowercased name by
/// code point, then id.
async fn expected_name_order(app: &TestApp) -> Vec<String> {
    let mut rows = therapist::Entity::find()
        .all(&app.storage.db)
        .await
        .expect("therapists load");
    rows.sort_by(|a, b| (&a.sort_name, a.id).cmp(&(&b.sort_name, b.id)));
    rows.into_iter().map(|r| r.id.to_string()).collect()
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array of items")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Walks a REST list forward from `path` (which has a `?`), then backward from its
/// last page; returns both walks in list order.
async fn walk_rest(app: &TestApp, path: &str) -> (Vec<String>, Vec<String>) {
    let mut forward = Vec::new();
    let mut page = app.get_json(path).await;
    assert_eq!(
        page["page"]["has_prev"], false,
        "the first page has nothing before it"
    );
    loop {
        forward.extend(ids(&page["items"]));
        match page["page"]["next_cursor"].as_str() {
            Some(next) => page = app.get_json(&format!("{path}&after={next}")).await,
            None => break,
        }
    }
    assert_eq!(page["page"]["has_next"], false);
    let mut backward_pages = vec![ids(&page["items"])];
    while let Some(prev) = page["page"]["prev_cursor"].as_str() {
        page = app.get_json(&format!("{path}&before={prev}")).await;
        backward_pages.push(ids(&page["items"]));
    }
    assert_eq!(page["page"]["has_prev"], false);
    let backward = backward_pages.into_iter().rev().flatten().collect();
    (forward, backward)
}

const CONNECTION: &str = r#"
query Walk($first: Int, $after: String, $last: Int, $before: String, $filter: TherapistFilterInput, $orderBy: TherapistOrderBy) {
  therapists(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { uuid displayName } }
    nodes { uuid }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

async fn connection(app: &TestApp, variables: Value) -> Value {
    let body = app.graphql(CONNECTION, variables).await;
    assert!(body["errors"].is_null(), "{body}");
    let connection = body["data"]["therapists"].clone();
    let edge_ids: Vec<&Value> = connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"]["uuid"])
        .collect();
    let node_ids: Vec<&Value> = connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| &n["uuid"])
        .collect();
    assert_eq!(edge_ids, node_ids, "edges and nodes agree");
    connection
}

fn edge_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["uuid"].as_str().expect("a uuid").to_owned())
        .collect()
}

/// Walks a GraphQL connection forward with `first`/`after` and backward from the end
/// with `last`/`before`; returns both walks in list order.
async fn walk_graphql(app: &TestApp, size: i64, filter: Value) -> (Vec<String>, Vec<String>) {
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = connection(
            app,
            json!({ "first": size, "after": after, "filter": filter }),
        )
        .await;
        forward.extend(edge_ids(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut pages = Vec::new();
    let mut before = Value::Null;
    loop {
        let page = connection(
            app,
            json!({ "last": size, "before": before, "filter": filter }),
        )
        .await;
        pages.push(edge_ids(&page));
        if page["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    let backward = pages.into_iter().rev().flatten().collect();
    (forward, backward)
}

async fn every_therapist_is_reachable_once_in_name_order_both_ways(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(2_500).await;
    let expected = expected_name_order(&app).await;
    assert_eq!(expected.len(), 2_500);

    for size in [7, 100] {
        let (forward, backward) = walk_rest(&app, &format!("/v1/therapists?limit={size}")).await;
        assert_eq!(forward, expected, "REST forward at page size {size}");
        assert_eq!(backward, expected, "REST backward at page size {size}");

        let (forward, backward) = walk_graphql(&app, size, Value::Null).await;
        assert_eq!(forward, expected, "GraphQL forward at page size {size}");
        assert_eq!(backward, expected, "GraphQL backward at page size {size}");
    }
}
on_every_backend!(every_therapist_is_reachable_once_in_name_order_both_ways);

async fn filtered_walks_at_page_size_one_yield_exactly_the_matching_therapists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(2_500).await;
    let rows = therapist::Entity::find()
        .all(&app.storage.db)
        .await
        .expect("therapists load");
    let mut matching: Vec<_> = rows
        .iter()
        .filter(|r| r.city == "Wien" && r.accepting == "waitlist")
        .collect();
    matching.sort_by(|a, b| (&a.sort_name, a.id).cmp(&(&b.sort_name, b.id)));
    let expected: Vec<String> = matching.iter().map(|r| r.id.to_string()).collect();
    assert!(
        expected.len() > 10,
        "the seed spreads therapists over cities"
    );

    let (forward, backward) =
        walk_rest(&app, "/v1/therapists?limit=1&city=WIEN&accepting=waitlist").await;
    assert_eq!(forward, expected);
    assert_eq!(backward, expected);

    let (forward, backward) =
        walk_graphql(&app, 1, json!({ "city": "wien", "accepting": "WAITLIST" })).await;
    assert_eq!(forward, expected);
    assert_eq!(backward, expected);
}
on_every_backend!(filtered_walks_at_page_size_one_yield_exactly_the_matching_therapists);

async fn every_filter_narrows_the_list_to_what_matches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(600).await;
    for (query, check) in [
        ("specialty=anxiety", "specialties"),
        ("language=de", "languages"),
        ("country=at", "country"),
        ("mode=online", "offers_online"),
        ("mode=in_person", "offers_in_person"),
        ("q=ADA", "display_name"),
    ] {
        let (items, _) = walk_rest(&app, &format!("/v1/therapists?limit=100&{query}")).await;
        assert!(!items.is_empty(), "{query} matches some therapists");
        let page = app
            .get_json(&format!("/v1/therapists?limit=100&{query}"))
            .await;
        for item in page["items"].as_array().expect("items") {
            let ok = match check {
                "specialties" => item["specialties"]
                    .as_array()
                    .is_some_and(|s| s.contains(&json!("anxiety"))),
                "languages" => item["languages"]
                    .as_array()
                    .is_some_and(|s| s.contains(&json!("de"))),
                "country" => item["country"] == "AT",
                "offers_online" => item["offers_online"] == true,
                "offers_in_person" => item["offers_in_person"] == true,
                _ => item["display_name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().starts_with("ada")),
            };
            assert!(ok, "{query} returned {item}");
        }
    }
}
on_every_backend!(every_filter_narrows_the_list_to_what_matches);

async fn newest_order_walks_creation_time_descending(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(300).await;
    let mut rows = therapist::Entity::find()
        .all(&app.storage.db)
        .await
        .expect("therapists load");
    rows.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
    let expected: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();

    let (forward, backward) = walk_rest(&app, "/v1/therapists?limit=7&sort=newest").await;

    assert_eq!(forward, expected);
    assert_eq!(backward, expected);
}
on_every_backend!(newest_order_walks_creation_time_descending);

async fn insert_therapist(app: &TestApp, name: &str) -> Uuid {
    insert_bare_therapist(&app.storage.db, name).await
}

/// Inserts a therapist named `name` with no tags straight into `db`. The insert names
/// only the columns it sets, so it also works on the schema before the tag lists.
pub(super) async fn insert_bare_therapist(db: &impl ConnectionTrait, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    let now = Utc::now();
    therapist::Entity::insert(therapist::ActiveModel {
        id: Set(id),
        display_name: Set(name.to_owned()),
        sort_name: Set(name.to_lowercase()),
        bio: Set(String::new()),
        city: Set("Berlin".to_owned()),
        city_key: Set("berlin".to_owned()),
        country: Set("DE".to_owned()),
        organisation_id: Set(None),
        accepting: Set("accepting".to_owned()),
        offers_online: Set(true),
        offers_in_person: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .expect("a therapist is inserted");
    id
}

async fn rows_changing_during_a_walk_never_duplicate_or_skip_a_stable_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(1_000).await;
    let before_walk = expected_name_order(&app).await;

    let mut seen = Vec::new();
    let mut deleted = HashSet::new();
    let mut page = app.get_json("/v1/therapists?limit=50").await;
    let mut pages = 0;
    loop {
        seen.extend(ids(&page["items"]));
        pages += 1;
        let Some(next) = page["page"]["next_cursor"].as_str().map(str::to_owned) else {
            break;
        };
        if pages % 3 == 0 {
            // The anchor of the cursor we are about to use disappears...
            let anchor = seen.last().expect("a seen row").clone();
            therapist::Entity::delete_by_id(anchor.parse::<Uuid>().expect("a uuid"))
                .exec(&app.storage.db)
                .await
                .expect("the anchor is deleted");
            deleted.insert(anchor);
            // ...a row ahead disappears, and rows appear on both sides of the cursor.
            let ahead = &before_walk[(seen.len() + 40).min(before_walk.len() - 1)];
            therapist::Entity::delete_by_id(ahead.parse::<Uuid>().expect("a uuid"))
                .exec(&app.storage.db)
                .await
                .expect("a row ahead is deleted");
            deleted.insert(ahead.clone());
            insert_therapist(&app, "Aaron Early").await;
            insert_therapist(&app, "Zora Late").await;
        }
        page = app
            .get_json(&format!("/v1/therapists?limit=50&after={next}"))
            .await;
    }

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row is returned twice");
    for id in &before_walk {
        if !deleted.contains(id) {
            assert!(unique.contains(id), "stable row {id} was skipped");
        }
    }
}
on_every_backend!(rows_changing_during_a_walk_never_duplicate_or_skip_a_stable_row);

async fn bad_paging_input_is_a_400_problem_that_states_the_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(30).await;
    let first = app.get_json("/v1/therapists?limit=5").await;
    let cursor = first["page"]["next_cursor"]
        .as_str()
        .expect("a next cursor");

    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-3", "limit"),
    ] {
        let problem = assert_problem(
            app.get(&format!("/v1/therapists?{query}")).await,
            400,
            "invalid_parameter",
        )
        .await;
        assert_eq!(problem["parameter"], parameter);
        assert!(problem["detail"].as_str().expect("detail").contains("100"));
    }
    assert_problem(
        app.get("/v1/therapists?limit=abc").await,
        400,
        "invalid_parameter",
    )
    .await;
    let both = assert_problem(
        app.get(&format!("/v1/therapists?after={cursor}&before={cursor}"))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert!(
        both["detail"]
            .as_str()
            .expect("detail")
            .contains("cannot be combined")
    );

    let mut tampered = cursor.to_owned();
    tampered.insert(5, 'x');
    for path in [
        format!("/v1/therapists?after={tampered}"),
        "/v1/therapists?after=v1.e30.AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        format!("/v1/therapists?after={cursor}&sort=newest"),
        format!("/v1/therapists?after={cursor}&city=berlin"),
    ] {
        let problem = assert_problem(app.get(&path).await, 400, "invalid_cursor").await;
        assert_eq!(problem["parameter"], "after", "{path}");
    }
    let problem = assert_problem(
        app.get(&format!("/v1/therapists?before={cursor}&q=x"))
            .await,
        400,
        "invalid_cursor",
    )
    .await;
    assert_eq!(problem["parameter"], "before");
    assert_problem(
        app.get("/v1/therapists?country=Germany").await,
        400,
        "invalid_parameter",
    )
    .await;
}
on_every_backend!(bad_paging_input_is_a_400_problem_that_states_the_rule);

async fn bad_connection_arguments_are_graphql_errors_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(10).await;

    for (variables, code) in [
        (json!({ "first": 2, "last": 2 }), "invalid_parameter"),
        (json!({ "first": -1 }), "invalid_parameter"),
        (json!({ "first": 101 }), "invalid_parameter"),
        (json!({ "last": 0 }), "invalid_parameter"),
        (json!({ "first": 2, "after": "forged" }), "invalid_cursor"),
    ] {
        let body = app.graphql(CONNECTION, variables.clone()).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{variables}: {body}"
        );
    }
}
on_every_backend!(bad_connection_arguments_are_graphql_errors_with_a_code);

async fn a_page_costs_the_same_statements_at_any_depth(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(1_200).await;

    let count = |path: String| {
        let app = &app;
        async move {
            // Refresh the cached account status first, so only the page is counted.
            app.get_json("/v1/me").await;
            let before = app.statements.total();
            let page = app.get_json(&path).await;
            (app.statements.total() - before, page)
        }
    };
    let (first_cost, mut page) = count("/v1/therapists?limit=20".to_owned()).await;
    let (second_cost, _) = count(format!(
        "/v1/therapists?limit=20&after={}",
        page["page"]["next_cursor"].as_str().expect("next")
    ))
    .await;
    for _ in 0..50 {
        let next = page["page"]["next_cursor"]
            .as_str()
            .expect("next")
            .to_owned();
        page = app
            .get_json(&format!("/v1/therapists?limit=20&after={next}"))
            .await;
    }
    let (deep_cost, _) = count(format!(
        "/v1/therapists?limit=20&after={}",
        page["page"]["next_cursor"].as_str().expect("next")
    ))
    .await;

    assert_eq!(first_cost, 1, "a page and its tags are one statement");
    assert_eq!(second_cost, deep_cost, "page 2 and page 52 cost the same");
    assert_eq!(
        deep_cost, first_cost,
        "a page after a cursor costs what the first page costs"
    );
}
on_every_backend!(a_page_costs_the_same_statements_at_any_depth);

async fn links_and_single_therapists_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(40).await;

    let response = app.get("/v1/therapists?limit=5&country=DE").await;
    let link = response.headers()["link"]
        .to_str()
        .expect("a Link header")
        .to_owned();
    let page: Value = response.json().await.expect("json");
    let next = page["page"]["next_cursor"].as_str().expect("next");
    assert!(
        link.contains(&format!("after={next}>; rel=\"next\"")),
        "{link}"
    );
    assert!(link.contains("country=DE"), "{link}");

    let id = page["items"][0]["id"].as_str().expect("an id");
    let one = app.get_json(&format!("/v1/therapists/{id}")).await;
    assert_eq!(one, page["items"][0]);
    assert_problem(
        app.get(&format!("/v1/therapists/{}", Uuid::now_v7())).await,
        404,
        "not_found",
    )
    .await;

    let body = app
        .graphql(
            "query($id: ID!) { therapist(id: $id) { id uuid } }",
            json!({ "id": id }),
        )
        .await;
    let global = body["data"]["therapist"]["id"].clone();
    assert_eq!(body["data"]["therapist"]["uuid"], id);
    let body = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id ... on Therapist { uuid } } }",
            json!({ "id": global }),
        )
        .await;
    assert_eq!(body["data"]["node"]["uuid"], id, "{body}");

    let body = app
        .graphql(
            "{ therapists(first: 1, filter: { country: \"DE\" }) { totalCount } }",
            Value::Null,
        )
        .await;
    let expected = therapist::Entity::find()
        .all(&app.storage.db)
        .await
        .expect("rows")
        .iter()
        .filter(|r| r.country == "DE")
        .count();
    assert_eq!(body["data"]["therapists"]["totalCount"], expected, "{body}");
}
on_every_backend!(links_and_single_therapists_are_served);

async fn an_empty_connection_has_null_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let page = connection(&app, json!({ "first": 5 })).await;

    assert_eq!(page["edges"], json!([]));
    assert_eq!(
        page["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null })
    );
}
on_every_backend!(an_empty_connection_has_null_cursors);

const NODES_ONLY: &str = r#"
query Nodes($first: Int, $after: String, $last: Int, $before: String) {
  therapists(first: $first, after: $after, last: $last, before: $before) {
    nodes { uuid }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

fn node_ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["uuid"].as_str().expect("a uuid").to_owned())
        .collect()
}

async fn cursors_are_signed_for_what_the_query_selects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(12).await;
    let expected = expected_name_order(&app).await;

    // Without `edges { cursor }` the page still has both ends' cursors, and they page.
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .graphql(NODES_ONLY, json!({ "first": 5, "after": after }))
            .await;
        let page = &body["data"]["therapists"];
        assert!(body["errors"].is_null(), "{body}");
        forward.extend(node_ids(page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(after.as_str().is_some_and(|c| !c.is_empty()));
    }
    assert_eq!(forward, expected);
    let body = app.graphql(NODES_ONLY, json!({ "last": 5 })).await;
    let start = body["data"]["therapists"]["pageInfo"]["startCursor"].clone();
    let body = app
        .graphql(NODES_ONLY, json!({ "last": 5, "before": start }))
        .await;
    assert_eq!(node_ids(&body["data"]["therapists"]), expected[2..7]);

    // With `edges { cursor }`, each edge's cursor continues from its own item.
    let page = connection(&app, json!({ "first": 6 })).await;
    let cursors: Vec<&str> = page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["cursor"].as_str().expect("a cursor"))
        .collect();
    for (index, cursor) in cursors.iter().enumerate() {
        let next = connection(&app, json!({ "first": 1, "after": cursor })).await;
        assert_eq!(
            edge_ids(&next),
            expected[index + 1..index + 2],
            "edge {index}"
        );
    }
}
on_every_backend!(cursors_are_signed_for_what_the_query_selects);

const EVERY_THERAPIST_FIELD: &str = "__typename id uuid displayName bio specialties languages city country organisationId accepting offersOnline offersInPerson createdAt updatedAt";

async fn a_page_of_plain_fields_answers_as_fragments_do(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(7).await;
    // A selection of plain fields is answered in one pass (graphql/plain.rs); the
    // same fields through fragments, aliases or twice take async-graphql's own path.
    let plain = app
        .graphql(
            &format!("{{ therapists(first: 7) {{ nodes {{ {EVERY_THERAPIST_FIELD} }} }} }}"),
            json!({}),
        )
        .await;
    assert!(plain["errors"].is_null(), "{plain}");
    let nodes = plain["data"]["therapists"]["nodes"].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(7));
    assert_eq!(nodes[0]["__typename"], "Therapist");
    assert!(nodes[0]["createdAt"].is_string() && nodes[0]["accepting"].is_string());
    for (query, differs) in [
        (
            format!(
                "{{ therapists(first: 7) {{ nodes {{ ... on Therapist {{ {EVERY_THERAPIST_FIELD} }} }} }} }}"
            ),
            "an inline fragment",
        ),
        (
            format!(
                "query {{ therapists(first: 7) {{ nodes {{ ...All }} }} }} fragment All on Therapist {{ {EVERY_THERAPIST_FIELD} }}"
            ),
            "a fragment spread",
        ),
        (
            format!("{{ therapists(first: 7) {{ nodes {{ {EVERY_THERAPIST_FIELD} uuid }} }} }}"),
            "a field selected twice",
        ),
        (
            format!(
                "query($yes: Boolean!) {{ therapists(first: 7) {{ nodes {{ {EVERY_THERAPIST_FIELD} city @include(if: $yes) }} }} }}"
            ),
            "a directive",
        ),
    ] {
        let other = app.graphql(&query, json!({ "yes": true })).await;
        assert_eq!(other["data"]["therapists"]["nodes"], nodes, "{differs}");
    }
    let aliased = app
        .graphql(
            "{ therapists(first: 7) { edges { node { name: displayName tags: specialties } } } }",
            json!({}),
        )
        .await;
    for (edge, node) in aliased["data"]["therapists"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .zip(nodes.as_array().expect("nodes"))
    {
        assert_eq!(
            edge["node"],
            json!({ "name": node["displayName"], "tags": node["specialties"] })
        );
    }
    // Edges too are answered in one pass when they select no more than `node`,
    // `cursor` and `__typename` (graphql/connection.rs); a fragment on the edge takes
    // async-graphql's own path.
    let edges =
        |selection: &str| format!("{{ therapists(first: 7) {{ edges {{ {selection} }} }} }}");
    let edge = format!("__typename cursor node {{ {EVERY_THERAPIST_FIELD} }}");
    let one_pass = app.graphql(&edges(&edge), json!({})).await;
    assert!(one_pass["errors"].is_null(), "{one_pass}");
    let first = &one_pass["data"]["therapists"]["edges"][0];
    assert_eq!(first["__typename"], "TherapistEdge");
    assert!(
        first["cursor"]
            .as_str()
            .is_some_and(|cursor| !cursor.is_empty())
    );
    assert_eq!(first["node"], nodes[0]);
    let ordinary = app
        .graphql(
            &edges(&format!("... on TherapistEdge {{ {edge} }}")),
            json!({}),
        )
        .await;
    assert_eq!(ordinary["data"], one_pass["data"], "an edge-level fragment");
}
on_every_backend!(a_page_of_plain_fields_answers_as_fragments_do);
