//! GraphQL door to the access log, as `/v1/me/access-log` and
//! `/v1/admin/access-log` offer it.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use domain::access_log::AccessFilter;
use uuid::Uuid;

use super::connection::{Connection, connection_of, connection_page};
use super::plain::OnePass;
use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

#[derive(Default)]
pub struct AccessLogQuery;

#[Object]
impl AccessLogQuery {
    /// Every read of the caller's data by someone else, newest first: who, when,
    /// what and why. `from`/`to` bound when the entries were opened.
    #[allow(
        clippy::too_many_arguments,
        reason = "a connection's four plus two filters"
    )]
    async fn my_access_log(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<views::AccessEntry>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(ctx, first, after, last, before);
        let page = state
            .access_log
            .mine(actor(ctx)?, from, to, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, views::AccessEntry::from, EmptyFields))
    }

    /// Reads of clients' data, newest first (admins).
    #[allow(
        clippy::too_many_arguments,
        reason = "a connection's four plus five filters"
    )]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        client: Option<Uuid>,
        reader: Option<Uuid>,
        purpose: Option<views::AccessPurpose>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<views::AccessEntry>> {
        let state = ctx.data::<AppState>()?;
        let filter = AccessFilter {
            client,
            actor: reader,
            purpose: purpose.map(Into::into),
            from,
            to,
        };
        let page = connection_page(ctx, first, after, last, before);
        let page = state
            .access_log
            .search(actor(ctx)?, filter, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, views::AccessEntry::from, EmptyFields))
    }
}

impl OnePass for views::AccessEntry {}
