//! A local stand-in for the Apple Push Notification service: HTTP/2 only, as APNs
//! is. It checks what Apple documents of a request (the ES256 provider token's key
//! id, team and age, the `apns-*` headers, the JSON body), reports it, and answers
//! as APNs does, with a `reason` on every refusal.

use std::path::PathBuf;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};

use super::fake::{Reporter, Reports, Script, header, key_file};

pub(crate) const KEY_ID: &str = "KEY0123456";
pub(crate) const TEAM_ID: &str = "TEAM012345";
pub(crate) const TOPIC: &str = "org.example.portal";

pub(crate) struct FakeApns {
    pub reports: Reports,
    port: u16,
    key_file: PathBuf,
    server: actix_web::dev::ServerHandle,
}

struct State {
    reporter: Reporter,
    script: Script,
    public_key: DecodingKey,
}

impl FakeApns {
    /// A stand-in with a new signing key that answers `statuses` first, then 200.
    pub(crate) async fn start(statuses: &[u16]) -> Self {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let coordinate = |bytes: Option<&p256::FieldBytes>| {
            URL_SAFE_NO_PAD.encode(bytes.expect("an uncompressed point"))
        };
        let public_key =
            DecodingKey::from_ec_components(&coordinate(point.x()), &coordinate(point.y()))
                .expect("a P-256 public key");
        let pem = secret
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("a PKCS#8 PEM");
        let (reporter, reports) = Reports::channel();
        let state = web::Data::new(State {
            reporter,
            script: Script::new(statuses),
            public_key,
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/3/device/{token}", web::post().to(push))
        })
        .workers(1)
        .disable_signals()
        // HTTP/2 without TLS, with prior knowledge: APNs' protocol, minus the TLS.
        .listen_auto_h2c(listener)
        .expect("listening")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            reports,
            port,
            key_file: key_file("AuthKey.p8", &pem),
            server: handle,
        }
    }

    /// `config` sending iOS pushes here.
    pub(crate) fn configure(&self, config: api::Config) -> api::Config {
        api::Config {
            apns_key_file: Some(self.key_file.clone()),
            apns_key_id: Some(KEY_ID.to_owned()),
            apns_team_id: Some(TEAM_ID.to_owned()),
            apns_base_url: format!("http://127.0.0.1:{}", self.port),
            ..config
        }
    }
}

impl Drop for FakeApns {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.key_file);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.server.stop(false));
        }
    }
}

/// `POST /3/device/{token}`: answers with the next scripted status.
async fn push(
    state: web::Data<State>,
    request: HttpRequest,
    device: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let authorization = header(&request, "authorization");
    let provider_token = authorization
        .as_str()
        .and_then(|value| value.strip_prefix("bearer "))
        .unwrap_or_default();
    let kid = jsonwebtoken::decode_header(provider_token)
        .ok()
        .and_then(|header| header.kid);
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[TEAM_ID]);
    validation.set_required_spec_claims(&["iss"]);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(provider_token, &state.public_key, &validation);
    let age = claims
        .as_ref()
        .ok()
        .and_then(|data| data.claims["iat"].as_i64())
        .map(|iat| chrono::Utc::now().timestamp() - iat);
    let valid = kid.as_deref() == Some(KEY_ID) && age.is_some_and(|age| (0..3600).contains(&age));
    let status = if valid {
        state.script.next_status()
    } else {
        403
    };
    let _ = state.reporter.send(json!({
        "http2": request.version() == actix_web::http::Version::HTTP_2,
        "device": *device,
        "provider_token": provider_token,
        "valid": valid,
        "topic": header(&request, "apns-topic"),
        "push_type": header(&request, "apns-push-type"),
        "priority": header(&request, "apns-priority"),
        "expiration": header(&request, "apns-expiration"),
        "collapse_id": header(&request, "apns-collapse-id"),
        "body": serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
        "status": status,
    }));
    answer(status)
}

/// APNs' answer for `status`: an `apns-id` on success, a `reason` otherwise.
fn answer(status: u16) -> HttpResponse {
    let reason = match status {
        200 => {
            return HttpResponse::Ok()
                .insert_header(("apns-id", uuid::Uuid::new_v4().to_string()))
                .finish();
        }
        400 => "BadDeviceToken",
        403 => "InvalidProviderToken",
        410 => "Unregistered",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        _ => "InternalServerError",
    };
    let mut body = json!({ "reason": reason });
    if status == 410 {
        body["timestamp"] = json!(chrono::Utc::now().timestamp_millis());
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status")).json(body)
}
