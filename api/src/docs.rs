//! The two documentation pages, served with every asset from the binary so they work
//! with no internet access: Swagger UI at `/docs` (over `/openapi.json`) and GraphiQL
//! at `GET /graphql` (next to `POST /graphql`).

use actix_web::http::header::{self, CacheControl, CacheDirective, ContentType};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where Swagger UI's page lives; its assets are relative to it.
const SWAGGER_INDEX: &str = "/docs/index.html";

/// The GraphiQL version the embedded assets come from; asset URLs carry it, so a
/// browser holding last year's copy fetches the new one after an upgrade.
const GRAPHIQL_VERSION: &str = "4.1.2";

/// GraphiQL 4 and React 18 (production UMD builds), as published on npm.
const GRAPHIQL_ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// Registers `/docs`, `GET /graphql` and `/graphiql-assets/{name}`. Swagger UI is not
/// an operation of the API, so it goes through `map`, out of the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.map(|cfg| {
        cfg.service(
            SwaggerUi::new("/docs/{_:.*}").config(
                Config::new(["/openapi.json"])
                    .persist_authorization(true)
                    .try_it_out_enabled(true),
            ),
        )
        // `/docs/` is trimmed to `/docs` before routing: both land on the page itself,
        // whose relative asset URLs then resolve under `/docs/`.
        .route("/docs", web::get().to(to_swagger_index))
        .route(
            "/graphql",
            // A WebSocket upgrade on `GET /graphql` is left to a subscription route.
            web::get()
                .guard(guard::fn_guard(|ctx| {
                    ctx.head().headers().get(header::UPGRADE).is_none()
                }))
                .to(graphiql),
        )
        .route("/graphiql-assets/{name}", web::get().to(graphiql_asset))
    });
}

async fn to_swagger_index() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, SWAGGER_INDEX))
        .finish()
}

/// The GraphiQL page: async-graphql's page with every URL pointing at this server.
async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .body(graphiql_page())
}

fn graphiql_page() -> String {
    let asset = |name: &str| format!("/graphiql-assets/{name}?v={GRAPHIQL_VERSION}");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Therapist portal GraphiQL</title>
    <style>
      body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
    <script src="{react}"></script>
    <script src="{react_dom}"></script>
    <link rel="stylesheet" href="{css}">
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="{js}"></script>
    <script>
      const url = new URL('/graphql', window.location.origin);
      const subscriptionUrl = new URL('/graphql/ws', window.location.origin);
      subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      // `?explorer=docs` opens the schema's documentation, for links that point at it.
      const explorer = new URLSearchParams(window.location.search).get('explorer');
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, {{
          fetcher: GraphiQL.createFetcher({{
            url: url.toString(),
            subscriptionUrl: subscriptionUrl.toString(),
          }}),
          defaultEditorToolsVisibility: true,
        }})
      );
      // GraphiQL 4 decides on its first render that the pane is hidden, whatever
      // `visiblePlugin` says; its own sidebar button is what shows it.
      if (explorer === 'docs') {{
        const open = () => {{
          const button = document.querySelector(
            '.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
          button ? button.click() : requestAnimationFrame(open);
        }};
        open();
      }}
    </script>
  </body>
</html>
"#,
        react = asset("react.production.min.js"),
        react_dom = asset("react-dom.production.min.js"),
        css = asset("graphiql.min.css"),
        js = asset("graphiql.min.js"),
    )
}

/// One embedded GraphiQL asset, cacheable for a year (its URL names its version).
async fn graphiql_asset(request: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match GRAPHIQL_ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, *content_type))
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(365 * 24 * 3600),
                CacheDirective::Extension("immutable".to_owned(), None),
            ]))
            .body(*bytes),
        None => crate::routes::not_found_problem(&request),
    }
}
