//! The server's defaults that `featc serve` and `featc materialize` show in their
//! help, spelled here so that a featc built without `serve` (`cargo_features`) parses
//! and describes those commands alike. A test (tests/cli.rs) checks them against the
//! server's own.

/// `featc serve --listen` (the server's `ServeConfig::DEFAULT_LISTEN`).
pub const LISTEN: &str = "127.0.0.1:6566";

/// `--redis-prefix`, the prefix of every Redis key (the server's `redis::DEFAULT_PREFIX`).
pub const REDIS_PREFIX: &str = "featc:";
