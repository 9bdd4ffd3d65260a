//! The therapist directory: one keyset query path for REST and GraphQL alike, a count
//! for when a client asks for it, and a constant-memory walk for exports.

mod entity;
mod filter;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::Order,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use entity::{language, organisation, specialty, therapist};
pub use filter::{Accepting, Mode, TherapistFilter, TherapistOrder};

use crate::DomainError;
use crate::cursor::CursorKey;
use crate::page::{Direction, Page, PageRequest, past};

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

/// Where a cursor points: the sort value of its row and the row's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Position {
    #[serde(rename = "n")]
    Name(String, Uuid),
    #[serde(rename = "t")]
    Newest(DateTime<Utc>, Uuid),
}

/// Reads the therapist directory.
#[derive(Debug, Clone)]
pub struct DirectoryService {
    db: DatabaseConnection,
    cursors: CursorKey,
}

impl DirectoryService {
    /// A directory over `db`, signing its cursors with `cursors`.
    pub fn new(db: DatabaseConnection, cursors: CursorKey) -> Self {
        Self { db, cursors }
    }

    /// One page of the therapists matching `filter`, in `order`.
    ///
    /// Reads `limit + 1` rows so that the flag on the side it walks toward is known
    /// without counting; the flag on the side it comes from is one index probe.
    pub async fn list(
        &self,
        filter: TherapistFilter,
        order: TherapistOrder,
        page: PageRequest,
    ) -> Result<Page<Therapist>, DomainError> {
        let filter = filter.check()?;
        let scope = filter.scope(order);
        let position: Option<Position> = page.position(&self.cursors, &scope)?;
        if let Some(position) = &position {
            let matches = matches!(
                (position, order),
                (Position::Name(..), TherapistOrder::Name)
                    | (Position::Newest(..), TherapistOrder::Newest)
            );
            if !matches {
                // Only a forged-but-validly-signed cursor could get here; treat it alike.
                let parameter = page.cursor.as_ref().map_or("after", |(p, _)| p);
                return Err(DomainError::InvalidCursor { parameter });
            }
        }
        let forward = page.direction == Direction::Forward;
        let base = therapist::Entity::find().filter(filter.condition());

        let mut rows = walk(base.clone(), order, forward, position.as_ref(), false)
            .limit(page.limit + 1)
            .all(&self.db)
            .await?;
        let more_ahead = rows.len() as u64 > page.limit;
        rows.truncate(page.limit as usize);
        let more_behind = match &position {
            None => false,
            // Anything on the other side of the cursor, the cursor's own row included.
            Some(position) => walk(base, order, !forward, Some(position), true)
                .limit(1)
                .one(&self.db)
                .await?
                .is_some(),
        };
        if !forward {
            rows.reverse();
        }
        let (has_next, has_prev) = if forward {
            (more_ahead, more_behind)
        } else {
            (more_behind, more_ahead)
        };
        let cursors = rows
            .iter()
            .map(|row| self.cursors.seal(&scope, &position_of(row, order)))
            .collect();
        Ok(Page {
            items: self.with_tags(rows).await?,
            cursors,
            has_next,
            has_prev,
        })
    }

    /// How many therapists match `filter`. Costs a scan: only run when asked for.
    pub async fn count(&self, filter: TherapistFilter) -> Result<u64, DomainError> {
        let filter = filter.check()?;
        Ok(therapist::Entity::find()
            .filter(filter.condition())
            .count(&self.db)
            .await?)
    }

    /// One therapist by id.
    pub async fn get(&self, id: Uuid) -> Result<Therapist, DomainError> {
        let row = therapist::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound {
                entity: "therapist",
            })?;
        let mut found = self.with_tags(vec![row]).await?;
        Ok(found.remove(0))
    }

    /// Every therapist in name order, fetched in keyset batches of `batch` rows, so an
    /// export of any size holds one batch in memory.
    pub fn export(
        &self,
        batch: u64,
    ) -> impl Stream<Item = Result<Vec<Therapist>, DomainError>> + use<> {
        let directory = self.clone();
        futures_util::stream::try_unfold(Some(PageRequest::first(batch)), move |next| {
            let directory = directory.clone();
            async move {
                let Some(request) = next else {
                    return Ok(None);
                };
                let page = directory
                    .list(TherapistFilter::default(), TherapistOrder::Name, request)
                    .await?;
                let next = match (page.has_next, page.end_cursor()) {
                    (true, Some(end)) => Some(PageRequest {
                        limit: batch,
                        direction: Direction::Forward,
                        cursor: Some(("after", end.to_owned())),
                    }),
                    _ => None,
                };
                if page.items.is_empty() {
                    return Ok(None);
                }
                Ok(Some((page.items, next)))
            }
        })
    }

    /// Attaches specialties and languages: two queries for the whole page.
    async fn with_tags(&self, rows: Vec<therapist::Model>) -> Result<Vec<Therapist>, DomainError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut specialties: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in specialty::Entity::find()
            .filter(specialty::Column::TherapistId.is_in(ids.clone()))
            .order_by_asc(specialty::Column::Specialty)
            .all(&self.db)
            .await?
        {
            specialties
                .entry(row.therapist_id)
                .or_default()
                .push(row.specialty);
        }
        let mut languages: HashMap<Uuid, Vec<String>> = HashMap::new();
        for row in language::Entity::find()
            .filter(language::Column::TherapistId.is_in(ids))
            .order_by_asc(language::Column::Language)
            .all(&self.db)
            .await?
        {
            languages
                .entry(row.therapist_id)
                .or_default()
                .push(row.language);
        }
        Ok(rows
            .into_iter()
            .map(|row| Therapist {
                specialties: specialties.remove(&row.id).unwrap_or_default(),
                languages: languages.remove(&row.id).unwrap_or_default(),
                accepting: Accepting::parse(&row.accepting).unwrap_or(Accepting::NotAccepting),
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
            .collect())
    }
}

/// `select` ordered for walking `order` forward or backward, continuing past
/// `position` (or from it, when `inclusive`).
fn walk(
    select: Select<therapist::Entity>,
    order: TherapistOrder,
    forward: bool,
    position: Option<&Position>,
    inclusive: bool,
) -> Select<therapist::Entity> {
    use therapist::Column as T;
    // Name order is ascending and newest-first is descending; walking backward flips it.
    let (sort, ascending) = match order {
        TherapistOrder::Name => (T::SortName, forward),
        TherapistOrder::Newest => (T::CreatedAt, !forward),
    };
    let direction = if ascending { Order::Asc } else { Order::Desc };
    let select = match position {
        Some(Position::Name(name, id)) => {
            select.filter(past(sort, T::Id, name.as_str(), *id, ascending, inclusive))
        }
        Some(Position::Newest(at, id)) => {
            select.filter(past(sort, T::Id, *at, *id, ascending, inclusive))
        }
        None => select,
    };
    select
        .order_by(sort, direction.clone())
        .order_by(T::Id, direction)
}

fn position_of(row: &therapist::Model, order: TherapistOrder) -> Position {
    match order {
        TherapistOrder::Name => Position::Name(row.sort_name.clone(), row.id),
        TherapistOrder::Newest => Position::Newest(row.created_at, row.id),
    }
}
