//! The push outbox at scrape time: how many pushes wait and how old the oldest is.
//! The outbox is a table, so the handler reads it before rendering and leaves the
//! figures here for the collector.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use domain::push::{OutboxStats, PushCounters};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The figures of the last read; -1 until one succeeded.
#[derive(Debug, Clone)]
pub struct OutboxFigures(Arc<[AtomicI64; 2]>);

impl Default for OutboxFigures {
    fn default() -> Self {
        Self(Arc::new([AtomicI64::new(-1), AtomicI64::new(-1)]))
    }
}

impl OutboxFigures {
    pub fn record(&self, stats: OutboxStats) {
        let pending = i64::try_from(stats.pending).unwrap_or(i64::MAX);
        let oldest = stats.oldest_sent_at.map_or(0, |sent_at| {
            (domain::clock::now() - sent_at).num_seconds().max(0)
        });
        self.0[0].store(pending, Ordering::Relaxed);
        self.0[1].store(oldest, Ordering::Relaxed);
    }
}

/// The outbox figures, and what this node's dispatcher counted.
#[derive(Debug)]
pub struct OutboxCollector(pub OutboxFigures, pub PushCounters);

impl Collector for OutboxCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let sample = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "push_sent",
            "Pushes this node handed to a provider, by provider and outcome (delivered, gone, retry, rejected, refused)",
            None,
            sample.metric_type(),
        )?;
        for (provider, outcome, count) in self.1.sent_totals() {
            ConstCounter::new(count)
                .encode(family.encode_family(&[("provider", provider), ("outcome", outcome)])?)?;
        }
        let expired = ConstCounter::new(self.1.expired_total());
        expired.encode(encoder.encode_descriptor(
            "push_expired",
            "Pushes this node dropped undelivered because their message was older than PORTAL_PUSH_MAX_AGE_SECS",
            None,
            expired.metric_type(),
        )?)?;
        let [pending, oldest] = [0, 1].map(|i| self.0.0[i].load(Ordering::Relaxed));
        if pending < 0 {
            return Ok(());
        }
        let pending = ConstGauge::new(pending);
        pending.encode(encoder.encode_descriptor(
            "push_outbox_pending",
            "Pushes owed and not yet delivered (all nodes)",
            None,
            pending.metric_type(),
        )?)?;
        let oldest = ConstGauge::new(oldest);
        oldest.encode(encoder.encode_descriptor(
            "push_oldest_pending_seconds",
            "Age of the oldest undelivered push's message; 0 when none waits",
            None,
            oldest.metric_type(),
        )?)
    }
}
