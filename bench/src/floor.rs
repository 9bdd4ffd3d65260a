//! The floor under the directory's REST page: an HTTP server that does nothing but
//! run the page's statement and write its rows as the API's JSON. No authentication,
//! middleware, ORM, cursor signing or pool bookkeeping: each worker thread keeps its
//! own PostgreSQL connections and runs the prepared statement on one of them. What it
//! reaches on this machine, beside pgbench, is what any server with one statement per
//! request can hope for here.

use std::cell::RefCell;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::{PgConnection, PgRow};
use sea_orm::sqlx::{Connection, Row};
use serde::Serialize;
use uuid::Uuid;

/// Items per page; the statement reads one more to know whether a next page exists.
const PAGE: usize = 20;

thread_local! {
    /// This worker's idle connections: a request takes one and puts it back.
    static IDLE: RefCell<Vec<PgConnection>> = const { RefCell::new(Vec::new()) };
}

/// A REST item of the directory, field for field.
#[derive(Serialize)]
struct Item {
    id: Uuid,
    display_name: String,
    bio: String,
    specialties: Vec<String>,
    languages: Vec<String>,
    city: String,
    country: String,
    organisation_id: Option<Uuid>,
    accepting: String,
    offers_online: bool,
    offers_in_person: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Page {
    items: Vec<Item>,
    page: Links,
}

#[derive(Serialize)]
struct Links {
    next_cursor: Option<String>,
}

struct Floor {
    database_url: String,
    sql: String,
}

/// Serves `GET /page` on `bind` with `workers` threads, running `sql` (the cheapest
/// statement of `bench/directory.sh`: its columns in that order) on `database_url`.
pub fn serve(database_url: String, sql: String, bind: String, workers: usize) {
    let floor = Arc::new(Floor { database_url, sql });
    actix_web::rt::System::new()
        .block_on(
            HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::from(floor.clone()))
                    .route("/page", web::get().to(page))
            })
            .workers(workers)
            .bind(bind)
            .expect("the floor server's address")
            .run(),
        )
        .expect("the floor server");
}

async fn page(floor: web::Data<Floor>) -> HttpResponse {
    let mut conn = match IDLE.with(|idle| idle.borrow_mut().pop()) {
        Some(conn) => conn,
        None => match PgConnection::connect(&floor.database_url).await {
            Ok(conn) => conn,
            Err(err) => return HttpResponse::ServiceUnavailable().body(err.to_string()),
        },
    };
    // The statement is the benchmark's own file, not anybody's input.
    let statement = sea_orm::sqlx::AssertSqlSafe(floor.sql.as_str());
    let rows = sea_orm::sqlx::query(statement).fetch_all(&mut conn).await;
    IDLE.with(|idle| idle.borrow_mut().push(conn));
    match rows.and_then(|rows| page_of(&rows)) {
        Ok(page) => HttpResponse::Ok().json(page),
        Err(err) => HttpResponse::InternalServerError().body(err.to_string()),
    }
}

fn page_of(rows: &[PgRow]) -> Result<Page, sea_orm::sqlx::Error> {
    let items = rows
        .iter()
        .take(PAGE)
        .map(|row| {
            Ok(Item {
                id: row.try_get(0)?,
                display_name: row.try_get(1)?,
                bio: row.try_get(3)?,
                city: row.try_get(4)?,
                country: row.try_get(5)?,
                organisation_id: row.try_get(6)?,
                accepting: row.try_get(7)?,
                offers_online: row.try_get(8)?,
                offers_in_person: row.try_get(9)?,
                created_at: row.try_get(10)?,
                updated_at: row.try_get(11)?,
                specialties: tags(row.try_get(12)?),
                languages: tags(row.try_get(13)?),
            })
        })
        .collect::<Result<Vec<_>, sea_orm::sqlx::Error>>()?;
    let next_cursor = match (rows.len() > PAGE, rows.get(PAGE - 1)) {
        (true, Some(last)) => Some(format!(
            "{}:{}",
            last.try_get::<&str, _>(2)?,
            last.try_get::<Uuid, _>(0)?
        )),
        _ => None,
    };
    Ok(Page {
        items,
        page: Links { next_cursor },
    })
}

fn tags(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect()
}
