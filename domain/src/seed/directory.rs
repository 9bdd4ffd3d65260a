//! Synthetic therapists, organisations and their tags.

use chrono::Duration;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::DomainError;
use crate::database::Db;
use crate::directory::{Accepting, language, organisation, specialty, tag_list, therapist};

/// Rows per INSERT: far below every backend's bound-parameter limit.
use super::{BATCH, Dice, epoch};

const FIRST_NAMES: [&str; 24] = [
    "Ada", "Ben", "Chiara", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ula", "Viktor",
    "Wanjiru", "Yusuf",
];
const LAST_NAMES: [&str; 20] = [
    "Abara",
    "Becker",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Weber",
];
const CITIES: [(&str, &str); 10] = [
    ("Berlin", "DE"),
    ("Hamburg", "DE"),
    ("München", "DE"),
    ("Wien", "AT"),
    ("Zürich", "CH"),
    ("Amsterdam", "NL"),
    ("Lisboa", "PT"),
    ("Madrid", "ES"),
    ("London", "GB"),
    ("Dublin", "IE"),
];
/// Specialty codes the seed draws from.
pub const SPECIALTIES: [&str; 10] = [
    "anxiety",
    "depression",
    "trauma",
    "couples",
    "addiction",
    "eating-disorders",
    "grief",
    "adhd",
    "ocd",
    "burnout",
];
/// Language codes the seed draws from.
pub const LANGUAGES: [&str; 6] = ["en", "de", "es", "fr", "pt", "tr"];

/// What a seed run inserted.
#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    pub organisations: u64,
    pub therapists: u64,
}

/// Appends `therapists` therapists (numbered after those already stored) spread over
/// `organisations` organisations, which are created when none exist yet.
pub async fn seed_directory(
    db: &Db,
    therapists: u64,
    organisations: u64,
) -> Result<SeedReport, DomainError> {
    let mut org_ids: Vec<Uuid> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut created_orgs = 0;
    if org_ids.is_empty() && organisations > 0 {
        let rows: Vec<organisation::ActiveModel> = (0..organisations)
            .map(|i| {
                let at = epoch() + Duration::seconds(i as i64);
                let id = Dice::new(u64::MAX - i).uuid_v7(at);
                org_ids.push(id);
                organisation::ActiveModel {
                    id: Set(id),
                    name: Set(format!("Praxis {}", i + 1)),
                    created_at: Set(at),
                }
            })
            .collect();
        for chunk in rows.chunks(BATCH) {
            organisation::Entity::insert_many(chunk.to_vec())
                .exec(db)
                .await?;
        }
        created_orgs = organisations;
    }

    let first = therapist::Entity::find().count(db).await?;
    let mut next = first;
    while next < first + therapists {
        let end = (next + BATCH as u64).min(first + therapists);
        let mut people = Vec::with_capacity(BATCH);
        let mut specialties = Vec::with_capacity(BATCH * 2);
        let mut languages = Vec::with_capacity(BATCH * 2);
        for index in next..end {
            let (person, tags, langs) = synthetic_therapist(index, &org_ids);
            people.push(person);
            specialties.extend(tags);
            languages.extend(langs);
        }
        let txn = db.begin().await?;
        therapist::Entity::insert_many(people).exec(&txn).await?;
        specialty::Entity::insert_many(specialties)
            .exec(&txn)
            .await?;
        language::Entity::insert_many(languages).exec(&txn).await?;
        txn.commit().await?;
        next = end;
    }
    Ok(SeedReport {
        organisations: created_orgs,
        therapists,
    })
}

fn synthetic_therapist(
    index: u64,
    org_ids: &[Uuid],
) -> (
    therapist::ActiveModel,
    Vec<specialty::ActiveModel>,
    Vec<language::ActiveModel>,
) {
    let mut dice = Dice::new(index);
    let created_at = epoch() + Duration::seconds(index as i64 * 7);
    let id = dice.uuid_v7(created_at);
    let display_name = format!(
        "{} {} {}",
        dice.pick(&FIRST_NAMES),
        dice.pick(&LAST_NAMES),
        index + 1
    );
    let (city, country) = *dice.pick(&CITIES);
    let accepting = *dice.pick(&Accepting::ALL);
    let offers_online = !dice.next().is_multiple_of(3);
    let offers_in_person = !offers_online || dice.next().is_multiple_of(2);
    let organisation_id = match org_ids {
        [] => None,
        ids => (!dice.next().is_multiple_of(4)).then(|| *dice.pick(ids)),
    };
    let mut tags: Vec<&str> = (0..1 + dice.next() % 3)
        .map(|_| *dice.pick(&SPECIALTIES))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let mut langs: Vec<&str> = vec!["en", *dice.pick(&LANGUAGES)];
    langs.sort_unstable();
    langs.dedup();

    let person = therapist::ActiveModel {
        id: Set(id),
        sort_name: Set(display_name.to_lowercase()),
        display_name: Set(display_name),
        bio: Set(format!(
            "Works with {} in {city}.",
            tags.join(", ").replace('-', " ")
        )),
        city: Set(city.to_owned()),
        city_key: Set(city.to_lowercase()),
        country: Set(country.to_owned()),
        organisation_id: Set(organisation_id),
        accepting: Set(accepting.as_str().to_owned()),
        offers_online: Set(offers_online),
        offers_in_person: Set(offers_in_person),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        specialty_list: Set(tag_list::joined(&tags)),
        language_list: Set(tag_list::joined(&langs)),
    };
    let tags = tags
        .into_iter()
        .map(|t| specialty::ActiveModel {
            therapist_id: Set(id),
            specialty: Set(t.to_owned()),
        })
        .collect();
    let langs = langs
        .into_iter()
        .map(|l| language::ActiveModel {
            therapist_id: Set(id),
            language: Set(l.to_owned()),
        })
        .collect();
    (person, tags, langs)
}
