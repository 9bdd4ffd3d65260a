//! A credential a provider hands out or accepts for a while (an FCM OAuth token, an
//! APNs provider token), kept until shortly before it lapses so that pushes do not
//! each pay for a token request or a signature.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    value: String,
    renew_at: Instant,
}

impl TokenCache {
    /// The cached token, or a new one from `renew` (the token and how long it may be
    /// used). Renewals are serialised: pushes waiting meanwhile share the new token.
    pub(crate) async fn get<E, F, Fut>(&self, renew: F) -> Result<String, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, Duration), E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(cached.value.clone());
        }
        let (value, usable_for) = renew().await?;
        *slot = Some(Cached {
            value: value.clone(),
            renew_at: Instant::now() + usable_for,
        });
        Ok(value)
    }

    /// Drops the token the provider refused, so the next push gets a new one.
    pub(crate) async fn forget(&self, refused: &str) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|c| c.value == refused) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::TokenCache;

    async fn renewing(cache: &TokenCache, renewals: &AtomicUsize, usable_for: Duration) -> String {
        let renew = || async {
            let n = renewals.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>((format!("token-{n}"), usable_for))
        };
        cache.get(renew).await.expect("renewed")
    }

    #[tokio::test]
    async fn a_token_is_reused_while_usable_renewed_after_and_dropped_when_refused() {
        let (cache, renewals) = (TokenCache::default(), AtomicUsize::new(0));
        let minute = Duration::from_secs(60);
        assert_eq!(renewing(&cache, &renewals, minute).await, "token-0");
        assert_eq!(renewing(&cache, &renewals, minute).await, "token-0");
        cache.forget("token-9").await;
        assert_eq!(
            renewing(&cache, &renewals, Duration::ZERO).await,
            "token-0",
            "a stale refusal"
        );
        cache.forget("token-0").await;
        assert_eq!(renewing(&cache, &renewals, Duration::ZERO).await, "token-1");
        assert_eq!(
            renewing(&cache, &renewals, minute).await,
            "token-2",
            "token-1 lapsed at once"
        );
        assert_eq!(renewals.load(Ordering::SeqCst), 3);
    }
}
