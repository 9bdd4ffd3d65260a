//! The documentation pages are served by `portal` itself, assets included (the browser
//! check in `tests/browser/check_docs.sh` renders them).

use crate::helpers::{Backend, TestApp, assert_problem};

async fn docs_lead_to_swagger_ui_over_the_served_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let response = no_redirects
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/docs/index.html");

    let page = app.get_as("/docs/index.html", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("a text body")
            .contains("swagger-ui")
    );
    let initializer = app.get_as("/docs/swagger-initializer.js", None).await;
    assert!(
        initializer
            .text()
            .await
            .expect("a text body")
            .contains("/openapi.json")
    );
    let document = app.get_as("/openapi.json", None).await;
    assert_eq!(
        document.text().await.expect("a text body"),
        api::openapi::document_json()
    );
}
on_every_backend!(docs_lead_to_swagger_ui_over_the_served_document);

async fn graphiql_is_served_with_local_assets_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let page = app.get_as("/graphql", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("an ASCII header")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("a text body");
    assert!(
        !html.contains("unpkg.com") && !html.contains("cdn."),
        "{html}"
    );

    let sources: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql-assets/"))
        .collect();
    assert_eq!(sources.len(), 4, "{html}");
    for source in sources {
        let asset = app.get_as(source, None).await;
        assert_eq!(asset.status(), 200, "{source}");
        let content_type = asset.headers()["content-type"]
            .to_str()
            .expect("an ASCII header")
            .to_owned();
        let expected = if source.contains(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type.starts_with(expected),
            "{source}: {content_type}"
        );
        let cache = asset.headers()["cache-control"]
            .to_str()
            .expect("an ASCII header")
            .to_owned();
        assert!(cache.contains("max-age=31536000"), "{source}: {cache}");
        assert!(
            asset.bytes().await.expect("a body").len() > 10_000,
            "{source}"
        );
    }

    assert_problem(
        app.get_as("/graphiql-assets/nope.js", None).await,
        404,
        "not_found",
    )
    .await;
}
on_every_backend!(graphiql_is_served_with_local_assets_only);

/// The README's list of error codes is the code table, entry for entry.
#[test]
fn the_readme_lists_every_error_code_with_its_meaning() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README");
    let listed: Vec<String> = readme
        .split("### Error codes")
        .nth(1)
        .expect("an Error codes section")
        .lines()
        .skip_while(|line| !line.starts_with("- `"))
        .take_while(|line| line.starts_with("- `"))
        .map(str::to_owned)
        .collect();
    let table: Vec<String> = api::codes::TABLE
        .iter()
        .map(|(code, meaning)| format!("- `{code}`: {meaning}"))
        .collect();
    assert_eq!(listed, table);
}
