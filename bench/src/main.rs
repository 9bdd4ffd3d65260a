//! `portal-bench`: measurements against a running `portal` that `wrk` and `pgbench`
//! cannot take: walks to a deep cursor, WebSocket fan-out, memory per session, event
//! latency, concurrent sends. Each prints one JSON line; the scripts in `bench/`
//! combine them into ratios measured in one run.

mod floor;
mod measure;
mod push;
mod realtime;

use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Latency of `requests` sequential GETs of each URL, taken in turns (one request
    /// of each, then again) so that drift in the machine's load hits every URL alike.
    /// One `--token` serves every URL, or one is given per URL, in order.
    Latency {
        #[arg(long, required = true)]
        url: Vec<String>,
        #[arg(long, required = true)]
        token: Vec<String>,
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Follows `next_cursor` from `url` until `depth` items are behind; prints the
    /// cursor of that page.
    Walk {
        #[arg(long)]
        url: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        depth: usize,
    },
    /// One presence change of a user with `contacts` connected contacts: time until
    /// the last contact receives it.
    Fanout(realtime::Target),
    /// Resident memory per idle WebSocket session of the server process `pid`.
    WsMemory {
        #[command(flatten)]
        target: realtime::Target,
        #[arg(long)]
        pid: u32,
    },
    /// Send-to-receive latency of message events, sending on `--base` and listening on
    /// `--listen` (another node, or the same).
    EventLatency {
        #[command(flatten)]
        target: realtime::Target,
        #[arg(long)]
        listen: String,
        #[arg(long, default_value_t = 200)]
        messages: usize,
    },
    /// Messages per second from `senders` concurrent senders into `conversations`
    /// conversations.
    Sends {
        #[command(flatten)]
        target: realtime::Target,
        #[arg(long, default_value_t = 16)]
        senders: usize,
        #[arg(long, default_value_t = 1)]
        conversations: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Send latency in turns to recipients with a device (pushed to a sink on
    /// loopback) and without one.
    PushLatency {
        #[command(flatten)]
        target: realtime::Target,
        #[arg(long, default_value_t = 1_000)]
        messages: usize,
        #[arg(long, default_value_t = 50)]
        conversations: usize,
    },
    /// A push service on `port` that counts until `expected` pushes arrived; prints
    /// the time from the first to the last.
    PushDrain {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        expected: u64,
        #[arg(long, default_value_t = 600)]
        limit_seconds: u64,
    },
    /// `clients` clients, each POSTing `body` (a file) to `url` `per_second` times a
    /// second for `seconds`, each as its own account (`tokens`, comma-separated, one
    /// per client or one for all); prints their statuses and latencies.
    Attack {
        #[arg(long)]
        url: String,
        #[arg(long)]
        body: std::path::PathBuf,
        #[arg(long, value_delimiter = ',')]
        tokens: Vec<String>,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value_t = 2)]
        per_second: u64,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// The floor under a REST page: serves `GET /page` on `bind` by running the
    /// statement in `sql` (a file) on `database_url` and writing its rows as the API's
    /// JSON, and nothing else (see `floor.rs`).
    Floor {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        sql: std::path::PathBuf,
        #[arg(long)]
        bind: String,
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
}

fn print(value: Value) {
    println!("{value}");
}

/// The allocator `portal` runs on, so that the floor server (`floor.rs`) is measured
/// as `portal` would be.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Latency {
            url: urls,
            token: tokens,
            requests,
        } => {
            let client = reqwest::Client::new();
            let token_of = |n: usize| tokens.get(n).unwrap_or(&tokens[0]);
            // Warm the connection and the server's caches first.
            for (n, url) in urls.iter().enumerate() {
                for _ in 0..10 {
                    measure::get(&client, url, token_of(n)).await;
                }
            }
            let mut samples = vec![Vec::with_capacity(requests); urls.len()];
            for _ in 0..requests {
                for (n, (url, samples)) in urls.iter().zip(samples.iter_mut()).enumerate() {
                    let started = Instant::now();
                    measure::get(&client, url, token_of(n)).await;
                    samples.push(started.elapsed());
                }
            }
            for (url, mut samples) in urls.into_iter().zip(samples) {
                print(json!({ "url": url, "latency": measure::summary(&mut samples) }));
            }
        }
        Command::Walk { url, token, depth } => {
            let client = reqwest::Client::new();
            let started = Instant::now();
            let (mut seen, mut next) = (0, None::<String>);
            while seen < depth {
                let page_url = match &next {
                    Some(cursor) => format!("{url}&after={cursor}"),
                    None => url.clone(),
                };
                let page = measure::get(&client, &page_url, &token).await;
                seen += page["items"].as_array().map_or(0, Vec::len);
                match page["page"]["next_cursor"].as_str() {
                    Some(cursor) => next = Some(cursor.to_owned()),
                    None => break,
                }
            }
            print(
                json!({ "depth": seen, "cursor": next, "seconds": started.elapsed().as_secs_f64() }),
            );
        }
        Command::Fanout(target) => print(realtime::fanout(&target).await),
        Command::WsMemory { target, pid } => print(realtime::ws_memory(&target, pid).await),
        Command::EventLatency {
            target,
            listen,
            messages,
        } => print(realtime::event_latency(&target, &listen, messages).await),
        Command::Sends {
            target,
            senders,
            conversations,
            seconds,
        } => print(realtime::sends(&target, senders, conversations, seconds).await),
        Command::PushLatency {
            target,
            messages,
            conversations,
        } => print(push::send_latency(&target, messages, conversations).await),
        Command::PushDrain {
            port,
            expected,
            limit_seconds,
        } => print(
            push::drain(
                port,
                expected,
                std::time::Duration::from_secs(limit_seconds),
            )
            .await,
        ),
        Command::Attack {
            url,
            body,
            tokens,
            clients,
            per_second,
            seconds,
        } => {
            let body = std::fs::read(&body).expect("the body file");
            print(measure::attack(&url, body, &tokens, clients, per_second, seconds).await);
        }
        Command::Floor {
            database_url,
            sql,
            bind,
            workers,
        } => {
            let sql = std::fs::read_to_string(&sql).expect("the statement file");
            let sql = sql.trim().trim_end_matches(';').to_owned();
            // actix-web runs its own runtimes, one per worker thread, started from a
            // thread outside this one.
            std::thread::spawn(move || floor::serve(database_url, sql, bind, workers))
                .join()
                .expect("the floor server");
        }
    }
}
