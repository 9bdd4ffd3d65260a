//! History windows: walking back, extending by the edges, both doors, bad input, constant cost.

use super::*;

async fn history_walks_back_window_by_window_to_the_first_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 5_000).await;

    let newest = window(&app, &pair, "limit=100").await;
    assert_eq!(seqs(&newest), (4_901..=5_000).collect::<Vec<_>>());
    assert_eq!(
        (newest["has_older"].clone(), newest["has_newer"].clone()),
        (json!(true), json!(false))
    );

    let mut walked: Vec<i64> = seqs(&newest);
    let mut current = newest;
    while current["has_older"] == true {
        let oldest = seqs(&current)[0];
        current = window(&app, &pair, &format!("limit=100&before={oldest}")).await;
        let mut older = seqs(&current);
        older.extend(walked);
        walked = older;
    }
    assert_eq!(
        walked,
        (1..=5_000).collect::<Vec<_>>(),
        "every seq once, in order"
    );

    for (around, expected, older, newer) in [
        (
            "around=1&older=3&newer=4",
            (1..=5).collect::<Vec<_>>(),
            false,
            true,
        ),
        (
            "around=2500&older=3&newer=4",
            (2_497..=2_504).collect(),
            true,
            true,
        ),
        (
            "around=5000&older=3&newer=4",
            (4_997..=5_000).collect(),
            true,
            false,
        ),
        ("around=2500&limit=9", (2_496..=2_504).collect(), true, true),
    ] {
        let w = window(&app, &pair, around).await;
        assert_eq!(seqs(&w), expected, "{around}");
        assert_eq!(w["has_older"], older, "{around}");
        assert_eq!(w["has_newer"], newer, "{around}");
    }
    assert_problem(
        app.get_as(
            &format!(
                "/v1/conversations/{}/messages?around=5001",
                pair.conversation
            ),
            Some(&pair.client_token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
on_every_backend!(history_walks_back_window_by_window_to_the_first_message);

async fn extending_a_window_by_its_edges_stays_contiguous_while_messages_arrive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 300).await;

    let middle = window(&app, &pair, "around=150&older=10&newer=10").await;
    let mut seen = seqs(&middle);
    let mut newest_edge = *seen.last().expect("a message");
    let mut rounds = 0;
    loop {
        // New messages keep arriving while the client reads forward.
        for i in 0..3 {
            let key = format!("live-{rounds}-{i}");
            let response = send(
                &app,
                &pair.conversation,
                &pair.therapist_token,
                &key,
                "still there?",
            )
            .await;
            assert_eq!(response.status(), 201);
        }
        let next = window(&app, &pair, &format!("limit=40&after={newest_edge}")).await;
        let got = seqs(&next);
        assert_eq!(
            got.first().copied(),
            Some(newest_edge + 1),
            "no gap at the edge"
        );
        seen.extend(&got);
        newest_edge = *got.last().expect("a message");
        rounds += 1;
        if next["has_newer"] == false {
            break;
        }
        assert!(rounds < 50);
    }
    let older = window(&app, &pair, &format!("limit=100&before={}", seen[0])).await;
    let mut all = seqs(&older);
    all.extend(seen);
    let total = 300 + 3 * rounds;
    assert_eq!(all, (40..=total).collect::<Vec<_>>());
}
on_every_backend!(extending_a_window_by_its_edges_stays_contiguous_while_messages_arrive);

async fn graphql_pages_history_both_ways_with_exact_flags(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 23).await;
    let query = r#"query($id: UUID!, $first: Int, $after: String, $last: Int, $before: String) {
      conversation(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { seq } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"#;
    let page = |vars: Value| {
        let app = &app;
        let token = pair.client_token.clone();
        async move {
            let body = app.graphql_as(query, vars, Some(&token)).await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["conversation"]["messages"].clone()
        }
    };
    let edge_seqs = |c: &Value| -> Vec<i64> {
        c["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["seq"].as_i64().expect("seq"))
            .collect()
    };

    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let c = page(json!({ "id": pair.conversation, "first": 5, "after": after })).await;
        forward.extend(edge_seqs(&c));
        assert_eq!(c["pageInfo"]["hasPreviousPage"], !after.is_null());
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, (1..=23).collect::<Vec<_>>());

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let c = page(json!({ "id": pair.conversation, "last": 5, "before": before })).await;
        let mut got = edge_seqs(&c);
        got.extend(backward);
        backward = got;
        if c["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = c["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, (1..=23).collect::<Vec<_>>());

    let around = app
        .graphql_as(
            "query($id: UUID!) { conversation(id: $id) { messagesAround(seq: 12, older: 2, newer: 1) { items { seq } hasOlder hasNewer } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        around["data"]["conversation"]["messagesAround"],
        json!({ "items": [{ "seq": 10 }, { "seq": 11 }, { "seq": 12 }, { "seq": 13 }], "hasOlder": true, "hasNewer": true })
    );

    let sent = app
        .graphql_as(
            "mutation($id: UUID!) { sendMessage(conversationId: $id, clientMsgId: \"g-1\", body: \"via graphql\") { created message { seq body } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        sent["data"]["sendMessage"],
        json!({ "created": true, "message": { "seq": 24, "body": "via graphql" } })
    );
}
on_every_backend!(graphql_pages_history_both_ways_with_exact_flags);

async fn bad_window_input_is_a_400_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 5).await;
    let get = |query: &'static str| {
        let app = &app;
        let pair = &pair;
        async move {
            app.get_as(
                &format!("/v1/conversations/{}/messages?{query}", pair.conversation),
                Some(&pair.client_token),
            )
            .await
        }
    };
    for query in [
        "before=3&after=1",
        "around=2&before=3",
        "before=-1",
        "after=-2",
        "limit=0",
        "limit=101",
        "older=2",
    ] {
        assert_problem(get(query).await, 400, "invalid_parameter").await;
    }
    for query in ["before=abc", "limit=x"] {
        assert_problem(get(query).await, 400, "invalid_parameter").await;
    }
    assert_problem(
        send(&app, &pair.conversation, &pair.client_token, "k", "   ").await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        send(
            &app,
            &pair.conversation,
            &pair.client_token,
            "k",
            &"x".repeat(10_001),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let body = app
        .graphql_as(
            "query($id: UUID!) { conversation(id: $id) { messages(first: 1, last: 1) { edges { cursor } } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "invalid_parameter",
        "{body}"
    );
}
on_every_backend!(bad_window_input_is_a_400_problem);

async fn a_window_costs_the_same_statements_whatever_the_history_length(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let short = pair_with_history(&app, 10).await;
    let long = pair_with_history(&app, 3_000).await;

    let cost = |pair: &Pair, query: &'static str| {
        let app = &app;
        let token = pair.client_token.clone();
        let path = format!("/v1/conversations/{}/messages?{query}", pair.conversation);
        async move {
            app.get_as("/v1/me", Some(&token)).await; // refresh the cached account status
            let before = app.statements.total();
            assert_eq!(app.get_as(&path, Some(&token)).await.status(), 200);
            app.statements.total() - before
        }
    };
    // A node reads which members of a conversation are clients (whose reads the
    // access log records) once, then keeps it: not part of a window's cost.
    cost(&short, "limit=1").await;
    cost(&long, "limit=1").await;
    for query in ["limit=5", "limit=5&before=4", "limit=5&around=5"] {
        let (a, b) = (cost(&short, query).await, cost(&long, query).await);
        assert_eq!(
            a, b,
            "{query}: the same statements for 10 and 3,000 messages"
        );
        assert_eq!(a, 1, "{query}: {a} statements");
    }
    let deep = cost(&long, "limit=5&before=20").await;
    assert_eq!(
        deep,
        cost(&long, "limit=5").await,
        "deep in history costs what the newest window costs"
    );
}
on_every_backend!(a_window_costs_the_same_statements_whatever_the_history_length);
