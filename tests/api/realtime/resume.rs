//! Resuming the event stream from the change feed: every kind of change made while a
//! client was away arrives once, as its live frame would, and live changes follow
//! with none missed and none twice; a stale `Last-Event-ID` gets a `resync` that
//! replaces it; a replay longer than a page ends with `limited`.

use std::collections::HashSet;
use std::time::Duration;

use domain::actor::Role;
use serde_json::{Value, json};

use super::{Sse, chat};
use crate::conversing::{self, send, set_muted};
use crate::helpers::{Backend, TestApp};

/// Every frame that arrives within a second of the last one, with its name and id.
async fn frames(stream: &mut Sse) -> Vec<(String, Value, Option<String>)> {
    let mut frames = Vec::new();
    while let Some(frame) = stream.next(Duration::from_secs(2)).await {
        frames.push(frame);
    }
    frames
}

async fn every_change_made_while_away_arrives_once_then_live_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let conversation = chat.conversation.as_str();
    let mut stream = Sse::open(&app.address, &chat.client_token, None).await;
    send(&app, &chat.therapist_token, conversation, "one").await;
    let (first, id) = stream.next_named("message_created").await;
    assert_eq!(first["message"]["body"], "one");
    let id = id.expect("a change carries an id");
    drop(stream);

    // While away: two messages, an edit, a deletion, a read marker and a mute from
    // another device, and a new conversation.
    send(&app, &chat.therapist_token, conversation, "two").await;
    send(&app, &chat.therapist_token, conversation, "three").await;
    let edited = conversing::edit(&app, &chat.therapist_token, conversation, 2, "two, edited");
    assert_eq!(edited.await, 200);
    assert_eq!(
        conversing::delete(&app, &chat.therapist_token, conversation, 3).await,
        204
    );
    assert_eq!(
        conversing::read(&app, &chat.client_token, conversation, 3).await,
        200
    );
    let muted = set_muted(&app, &chat.client_token, conversation, true).await;
    assert_eq!(muted.status(), 200);
    let other = app.create_account(Role::Therapist).await;
    let other_token = app.login(&other).await;
    let second = conversing::start(&app, &other_token, chat.client.id).await;

    let mut resumed = Sse::open(&app.address, &chat.client_token, Some(&id)).await;
    let replayed = frames(&mut resumed).await;
    let names: Vec<&str> = replayed.iter().map(|(name, ..)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_edited",
            "message_deleted",
            "message_edited",
            "message_deleted",
            "read_marker",
            "notifications",
            "conversation_started",
        ],
        "each change once, each message as it is now"
    );
    assert_eq!(replayed[0].1["message"]["body"], "two, edited");
    assert_eq!(
        replayed[1].1,
        json!({ "conversation_id": conversation, "seq": 3 })
    );
    assert_eq!(replayed[4].1["seq"], 3);
    assert_eq!(
        replayed[5].1,
        json!({ "conversation_id": conversation, "muted": true })
    );
    assert_eq!(replayed[6].1["conversation_id"], second.as_str());
    let ids: HashSet<&str> = replayed
        .iter()
        .filter_map(|(.., id)| id.as_deref())
        .collect();
    assert_eq!(
        ids.len(),
        replayed.len(),
        "every change has an id of its own"
    );

    // Then live, with an id that resumes after it.
    send(&app, &chat.therapist_token, conversation, "four").await;
    let (four, live_id) = resumed.next_named("message_created").await;
    assert_eq!(four["message"]["seq"], 4);
    let live_id = live_id.expect("an id");
    assert!(frames(&mut resumed).await.is_empty(), "nothing twice");
    drop(resumed);
    let mut after_live = Sse::open(&app.address, &chat.client_token, Some(&live_id)).await;
    assert!(
        frames(&mut after_live).await.is_empty(),
        "nothing after the last id"
    );
}
on_every_backend!(every_change_made_while_away_arrives_once_then_live_ones);

async fn a_stale_last_event_id_gets_a_resync_with_a_new_id_and_the_stream_goes_on(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let mut stream = Sse::open(&app.address, &chat.client_token, Some("c0ffee:12")).await;
    let (name, _, id) = stream.next(Duration::from_secs(5)).await.expect("a frame");
    assert_eq!(name, "resync");
    let id = id.expect("a new id replaces the stale one");
    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "after the resync",
    )
    .await;
    let (live, _) = stream.next_named("message_created").await;
    assert_eq!(live["message"]["body"], "after the resync");
    drop(stream);
    // The new id is a valid place to resume from: the message follows it.
    let mut resumed = Sse::open(&app.address, &chat.client_token, Some(&id)).await;
    let (replayed, _) = resumed.next_named("message_created").await;
    assert_eq!(replayed["message"]["body"], "after the resync");
}
on_every_backend!(a_stale_last_event_id_gets_a_resync_with_a_new_id_and_the_stream_goes_on);

async fn a_replay_longer_than_a_page_ends_with_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let start = app
        .get_as("/v1/sync", Some(&chat.client_token))
        .await
        .json::<Value>()
        .await
        .expect("json");
    let token = start["next"].as_str().expect("a token").to_owned();
    let page = domain::chat::ChatService::SYNC_PAGE.max;
    for n in 0..=page {
        send(
            &app,
            &chat.therapist_token,
            &chat.conversation,
            &format!("m{n}"),
        )
        .await;
    }
    let mut resumed = Sse::open(&app.address, &chat.client_token, Some(&token)).await;
    let replayed = frames(&mut resumed).await;
    assert_eq!(replayed.len() as u64, page + 1, "a page, then `limited`");
    let (name, data, _) = replayed.last().expect("frames");
    assert_eq!(name, "limited");
    let next = data["next"].as_str().expect("where to page on");
    let rest = app
        .get_as(&format!("/v1/sync?since={next}"), Some(&chat.client_token))
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(rest["changes"].as_array().expect("changes").len(), 1);
    assert_eq!(rest["changes"][0]["message"]["body"], format!("m{page}"));
}
on_every_backend!(a_replay_longer_than_a_page_ends_with_limited);

async fn concurrent_changes_reach_a_stream_once_each_and_its_last_id_misses_none(backend: Backend) {
    const EACH: usize = 25;
    let app = TestApp::spawn(backend).await;
    let client = app.create_account(Role::Client).await;
    let client_token = app.login(&client).await;
    let mut writers = Vec::new();
    for _ in 0..2 {
        let therapist = app.create_account(Role::Therapist).await;
        let token = app.login(&therapist).await;
        let id = conversing::start(&app, &token, client.id).await;
        writers.push((token, id.clone()));
        writers.push((client_token.clone(), id));
    }
    let mut stream = Sse::open(&app.address, &client_token, None).await;
    let sending = futures_util::future::join_all(writers.iter().map(|(token, id)| {
        let app = &app;
        async move {
            for n in 0..EACH {
                send(app, token, id, &format!("message {n}")).await;
            }
        }
    }));
    let receiving = async {
        let (mut seen, mut last_id) = (HashSet::new(), None);
        while seen.len() < writers.len() * EACH {
            let Some((name, data, id)) = stream.next(Duration::from_secs(20)).await else {
                break;
            };
            if name == "message_created" {
                let key = (
                    data["conversation_id"].clone().to_string(),
                    data["message"]["seq"].as_i64(),
                );
                assert!(seen.insert(key), "a message twice: {data}");
                last_id = id.or(last_id);
            }
        }
        (seen.len(), last_id)
    };
    let (_, (received, last_id)) = tokio::join!(sending, receiving);
    assert_eq!(received, writers.len() * EACH, "every message, once");
    drop(stream);
    let mut resumed = Sse::open(&app.address, &client_token, last_id.as_deref()).await;
    assert!(
        frames(&mut resumed).await.is_empty(),
        "the last id was a safe place to resume"
    );
}
on_every_backend!(concurrent_changes_reach_a_stream_once_each_and_its_last_id_misses_none);

/// The `changes` subscription's next event on `socket`.
async fn next_change(socket: &mut super::Socket) -> Value {
    let message = super::ws_next(socket).await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["changes"].clone()
}

const CHANGES: &str = "subscription($since: String) { changes(since: $since) { kind next change { kind position seq muted message { seq body } } } }";

async fn the_graphql_subscription_replays_from_since_then_goes_on_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let conversation = chat.conversation.as_str();
    let start = app
        .get_as("/v1/sync", Some(&chat.client_token))
        .await
        .json::<Value>()
        .await
        .expect("json");
    send(&app, &chat.therapist_token, conversation, "one").await;
    assert_eq!(
        conversing::read(&app, &chat.client_token, conversation, 1).await,
        200
    );
    let muted = set_muted(&app, &chat.client_token, conversation, true).await;
    assert_eq!(muted.status(), 200);

    let mut socket = super::ws_signed_in(&app.address, &chat.client_token).await;
    super::ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": CHANGES, "variables": { "since": start["next"] } } }),
    )
    .await;
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let event = next_change(&mut socket).await;
        assert_eq!(event["kind"], "CHANGE", "{event}");
        assert!(event["next"].is_string());
        kinds.push(event["change"]["kind"].as_str().expect("a kind").to_owned());
    }
    assert_eq!(kinds, ["MESSAGE", "READ_MARKER", "NOTIFICATIONS"]);

    send(&app, &chat.therapist_token, conversation, "two").await;
    let live = next_change(&mut socket).await;
    assert_eq!(
        live["change"]["message"],
        json!({ "seq": 2, "body": "two" })
    );
    // Nothing twice: a ping is answered before any other message.
    super::ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(super::ws_next(&mut socket).await["type"], "pong");

    // A stale `since`: RESYNC with where to go on from.
    let mut stale = super::ws_signed_in(&app.address, &chat.client_token).await;
    super::ws_send(
        &mut stale,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": CHANGES, "variables": { "since": "garbage" } } }),
    )
    .await;
    let resync = next_change(&mut stale).await;
    assert_eq!(resync["kind"], "RESYNC");
    assert!(resync["next"].is_string(), "{resync}");
    send(&app, &chat.therapist_token, conversation, "three").await;
    assert_eq!(
        next_change(&mut stale).await["change"]["message"]["body"],
        "three"
    );
}
on_every_backend!(the_graphql_subscription_replays_from_since_then_goes_on_live);
