//! The limits the API documents are the limits the domain enforces: every number a
//! client reads in the OpenAPI document or the GraphQL schema about a size is
//! compared here with the domain constant it stands for, so a change to either that
//! forgets the other fails.

use domain::limits::{self, Length};
use domain::page::PageLimits;
use serde_json::Value;

use crate::contract::{document, operations};

/// The page sizes of the list at `path`, from the service that owns it.
fn page_limits_of(path: &str) -> PageLimits {
    match path {
        "/v1/therapists" => domain::directory::DirectoryService::PAGE,
        "/v1/conversations" => domain::chat::ChatService::CONVERSATION_PAGE,
        "/v1/conversations/{id}/messages" => domain::chat::ChatService::HISTORY_PAGE,
        "/v1/admin/accounts" => domain::accounts::AccountService::ACCOUNT_PAGE,
        "/v1/admin/audit" => domain::audit::AuditService::PAGE,
        "/v1/sync" => domain::chat::ChatService::SYNC_PAGE,
        "/v1/me/access-log" | "/v1/admin/access-log" => domain::access_log::AccessLog::PAGE,
        other => panic!("{other} takes a `limit`: name the service that owns its list"),
    }
}

/// `N to M` numbers in `text`, with thousands separators, e.g. "1 to 10,000".
fn ranges_in(text: &str) -> Vec<(u64, u64)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |w: &str| {
        w.trim_start_matches('(')
            .trim_end_matches([',', '.', ')', ':'])
            .replace(',', "")
            .parse::<u64>()
            .ok()
    };
    words
        .windows(3)
        .filter(|w| w[1] == "to")
        .filter_map(|w| Some((number(w[0])?, number(w[2])?)))
        .collect()
}

fn assert_length(schema: &Value, length: Length, what: &str) {
    let min = if length.min == 0 {
        Value::Null
    } else {
        length.min.into()
    };
    assert_eq!(schema["minLength"], min, "{what}: minLength");
    assert_eq!(schema["maxLength"], length.max, "{what}: maxLength");
}

#[test]
fn request_bodies_document_the_domain_lengths() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let lengths: [(&str, &[&str], Length); 7] = [
        (
            "password",
            &["SignupRequest", "CreateTherapistRequest"],
            limits::PASSWORD,
        ),
        (
            "display_name",
            &[
                "SignupRequest",
                "CreateTherapistRequest",
                "UpdateTherapistRequest",
            ],
            limits::DISPLAY_NAME,
        ),
        (
            "bio",
            &["CreateTherapistRequest", "UpdateTherapistRequest"],
            limits::BIO,
        ),
        (
            "city",
            &["CreateTherapistRequest", "UpdateTherapistRequest"],
            limits::CITY,
        ),
        (
            "body",
            &["SendMessageRequest", "EditMessageRequest"],
            limits::MESSAGE_BODY,
        ),
        (
            "client_msg_id",
            &["SendMessageRequest"],
            limits::CLIENT_MSG_ID,
        ),
        (
            "country",
            &["CreateTherapistRequest", "UpdateTherapistRequest"],
            Length { min: 2, max: 2 },
        ),
    ];
    for (property, requests, length) in lengths {
        for request in requests {
            let schema = &schemas[request]["properties"][property];
            assert_length(schema, length, &format!("{request}.{property}"));
        }
    }
    for request in ["SignupRequest", "CreateTherapistRequest"] {
        assert_eq!(
            schemas[request]["properties"]["email"]["maxLength"],
            limits::EMAIL_MAX_CHARS,
            "{request}.email"
        );
    }
    for request in ["CreateTherapistRequest", "UpdateTherapistRequest"] {
        for tags in ["specialties", "languages"] {
            assert_eq!(
                schemas[request]["properties"][tags]["maxItems"],
                limits::MAX_TAGS,
                "{request}.{tags}"
            );
        }
    }
    assert_eq!(
        schemas["StartConversationRequest"]["properties"]["member_ids"]["maxItems"],
        limits::MAX_MEMBERS,
        "StartConversationRequest.member_ids"
    );
}

#[test]
fn query_parameters_document_the_domain_limits() {
    let document = document();
    let mut limits_seen = 0;
    for (method, path, operation) in operations(&document) {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            let schema = &parameter["schema"];
            let described = parameter["description"].as_str().unwrap_or_default();
            let what = format!("{method} {path} {name}");
            match name {
                "limit" => {
                    let page = page_limits_of(&path);
                    assert_eq!(schema["minimum"], 1, "{what}");
                    assert_eq!(schema["maximum"], page.max, "{what}");
                    let stated = format!("1 to {} (default {})", page.max, page.default);
                    assert!(described.contains(&stated), "{what}: {described}");
                    limits_seen += 1;
                }
                "older" | "newer" => {
                    let window = domain::chat::ChatService::HISTORY_PAGE;
                    assert_eq!(schema["maximum"], window.max - 1, "{what}");
                }
                "ids" => {
                    let cap = format!("at most {}", limits::MAX_PRESENCE_IDS);
                    assert!(described.contains(&cap), "{what}: {described}");
                }
                "seq" => assert_eq!(schema["minimum"], 1, "{what}"),
                "specialty" | "language" => assert_length(schema, limits::TAG, &what),
                "city" => assert_length(schema, limits::CITY, &what),
                "q" => assert_length(schema, limits::SEARCH, &what),
                _ => {}
            }
        }
    }
    assert_eq!(limits_seen, 8, "every paged list documents its `limit`");
}

#[test]
fn every_n_to_m_characters_in_a_description_is_its_schema_range() {
    let document = document();
    let mut checked = 0;
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .expect("component schemas")
    {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (property, schema) in properties {
            let described = schema["description"].as_str().unwrap_or_default();
            for (min, max) in ranges_in(described) {
                if schema["type"] == "array" {
                    continue;
                }
                assert_eq!(schema["minLength"], min, "{name}.{property}: {described}");
                assert_eq!(schema["maxLength"], max, "{name}.{property}: {described}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "only {checked} stated ranges were found");
}

#[test]
fn the_graphql_schema_states_the_domain_limits() {
    let sdl = api::graphql::sdl();
    let password = (limits::PASSWORD.min as u64, limits::PASSWORD.max as u64);
    let window = domain::chat::ChatService::HISTORY_PAGE;
    let directory = domain::directory::DirectoryService::PAGE;
    let sync = domain::chat::ChatService::SYNC_PAGE;
    let mut passwords = 0;
    for line in sdl.lines() {
        if line.contains("password") {
            for range in ranges_in(line) {
                assert_eq!(range, password, "{line}");
                passwords += 1;
            }
        }
        if let Some(at_most) = line.split("at most ").nth(1) {
            let number: String = at_most.chars().take_while(char::is_ascii_digit).collect();
            let number: u64 = number.parse().unwrap_or_else(|_| panic!("{line}"));
            assert!(
                [window.max, directory.max, sync.max].contains(&number),
                "{line}: {number} is no page maximum"
            );
        }
    }
    assert!(
        passwords >= 2,
        "the password rule is stated on both mutations"
    );
}

#[test]
fn the_413_states_the_body_limit() {
    let kib = format!("{} KiB", api::JSON_LIMIT / 1024);
    let document = document();
    for (method, path, operation) in operations(&document) {
        if let Some(response) = operation["responses"].get("413") {
            let described = response["description"].as_str().unwrap_or_default();
            assert!(described.contains(&kib), "{method} {path} 413: {described}");
        }
    }
    let (_, meaning) = api::codes::TABLE
        .iter()
        .find(|(code, _)| *code == api::codes::BODY_TOO_LARGE)
        .expect("body_too_large is a code");
    assert!(meaning.contains(&kib), "{meaning}");
}
