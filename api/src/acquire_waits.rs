//! How long requests wait for a database connection. sqlx has no hook for it, but it
//! reports every acquire as a tracing event (enabled in `domain::database`); a
//! tracing layer turns those events into one histogram for `/metrics`. The tracing
//! subscriber is process-wide, so the histogram is too.

use std::sync::LazyLock;

use domain::database::ACQUIRE_EVENT_TARGET;
use prometheus_client::metrics::histogram::Histogram;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::Context;

/// Upper bounds (seconds): an idle pool answers in microseconds; seconds mean
/// saturation (requests give up after 3 s with a 503).
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0,
];

static WAITS: LazyLock<Histogram> = LazyLock::new(|| Histogram::new(BUCKETS));

/// The histogram of acquire waits in this process (clones share the counts).
pub fn histogram() -> Histogram {
    WAITS.clone()
}

/// The layer that records sqlx's acquire events, listening to nothing else.
pub fn layer<S>() -> Filtered<AcquireWaits, Targets, S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    AcquireWaits
        .with_filter(Targets::new().with_target(ACQUIRE_EVENT_TARGET, tracing::Level::TRACE))
}

/// Records `acquired_after_secs` of each acquire event.
pub struct AcquireWaits;

impl<S: tracing::Subscriber> Layer<S> for AcquireWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut waited = WaitedSeconds(None);
        event.record(&mut waited);
        if let Some(seconds) = waited.0 {
            WAITS.observe(seconds);
        }
    }
}

struct WaitedSeconds(Option<f64>);

impl Visit for WaitedSeconds {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}
