//! docs/errors.md as the tests read it: the example of a code (its ```text block)
//! and what featc prints for it (its ```console block).

/// The `text` and `console` blocks of `code`'s section of docs/errors.md (empty
/// when a block is missing); panics when the section is.
pub fn example(code: &str) -> (String, String) {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md"))
        .expect("docs/errors.md");
    let section = docs
        .split("\n## ")
        .find_map(|s| s.strip_prefix(&format!("{code}\n")))
        .unwrap_or_else(|| panic!("docs/errors.md has no section for {code}"))
        .to_string();
    let block = |kind: &str| -> String {
        let open = format!("```{kind}\n");
        section
            .split_once(open.as_str())
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(body, _)| body.to_string())
            .unwrap_or_default()
    };
    (block("text"), block("console"))
}
