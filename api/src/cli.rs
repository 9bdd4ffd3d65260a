//! The `portal` command line: `serve` (the default), `migrate`, `seed`,
//! `create-account`, `healthcheck`, `openapi` and `graphql-schema`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migrations::MigratorTrait;

use domain::accounts::NewAccount;
use domain::actor::Role;

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "portal", version, about = "Therapist portal backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start-up; boxing would only obscure the clap derive"
)]
enum Command {
    /// Apply pending migrations, then serve HTTP and GraphQL (the default).
    Serve(Config),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Insert deterministic synthetic therapists, in large batches.
    Seed(SeedArgs),
    /// Create an account of any role (bootstraps support and admin staff).
    CreateAccount(CreateAccountArgs),
    /// Exit 0 when the server on `PORTAL_BIND` answers `/readyz` with 200 (the
    /// container's HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Print the GraphQL schema (SDL).
    GraphqlSchema,
}

#[derive(Debug, clap::Args)]
struct HealthcheckArgs {
    /// The address `portal serve` listens on; an unspecified one is asked on loopback.
    #[arg(long, env = "PORTAL_BIND", default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
}

#[derive(Debug, clap::Args)]
struct DatabaseArgs {
    /// Database: sqlite://, postgres:// or mysql:// URL.
    #[arg(
        long,
        env = "PORTAL_DATABASE_URL",
        default_value = "sqlite://portal.db?mode=rwc"
    )]
    database_url: String,
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Therapists to add (numbered after those already stored).
    #[arg(long, default_value_t = 5_000)]
    therapists: u64,
    /// Organisations to create when there are none yet.
    #[arg(long, default_value_t = 50)]
    organisations: u64,
    /// Conversations to add, each between a new seeded therapist and client.
    #[arg(long, default_value_t = 0)]
    conversations: u64,
    /// Messages in each added conversation.
    #[arg(long, default_value_t = 100)]
    messages_per_conversation: u64,
}

#[derive(Debug, clap::Args)]
struct CreateAccountArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[arg(long)]
    email: String,
    /// 10 to 128 characters. Prefer `PORTAL_NEW_ACCOUNT_PASSWORD` to keep it out of
    /// the shell history.
    #[arg(long, env = "PORTAL_NEW_ACCOUNT_PASSWORD", hide_env_values = true)]
    password: String,
    /// client, therapist, support or admin.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Shown name (default: the part of the email before `@`).
    #[arg(long)]
    display_name: Option<String>,
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| "one of client, therapist, support, admin".to_owned())
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        None => match Cli::parse_from(["portal", "serve"]).command {
            Some(serve) => serve,
            None => unreachable!("`serve` parses to a command"),
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("portal: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(execute(command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "portal failed");
            eprintln!("portal: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> Result<(), crate::StartupError> {
    match command {
        Command::Serve(config) => {
            crate::telemetry::init();
            let app = crate::Application::build(config).await?;
            tracing::info!(address = %app.local_addr(), "portal is listening");
            if let Some(demo) = app.demo() {
                print_demo_guide(app.local_addr(), demo);
            }
            // Returns once a SIGTERM or SIGINT has let in-flight requests finish.
            app.run_until_stopped().await?;
            tracing::info!("portal stopped");
        }
        Command::Migrate(args) => {
            crate::telemetry::init();
            let storage = domain::database::Storage::connect(&args.database_url, 2).await?;
            migrations::Migrator::up(storage.db.pool(), None).await?;
            println!("migrations applied");
        }
        Command::Seed(args) => {
            crate::telemetry::init();
            let storage =
                domain::database::Storage::connect(&args.database.database_url, 4).await?;
            migrations::Migrator::up(storage.db.pool(), None).await?;
            let started = std::time::Instant::now();
            let report =
                domain::seed::seed_directory(&storage.db, args.therapists, args.organisations)
                    .await?;
            println!(
                "seeded {} therapists and {} organisations in {:.1}s",
                report.therapists,
                report.organisations,
                started.elapsed().as_secs_f64()
            );
            if args.conversations > 0 {
                let started = std::time::Instant::now();
                let ids = domain::seed::seed_chat(
                    &storage.db,
                    args.conversations,
                    args.messages_per_conversation,
                )
                .await?;
                println!(
                    "seeded {} conversations of {} messages in {:.1}s (accounts seed-therapist-*/seed-client-*@example.org, password {})",
                    ids.len(),
                    args.messages_per_conversation,
                    started.elapsed().as_secs_f64(),
                    domain::seed::SEED_PASSWORD,
                );
                for id in ids {
                    println!("conversation {id}");
                }
            }
        }
        Command::CreateAccount(args) => {
            crate::telemetry::init();
            let storage =
                domain::database::Storage::connect(&args.database.database_url, 2).await?;
            migrations::Migrator::up(storage.db.pool(), None).await?;
            let display_name = args
                .display_name
                .unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_owned());
            let new = NewAccount {
                email: args.email,
                password: args.password,
                display_name,
                role: args.role,
            };
            let account = domain::accounts::create_account(&storage.db, new).await?;
            println!(
                "created {} account {} ({})",
                account.role.as_str(),
                account.email,
                account.id
            );
        }
        // Both texts end in a newline already: printed as is, they equal the files.
        Command::Healthcheck(args) => {
            crate::probe::ready(crate::probe::target(args.bind))
                .map_err(crate::StartupError::Unhealthy)?;
        }
        Command::Openapi => print!("{}", crate::openapi::document_json()),
        Command::GraphqlSchema => print!("{}", crate::graphql::sdl()),
    }
    Ok(())
}

fn print_demo_guide(address: std::net::SocketAddr, demo: &domain::seed::DemoAccounts) {
    let base = format!("http://{address}");
    println!(
        "\nDemo data is ready. Sign in as any of these (password: {}):",
        demo.password
    );
    for (role, email) in &demo.emails {
        println!("  {:<10} {email}", role.as_str());
    }
    println!(
        "\nTry:\n  TOKEN=$(curl -s {base}/v1/auth/login -H 'content-type: application/json' \\\n    -d '{{\"email\":\"client@demo.example\",\"password\":\"{}\"}}' | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')",
        demo.password
    );
    println!(
        "  curl -si '{base}/v1/therapists?limit=3' -H \"authorization: Bearer $TOKEN\"   # follow the Link header"
    );
    println!("  curl -s '{base}/v1/conversations' -H \"authorization: Bearer $TOKEN\"");
    println!(
        "  curl -s '{base}/v1/conversations/{}/messages?limit=5&before=100' -H \"authorization: Bearer $TOKEN\"",
        demo.conversation
    );
    println!("  GraphQL: POST {base}/graphql   OpenAPI: {base}/openapi.json\n");
}
