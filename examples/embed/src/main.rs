//! `cargo run -p featc-embed-example [-- graph.json]`: runs the embedding example and
//! prints the feature vectors it read. Without an argument it compiles examples/fraud
//! in-process; with one it loads that graph JSON (`featc build examples/fraud --emit
//! stream-json > graph.json`).

use std::path::Path;
use std::process::ExitCode;

use featc_embed_example::{graph, ingest_and_read, show};
use featc_runtime::stream::FeatureVector;

fn print(title: &str, v: &FeatureVector) {
    println!("{title} (t = {}us)", v.at);
    for f in &v.features {
        println!("  {:<20} {:>12}  {:?}", f.name, show(&f.value), f.status);
    }
}

fn main() -> ExitCode {
    let graph = match std::env::args().nth(1) {
        Some(path) => graph::load_json(Path::new(&path)),
        None => graph::compile_dir(&graph::fraud_dir()),
    };
    let reads = match graph.and_then(ingest_and_read) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print(
        "service fraud_v1, user 7 / merchant m_travel, at NOW",
        &reads.service,
    );
    print("user 7 at NOW", &reads.user_now);
    print(
        "user 7 two hours later (windows decayed)",
        &reads.user_later,
    );
    print("user 999 (never seen)", &reads.stranger);
    let m = reads.metrics;
    println!(
        "events {}  late {}  entities {}  state {} bytes",
        m.events, m.late, m.entities, m.state_bytes
    );
    ExitCode::SUCCESS
}
