//! House rules on the crates' dependencies: the featc library depends on neither the
//! command line's crates nor the server, and on Ballista only behind a feature that
//! is off by default.

use featc_tidy::manifest::dependencies;
use featc_tidy::repo::read;

/// The featc library (compiler/) is what embedders build: the command line's
/// dependencies and the server belong to the CLI crate (cli/), and Ballista is
/// behind a feature off by default.
#[test]
fn the_library_depends_on_neither_the_cli_nor_the_server() {
    let manifest = read("compiler/Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(
        deps.iter().any(|d| d.starts_with("featc-runtime")),
        "compiler/Cargo.toml's [dependencies] not found: {deps:#?}"
    );
    // `futures` is not among them: DataFusion depends on it, so a library user builds
    // it anyway, and the library reads record batch streams with it (`verify::sample`).
    let cli_only = [
        "clap",
        "indicatif",
        "tokio",
        "mimalloc",
        "similar",
        "featc-server",
    ];
    for dep in cli_only {
        let named =
            |d: &&str| d.starts_with(&format!("{dep} ")) || d.starts_with(&format!("{dep}."));
        assert!(
            !deps.iter().any(named),
            "the featc library must not depend on `{dep}` (the CLI's, cli/Cargo.toml)"
        );
    }
    let ballista = deps
        .iter()
        .find(|d| d.starts_with("featc-ballista"))
        .unwrap_or_else(|| panic!("compiler/Cargo.toml has no `featc-ballista` dependency"));
    assert!(
        ballista.contains("optional = true"),
        "`featc-ballista` must be optional (behind the `ballista` feature): {ballista}"
    );
    let default = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("default"))
        .unwrap_or("");
    assert!(
        !default.contains("ballista"),
        "the `ballista` feature must be off by default: {default}"
    );
}
