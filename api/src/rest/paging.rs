//! The REST shape of one page: `{ items, page }` plus an RFC 8288 `Link` header whose
//! `next`/`prev` URLs repeat the request with the cursor swapped in.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use domain::page::{Page, PageArgs};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The paging query of a list with no filters of its own.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// The domain's page arguments from the REST paging parameters.
pub fn rest_page(limit: Option<i64>, after: Option<String>, before: Option<String>) -> PageArgs {
    PageArgs::Rest {
        limit,
        after,
        before,
    }
}

/// Where a page sits in its list, and the cursors to move from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Pass as `after` for the next page; null when there is none.
    pub next_cursor: Option<String>,
    /// Pass as `before` for the previous page; null when there is none.
    pub prev_cursor: Option<String>,
    pub has_next: bool,
    pub has_prev: bool,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    pub page: PageInfo,
}

/// The 200 response for `page`, with its `Link` header.
pub fn paged_response<T: Serialize + ToSchema>(
    request: &HttpRequest,
    page: Page<T>,
) -> HttpResponse {
    let info = PageInfo {
        next_cursor: page
            .has_next
            .then(|| page.end_cursor().map(str::to_owned))
            .flatten(),
        prev_cursor: page
            .has_prev
            .then(|| page.start_cursor().map(str::to_owned))
            .flatten(),
        has_next: page.has_next,
        has_prev: page.has_prev,
    };
    let mut links = Vec::new();
    if let Some(cursor) = &info.next_cursor {
        links.push(format!(
            "<{}>; rel=\"next\"",
            link(request, "after", cursor)
        ));
    }
    if let Some(cursor) = &info.prev_cursor {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            link(request, "before", cursor)
        ));
    }
    let mut response = HttpResponse::Ok();
    if !links.is_empty() {
        response.insert_header((header::LINK, links.join(", ")));
    }
    let body = Paged {
        items: page.items,
        page: info,
    };
    super::validators::json_with_etag(request, response, &body)
}

/// The request's path and query with `after`/`before` replaced by `parameter=cursor`.
fn link(request: &HttpRequest, parameter: &str, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    pairs.retain(|(name, _)| name != "after" && name != "before");
    pairs.push((parameter.to_owned(), cursor.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}?{query}", request.path())
}
