//! GraphQL door to the therapist directory: `therapists` as a Cursor Connection,
//! `therapist(id)`. Paging and filter rules live in `domain::directory`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use domain::directory::{Accepting, Mode, TherapistFilter, TherapistOrder};

use async_graphql::{ScalarType, Value, resolver_utils::enum_value};
use uuid::Uuid;

use super::connection::{Connection, connection_of, connection_page};
use super::plain::{Plain, PlainFields};

use super::global_id::{GlobalKey, parse_global_id};
use super::{actor, graphql_error, invalid_argument};
use crate::state::AppState;
use crate::views;
pub use crate::views::{AcceptingStatus, MeetingMode};

/// Directory order; the id always breaks ties.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(remote = "domain::directory::TherapistOrder")]
pub enum TherapistOrderBy {
    /// By name, A to Z.
    #[default]
    Name,
    /// Newest profiles first.
    Newest,
}

/// Narrows the directory; all given fields must match.
#[derive(InputObject, Default, Clone)]
pub struct TherapistFilterInput {
    /// Specialty code, e.g. `anxiety`.
    pub specialty: Option<String>,
    /// ISO 639-1 language code.
    pub language: Option<String>,
    /// City, case-insensitive.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    pub organisation: Option<Uuid>,
    pub accepting: Option<AcceptingStatus>,
    pub mode: Option<MeetingMode>,
    /// Case-insensitive prefix of the name.
    pub q: Option<String>,
}

impl From<TherapistFilterInput> for TherapistFilter {
    fn from(f: TherapistFilterInput) -> Self {
        Self {
            specialty: f.specialty,
            language: f.language,
            city: f.city,
            country: f.country,
            organisation: f.organisation,
            accepting: f.accepting.map(Accepting::from),
            mode: f.mode.map(Mode::from),
            q: f.q,
        }
    }
}

/// Fields of the therapist connection beyond the standard ones.
pub struct TherapistConnectionFields {
    filter: TherapistFilter,
}

#[Object]
impl TherapistConnectionFields {
    /// Therapists matching the filter in all. Counts on every request: select it only
    /// when it is shown.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let state = ctx.data::<AppState>()?;
        state
            .directory
            .count(actor(ctx)?, self.filter.clone())
            .await
            .map_err(graphql_error)
    }
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The directory, one page at a time: `first`/`after` forward, `last`/`before`
    /// backward, at most 100 per page, every therapist reachable.
    #[allow(
        clippy::too_many_arguments,
        reason = "the Connections spec fixes these arguments"
    )]
    async fn therapists(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TherapistFilterInput>,
        order_by: Option<TherapistOrderBy>,
    ) -> Result<Connection<Plain<views::Therapist>, TherapistConnectionFields>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(ctx, first, after, last, before);
        let filter: TherapistFilter = filter.unwrap_or_default().into();
        let order = TherapistOrder::from(order_by.unwrap_or_default());
        let page = state
            .directory
            .list(actor(ctx)?, filter.clone(), order, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(
            page,
            |therapist| Plain(views::Therapist::from(therapist)),
            TherapistConnectionFields { filter },
        ))
    }

    /// One therapist, by global id or UUID; null when absent.
    async fn therapist(&self, ctx: &Context<'_>, id: ID) -> Result<Option<views::Therapist>> {
        let key = match parse_global_id(&id) {
            Some(GlobalKey::Object(kind, key)) if kind == "Therapist" => key,
            Some(_) => return Ok(None),
            None => id
                .parse::<Uuid>()
                .map_err(|_| invalid_argument("id", "not a therapist id"))?,
        };
        let state = ctx.data::<AppState>()?;
        match state.directory.get(actor(ctx)?, key).await {
            Ok(therapist) => Ok(Some(therapist.into())),
            Err(domain::DomainError::NotFound { .. }) => Ok(None),
            Err(err) => Err(graphql_error(err)),
        }
    }
}

impl PlainFields for views::Therapist {
    fn plain_field(&self, name: &str) -> Option<Value> {
        let strings =
            |list: &[String]| Value::List(list.iter().cloned().map(Value::String).collect());
        Some(match name {
            "id" => self.global_id.to_value(),
            "uuid" => self.uuid.to_value(),
            "displayName" => Value::String(self.display_name.clone()),
            "bio" => Value::String(self.bio.clone()),
            "specialties" => strings(&self.specialties),
            "languages" => strings(&self.languages),
            "city" => Value::String(self.city.clone()),
            "country" => Value::String(self.country.clone()),
            "organisationId" => self
                .organisation_id
                .as_ref()
                .map_or(Value::Null, Uuid::to_value),
            "accepting" => enum_value(self.accepting),
            "offersOnline" => Value::Boolean(self.offers_online),
            "offersInPerson" => Value::Boolean(self.offers_in_person),
            "createdAt" => self.created_at.to_value(),
            "updatedAt" => self.updated_at.to_value(),
            _ => return None,
        })
    }
}
