//! Text no database can store alike: a NUL (or another control character) in any
//! text input of either door is a 4xx naming the field, on every backend, and
//! nothing is stored. Tab and line breaks stay allowed in message bodies.

use domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem};
use crate::realtime::chat;

const NUL: &str = "a\u{0}b";

fn assert_graphql_code(answer: &Value, code: &str, why: &str) {
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], code,
        "{why}: {answer}"
    );
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.http
        .patch(format!("{}{path}", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("answered")
}

async fn nul_in_any_text_input_is_refused_before_storage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;

    // Sign-up, sign-in.
    for (field, body) in [
        (
            "display_name",
            json!({ "email": "nul@example.org", "password": "long enough secret", "display_name": NUL }),
        ),
        (
            "email",
            json!({ "email": "n\u{0}ul@example.org", "password": "long enough secret", "display_name": "N" }),
        ),
    ] {
        let problem = assert_problem(
            app.post_json("/v1/auth/signup", &body, None).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(field)),
            "{problem}"
        );
    }
    let login = json!({ "email": "n\u{0}ul@example.org", "password": "long enough secret" });
    assert_problem(
        app.post_json("/v1/auth/login", &login, None).await,
        422,
        "validation_failed",
    )
    .await;
    let signup = app
        .graphql_as(
            "mutation($name: String!) { signup(email: \"nul2@example.org\", password: \"long enough secret\", displayName: $name) { id } }",
            json!({ "name": NUL }),
            None,
        )
        .await;
    assert_graphql_code(&signup, "validation_failed", "GraphQL signup");

    // Searches: 400 naming the parameter.
    for (path, parameter) in [
        ("/v1/therapists?q=a%00b", "q"),
        ("/v1/therapists?city=a%00b", "city"),
    ] {
        let problem = assert_problem(app.get(path).await, 400, "invalid_parameter").await;
        assert_eq!(problem["parameter"], parameter, "{path}");
    }
    let problem = assert_problem(
        app.get_as("/v1/admin/accounts?email_prefix=a%00b", Some(&support))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["parameter"], "email_prefix");
    let search = app
        .graphql(
            "query($q: String!) { therapists(filter: { q: $q }) { totalCount } }",
            json!({ "q": NUL }),
        )
        .await;
    assert_graphql_code(&search, "invalid_parameter", "GraphQL q");
    let accounts = app
        .graphql_as(
            "query($p: String!) { accounts(filter: { emailPrefix: $p }) { nodes { id } } }",
            json!({ "p": NUL }),
            Some(&support),
        )
        .await;
    assert_graphql_code(&accounts, "invalid_parameter", "GraphQL emailPrefix");

    // Therapist profiles, created and edited by support.
    let profile = |field: &str, value: &str| {
        let mut body = json!({
            "email": format!("{}@example.org", uuid::Uuid::now_v7().simple()),
            "password": "initial password 1", "display_name": "Dr. Nul", "bio": "CBT",
            "city": "Wien", "country": "at", "accepting": "accepting",
            "offers_online": true, "offers_in_person": false
        });
        body[field] = json!(value);
        body
    };
    for field in ["display_name", "bio", "city"] {
        let response = app
            .post_json("/v1/admin/therapists", &profile(field, NUL), Some(&support))
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(field)),
            "{problem}"
        );
    }
    let created = app
        .post_json(
            "/v1/admin/therapists",
            &profile("bio", "line one\nline two"),
            Some(&support),
        )
        .await;
    assert_eq!(created.status(), 201, "line breaks in a bio are fine");
    let therapist_id = created.json::<Value>().await.expect("json")["therapist"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let path = format!("/v1/admin/therapists/{therapist_id}");
    let response = patch(&app, &path, &support, json!({ "city": NUL })).await;
    assert_problem(response, 422, "validation_failed").await;
    let update = app
        .graphql_as(
            "mutation($id: UUID!, $bio: String!) { updateTherapist(id: $id, input: { bio: $bio }) { bio } }",
            json!({ "id": therapist_id, "bio": NUL }),
            Some(&support),
        )
        .await;
    assert_graphql_code(&update, "validation_failed", "GraphQL updateTherapist");
    let stored = app
        .get_json(&format!("/v1/therapists/{therapist_id}"))
        .await;
    assert_eq!(stored["city"], "Wien", "nothing stored");
    assert_eq!(stored["bio"], "line one\nline two", "nothing stored");

    // Messages: control characters other than tab and line breaks are refused.
    let chat = chat(&app).await;
    let messages = format!("/v1/conversations/{}/messages", chat.conversation);
    for (n, body) in [NUL, "bell\u{7}", "escape\u{1b}[31m"]
        .into_iter()
        .enumerate()
    {
        let send = json!({ "body": body, "client_msg_id": format!("bad-{n}") });
        let response = app
            .post_json(&messages, &send, Some(&chat.client_token))
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("body")),
            "{problem}"
        );
    }
    let send = app
        .graphql_as(
            "mutation($id: UUID!, $body: String!) { sendMessage(conversationId: $id, clientMsgId: \"g\", body: $body) { created } }",
            json!({ "id": chat.conversation, "body": NUL }),
            Some(&chat.client_token),
        )
        .await;
    assert_graphql_code(&send, "validation_failed", "GraphQL sendMessage");
    let good = json!({ "body": "col\tumn\r\nnext line", "client_msg_id": "good" });
    let response = app
        .post_json(&messages, &good, Some(&chat.client_token))
        .await;
    assert_eq!(response.status(), 201, "tab and line breaks are fine");
    let response = patch(
        &app,
        &format!("{messages}/1"),
        &chat.client_token,
        json!({ "body": NUL }),
    )
    .await;
    assert_problem(response, 422, "validation_failed").await;

    let history = app
        .get_as(&messages, Some(&chat.client_token))
        .await
        .json::<Value>()
        .await
        .expect("json");
    let bodies: Vec<&Value> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| &m["body"])
        .collect();
    assert_eq!(
        bodies,
        [&json!("col\tumn\r\nnext line")],
        "only the good message, unedited"
    );
}
on_every_backend!(nul_in_any_text_input_is_refused_before_storage);
