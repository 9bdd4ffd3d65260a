//! The therapist directory: one keyset query path for REST and GraphQL alike, a count
//! for when a client asks for it, and a constant-memory walk for exports.

mod entity;
mod filter;
mod profile;
pub(crate) mod tag_list;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use entity::{language, organisation, specialty, therapist};
pub use filter::{Accepting, Mode, TherapistFilter, TherapistOrder};
pub(crate) use profile::insert_profile;
pub use profile::{NewProfile, ProfilePatch};

use crate::DomainError;
use crate::actor::Actor;
use crate::cursor::CursorKey;
use crate::database::Db;
use crate::page::{Keyset, LIST_LIMITS, Page, PageArgs, PageLimits, PageRequest, Pager, Position};
use filter::CheckedFilter;

/// Therapists per keyset batch of the export.
pub const EXPORT_BATCH: u64 = 500;

/// A therapist as every door shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Therapist {
    pub id: Uuid,
    pub display_name: String,
    pub bio: String,
    pub specialties: Vec<String>,
    pub languages: Vec<String>,
    pub city: String,
    pub country: String,
    pub organisation_id: Option<Uuid>,
    pub accepting: Accepting,
    pub offers_online: bool,
    pub offers_in_person: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<therapist::Model> for Therapist {
    type Error = DomainError;

    fn try_from(row: therapist::Model) -> Result<Self, DomainError> {
        let accepting = Accepting::parse(&row.accepting)
            .ok_or_else(|| DomainError::corrupt("therapists.accepting", &row.accepting))?;
        Ok(Self {
            specialties: tag_list::split(&row.specialty_list),
            languages: tag_list::split(&row.language_list),
            accepting,
            id: row.id,
            display_name: row.display_name,
            bio: row.bio,
            city: row.city,
            country: row.country,
            organisation_id: row.organisation_id,
            offers_online: row.offers_online,
            offers_in_person: row.offers_in_person,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Where a cursor points: the sort value of its row and the row's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum DirectoryPosition {
    #[serde(rename = "n")]
    Name(String, Uuid),
    #[serde(rename = "t")]
    Newest(DateTime<Utc>, Uuid),
}

/// Reads the therapist directory.
#[derive(Debug, Clone)]
pub struct DirectoryService {
    pub(crate) db: Db,
    cursors: CursorKey,
}

impl DirectoryService {
    /// A directory over `db`, signing its cursors with `cursors`.
    pub fn new(db: Db, cursors: CursorKey) -> Self {
        Self { db, cursors }
    }

    /// Page sizes of the directory.
    pub const PAGE: PageLimits = LIST_LIMITS;

    /// One page of the therapists matching `filter`, in `order`. The directory is for
    /// signed-in users of any role: holding an `Actor` is the proof.
    pub async fn list(
        &self,
        _signed_in: &Actor,
        filter: TherapistFilter,
        order: TherapistOrder,
        page: PageArgs,
    ) -> Result<Page<Therapist>, DomainError> {
        let filter = filter.check()?;
        let page = page.check(Self::PAGE)?;
        self.page(&filter, order, &page).await
    }

    /// The page `request` of the therapists matching `filter`. A cursor opens only in
    /// the scope of its filters and order, so its position always fits the keyset.
    async fn page(
        &self,
        filter: &CheckedFilter,
        order: TherapistOrder,
        request: &PageRequest,
    ) -> Result<Page<Therapist>, DomainError> {
        let scope = filter.scope(order);
        let pager = Pager {
            cursors: &self.cursors,
            scope: &scope,
            limits: Self::PAGE,
        };
        let select = therapist::Entity::find().filter(filter.condition());
        pager
            .read_checked(
                &self.db,
                select,
                keyset(order),
                request,
                |row: &therapist::Positional| position_of(&row.0, order),
            )
            .await?
            .try_map(|row| Therapist::try_from(row.0))
    }

    /// How many therapists match `filter`. Costs a scan: only run when asked for.
    pub async fn count(
        &self,
        _signed_in: &Actor,
        filter: TherapistFilter,
    ) -> Result<u64, DomainError> {
        let filter = filter.check()?;
        Ok(therapist::Entity::find()
            .filter(filter.condition())
            .count(&self.db)
            .await?)
    }

    /// One therapist by id.
    pub async fn get(&self, _signed_in: &Actor, id: Uuid) -> Result<Therapist, DomainError> {
        therapist_by_id(&self.db, id).await
    }

    /// Every therapist in name order, fetched in keyset batches of [`EXPORT_BATCH`]
    /// rows, so an export of any size holds one batch in memory; support and admin
    /// only.
    pub fn export(
        &self,
        actor: &Actor,
    ) -> Result<impl Stream<Item = Result<Vec<Therapist>, DomainError>> + use<>, DomainError> {
        actor.require_staff("export the directory")?;
        let directory = self.clone();
        let everyone = TherapistFilter::default().check()?;
        Ok(futures_util::stream::try_unfold(
            Some(PageRequest::first(EXPORT_BATCH)),
            move |next| {
                let directory = directory.clone();
                let everyone = everyone.clone();
                async move {
                    let Some(request) = next else {
                        return Ok(None);
                    };
                    let page = directory
                        .page(&everyone, TherapistOrder::Name, &request)
                        .await?;
                    let next = match (page.has_next, page.end_cursor()) {
                        (true, Some(end)) => Some(PageRequest::after(EXPORT_BATCH, end.to_owned())),
                        _ => None,
                    };
                    if page.items.is_empty() {
                        return Ok(None);
                    }
                    Ok(Some((page.items, next)))
                }
            },
        ))
    }
}

/// Therapist `id` with its tags, read on `conn`.
pub(crate) async fn therapist_by_id(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Therapist, DomainError> {
    therapist::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound {
            entity: "therapist",
        })?
        .try_into()
}

/// The keyset of `order`.
fn keyset(order: TherapistOrder) -> Keyset<therapist::Column> {
    use therapist::Column as T;
    match order {
        TherapistOrder::Name => Keyset {
            sort: T::SortName,
            id: T::Id,
            ascending: true,
        },
        TherapistOrder::Newest => Keyset {
            sort: T::CreatedAt,
            id: T::Id,
            ascending: false,
        },
    }
}

impl Position for DirectoryPosition {
    fn key(&self) -> (Value, Value) {
        match self {
            Self::Name(name, id) => (name.clone().into(), (*id).into()),
            Self::Newest(at, id) => ((*at).into(), (*id).into()),
        }
    }
}

fn position_of(row: &therapist::Model, order: TherapistOrder) -> DirectoryPosition {
    match order {
        TherapistOrder::Name => DirectoryPosition::Name(row.sort_name.clone(), row.id),
        TherapistOrder::Newest => DirectoryPosition::Newest(row.created_at, row.id),
    }
}
