//! What every handler and resolver can reach: the domain services, built once.

use domain::access_log::AccessLog;
use domain::accounts::{AccountService, AccountSettings};
use domain::audit::AuditService;
use domain::chat::ChatService;
use domain::cursor::CursorKey;
use domain::database::Storage;
use domain::directory::DirectoryService;
use domain::events::Hub;
use domain::privacy::PrivacyService;
use domain::push::{PushService, PushSettings};

use crate::metrics::Metrics;
use crate::shutdown::Shutdown;

/// Shared by REST handlers (as `web::Data`) and GraphQL resolvers (as schema data).
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Storage,
    pub directory: DirectoryService,
    pub accounts: AccountService,
    pub audit: AuditService,
    pub access_log: AccessLog,
    pub chat: ChatService,
    pub privacy: PrivacyService,
    pub push: PushService,
    pub hub: Hub,
    /// Browser origins allowed besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Counters for `/metrics`; realtime code reports sessions and presence here.
    pub metrics: Metrics,
    /// Tells WebSocket and SSE sessions when the node stops.
    pub shutdown: Shutdown,
}

impl AppState {
    /// Services over `storage`, signing cursors with `cursor_key`, publishing
    /// real-time events through `hub`.
    pub fn new(
        storage: Storage,
        cursor_key: CursorKey,
        accounts: AccountSettings,
        push: PushSettings,
        hub: Hub,
        allowed_origins: Vec<String>,
        access_log_coalesce: std::time::Duration,
    ) -> Result<Self, domain::DomainError> {
        let db = storage.db.clone();
        let access_log = AccessLog::new(db.clone(), cursor_key.clone(), access_log_coalesce);
        let push_service = PushService::new(db.clone(), push.clone());
        let accounts =
            AccountService::new(db.clone(), cursor_key.clone(), accounts, access_log.clone())?;
        Ok(Self {
            privacy: PrivacyService::new(db.clone(), access_log.clone(), accounts.clone()),
            accounts,
            directory: DirectoryService::new(db.clone(), cursor_key.clone()),
            audit: AuditService::new(db.clone(), cursor_key.clone()),
            chat: ChatService::new(
                db.clone(),
                cursor_key,
                hub.clone(),
                push.outbox(),
                access_log.clone(),
            ),
            access_log,
            metrics: Metrics::new(
                storage.clone(),
                hub.clone(),
                push_service.counters().clone(),
            ),
            push: push_service,
            hub,
            allowed_origins,
            storage,
            shutdown: Shutdown::default(),
        })
    }
}
