//! The GraphQL door at `/graphql`: one schema whose resolvers call the same domain
//! services as REST. Domain errors reach clients with the same `code` as REST problems.

mod directory;
mod relay;

use actix_web::web;
use async_graphql::{EmptyMutation, EmptySubscription, ErrorExtensions, MergedObject, Schema};
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use domain::DomainError;

use crate::state::AppState;

/// Deepest selection a query may nest.
const MAX_DEPTH: usize = 12;
/// Most fields (weighted by list sizes) a query may select.
const MAX_COMPLEXITY: usize = 5_000;

/// Every query root field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(directory::DirectoryQuery, relay::NodeQuery);

/// The schema every node serves.
pub type PortalSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

/// Builds the schema over the services in `state`.
pub fn build_schema(state: AppState) -> PortalSchema {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .data(state)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The schema in SDL, exactly as committed in `openapi/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.route("/graphql", web::post().to(execute));
}

async fn execute(schema: web::Data<PortalSchema>, request: GraphQLRequest) -> GraphQLResponse {
    schema.execute(request.into_inner()).await.into()
}

/// Domain errors reach GraphQL clients with the same `code` as the REST problem body.
pub(crate) fn graphql_error(err: DomainError) -> async_graphql::Error {
    let message = match &err {
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
