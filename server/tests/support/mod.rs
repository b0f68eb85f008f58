//! What the server's tests share: the repository's paths, a project compiled with the
//! featc library, its history loaded as `featc serve --bootstrap` loads it, a server
//! running in the test's own tokio runtime, and a client that sends requests to the
//! server's routes in process.

#![allow(dead_code)]

pub mod client;
pub mod history;
pub mod project;
pub mod served;

use std::path::{Path, PathBuf};

pub use client::{arrow_body, get, metric, post, post_with, request, Client};
pub use featc_test_support::pushes::{arrival, events, push_body, Events};
pub use featc_test_support::refusal::refusal;
pub use featc_test_support::rng::mix;
pub use featc_test_support::served_cells::{expected_cell, served_cell};
pub use project::{compile, project_dir};
pub use served::Served;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
