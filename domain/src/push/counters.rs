//! Counts of what the dispatcher did, for `push_sent_total{provider,outcome}` and
//! `push_expired_total`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Provider;
use super::provider::Outcome;

const OUTCOMES: [&str; 5] = ["delivered", "gone", "retry", "rejected", "refused"];

/// Shared by the dispatcher (which counts) and `/metrics` (which reads).
#[derive(Debug, Clone, Default)]
pub struct PushCounters(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    sent: [[AtomicU64; OUTCOMES.len()]; Provider::ALL.len()],
    expired: AtomicU64,
}

impl PushCounters {
    pub(crate) fn sent(&self, provider: Provider, outcome: Outcome) {
        let row = Provider::ALL
            .iter()
            .position(|p| *p == provider)
            .unwrap_or(0);
        let column = OUTCOMES
            .iter()
            .position(|o| *o == outcome.as_str())
            .unwrap_or(0);
        self.0.sent[row][column].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn expired(&self, rows: u64) {
        self.0.expired.fetch_add(rows, Ordering::Relaxed);
    }

    /// `(provider, outcome, count)` for every pair.
    pub fn sent_totals(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut totals = Vec::new();
        for (row, provider) in Provider::ALL.iter().enumerate() {
            for (column, outcome) in OUTCOMES.iter().enumerate() {
                let count = self.0.sent[row][column].load(Ordering::Relaxed);
                totals.push((provider.as_str(), *outcome, count));
            }
        }
        totals
    }

    /// Rows dropped because their message was older than the maximum age.
    pub fn expired_total(&self) -> u64 {
        self.0.expired.load(Ordering::Relaxed)
    }
}
