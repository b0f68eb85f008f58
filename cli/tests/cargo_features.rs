//! A featc built without an optional Cargo feature (`featc_cli::cargo_features`)
//! parses and describes every command alike, and says what is missing. The suite runs
//! a build with every feature, so it checks what both builds share: the defaults the
//! serve commands show are the server's, and the message names the feature and the
//! command that builds a featc with it.

use featc_cli::{cargo_features, server_defaults};

#[test]
fn the_serve_commands_show_the_servers_defaults() {
    assert_eq!(
        server_defaults::LISTEN,
        featc_server::ServeConfig::DEFAULT_LISTEN
    );
    assert_eq!(
        server_defaults::REDIS_PREFIX,
        featc_server::redis::DEFAULT_PREFIX
    );
}

#[test]
fn a_missing_feature_is_named_with_the_command_that_builds_it() {
    assert_eq!(
        cargo_features::without("serve"),
        "this featc was built without `serve` (cargo build -p featc-cli, whose default \
         features include it)"
    );
}
