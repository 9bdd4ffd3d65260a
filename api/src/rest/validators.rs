//! Conditional requests: a JSON answer carries a strong `ETag`, a digest of the exact
//! bytes of its representation, and `If-None-Match` with it is a 304 with no body.
//! A gzip-coded representation is another representation, so its tag gets a
//! `-gzip` suffix once compressed (`mark_coding`), which `If-None-Match` accepts
//! back for the same content.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a gzip-coded representation's tag ends with.
const GZIP_SUFFIX: &str = "-gzip";

/// `body` as the JSON answer of `response`, with its `ETag`; a 304 when the request's
/// `If-None-Match` names it.
pub fn json_with_etag(
    request: &HttpRequest,
    mut response: HttpResponseBuilder,
    body: &impl Serialize,
) -> HttpResponse {
    let bytes = serde_json::to_vec(body).expect("views serialise");
    let digest = Sha256::digest(&bytes);
    let tag = EntityTag::new_strong(URL_SAFE_NO_PAD.encode(&digest[..16]));
    if matches_if_none_match(request, &tag) {
        return HttpResponse::NotModified()
            .insert_header(header::ETag(tag))
            .finish();
    }
    response
        .insert_header(header::ETag(tag))
        .content_type(header::ContentType::json())
        .body(bytes)
}

/// Whether `If-None-Match` names `tag` (weak comparison, as RFC 9110 says for it),
/// in its identity or its gzip form.
fn matches_if_none_match(request: &HttpRequest, tag: &EntityTag) -> bool {
    let Some(value) = request.headers().get(header::IF_NONE_MATCH) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    if value.trim() == "*" {
        return true;
    }
    value
        .split(',')
        .filter_map(|item| item.trim().parse::<EntityTag>().ok())
        .any(|given| {
            let identity = given.tag().strip_suffix(GZIP_SUFFIX).unwrap_or(given.tag());
            identity == tag.tag()
        })
}

/// After compression: a gzip-coded answer's `ETag` gets the `-gzip` suffix.
pub async fn mark_coding(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    let gzipped = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|coding| coding == "gzip");
    if gzipped && response.status() == StatusCode::OK {
        let headers = response.headers_mut();
        let tagged = headers
            .get(header::ETAG)
            .and_then(|tag| tag.to_str().ok())
            .and_then(|tag| tag.parse::<EntityTag>().ok());
        if let Some(tag) = tagged {
            let coded = EntityTag::new(tag.weak, format!("{}{GZIP_SUFFIX}", tag.tag()));
            if let Ok(value) = HeaderValue::from_str(&coded.to_string()) {
                headers.insert(header::ETAG, value);
            }
        }
    }
    Ok(response)
}

/// Keeps a streamed answer (SSE, NDJSON) out of compression, which would hold its
/// events back until a compressed block fills.
pub fn uncompressed(response: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    response.insert_header(header::ContentEncoding::Identity)
}
