//! SIGTERM moves HTTP clients off the node, spoken over raw HTTP/1.1 so that the test
//! sees exactly what a pooled client sees: an idle keep-alive connection is closed at
//! once, a request in flight is answered with `Connection: close`, `/readyz` says 503
//! while `/healthz` says 200, and the process exits as soon as the last request is
//! answered, not at the shutdown timeout.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::Backend;
use crate::helpers::TestDatabase;
use crate::process::PortalProcess;

/// What an HTTP/1.1 response told the client.
#[derive(Debug)]
struct Answer {
    status: u16,
    closes: bool,
}

async fn connect(portal: &PortalProcess) -> TcpStream {
    TcpStream::connect(portal.address.trim_start_matches("http://"))
        .await
        .expect("portal accepts")
}

/// Reads one response (headers and a `Content-Length` body) from `stream`.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    let read_more = async |stream: &mut TcpStream, received: &mut Vec<u8>, chunk: &mut [u8]| {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(chunk))
            .await
            .expect("an answer in time")
            .expect("readable");
        assert!(read > 0, "closed before answering: {received:?}");
        received.extend_from_slice(&chunk[..read]);
    };
    let head_end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        read_more(stream, &mut received, &mut chunk).await;
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("a status code");
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .map(str::trim)
            .map(str::to_owned)
    };
    let length: usize = header("content-length").map_or(0, |v| v.parse().expect("a length"));
    while received.len() < head_end + length {
        read_more(stream, &mut received, &mut chunk).await;
    }
    Answer {
        status,
        closes: header("connection").as_deref() == Some("close"),
    }
}

async fn get(stream: &mut TcpStream, path: &str) -> Answer {
    let request = format!("GET {path} HTTP/1.1\r\nhost: portal\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sent");
    read_answer(stream).await
}

/// Whether the server closes `stream` within `limit`, with nothing more to say.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut byte = [0; 1];
    matches!(
        tokio::time::timeout(limit, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

async fn sigterm_moves_http_clients_off_the_node(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut portal = PortalProcess::serve(db.url(), &[("PORTAL_SHUTDOWN_TIMEOUT_SECS", "60")]);

    let mut idle = connect(&portal).await;
    let before = get(&mut idle, "/healthz").await;
    assert_eq!((before.status, before.closes), (200, false), "kept alive");
    // A request in flight: its head is in, its body only half.
    let body = br#"{"email":"nobody@example.com","password":"not the password"}"#;
    let mut in_flight = connect(&portal).await;
    let head = format!(
        "POST /v1/auth/login HTTP/1.1\r\nhost: portal\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("sent");
    in_flight.write_all(&body[..10]).await.expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;

    portal.terminate();

    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "the idle keep-alive connection is closed at once"
    );
    let mut probe = connect(&portal).await;
    let ready = get(&mut probe, "/readyz").await;
    assert_eq!((ready.status, ready.closes), (503, true), "not ready");
    let mut probe = connect(&portal).await;
    let alive = get(&mut probe, "/healthz").await;
    assert_eq!((alive.status, alive.closes), (200, true), "alive");
    assert!(
        portal.wait_for_exit(Duration::ZERO).is_none(),
        "a request is still in flight"
    );

    in_flight.write_all(&body[10..]).await.expect("sent");
    let answer = read_answer(&mut in_flight).await;
    let answered = Instant::now();
    assert_eq!(answer.status, 401, "the request in flight is answered");
    assert!(answer.closes, "with Connection: close");
    assert!(closed_within(&mut in_flight, Duration::from_secs(1)).await);
    let status = portal
        .wait_for_exit(Duration::from_secs(5))
        .expect("portal exits once nothing is left");
    assert!(status.success(), "{}", portal.output());
    assert!(
        answered.elapsed() < Duration::from_secs(1),
        "exited {:?} after the last answer",
        answered.elapsed()
    );
}
on_every_backend!(sigterm_moves_http_clients_off_the_node);
