//! The committed contract files are what the code produces: client generators read
//! `openapi/openapi.json` and `openapi/schema.graphql`, so a change to the API must
//! change them in the same commit.

use serde_json::Value;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let committed = include_str!("../../openapi/openapi.json");
    assert!(
        committed == api::openapi::document_json(),
        "openapi/openapi.json is stale: run `cargo run --bin portal -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn the_committed_graphql_schema_matches_the_code() {
    let committed = include_str!("../../openapi/schema.graphql");
    assert!(
        committed == api::graphql::sdl(),
        "openapi/schema.graphql is stale: run `cargo run --bin portal -- graphql-schema > openapi/schema.graphql`"
    );
}

pub(crate) fn document() -> Value {
    serde_json::from_str(&api::openapi::document_json()).expect("the document is JSON")
}

/// Every operation of the document, as (method, path, operation).
pub(crate) fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let paths = document["paths"].as_object().expect("paths");
    let mut all = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item") {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

#[test]
fn every_protected_operation_names_the_bearer_scheme_and_documents_401() {
    let document = document();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let open = [
        "/v1/auth/signup",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
    ];
    for (method, path, operation) in operations(&document) {
        if !path.starts_with("/v1/") || open.contains(&path.as_str()) {
            assert_eq!(
                operation["security"],
                serde_json::json!([]),
                "{method} {path} is public and says so (`security: []`)"
            );
            continue;
        }
        assert_eq!(
            operation["security"][0]["bearer"],
            serde_json::json!([]),
            "{method} {path} must require the bearer scheme"
        );
        assert!(
            operation["responses"]["401"].is_object(),
            "{method} {path} must document 401"
        );
    }
}

#[test]
fn every_operation_has_a_tag_and_every_error_is_a_problem() {
    let document = document();
    let tags: Vec<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("a tag name"))
        .collect();
    for (method, path, operation) in operations(&document) {
        let tag = operation["tags"][0].as_str().unwrap_or_default();
        assert!(tags.contains(&tag), "{method} {path} has tag {tag:?}");
        for (status, response) in operation["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status} must be a problem"
                );
            }
        }
        if path.starts_with("/v1/") {
            for status in ["429", "503"] {
                assert!(
                    operation["responses"][status]["headers"]["Retry-After"].is_object(),
                    "{method} {path} must document {status} with Retry-After"
                );
            }
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{method} {path} takes a body and must document {status}"
                );
            }
        }
    }
}

#[test]
fn every_schema_reference_resolves() {
    let document = document();
    let text = document.to_string();
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("component schemas");
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            schemas.contains_key(name),
            "{name} is referenced but not defined"
        );
    }
}

#[test]
fn every_operation_has_a_one_line_summary_and_a_description() {
    for (method, path, operation) in operations(&document()) {
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.is_empty() && !summary.contains('\n'),
            "{method} {path}: a one-line summary, not {summary:?}"
        );
        assert!(
            operation["description"]
                .as_str()
                .is_some_and(|d| !d.trim().is_empty()),
            "{method} {path} has a description"
        );
    }
}

/// The `$ref` of the JSON body of `status` of `method path`.
fn body_ref(document: &Value, method: &str, path: &str, status: &str) -> String {
    document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        ["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{method} {path} {status} refers to a schema"))
        .to_owned()
}

/// The schema a `$ref` names.
fn resolve<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let name = reference
        .strip_prefix("#/components/schemas/")
        .expect("a component reference");
    &document["components"]["schemas"][name]
}

#[test]
fn list_items_and_single_resources_share_one_schema_by_ref() {
    let document = document();
    for (list, single) in [
        ("/v1/therapists", Some("/v1/therapists/{id}")),
        ("/v1/conversations", Some("/v1/conversations/{id}")),
        ("/v1/admin/accounts", None),
        ("/v1/admin/audit", None),
    ] {
        let page = resolve(&document, &body_ref(&document, "get", list, "200"));
        let item = page["properties"]["items"]["items"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("the items of {list} are a $ref, not a copy: {page}"));
        assert!(resolve(&document, item).is_object(), "{item} exists");
        if let Some(single) = single {
            assert_eq!(
                body_ref(&document, "get", single, "200"),
                item,
                "{single} answers the item schema of {list}"
            );
        }
    }
    // Query enums are the body's enums, not copies.
    let parameters = document["paths"]["/v1/therapists"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    for (name, schema) in [("accepting", "AcceptingStatus"), ("mode", "MeetingMode")] {
        let parameter = parameters
            .iter()
            .find(|p| p["name"] == name)
            .expect("the parameter");
        assert_eq!(
            parameter["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{name}"
        );
    }
}
