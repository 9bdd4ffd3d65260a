//! The `portal` binary: everything lives in the `api` library so tests boot what ships.

/// A server's allocator: under load glibc's malloc, free and their locks took about a
/// sixth of `portal`'s CPU per request, and mimalloc's thread-local heaps suit many
/// short-lived request allocations (bench/README.md, "Profiling").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::run()
}
