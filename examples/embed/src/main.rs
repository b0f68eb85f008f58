//! Embedding example (filled in with the streaming runtime).
fn main() {}
