//! The tokio runtime the tests share.

use std::sync::OnceLock;

/// One multi-threaded tokio runtime (2 workers) per test binary, shared by the tests
/// that run the batch path or `verify` inside a proptest body or a plain `#[test]`,
/// as the CLI has one per command.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}
