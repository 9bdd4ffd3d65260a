//! Deterministic synthetic data for demos, tests and benchmarks: the same arguments
//! always produce the same therapists, inserted in large batches.

mod accounts;
mod chat;
mod demo;
mod directory;

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

pub use accounts::{SEED_PASSWORD, seed_contacts};
pub use chat::{seed_chat, seed_conversation};
pub use demo::{DemoAccounts, seed_demo};
pub use directory::{LANGUAGES, SPECIALTIES, SeedReport, seed_directory};

/// Rows per INSERT: far below every backend's bound-parameter limit.
const BATCH: usize = 1_000;

/// A deterministic stream of pseudo-random numbers for row `index` (SplitMix64).
struct Dice(u64);

impl Dice {
    fn new(index: u64) -> Self {
        Self(index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn uuid_v7(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next().to_le_bytes());
        random[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &random).into_uuid()
    }
}

fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}
