//! The `portal` binary: everything lives in the `api` library so tests boot what ships.

fn main() -> std::process::ExitCode {
    api::cli::run()
}
