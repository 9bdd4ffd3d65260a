//! Deterministic synthetic data for demos, tests and benchmarks: the same arguments
//! always produce the same therapists, inserted in large batches.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::DomainError;
use crate::database::Db;
use crate::directory::{Accepting, language, organisation, specialty, therapist};

/// Rows per INSERT: far below every backend's bound-parameter limit.
const BATCH: usize = 1_000;

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

/// A deterministic stream of pseudo-random numbers for row `index` (SplitMix64).
struct Dice(u64);

impl Dice {
    fn new(index: u64) -> Self {
        Self(index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn uuid_v7(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next().to_le_bytes());
        random[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &random).into_uuid()
    }
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
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

/// Phrases synthetic messages are made of.
const PHRASES: [&str; 8] = [
    "How have you been since our last session?",
    "Better, mostly. Sleep is still hard.",
    "Let's try the breathing exercise again tonight.",
    "I wrote down three things that went well today.",
    "That's a real step forward.",
    "Can we move Thursday's session to 5pm?",
    "Yes, 5pm works. See you then.",
    "Thank you, this helped a lot.",
];

/// Adds a conversation between `members` with `messages` synthetic messages, sent in
/// turn by each member, inserted in large batches; returns its id.
pub async fn seed_conversation(
    db: &Db,
    members: &[Uuid],
    messages: u64,
) -> Result<Uuid, DomainError> {
    use crate::chat::{conversation, member, message};
    let id = Uuid::now_v7();
    let start = crate::clock::now() - Duration::seconds(messages as i64 * 30);
    let last_at = start + Duration::seconds(messages as i64 * 30);
    let txn = db.begin().await?;
    conversation::Entity::insert(conversation::ActiveModel {
        id: Set(id),
        created_by: Set(members[0]),
        last_seq: Set(messages as i64),
        last_activity_at: Set(last_at),
        created_at: Set(start),
    })
    .exec_without_returning(&txn)
    .await?;
    member::Entity::insert_many(members.iter().map(|account| member::ActiveModel {
        conversation_id: Set(id),
        account_id: Set(*account),
        last_read_seq: Set(messages as i64),
        last_activity_at: Set(last_at),
        joined_at: Set(start),
    }))
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;

    let mut seq = 1;
    while seq <= messages {
        let end = (seq + BATCH as u64).min(messages + 1);
        let rows = (seq..end).map(|s| {
            let mut dice = Dice::new(s);
            message::ActiveModel {
                conversation_id: Set(id),
                seq: Set(s as i64),
                sender_id: Set(members[(s as usize) % members.len()]),
                client_msg_id: Set(format!("seed-{s}")),
                body: Set(Some(format!("{} (#{s})", dice.pick(&PHRASES)))),
                created_at: Set(start + Duration::seconds(s as i64 * 30)),
                edited_at: Set(None),
                deleted_at: Set(None),
            }
        });
        message::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        seq = end;
    }
    Ok(id)
}

/// Password of every seeded and demo account.
pub const SEED_PASSWORD: &str = "portal-demo-password";

/// Inserts accounts (all with [`SEED_PASSWORD`]); returns their ids in order.
async fn seed_accounts(
    db: &Db,
    accounts: &[(String, String, crate::actor::Role, Option<Uuid>)],
) -> Result<Vec<Uuid>, DomainError> {
    use crate::accounts::account;
    let hash = crate::accounts::password::hash_now(SEED_PASSWORD);
    let now = crate::clock::now();
    let mut ids = Vec::with_capacity(accounts.len());
    let rows: Vec<account::ActiveModel> = accounts
        .iter()
        .map(|(email, name, role, therapist_id)| {
            let id = Uuid::now_v7();
            ids.push(id);
            account::ActiveModel {
                id: Set(id),
                email: Set(email.clone()),
                display_name: Set(name.clone()),
                role: Set(role.as_str().to_owned()),
                disabled: Set(false),
                password_hash: Set(hash.clone()),
                therapist_id: Set(*therapist_id),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        crate::accounts::account::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(ids)
}

/// Adds `conversations` conversations of `messages` messages each, each between a new
/// seeded therapist and client (`seed-therapist-N@example.org`, …, with
/// [`SEED_PASSWORD`]); returns the conversation ids.
pub async fn seed_chat(
    db: &Db,
    conversations: u64,
    messages: u64,
) -> Result<Vec<Uuid>, DomainError> {
    use crate::actor::Role;
    let tag = Uuid::now_v7().simple().to_string();
    let tag = &tag[tag.len() - 8..];
    let mut people = Vec::new();
    for n in 0..conversations {
        people.push((
            format!("seed-therapist-{tag}-{n}@example.org"),
            format!("Seed Therapist {n}"),
            Role::Therapist,
            None,
        ));
        people.push((
            format!("seed-client-{tag}-{n}@example.org"),
            format!("Seed Client {n}"),
            Role::Client,
            None,
        ));
    }
    let ids = seed_accounts(db, &people).await?;
    let mut created = Vec::new();
    for pair in ids.chunks(2) {
        created.push(seed_conversation(db, pair, messages).await?);
    }
    Ok(created)
}

/// Who to sign in as after `serve --demo`.
#[derive(Debug, Clone)]
pub struct DemoAccounts {
    pub emails: Vec<(crate::actor::Role, String)>,
    pub password: &'static str,
    pub conversation: Uuid,
}

/// Demo data for an empty database: `therapists` therapists, one account of each role
/// (the therapist owns the first profile) and conversations between the demo
/// therapist and client, one with thousands of messages.
pub async fn seed_demo(db: &Db, therapists: u64) -> Result<DemoAccounts, DomainError> {
    use crate::actor::Role;
    seed_directory(db, therapists, 40).await?;
    let profile: Option<Uuid> = therapist::Entity::find()
        .select_only()
        .column(therapist::Column::Id)
        .order_by_asc(therapist::Column::SortName)
        .into_tuple()
        .one(db)
        .await?;
    let people = [
        ("client@demo.example", "Demo Client", Role::Client, None),
        (
            "therapist@demo.example",
            "Demo Therapist",
            Role::Therapist,
            profile,
        ),
        ("support@demo.example", "Demo Support", Role::Support, None),
        ("admin@demo.example", "Demo Admin", Role::Admin, None),
    ]
    .map(|(email, name, role, profile)| (email.to_owned(), name.to_owned(), role, profile));
    let ids = seed_accounts(db, &people).await?;
    let conversation = seed_conversation(db, &[ids[1], ids[0]], 3_000).await?;
    seed_conversation(db, &[ids[1], ids[0]], 12).await?;
    Ok(DemoAccounts {
        emails: people
            .iter()
            .map(|(email, _, role, _)| (*role, email.clone()))
            .collect(),
        password: SEED_PASSWORD,
        conversation,
    })
}

/// One therapist with `clients` clients, each in a conversation (no messages) with the
/// therapist: the therapist has `clients` contacts. Returns the therapist's id and the
/// clients' ids. Each account has a live sign-in whose id is the account's own, so a
/// benchmark can sign access tokens for it (`sid` = `sub`) without hashing passwords.
/// For presence fan-out benchmarks.
pub async fn seed_contacts(db: &Db, clients: u64) -> Result<(Uuid, Vec<Uuid>), DomainError> {
    use crate::actor::Role;
    use crate::chat::{conversation, member};
    let tag = Uuid::now_v7().simple().to_string();
    let tag = &tag[tag.len() - 8..];
    let mut people = vec![(
        format!("hub-therapist-{tag}@example.org"),
        "Hub Therapist".to_owned(),
        Role::Therapist,
        None,
    )];
    for n in 0..clients {
        people.push((
            format!("hub-client-{tag}-{n}@example.org"),
            format!("Hub Client {n}"),
            Role::Client,
            None,
        ));
    }
    let ids = seed_accounts(db, &people).await?;
    let now = crate::clock::now();
    for chunk in ids.chunks(BATCH) {
        use crate::accounts::refresh_token;
        refresh_token::Entity::insert_many(chunk.iter().map(|account| {
            refresh_token::ActiveModel {
                id: Set(Uuid::now_v7()),
                family_id: Set(*account),
                account_id: Set(*account),
                token_hash: Set(format!("seeded-{}", Uuid::now_v7().simple())),
                expires_at: Set(now + chrono::Duration::days(1)),
                used_at: Set(None),
                revoked: Set(false),
                created_at: Set(now),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    let (therapist, clients) = (ids[0], ids[1..].to_vec());
    for chunk in clients.chunks(BATCH / 2) {
        let conversations: Vec<(Uuid, Uuid)> = chunk.iter().map(|c| (Uuid::now_v7(), *c)).collect();
        conversation::Entity::insert_many(conversations.iter().map(|(id, _)| {
            conversation::ActiveModel {
                id: Set(*id),
                created_by: Set(therapist),
                last_seq: Set(0),
                last_activity_at: Set(now),
                created_at: Set(now),
            }
        }))
        .exec_without_returning(db)
        .await?;
        member::Entity::insert_many(conversations.iter().flat_map(|(id, client)| {
            [therapist, *client].map(|account| member::ActiveModel {
                conversation_id: Set(*id),
                account_id: Set(account),
                last_read_seq: Set(0),
                last_activity_at: Set(now),
                joined_at: Set(now),
            })
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok((therapist, clients))
}
