//! What every handler and resolver can reach: the domain services, built once.

use domain::cursor::CursorKey;
use domain::database::Storage;
use domain::directory::DirectoryService;

/// Shared by REST handlers (as `web::Data`) and GraphQL resolvers (as schema data).
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Storage,
    pub directory: DirectoryService,
}

impl AppState {
    /// Services over `storage`, signing cursors with `cursor_key`.
    pub fn new(storage: Storage, cursor_key: CursorKey) -> Self {
        Self {
            directory: DirectoryService::new(storage.db.clone(), cursor_key),
            storage,
        }
    }
}
