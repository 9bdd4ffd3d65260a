//! What every handler and resolver can reach: the domain services, built once.

use domain::accounts::{AccountService, AccountSettings};
use domain::audit::AuditService;
use domain::chat::ChatService;
use domain::cursor::CursorKey;
use domain::database::Storage;
use domain::directory::DirectoryService;

use crate::metrics::Metrics;

/// Shared by REST handlers (as `web::Data`) and GraphQL resolvers (as schema data).
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Storage,
    pub directory: DirectoryService,
    pub accounts: AccountService,
    pub audit: AuditService,
    pub chat: ChatService,
    /// Counters for `/metrics`; realtime code reports sessions and presence here.
    pub metrics: Metrics,
}

impl AppState {
    /// Services over `storage`, signing cursors with `cursor_key`.
    pub fn new(storage: Storage, cursor_key: CursorKey, accounts: AccountSettings) -> Self {
        let db = storage.db.clone();
        Self {
            directory: DirectoryService::new(db.clone(), cursor_key.clone()),
            accounts: AccountService::new(db.clone(), cursor_key.clone(), accounts),
            audit: AuditService::new(db.clone(), cursor_key.clone()),
            chat: ChatService::new(db, cursor_key),
            metrics: Metrics::new(storage.clone()),
            storage,
        }
    }
}
