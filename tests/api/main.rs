//! Black-box tests: each boots the real `portal` app on a random port over a database
//! that exists for that test alone, and speaks HTTP or GraphQL to it. Every test runs
//! once per backend (`…::sqlite`, `…::postgres`, `…::mariadb`), so a failure names
//! the database that broke.

#[macro_use]
mod helpers;

mod access_log;
mod accounts;
mod bus;
mod chat;
mod compression;
mod contract;
mod control_characters;
mod conversing;
mod corrupt_rows;
mod directory;
mod docs;
mod documented_limits;
mod erasure;
mod export;
mod graphql_cost;
mod health;
mod limits;
mod lockout;
mod logs;
mod metrics;
mod persisted_queries;
mod problems;
mod process;
mod push;
mod realtime;
mod relay;
mod round_trips;
mod sessions;
mod shutdown;
mod startup;
