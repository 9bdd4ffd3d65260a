//! The current time at the precision every backend stores (microseconds), so that a
//! value returned before a write equals the value read back after it.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// Now, truncated to whole microseconds.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
