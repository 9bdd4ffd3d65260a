//! Synthetic accounts, all with one known password, and the contacts benchmarks use.

use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use crate::DomainError;
use crate::database::Db;

/// Rows per INSERT: far below every backend's bound-parameter limit.
use super::BATCH;

/// Password of every seeded and demo account.
pub const SEED_PASSWORD: &str = "portal-demo-password";

/// Inserts accounts (all with [`SEED_PASSWORD`]); returns their ids in order.
pub(super) async fn seed_accounts(
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
                legal_hold: Set(false),
                erased_at: Set(None),
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
                muted: Set(false),
            })
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok((therapist, clients))
}
