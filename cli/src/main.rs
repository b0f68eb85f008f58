//! The `featc` binary: the command line of `featc_cli` (lib.rs), with featc's allocator.

/// mimalloc rather than glibc's allocator: the streaming state and the Redis sink's
/// encodings are many small blocks, where glibc spent most of the sink's time
/// consolidating free lists (BENCHMARKS.md, "Redis").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    featc_cli::main()
}
