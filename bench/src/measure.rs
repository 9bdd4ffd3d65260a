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
