//! The `featc` command line.
fn main() {}
