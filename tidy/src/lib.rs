//! featc-tidy: what the house rules (`tidy/tests/`) read the repository with: its
//! files (`repo`) and its manifests (`manifest`).

pub mod manifest;
pub mod repo;
