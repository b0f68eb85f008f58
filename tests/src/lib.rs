//! Shared helpers for featc integration tests.
