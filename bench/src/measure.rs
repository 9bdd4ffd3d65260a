//! Timing helpers: one GET, and percentiles of a set of samples.

use std::time::Duration;

use serde_json::{Value, json};

/// GETs `url` as `token`; panics on anything but 200 (a benchmark of errors is void).
pub async fn get(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.expect("a JSON body")
}

/// Mean and percentiles in milliseconds.
pub fn summary(samples: &mut [Duration]) -> Value {
    samples.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    let at = |q: f64| ms(samples[((samples.len() as f64 - 1.0) * q).round() as usize]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    json!({ "n": samples.len(), "mean_ms": mean, "p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": at(1.0) })
}

/// `clients` concurrent clients POSTing `body` as JSON to `url`, each `per_second`
/// times a second for `seconds`; client `n` uses `tokens[n % len]`. Returns how many
/// requests got which status, and their latency.
pub async fn attack(
    url: &str,
    body: Vec<u8>,
    tokens: &[String],
    clients: usize,
    per_second: u64,
    seconds: u64,
) -> Value {
    let period = Duration::from_millis(1_000 / per_second.max(1));
    let runs: Vec<_> = (0..clients)
        .map(|n| {
            let (url, body) = (url.to_owned(), body.clone());
            let token = tokens[n % tokens.len()].clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut tick = tokio::time::interval(period);
                let ends = tokio::time::Instant::now() + Duration::from_secs(seconds);
                let mut answers = Vec::new();
                while tokio::time::Instant::now() < ends {
                    tick.tick().await;
                    let started = std::time::Instant::now();
                    let status = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    answers.push((status, started.elapsed()));
                }
                answers
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    let mut latencies = Vec::new();
    for run in runs {
        for (status, took) in run.await.expect("an attacker") {
            *statuses.entry(status).or_default() += 1;
            latencies.push(took);
        }
    }
    json!({ "statuses": statuses, "latency": summary(&mut latencies) })
}
