//! What a push carries. A lock screen is public: the payload names a conversation
//! and a seq, and never a body or who sent it. The app fetches the message over the
//! API.

use uuid::Uuid;

/// The JSON a device receives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    pub conversation_id: Uuid,
    /// The newest message this push stands for.
    pub seq: i64,
    /// Messages the recipient has not read, over all their conversations: the badge.
    pub unread_total: i64,
    /// How many messages this push stands for (several sent within the read delay
    /// collapse into one push).
    pub count: usize,
}

impl Payload {
    /// Every field as a string, for providers whose data holds only strings (FCM).
    pub(crate) fn string_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        self.object()
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                (name, serde_json::Value::String(text))
            })
            .collect()
    }

    /// The payload as a JSON object, to which a provider adds its envelope (APNs).
    pub(crate) fn object(&self) -> serde_json::Map<String, serde_json::Value> {
        let serde_json::Value::Object(fields) = serde_json::json!(self) else {
            unreachable!("a struct serializes as an object")
        };
        fields
    }

    pub(crate) fn message(
        conversation_id: Uuid,
        seq: i64,
        unread_total: i64,
        count: usize,
    ) -> Self {
        Self {
            kind: "message".to_owned(),
            conversation_id,
            seq,
            unread_total,
            count,
        }
    }
}
