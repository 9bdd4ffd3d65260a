//! A stored value that does not parse is corrupt data: the read fails loudly (500
//! `internal`, logged), never quietly reads as a default role or status.

use domain::actor::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{Backend, TestApp, assert_problem};

async fn an_unknown_stored_role_or_status_fails_loudly(backend: Backend) {
    use domain::accounts::account;
    use domain::directory::therapist;
    let app = TestApp::spawn(backend).await;
    let client = app.create_account(Role::Client).await;
    let token = app.login(&client).await;
    let admin = app.token_for(Role::Admin).await;
    assert_eq!(app.get_as("/v1/me", Some(&token)).await.status(), 200);

    account::Entity::update_many()
        .col_expr(account::Column::Role, Expr::value("superuser"))
        .filter(account::Column::Id.eq(client.id))
        .exec(&app.storage.db)
        .await
        .expect("the role is overwritten");
    assert_problem(app.get_as("/v1/me", Some(&token)).await, 500, "internal").await;
    let search = format!("/v1/admin/accounts?email_prefix={}", client.email);
    assert_problem(app.get_as(&search, Some(&admin)).await, 500, "internal").await;

    app.seed_therapists(3).await;
    let listed = app.get_json("/v1/therapists?limit=1").await;
    let id = listed["items"][0]["id"].as_str().expect("an id").to_owned();
    therapist::Entity::update_many()
        .col_expr(therapist::Column::Accepting, Expr::value("sometimes"))
        .filter(therapist::Column::Id.eq(uuid::Uuid::parse_str(&id).expect("a uuid")))
        .exec(&app.storage.db)
        .await
        .expect("the status is overwritten");
    assert_problem(
        app.get(&format!("/v1/therapists/{id}")).await,
        500,
        "internal",
    )
    .await;
    assert_problem(app.get("/v1/therapists?limit=3").await, 500, "internal").await;
}
on_every_backend!(an_unknown_stored_role_or_status_fails_loudly);
