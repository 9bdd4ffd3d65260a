//! GraphQL cost is bounded per request and per client: a batch is costed whole before
//! anything runs, a client's points refill per minute, and a response has a size cap.

use domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDatabase, assert_problem, test_config};

/// The probe's attack: ten operations, each with thirty aliased pages of 100 rows and
/// their count, every single limit (depth, aliases, batch size) respected.
pub(crate) fn batch_of_aliased_pages() -> Value {
    let page = "therapists(first: 100) { totalCount nodes { id displayName city country bio specialties languages } }";
    let aliases: Vec<String> = (0..30).map(|i| format!("p{i}: {page}")).collect();
    let operation = format!("{{ {} }}", aliases.join(" "));
    Value::Array((0..10).map(|_| json!({ "query": operation })).collect())
}

fn code(answer: &Value) -> &Value {
    let first = if answer.is_array() {
        &answer[0]
    } else {
        answer
    };
    &first["errors"][0]["extensions"]["code"]
}

async fn a_costly_batch_is_refused_before_it_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(50).await;
    let before = app.statements.total();
    let response = app
        .post_json("/graphql", &batch_of_aliased_pages(), Some(&app.token))
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    assert_eq!(code(&answer), "query_too_complex", "{answer}");
    assert!(answer["data"].is_null(), "nothing ran: {answer}");
    assert_eq!(app.statements.total() - before, 0, "not one statement ran");

    // One of its operations alone is too costly as well: 30 pages of 100 rows.
    let single = batch_of_aliased_pages()[0].clone();
    let answer: Value = app
        .post_json("/graphql", &single, Some(&app.token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(code(&answer), "query_too_complex", "{answer}");

    // An ordinary page is unaffected.
    let page = app
        .graphql(
            "{ therapists(first: 20) { totalCount nodes { id displayName } } }",
            json!({}),
        )
        .await;
    assert!(page["errors"].is_null(), "{page}");
    assert_eq!(
        page["data"]["therapists"]["nodes"].as_array().map(Vec::len),
        Some(20)
    );
}
on_every_backend!(a_costly_batch_is_refused_before_it_runs);

async fn a_client_that_spends_its_points_gets_429(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.graphql_points_per_minute = 1_200;
    let app = TestApp::boot(db, config).await;
    app.seed_therapists(10).await;
    // 1 + 100 rows × (nodes: id, displayName, city, country) = 501 points.
    let page =
        json!({ "query": "{ therapists(first: 100) { nodes { id displayName city country } } }" });
    for n in 0..2 {
        let response = app.post_json("/graphql", &page, Some(&app.token)).await;
        assert_eq!(response.status(), 200, "request {n} fits the budget");
    }
    let response = app.post_json("/graphql", &page, Some(&app.token)).await;
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_problem(response, 429, "rate_limited").await;

    // Another client's budget is its own.
    let other = app.token_for(Role::Client).await;
    let response = app.post_json("/graphql", &page, Some(&other)).await;
    assert_eq!(response.status(), 200);
}
on_every_backend!(a_client_that_spends_its_points_gets_429);

async fn a_response_over_the_size_cap_is_replaced_by_an_error(backend: Backend) {
    use sea_orm::{EntityTrait, sea_query::Expr};
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(100).await;
    // Long bios: 100 rows × 5,000 characters is 500 KB per page.
    domain::directory::therapist::Entity::update_many()
        .col_expr(
            domain::directory::therapist::Column::Bio,
            Expr::value("b".repeat(5_000)),
        )
        .exec(&app.storage.db)
        .await
        .expect("bios updated");
    let page = "therapists(first: 100) { nodes { bio } }";
    let five_pages = format!(
        "{{ {} }}",
        (0..5)
            .map(|i| format!("p{i}: {page}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let answer = app.graphql(&five_pages, json!({})).await;
    assert_eq!(
        code(&answer),
        "response_too_large",
        "{}",
        &answer.to_string()[..200]
    );
    let one_page = format!("{{ {page} }}");
    let answer = app.graphql(&one_page, json!({})).await;
    assert!(answer["errors"].is_null());
}
on_every_backend!(a_response_over_the_size_cap_is_replaced_by_an_error);
