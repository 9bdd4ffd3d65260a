//! A member's mute switch: a muted conversation sends that member no push. Real-time
//! streams still carry its messages; muting is about waking a closed app.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::ChatService;
use super::entity::member;
use crate::DomainError;
use crate::actor::Actor;
use crate::events::Event;
use crate::sync::{self, Entry};

impl ChatService {
    /// Mutes or unmutes conversation `id` for the caller; answers the setting now.
    pub async fn set_muted(
        &self,
        actor: &Actor,
        id: Uuid,
        muted: bool,
    ) -> Result<bool, DomainError> {
        let (_, member) = self.member_access(actor, id).await?;
        if member.muted == muted {
            return Ok(muted);
        }
        let txn = self.db.begin().await?;
        member::Entity::update_many()
            .col_expr(member::Column::Muted, Expr::value(muted))
            .filter(member::Column::ConversationId.eq(id))
            .filter(member::Column::AccountId.eq(actor.account_id))
            .exec(&txn)
            .await?;
        let change = Entry::Muted {
            conversation_id: id,
            muted,
        };
        let recorded = sync::record(&txn, &[actor.account_id], change).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        let event = Event::NotificationsChanged {
            conversation_id: id,
            muted,
        };
        self.hub.publish_change(event, positions).await;
        Ok(muted)
    }

    /// Whether the caller muted conversation `id`.
    pub async fn muted(&self, actor: &Actor, id: Uuid) -> Result<bool, DomainError> {
        let (_, member) = self.member_access(actor, id).await?;
        Ok(member.muted)
    }
}
