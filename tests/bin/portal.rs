//! The `portal` binary again, built as part of the `tests` package so the tests that
//! run `portal` as a child process (logs, signals) always get one built from the
//! current code: `api/src/main.rs` is this same one line, and cargo only rebuilds
//! another package's binaries for that package's own tests.

fn main() -> std::process::ExitCode {
    api::cli::run()
}
