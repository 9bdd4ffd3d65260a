//! The demo data `serve --demo` puts in an empty database.

use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::DomainError;
use crate::database::Db;
use crate::directory::therapist;

/// Rows per INSERT: far below every backend's bound-parameter limit.
use super::accounts::{SEED_PASSWORD, seed_accounts};
use super::chat::seed_conversation;
use super::directory::seed_directory;

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
