//! Creating and editing therapist profiles (support and admin only): validation of
//! every field once, and the writes, each audited in the same transaction.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::entity::{language, organisation, specialty, therapist};
use super::filter::{code, country};
use super::{Accepting, DirectoryService, Therapist, tag_list};
use crate::DomainError;
use crate::actor::Actor;
use crate::audit;
use crate::limits::{BIO, CITY, DISPLAY_NAME, Length, MAX_TAGS, TAG};
use crate::text::{self, Lines};

/// 422 naming `field` unless `value` has a length `length` allows.
fn check_length(field: &str, value: &str, length: Length) -> Result<(), DomainError> {
    if length.allows(value.chars().count()) {
        Ok(())
    } else {
        Err(DomainError::Validation(format!(
            "{field}: {}",
            length.requirement()
        )))
    }
}

/// A complete profile, as support staff enter it.
#[derive(Debug, Clone)]
pub struct NewProfile {
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
}

/// The fields of a profile to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub specialties: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// `Some(None)` removes the organisation.
    pub organisation_id: Option<Option<Uuid>>,
    pub accepting: Option<Accepting>,
    pub offers_online: Option<bool>,
    pub offers_in_person: Option<bool>,
}

impl NewProfile {
    /// Trims, normalises and checks every field.
    fn checked(mut self) -> Result<Self, DomainError> {
        let invalid = |e: DomainError| match e {
            DomainError::InvalidParameter { parameter, message } => {
                DomainError::Validation(format!("{parameter}: {message}"))
            }
            other => other,
        };
        text::field("display_name", &self.display_name, Lines::One)?;
        text::field("bio", &self.bio, Lines::Many)?;
        text::field("city", &self.city, Lines::One)?;
        self.display_name = self.display_name.trim().to_owned();
        check_length("display_name", &self.display_name, DISPLAY_NAME)?;
        self.bio = self.bio.trim().to_owned();
        check_length("bio", &self.bio, BIO)?;
        self.city = self.city.trim().to_owned();
        check_length("city", &self.city, CITY)?;
        self.country = country(&self.country).map_err(invalid)?;
        for (field, tags) in [
            ("specialties", &mut self.specialties),
            ("languages", &mut self.languages),
        ] {
            if tags.len() > MAX_TAGS {
                return Err(DomainError::Validation(format!(
                    "{field}: at most {MAX_TAGS} entries"
                )));
            }
            let parameter = if field == "specialties" {
                "specialty"
            } else {
                "language"
            };
            let mut normalised = tags
                .iter()
                .map(|t| code(parameter, t, TAG))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            normalised.sort_unstable();
            normalised.dedup();
            *tags = normalised;
        }
        if !self.offers_online && !self.offers_in_person {
            return Err(DomainError::Validation(
                "a therapist offers online sessions, in-person sessions or both".into(),
            ));
        }
        Ok(self)
    }

    fn patched(self, patch: ProfilePatch) -> Self {
        Self {
            display_name: patch.display_name.unwrap_or(self.display_name),
            bio: patch.bio.unwrap_or(self.bio),
            specialties: patch.specialties.unwrap_or(self.specialties),
            languages: patch.languages.unwrap_or(self.languages),
            city: patch.city.unwrap_or(self.city),
            country: patch.country.unwrap_or(self.country),
            organisation_id: patch.organisation_id.unwrap_or(self.organisation_id),
            accepting: patch.accepting.unwrap_or(self.accepting),
            offers_online: patch.offers_online.unwrap_or(self.offers_online),
            offers_in_person: patch.offers_in_person.unwrap_or(self.offers_in_person),
        }
    }
}

impl From<Therapist> for NewProfile {
    fn from(t: Therapist) -> Self {
        Self {
            display_name: t.display_name,
            bio: t.bio,
            specialties: t.specialties,
            languages: t.languages,
            city: t.city,
            country: t.country,
            organisation_id: t.organisation_id,
            accepting: t.accepting,
            offers_online: t.offers_online,
            offers_in_person: t.offers_in_person,
        }
    }
}

/// Inserts a validated profile on `conn` (the caller's transaction); returns its id.
pub(crate) async fn insert_profile(
    conn: &impl ConnectionTrait,
    profile: NewProfile,
) -> Result<Uuid, DomainError> {
    let profile = profile.checked()?;
    check_organisation(conn, profile.organisation_id).await?;
    let id = Uuid::now_v7();
    let now = crate::clock::now();
    let tags = (profile.specialties.clone(), profile.languages.clone());
    let mut row = profile_row(id, profile);
    row.created_at = Set(now);
    row.updated_at = Set(now);
    therapist::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    replace_tags(conn, id, &tags.0, &tags.1).await?;
    Ok(id)
}

/// The columns a profile sets, for an insert or an update of row `id`. The tag lists
/// are copies of what `replace_tags` writes in the same transaction.
fn profile_row(id: Uuid, profile: NewProfile) -> therapist::ActiveModel {
    therapist::ActiveModel {
        id: Set(id),
        sort_name: Set(profile.display_name.to_lowercase()),
        display_name: Set(profile.display_name),
        bio: Set(profile.bio),
        city_key: Set(profile.city.to_lowercase()),
        city: Set(profile.city),
        country: Set(profile.country),
        organisation_id: Set(profile.organisation_id),
        accepting: Set(profile.accepting.as_str().to_owned()),
        offers_online: Set(profile.offers_online),
        offers_in_person: Set(profile.offers_in_person),
        specialty_list: Set(tag_list::joined(&profile.specialties)),
        language_list: Set(tag_list::joined(&profile.languages)),
        ..Default::default()
    }
}

async fn check_organisation(
    conn: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> Result<(), DomainError> {
    let Some(id) = id else {
        return Ok(());
    };
    match organisation::Entity::find_by_id(id).one(conn).await? {
        Some(_) => Ok(()),
        None => Err(DomainError::Validation(
            "organisation_id: no such organisation".into(),
        )),
    }
}

async fn replace_tags(
    conn: &impl ConnectionTrait,
    id: Uuid,
    specialties: &[String],
    languages: &[String],
) -> Result<(), DomainError> {
    specialty::Entity::delete_many()
        .filter(specialty::Column::TherapistId.eq(id))
        .exec(conn)
        .await?;
    language::Entity::delete_many()
        .filter(language::Column::TherapistId.eq(id))
        .exec(conn)
        .await?;
    if !specialties.is_empty() {
        specialty::Entity::insert_many(specialties.iter().map(|s| specialty::ActiveModel {
            therapist_id: Set(id),
            specialty: Set(s.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    if !languages.is_empty() {
        language::Entity::insert_many(languages.iter().map(|l| language::ActiveModel {
            therapist_id: Set(id),
            language: Set(l.clone()),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

impl DirectoryService {
    /// Changes a therapist's profile; support and admin only, audited.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: ProfilePatch,
    ) -> Result<Therapist, DomainError> {
        actor.require_staff("edit therapist profiles")?;
        let current = self.get(actor, id).await?;
        let profile = NewProfile::from(current).patched(patch).checked()?;
        // Checked before the transaction, whose first statement then is the update:
        // on SQLite a transaction that read first cannot take the write lock once
        // another connection has written meanwhile (it fails at once, busy).
        // Organisations are never deleted, so the check still holds at the update.
        check_organisation(&self.db, profile.organisation_id).await?;
        let txn = self.db.begin().await?;
        let tags = (profile.specialties.clone(), profile.languages.clone());
        let mut row = profile_row(id, profile);
        row.updated_at = Set(crate::clock::now());
        row.update(&txn).await?;
        replace_tags(&txn, id, &tags.0, &tags.1).await?;
        audit::record(&txn, actor, "therapist.update", "therapist", id).await?;
        txn.commit().await?;
        self.get(actor, id).await
    }
}
