//! featc-tidy: what the house rules (`tidy/tests/`) read the repository with: its
//! files (`repo`) and its manifests (`manifest`).

// Test-support code: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod manifest;
pub mod repo;
