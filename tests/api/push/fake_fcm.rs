//! A local stand-in for Firebase Cloud Messaging: Google's OAuth token endpoint and
//! the FCM HTTP v1 send API on one loopback server. It checks what the documentation
//! asks of a request (the signed assertion's key, claims and lifetime, the bearer
//! token it issued, the message's shape), reports it, and answers as FCM does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use super::fake::{Reporter, Reports, Script, key_file};

/// A throwaway RSA key that signs nothing but these tests' assertions.
const KEY_PEM: &str = include_str!("../fixtures/fcm_test_service_account_key.pem");
pub(crate) const PROJECT: &str = "portal-tests";
const CLIENT_EMAIL: &str = "push@portal-tests.iam.gserviceaccount.com";
const KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
pub(crate) const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

pub(crate) struct FakeFcm {
    pub reports: Reports,
    port: u16,
    service_account: PathBuf,
    server: actix_web::dev::ServerHandle,
}

struct State {
    reporter: Reporter,
    script: Script,
    public_key: DecodingKey,
    token_uri: String,
    issued: Mutex<Vec<String>>,
}

impl FakeFcm {
    /// A stand-in that answers sends with `statuses` first, then 200.
    pub(crate) async fn start(statuses: &[u16]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let token_uri = format!("http://127.0.0.1:{port}/token");
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(KEY_PEM).expect("the fixture key");
        let public = private.to_public_key();
        let (reporter, reports) = Reports::channel();
        let state = web::Data::new(State {
            reporter,
            script: Script::new(statuses),
            public_key: DecodingKey::from_rsa_raw_components(
                &public.n().to_bytes_be(),
                &public.e().to_bytes_be(),
            ),
            token_uri: token_uri.clone(),
            issued: Mutex::default(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/token", web::post().to(token))
                .route("/v1/projects/{project}/messages:send", web::post().to(send))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listening")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let file = json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": KEY_ID,
            "private_key": KEY_PEM,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "token_uri": token_uri,
        });
        Self {
            reports,
            port,
            service_account: key_file("fcm-service-account.json", &file.to_string()),
            server: handle,
        }
    }

    /// `config` sending Android pushes here.
    pub(crate) fn configure(&self, config: api::Config) -> api::Config {
        api::Config {
            fcm_service_account_file: Some(self.service_account.clone()),
            fcm_base_url: format!("http://127.0.0.1:{}", self.port),
            ..config
        }
    }
}

impl Drop for FakeFcm {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.service_account);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.server.stop(false));
        }
    }
}

/// The OAuth 2.0 token endpoint: a JWT bearer grant (RFC 7523) signed with the
/// service account's key.
async fn token(state: web::Data<State>, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let assertion = form.get("assertion").map_or("", String::as_str);
    let kid = jsonwebtoken::decode_header(assertion)
        .ok()
        .and_then(|header| header.kid);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&state.token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<Value>(assertion, &state.public_key, &validation);
    let valid = claims.is_ok() && kid.as_deref() == Some(KEY_ID);
    let claims = claims.map(|data| data.claims).unwrap_or(Value::Null);
    let _ = state.reporter.send(json!({
        "endpoint": "token",
        "grant_type": form.get("grant_type"),
        "valid": valid,
        "scope": claims["scope"],
        "lifetime": claims["exp"].as_i64().zip(claims["iat"].as_i64()).map(|(exp, iat)| exp - iat),
    }));
    if !valid {
        return HttpResponse::BadRequest().json(json!({ "error": "invalid_grant" }));
    }
    let mut issued = state.issued.lock().expect("issued tokens");
    let access_token = format!("ya29.test-{}", issued.len());
    issued.push(access_token.clone());
    HttpResponse::Ok().json(json!({
        "access_token": access_token,
        "expires_in": 3599,
        "token_type": "Bearer",
    }))
}

/// `projects.messages.send`: answers with the next scripted status.
async fn send(
    state: web::Data<State>,
    request: HttpRequest,
    project: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let bearer = super::fake::header(&request, "authorization");
    let authorized = bearer
        .as_str()
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|token| {
            state
                .issued
                .lock()
                .expect("issued")
                .iter()
                .any(|t| t == token)
        });
    let status = if authorized {
        state.script.next_status()
    } else {
        401
    };
    let _ = state.reporter.send(json!({
        "endpoint": "send",
        "project": *project,
        "bearer": bearer,
        "authorized": authorized,
        "content_type": super::fake::header(&request, "content-type"),
        "message": body["message"],
        "status": status,
    }));
    answer(status, &project)
}

/// FCM's answer for `status`, with the error body its documentation shows.
fn answer(status: u16, project: &str) -> HttpResponse {
    let (name, code) = match status {
        200 => {
            return HttpResponse::Ok().json(json!({
                "name": format!("projects/{project}/messages/0:{}", uuid::Uuid::new_v4()),
            }));
        }
        401 => ("UNAUTHENTICATED", None),
        404 => ("NOT_FOUND", Some("UNREGISTERED")),
        429 => ("RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED")),
        503 => ("UNAVAILABLE", Some("UNAVAILABLE")),
        _ => ("INVALID_ARGUMENT", Some("INVALID_ARGUMENT")),
    };
    let details: Vec<Value> = code
        .map(|code| json!({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code }))
        .into_iter()
        .collect();
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status"));
    if status == 429 {
        response.insert_header(("Retry-After", "1"));
    }
    response.json(json!({
        "error": { "code": status, "message": name, "status": name, "details": details },
    }))
}
