//! Synthetic conversations and their messages.

use chrono::Duration;
use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use crate::DomainError;
use crate::database::Db;

use super::accounts::seed_accounts;
/// Rows per INSERT: far below every backend's bound-parameter limit.
use super::{BATCH, Dice};

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
        muted: Set(false),
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
