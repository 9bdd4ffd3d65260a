//! The support tools: staff only, disabling, audit entries, account search.

use super::*;

async fn only_staff_reach_the_support_tools(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let therapist = app.token_for(Role::Therapist).await;
    let support = app.token_for(Role::Support).await;

    for path in [
        "/v1/admin/accounts",
        "/v1/admin/audit",
        "/v1/admin/therapists/export",
    ] {
        assert_problem(app.get(path).await, 403, "forbidden").await;
        assert_problem(app.get_as(path, Some(&therapist)).await, 403, "forbidden").await;
        assert_problem(app.get_as(path, None).await, 401, "unauthenticated").await;
    }
    assert_eq!(
        app.get_as("/v1/admin/accounts", Some(&support))
            .await
            .status(),
        200
    );
    assert_problem(
        app.get_as("/v1/admin/audit", Some(&support)).await,
        403,
        "forbidden",
    )
    .await;

    let body = app
        .graphql("{ accounts(first: 5) { nodes { email } } }", Value::Null)
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "forbidden",
        "{body}"
    );
    let body = app.graphql_as("{ me { email } }", Value::Null, None).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unauthenticated",
        "{body}"
    );
}
on_every_backend!(only_staff_reach_the_support_tools);

async fn a_disabled_account_can_neither_sign_in_nor_use_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;
    let client = app.create_account(Role::Client).await;
    let token = app.login(&client).await;
    let refresh: Value = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": client.email, "password": client.password }),
            None,
        )
        .await
        .json()
        .await
        .expect("json");

    let response = app
        .post_json(
            &format!("/v1/admin/accounts/{}/disable", client.id),
            &json!({}),
            Some(&support),
        )
        .await;
    assert_eq!(response.status(), 200);

    assert_problem(
        app.get_as("/v1/me", Some(&token)).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/auth/login",
            &json!({ "email": client.email, "password": client.password }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/auth/refresh",
            &json!({ "refresh_token": refresh["refresh_token"] }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;

    let response = app
        .post_json(
            &format!("/v1/admin/accounts/{}/enable", client.id),
            &json!({}),
            Some(&support),
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = app.login(&client).await;
    assert_eq!(app.get_as("/v1/me", Some(&token)).await.status(), 200);

    // Support staff cannot disable staff or themselves.
    let other_support = app.create_account(Role::Support).await;
    assert_problem(
        app.post_json(
            &format!("/v1/admin/accounts/{}/disable", other_support.id),
            &json!({}),
            Some(&support),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}
on_every_backend!(a_disabled_account_can_neither_sign_in_nor_use_its_tokens);

async fn support_actions_are_audited_with_their_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support_account = app.create_account(Role::Support).await;
    let support = app.login(&support_account).await;
    let admin = app.token_for(Role::Admin).await;

    let response = app
        .http
        .post(format!("{}/v1/admin/therapists", app.address))
        .bearer_auth(&support)
        .header("x-request-id", "req-create-1")
        .json(&json!({
            "email": "new.therapist@example.org", "password": "initial password 1",
            "display_name": "Dr. Nora Quist", "bio": "CBT", "specialties": ["Anxiety", "ocd"],
            "languages": ["de", "EN"], "city": "Wien", "country": "at",
            "accepting": "waitlist", "offers_online": true, "offers_in_person": false
        }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "req-create-1");
    let created: Value = response.json().await.expect("json");
    let therapist_id = created["therapist"]["id"]
        .as_str()
        .expect("a profile id")
        .to_owned();
    let account_id = created["account"]["id"]
        .as_str()
        .expect("an account id")
        .to_owned();
    assert_eq!(created["account"]["role"], "therapist");
    assert_eq!(
        created["therapist"]["specialties"],
        json!(["anxiety", "ocd"])
    );
    assert_eq!(created["therapist"]["country"], "AT");

    let response = app
        .http
        .patch(format!(
            "{}/v1/admin/therapists/{therapist_id}",
            app.address
        ))
        .bearer_auth(&support)
        .json(&json!({ "accepting": "accepting", "bio": "CBT and EMDR", "specialties": [] }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let profile = app
        .get_json(&format!("/v1/therapists/{therapist_id}"))
        .await;
    assert_eq!(profile["accepting"], "accepting");
    assert_eq!(profile["bio"], "CBT and EMDR");
    assert_eq!(profile["city"], "Wien", "fields not in the patch stay");
    assert_eq!(profile["specialties"], json!([]), "no specialties left");
    assert_eq!(profile["languages"], json!(["de", "en"]), "in code order");

    let response = app
        .http
        .patch(format!(
            "{}/v1/admin/therapists/{therapist_id}",
            app.address
        ))
        .bearer_auth(&support)
        .json(&json!({ "offers_online": false }))
        .send()
        .await
        .expect("answered");
    assert_problem(response, 422, "validation_failed").await;

    let client = app.create_account(Role::Client).await;
    app.post_json(
        &format!("/v1/admin/accounts/{}/disable", client.id),
        &json!({}),
        Some(&support),
    )
    .await;

    let audit: Value = app
        .get_as("/v1/admin/audit?limit=10", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["target_id"].as_str().expect("target"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("account.disable", client.id.to_string().as_str()),
            ("therapist.update", therapist_id.as_str()),
            ("therapist.create", account_id.as_str()),
        ],
        "newest first; the failed edit left no entry"
    );
    for entry in audit["items"].as_array().expect("items") {
        assert_eq!(entry["actor_id"], support_account.id.to_string());
        assert!(entry["request_id"].is_string());
    }
    assert_eq!(audit["items"][2]["request_id"], "req-create-1");
}
on_every_backend!(support_actions_are_audited_with_their_request_id);

async fn account_search_pages_through_every_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;
    for _ in 0..7 {
        app.create_account(Role::Therapist).await;
    }

    let mut seen = Vec::new();
    let mut path = "/v1/admin/accounts?limit=3&role=therapist".to_owned();
    loop {
        let page: Value = app
            .get_as(&path, Some(&support))
            .await
            .json()
            .await
            .expect("json");
        for item in page["items"].as_array().expect("items") {
            assert_eq!(item["role"], "therapist");
            seen.push(item["email"].as_str().expect("email").to_owned());
        }
        match page["page"]["next_cursor"].as_str() {
            Some(next) => path = format!("/v1/admin/accounts?limit=3&role=therapist&after={next}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen, sorted, "by email");

    let page: Value = app
        .get_as("/v1/admin/accounts?email_prefix=SUPPORT-", Some(&support))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"].as_array().expect("items").len(), 1);

    let body = app
        .graphql_as(
            "{ accounts(first: 2, filter: { role: THERAPIST }) { edges { cursor node { email role } } pageInfo { hasNextPage } } }",
            Value::Null,
            Some(&support),
        )
        .await;
    assert_eq!(
        body["data"]["accounts"]["edges"][0]["node"]["role"], "THERAPIST",
        "{body}"
    );
    assert_eq!(body["data"]["accounts"]["pageInfo"]["hasNextPage"], true);
}
on_every_backend!(account_search_pages_through_every_match);

async fn creating_a_therapist_answers_the_same_in_both_doors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;
    let profile = |email: &str| {
        json!({
            "email": email, "password": "initial password 1", "display_name": "Dr. Ida Lund",
            "bio": "Schema therapy", "specialties": ["Trauma"], "languages": ["SV"],
            "city": "Malmö", "country": "se", "accepting": "accepting",
            "offers_online": true, "offers_in_person": true
        })
    };
    let rest: Value = app
        .post_json(
            "/v1/admin/therapists",
            &profile("ida.rest@example.org"),
            Some(&support),
        )
        .await
        .json()
        .await
        .expect("json");

    let input = profile("ida.graphql@example.org");
    let camel = |key: &str| {
        key.split('_')
            .enumerate()
            .map(|(i, part)| match i {
                0 => part.to_owned(),
                _ => part[..1].to_uppercase() + &part[1..],
            })
            .collect::<String>()
    };
    let input: serde_json::Map<String, Value> = input
        .as_object()
        .expect("an object")
        .iter()
        .map(|(key, value)| (camel(key), value.clone()))
        .collect();
    let mut input = Value::Object(input);
    input["accepting"] = json!("ACCEPTING");
    let graphql = app
        .graphql_as(
            "mutation($input: CreateTherapistInput!) { createTherapist(input: $input) {
                account { id email displayName role disabled therapistId }
                therapist { uuid displayName bio specialties languages city country
                            accepting offersOnline offersInPerson }
            } }",
            json!({ "input": input }),
            Some(&support),
        )
        .await;
    let created = &graphql["data"]["createTherapist"];
    assert!(created.is_object(), "{graphql}");

    assert_eq!(created["account"]["role"], "THERAPIST");
    assert_eq!(rest["account"]["role"], "therapist");
    assert_eq!(
        created["account"]["therapistId"],
        created["therapist"]["uuid"]
    );
    assert_eq!(rest["account"]["therapist_id"], rest["therapist"]["id"]);
    for (rest_key, graphql_key) in [
        ("display_name", "displayName"),
        ("bio", "bio"),
        ("specialties", "specialties"),
        ("languages", "languages"),
        ("city", "city"),
        ("country", "country"),
        ("offers_in_person", "offersInPerson"),
    ] {
        assert_eq!(
            rest["therapist"][rest_key], created["therapist"][graphql_key],
            "therapist.{rest_key}"
        );
    }
    assert_eq!(created["therapist"]["specialties"], json!(["trauma"]));
    assert_eq!(created["therapist"]["country"], "SE");
}
on_every_backend!(creating_a_therapist_answers_the_same_in_both_doors);
