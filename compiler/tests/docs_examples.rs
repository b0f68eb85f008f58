//! Every ```feat block of the docs and every example project compiles, so the docs
//! cannot drift from the language.

use featc::SourceFile;
use featc_test_support::paths::repo_root as repo;
use featc_test_support::project::feat_files;

/// The ```feat blocks of a Markdown file, with the line each starts on.
fn feat_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```feat") => current = Some((i + 2, String::new())),
            (Some(_), "```") => blocks.push(current.take().expect("inside a block")),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Reads the schema files an example names from the repository (an example is named
/// by its Markdown file, so `kafka/x.avsc` in docs/language.md is `docs/kafka/x.avsc`).
struct FromRepo;

impl featc::ReadFile for FromRepo {
    fn read(&self, location: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(repo().join(location))
    }
}

fn compile_or_panic(files: &[SourceFile]) {
    let reader: std::sync::Arc<dyn featc::ReadFile> = std::sync::Arc::new(FromRepo);
    if let Err(diags) = featc::compile_with(files, &reader) {
        panic!("does not compile:\n{}", diags.render(files, false));
    }
}

#[test]
fn every_feat_block_in_the_docs_compiles() {
    let mut seen = 0;
    for doc in [
        "docs/language.md",
        "docs/sources.md",
        "README.md",
        "examples/fraud/README.md",
    ] {
        let text = std::fs::read_to_string(repo().join(doc)).expect("doc exists");
        for (line, block) in feat_blocks(&text) {
            let name = format!("{doc}:{line}");
            compile_or_panic(&[SourceFile { name, text: block }]);
            seen += 1;
        }
    }
    assert!(
        seen >= 6,
        "expected the language reference to hold examples, found {seen}"
    );
}

#[test]
fn example_and_case_projects_compile() {
    for dir in [
        "examples/fraud",
        "examples/delivery",
        "examples/checkout",
        "tests/cases/synthetic",
        "tests/cases/marketplace",
    ] {
        let files = feat_files(&repo().join(dir));
        assert!(!files.is_empty(), "{dir} has no .feat file");
        compile_or_panic(&files);
    }
}
