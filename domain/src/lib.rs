//! Rules and storage of the therapist portal. `api` translates HTTP and GraphQL into
//! calls on the services here; every rule about paging, validation and who may see
//! what lives in this crate, once.

pub mod access_log;
pub mod accounts;
pub mod actor;
pub mod audit;
pub mod chat;
pub mod clock;
pub mod cursor;
pub mod database;
pub mod directory;
pub mod error;
pub mod events;
pub mod limits;
pub mod page;
pub mod privacy;
pub mod push;
pub mod seed;
mod sql;
pub mod sync;
mod text;

pub use error::DomainError;
