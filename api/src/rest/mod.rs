//! The REST door, under `/v1`: every route on one screen. Handlers translate HTTP into
//! domain calls and back; the rules live in `domain`.

mod access_log;
mod admin;
mod auth;
mod conversations;
mod erasure;
mod export;
mod export_lines;
mod paging;
mod push;
mod realtime;
mod resume;
mod streams;
mod sync;
mod therapists;
mod totp;
mod validators;

pub(crate) use therapists::SortParam;

pub use validators::mark_coding;

use utoipa_actix_web::service_config::ServiceConfig;

pub use auth::origin;

/// Registers every `/v1` route.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(auth::signup)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(totp::start_totp)
        .service(totp::confirm_totp)
        .service(totp::remove_totp)
        .service(access_log::my_access_log)
        .service(access_log::search_access_log)
        .service(export::export_mine)
        .service(export::export_account)
        .service(erasure::erase_account)
        .service(erasure::set_legal_hold)
        .service(therapists::list_therapists)
        .service(therapists::get_therapist)
        .service(admin::list_accounts)
        .service(admin::disable_account)
        .service(admin::enable_account)
        .service(admin::create_therapist)
        .service(admin::export_therapists)
        .service(admin::update_therapist)
        .service(admin::list_audit)
        .service(conversations::start_conversation)
        .service(conversations::list_conversations)
        .service(conversations::get_conversation)
        .service(conversations::list_messages)
        .service(conversations::send_message)
        .service(conversations::edit_message)
        .service(conversations::delete_message)
        .service(conversations::mark_read)
        .service(push::register_subscription)
        .service(push::list_subscriptions)
        .service(push::delete_subscription)
        .service(push::vapid_public_key)
        .service(push::get_notifications)
        .service(push::set_notifications)
        .service(realtime::set_presence)
        .service(realtime::get_presence)
        .service(realtime::set_typing)
        .service(realtime::events)
        .service(sync::sync);
}
