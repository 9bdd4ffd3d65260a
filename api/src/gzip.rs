//! gzip for answers that are already whole in memory (every JSON page and object),
//! encoded on the request's own thread. actix-web's `Compress` hands every chunk over
//! 1 KiB to the blocking thread pool, one round trip per response, which cost three
//! quarters of the throughput of a gzip-coded directory page on two cores. `Compress`
//! still codes what this leaves alone: small bodies (which it codes in place), streams
//! (which set `identity`) and clients that prefer deflate.

use std::io::Write as _;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, Encoding, Header as _, HeaderValue};
use actix_web::middleware::Next;

/// What `Compress` negotiates among; this codes only when gzip wins.
const CODINGS: [Encoding; 3] = [Encoding::identity(), Encoding::gzip(), Encoding::deflate()];

/// Bodies from this size up are worth a gzip header and trailer.
const MIN_BYTES: usize = 1024;

/// Bodies past this size go to `Compress` (and its thread pool) rather than hold a
/// worker thread while they are coded.
const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Middleware, inside `Compress`: gzip-codes a whole body when the client prefers gzip.
pub async fn in_place(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let wants_gzip = AcceptEncoding::parse(request.request())
        .ok()
        .and_then(|accepted| accepted.negotiate(CODINGS.iter()))
        .is_some_and(|coding| coding == Encoding::gzip());
    let response = next.call(request).await?.map_into_boxed_body();
    let codable = wants_gzip
        && response.status().is_success()
        && !response.headers().contains_key(header::CONTENT_ENCODING)
        && matches!(response.response().body().size(), actix_web::body::BodySize::Sized(n) if (MIN_BYTES as u64..=MAX_BYTES as u64).contains(&n));
    if !codable {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    let plain = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => {
            return Ok(ServiceResponse::new(request, head.set_body(body)));
        }
    };
    let coded = gzip(&plain);
    let headers = head.headers_mut();
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(coded)),
    ))
}

/// `plain`, gzip-coded at the level `Compress` uses (fast: JSON shrinks to about a
/// quarter at a fraction of the cost of the default level).
fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 3),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(plain);
    encoder.finish().unwrap_or_default()
}
