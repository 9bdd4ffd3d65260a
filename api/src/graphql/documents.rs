//! Parsed GraphQL documents kept by the SHA-256 of their text, and Apollo's automatic
//! persisted queries over the same store.
//!
//! A client sends the same few operations over and over; parsing one costs more than
//! running it against a warm cache. So a document is parsed once per node and later
//! requests with the same text get a copy of the tree. Apollo Client's persisted
//! queries send `extensions.persistedQuery.sha256Hash` without the text; a node that
//! has not seen that hash answers `PersistedQueryNotFound` (code
//! `PERSISTED_QUERY_NOT_FOUND`) and the client resends with the text, which is
//! checked against the hash before it is kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    BatchRequest, BatchResponse, Request, Response, ServerError, ValidationResult, Value,
};
use sha2::{Digest, Sha256};

use super::PortalSchema;
use super::limits::coded;
use crate::codes;

/// Documents (and validations) kept before a store starts over: far more than the
/// operations any client set sends, and each entry is a few KiB.
const KEEP: usize = 2_000;

type Hash = [u8; 32];

/// A document that parsed, with the text it came from (persisted queries answer
/// with the text, which the complexity check and the logs need).
struct Known {
    query: Arc<str>,
    document: ExecutableDocument,
}

/// The per-node store of parsed documents.
#[derive(Default)]
pub struct Documents {
    known: Mutex<HashMap<Hash, Arc<Known>>>,
}

impl Documents {
    /// Fills in `request`'s document (and, for a persisted query sent by hash, its
    /// text) from the store, parsing and keeping it the first time. An error is the
    /// answer to this request. A text that does not parse is left to the schema,
    /// which refuses it with its own message.
    pub fn prepare(&self, request: &mut Request) -> Result<(), ServerError> {
        let hash = self.fill_in(request)?;
        let mut key = Sha256::new();
        key.update(hash);
        key.update(request.operation_name.as_deref().unwrap_or_default());
        key.update([0xff]);
        if let Ok(variables) = serde_json::to_vec(&request.variables) {
            key.update(variables);
        }
        request.data.insert(ValidationKey(key.finalize().into()));
        Ok(())
    }

    /// The document of `request` filled in; answers the hash of its text.
    fn fill_in(&self, request: &mut Request) -> Result<Hash, ServerError> {
        let hash = match persisted_hash(request)? {
            Some(hash) if request.query.is_empty() => {
                let known = self.get(&hash).ok_or_else(not_found)?;
                request.query = known.query.to_string();
                request.set_parsed_query(known.document.clone());
                return Ok(hash);
            }
            Some(hash) => {
                if hash != sha256(&request.query) {
                    return Err(coded(
                        "provided sha does not match query",
                        codes::INVALID_QUERY,
                    ));
                }
                hash
            }
            None => sha256(&request.query),
        };
        if let Some(known) = self.get(&hash) {
            request.set_parsed_query(known.document.clone());
            return Ok(hash);
        }
        if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
            request.set_parsed_query(document.clone());
            let known = Known {
                query: request.query.as_str().into(),
                document,
            };
            let mut store = self.lock();
            if store.len() >= KEEP {
                store.clear();
            }
            store.insert(hash, Arc::new(known));
        }
        Ok(hash)
    }

    fn get(&self, hash: &Hash) -> Option<Arc<Known>> {
        self.lock().get(hash).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, Arc<Known>>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Identifies what validating a request depends on: its document, operation and
/// variables. `Documents::prepare` puts it in the request's data.
pub struct ValidationKey(Hash);

/// Successful validations, kept per node by [`ValidationKey`]: the same document,
/// operation and variables always validate alike against the one schema, so a client
/// repeating a request is not validated again. Bounded like the documents.
#[derive(Default)]
pub struct Validations {
    known: Mutex<HashMap<Hash, ValidationResult>>,
}

impl Validations {
    pub(super) fn get(&self, key: &ValidationKey) -> Option<ValidationResult> {
        self.lock().get(&key.0).copied()
    }

    pub(super) fn keep(&self, key: &ValidationKey, result: ValidationResult) {
        let mut known = self.lock();
        if known.len() >= KEEP {
            known.clear();
        }
        known.insert(key.0, result);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, ValidationResult>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The hash of `extensions.persistedQuery`, when the request has one.
fn persisted_hash(request: &Request) -> Result<Option<Hash>, ServerError> {
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let malformed = || {
        coded(
            "extensions.persistedQuery must be { version: 1, sha256Hash: <64 hex digits> }",
            codes::INVALID_QUERY,
        )
    };
    let Value::Object(fields) = persisted else {
        return Err(malformed());
    };
    if fields.get("version") != Some(&Value::from(1)) {
        return Err(malformed());
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hex)) => from_hex(hex).map(Some).ok_or_else(malformed),
        _ => Err(malformed()),
    }
}

fn from_hex(hex: &str) -> Option<Hash> {
    let mut hash = [0; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in hash.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(hash)
}

fn sha256(text: &str) -> Hash {
    Sha256::digest(text.as_bytes()).into()
}

/// Apollo's spelling, which its clients match on to resend with the text.
fn not_found() -> ServerError {
    coded("PersistedQueryNotFound", codes::PERSISTED_QUERY_NOT_FOUND)
}

/// Prepares every request of `batch` (see [`Documents::prepare`]); the refusal of
/// each, in order, `None` for one that may run.
pub fn prepare_batch(documents: &Documents, batch: &mut BatchRequest) -> Vec<Option<ServerError>> {
    match batch {
        BatchRequest::Single(request) => vec![documents.prepare(request).err()],
        BatchRequest::Batch(requests) => requests
            .iter_mut()
            .map(|request| documents.prepare(request).err())
            .collect(),
    }
}

/// Runs `batch` on `schema`, answering each refused request with its refusal instead.
pub async fn execute_unless_refused(
    schema: &PortalSchema,
    batch: BatchRequest,
    refusals: Vec<Option<ServerError>>,
) -> BatchResponse {
    let answer = |request: Request, refusal: Option<ServerError>| async move {
        match refusal {
            Some(refusal) => Response::from_errors(vec![refusal]),
            None => schema.execute(request).await,
        }
    };
    match batch {
        BatchRequest::Single(request) => {
            BatchResponse::Single(answer(request, refusals.into_iter().next().flatten()).await)
        }
        BatchRequest::Batch(requests) => BatchResponse::Batch(
            futures_util::future::join_all(
                requests
                    .into_iter()
                    .zip(refusals)
                    .map(|(request, refusal)| answer(request, refusal)),
            )
            .await,
        ),
    }
}
