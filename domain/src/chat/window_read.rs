//! A window read with its admission: the conversation, the caller's membership and
//! the window's messages in one statement, the range written against the
//! conversation's `last_seq` (`WindowRequest::bounds`). Messages are joined only for a
//! member, so a stranger or staff reads none.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order};
use sea_orm::{
    ConnectionTrait, DbErr, FromQueryResult, IdenStatic, Iterable, JoinType, QueryResult,
    QueryTrait,
};
use uuid::Uuid;

use super::entity::{conversation, member, message};
use super::window::WindowRequest;
use super::{Access, ChatService, Message, standing};
use crate::DomainError;
use crate::actor::Actor;

/// Prefix of the message columns; `select_also` gives the conversation's `A_` and
/// the membership's `B_`.
const MESSAGE: &str = "C_";

impl ChatService {
    /// Conversation `id` with the caller's standing in it (as `access`) and, for a
    /// member, the messages `request` covers, in seq order.
    pub(super) async fn read_with_window(
        &self,
        actor: &Actor,
        id: Uuid,
        request: WindowRequest,
    ) -> Result<(conversation::Model, Access, Vec<Message>), DomainError> {
        let mut query = Self::access_select(actor, id).into_query();
        let last_seq = Expr::col((conversation::Entity, conversation::Column::LastSeq));
        let (lo, hi) = request.bounds(last_seq);
        for column in message::Column::iter() {
            query.expr_as(
                Expr::col((message::Entity, column)),
                Alias::new(format!("{MESSAGE}{}", column.as_str())),
            );
        }
        let seq = || Expr::col((message::Entity, message::Column::Seq));
        query
            .join(
                JoinType::LeftJoin,
                message::Entity,
                Condition::all()
                    .add(
                        Expr::col((message::Entity, message::Column::ConversationId))
                            .equals((conversation::Entity, conversation::Column::Id)),
                    )
                    .add(Expr::col((member::Entity, member::Column::AccountId)).is_not_null())
                    .add(seq().gte(lo))
                    .add(seq().lte(hi)),
            )
            .order_by((message::Entity, message::Column::Seq), Order::Asc);
        let rows = self.db.query_all(&query).await?;
        let found = match rows.first() {
            Some(row) => Some((
                conversation::Model::from_query_result(row, "A_")?,
                member::Model::from_query_result_optional(row, "B_")?,
            )),
            None => None,
        };
        let (conversation, access) = standing(actor, found)?;
        let first = conversation::Column::iter().count() + member::Column::iter().count();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(found) = message_at(row, first)? {
                items.push(Message::from(found));
            }
        }
        Ok((conversation, access, items))
    }
}

/// The message in `row`'s columns from `first` on (in `message::Column` order), `None`
/// where the join found none. Read by position: by name, every column of every row
/// cost a formatted prefixed name and a lookup (`perf` showed both under load).
fn message_at(row: &QueryResult, first: usize) -> Result<Option<message::Model>, DbErr> {
    let column = |n: usize| first + n;
    let Some(seq) = row.try_get_by_index::<Option<i64>>(column(1))? else {
        return Ok(None);
    };
    Ok(Some(message::Model {
        conversation_id: row.try_get_by_index(column(0))?,
        seq,
        sender_id: row.try_get_by_index(column(2))?,
        client_msg_id: row.try_get_by_index(column(3))?,
        body: row.try_get_by_index(column(4))?,
        created_at: row.try_get_by_index(column(5))?,
        edited_at: row.try_get_by_index(column(6))?,
        deleted_at: row.try_get_by_index(column(7))?,
    }))
}
