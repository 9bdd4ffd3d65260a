//! The GraphQL door at `/graphql`: one schema whose resolvers call the same domain
//! services as REST. Domain errors reach clients with the same `code` as REST problems.

mod access_log;
mod accounts;
mod admin;
mod chat;
mod connection;
pub mod cost;
mod depth;
mod directory;
pub mod documents;
mod feed;
pub(crate) mod global_id;
mod limits;
mod plain;
mod privacy;
mod push;
mod realtime;
mod relay;
mod totp;
pub(crate) mod websocket;

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest, web};
use async_graphql::{Context, ErrorExtensions, MergedObject, MergedSubscription, Schema};
use domain::DomainError;
use domain::actor::{Actor, Door};

use crate::auth::{RequestId, authenticate, authorization_of};
use crate::codes;
use crate::state::AppState;

/// Most fields (weighted by list sizes) a query may select.
const MAX_COMPLEXITY: usize = 5_000;

/// Every query root field.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    directory::DirectoryQuery,
    relay::NodeQuery,
    accounts::AccountQuery,
    admin::AdminQuery,
    access_log::AccessLogQuery,
    chat::ChatQuery,
    push::PushQuery,
    realtime::RealtimeQuery,
);

/// Every mutation root field.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutation,
    admin::AdminMutation,
    chat::ChatMutation,
    privacy::PrivacyMutation,
    push::PushMutation,
    realtime::RealtimeMutation,
    totp::TotpMutation,
);

/// Every subscription root field.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(realtime::RealtimeSubscription, feed::FeedSubscription);

/// The schema every node serves.
pub type PortalSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema over the services in `state`.
pub fn build_schema(state: AppState) -> PortalSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(state)
    .data(documents::Validations::default())
    .limit_complexity(MAX_COMPLEXITY)
    .extension(limits::QueryLimits)
    .finish()
}

/// The schema in SDL, exactly as committed in `openapi/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.route("/graphql", web::post().to(execute))
        .route("/graphql/ws", web::get().to(subscribe));
}

/// Who is calling, established once per request from its `Authorization` header.
enum Caller {
    Anonymous,
    Known(Actor),
    /// Staff whose token reaches only two-factor enrolment.
    Enrolling(Actor),
    Rejected(DomainError),
}

/// Largest response body a request may produce; a larger one is replaced by a
/// `response_too_large` error (the cost ceiling makes this rare).
pub const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// Runs one operation or a batch (a JSON array) of up to `limits::MAX_BATCH`. The body
/// goes through the REST JSON extractor, so its size limit and problem answers (413,
/// 415, 400 `malformed_body`) apply here too. The whole batch is costed before any of
/// it runs (see `cost`).
async fn execute(
    schema: web::Data<PortalSchema>,
    state: web::Data<AppState>,
    budget: web::Data<cost::Budget>,
    documents: web::Data<documents::Documents>,
    http: HttpRequest,
    request: web::Json<async_graphql::BatchRequest>,
) -> actix_web::HttpResponse {
    let mut batch = request.into_inner();
    if let Some(refusal) = limits::refuse_large_batch(&batch) {
        return respond(&refusal.into());
    }
    let refusals = documents::prepare_batch(&documents, &mut batch);
    let cost = cost::of_batch(&mut batch);
    if cost > cost::MAX_REQUEST_COST {
        return respond(&limits::too_costly(cost).into());
    }
    let request_id = http.extensions().get::<RequestId>().map(|r| r.0.clone());
    let authorization = authorization_of(&http);
    let authenticated = authenticate(
        &state.accounts,
        authorization.as_deref(),
        request_id,
        Door::Graphql,
    );
    let caller = match authenticated.await {
        Ok(None) => Caller::Anonymous,
        Ok(Some(credentials)) if credentials.reach_only_enrolment() => {
            Caller::Enrolling(credentials.actor)
        }
        Ok(Some(credentials)) => Caller::Known(credentials.actor),
        Err(err) => Caller::Rejected(err),
    };
    let client = match &caller {
        Caller::Known(actor) | Caller::Enrolling(actor) => actor.account_id.to_string(),
        Caller::Anonymous | Caller::Rejected(_) => http
            .peer_addr()
            .map(|peer| peer.ip().to_string())
            .unwrap_or_default(),
    };
    if let Err(wait) = budget.charge(&client, cost) {
        return over_budget(cost, wait);
    }
    let batch = batch
        .data(Arc::new(caller))
        .data(crate::rest::origin(&http));
    respond(&documents::execute_unless_refused(&schema, batch, refusals).await)
}

/// The client's points are spent: the same 429 problem, with `Retry-After`, as the
/// per-client request limit in front of every route answers.
fn over_budget(cost: u64, wait: u64) -> actix_web::HttpResponse {
    crate::problem::Problem::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        codes::RATE_LIMITED,
        Some(format!(
            "this client has spent its GraphQL points (this request costs {cost}); retry in {wait} s"
        )),
    )
    .retry_after(wait)
    .response()
}

/// A GraphQL answer over HTTP: 200 with the response (errors included) as JSON.
fn respond(response: &async_graphql::BatchResponse) -> actix_web::HttpResponse {
    match serde_json::to_vec(response) {
        Ok(body) if body.len() > MAX_RESPONSE_BYTES => {
            respond(&limits::too_large(body.len()).into())
        }
        Ok(body) => actix_web::HttpResponse::Ok()
            .content_type("application/graphql-response+json")
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "a GraphQL response could not be serialised");
            actix_web::HttpResponse::InternalServerError().finish()
        }
    }
}

/// `GET /graphql/ws` without an upgrade: WebSocket upgrades never reach the routes
/// (see `websocket`), so a plain request is told what is expected.
async fn subscribe() -> actix_web::HttpResponse {
    let mut response = crate::problem::Problem::new(
        actix_web::http::StatusCode::UPGRADE_REQUIRED,
        codes::UPGRADE_REQUIRED,
        Some("open a WebSocket (graphql-transport-ws) here".to_owned()),
    )
    .response();
    response.headers_mut().insert(
        actix_web::http::header::UPGRADE,
        actix_web::http::header::HeaderValue::from_static("websocket"),
    );
    response
}

/// The signed-in caller, or an `unauthenticated` error.
pub(crate) fn actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    match ctx.data::<Arc<Caller>>()?.as_ref() {
        Caller::Known(actor) => Ok(actor),
        Caller::Enrolling(_) => Err(error_of(&DomainError::TotpEnrolmentRequired)),
        Caller::Rejected(err) => Err(error_of(err)),
        Caller::Anonymous => Err(error_of(&DomainError::Unauthenticated(
            "a bearer token is required",
        ))),
    }
}

/// The signed-in caller, also when staff whose token reaches only two-factor
/// enrolment: for enrolment's mutations alone.
pub(crate) fn enrolling_actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    match ctx.data::<Arc<Caller>>()?.as_ref() {
        Caller::Enrolling(actor) => Ok(actor),
        _ => actor(ctx),
    }
}

/// Domain errors reach GraphQL clients with the same `code` as the REST problem body.
pub(crate) fn graphql_error(err: DomainError) -> async_graphql::Error {
    error_of(&err)
}

fn error_of(err: &DomainError) -> async_graphql::Error {
    let message = match err {
        DomainError::Storage(_) | DomainError::Unavailable => {
            tracing::error!(error = ?err, "resolver failed");
            err.to_string()
        }
        other => other.to_string(),
    };
    let parameter = err.parameter();
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", err.code());
        if let Some(parameter) = parameter {
            ext.set("parameter", parameter);
        }
    })
}

/// An unusable argument, with the same code REST uses.
pub(crate) fn invalid_argument(parameter: &'static str, message: &str) -> async_graphql::Error {
    graphql_error(DomainError::InvalidParameter {
        parameter,
        message: message.to_owned(),
    })
}
