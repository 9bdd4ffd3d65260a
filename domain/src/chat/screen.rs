//! A chat screen's read: a conversation's own row and a page of its history in one
//! statement, for a GraphQL `conversation { messages(…) }` that selects none of the
//! summary fields. It costs what a REST window costs.

use uuid::Uuid;

use super::history::{head_of, messages_scope, page_of, page_window};
use super::{ChatService, ConversationHead, Message};
use crate::DomainError;
use crate::actor::Actor;
use crate::page::{Page, PageArgs};

impl ChatService {
    /// `head`, with `page` of its history when the caller is a member (`None` for
    /// staff), read together. A page that cannot be asked for (a bad cursor or size)
    /// is not read here, so that the page's own call reports it.
    pub async fn head_with_messages(
        &self,
        actor: &Actor,
        id: Uuid,
        page: PageArgs,
    ) -> Result<(ConversationHead, Option<Page<Message>>), DomainError> {
        let scope = messages_scope(id);
        let pager = self.messages_pager(&scope);
        let asked = pager
            .check(page)
            .ok()
            .and_then(|page| Some((page_window(&pager, &page).ok()?, page)));
        let Some((request, page)) = asked else {
            return Ok((self.head(actor, id).await?, None));
        };
        let (conversation, access, items) = self.read_with_window(actor, id, request).await?;
        self.log_reads(actor, [id], access.purpose()).await?;
        let head = head_of(actor, conversation, &access);
        let messages = match &head.admission {
            Some(admission) => {
                let window = self.finish_window(admission, request, items).await?;
                Some(page_of(&pager, &page, window))
            }
            None => None,
        };
        Ok((head, messages))
    }
}
