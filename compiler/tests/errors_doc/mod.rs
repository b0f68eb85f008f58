//! docs/errors.md as the tests read it: each code's example (its ```text block) and
//! what featc prints for it (its ```console block).

#![allow(dead_code)]

/// docs/errors.md's text.
pub fn read() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md"))
        .expect("docs/errors.md")
}

/// (code, `text` block, `console` block) of each `## E0xxx` section of `docs` (a
/// missing block is empty).
pub fn sections(docs: &str) -> Vec<(String, String, String)> {
    let block = |section: &str, kind: &str| -> String {
        let open = format!("```{kind}\n");
        section
            .split_once(open.as_str())
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(body, _)| body.to_string())
            .unwrap_or_default()
    };
    docs.split("\n## ")
        .skip(1)
        .filter_map(|section| {
            let (code, body) = section.split_once('\n')?;
            Some((
                code.to_string(),
                block(body, "text"),
                block(body, "console"),
            ))
        })
        .collect()
}

/// The `text` and `console` blocks of `code`'s section of docs/errors.md; panics
/// when the section is missing.
pub fn example(code: &str) -> (String, String) {
    sections(&read())
        .into_iter()
        .find(|(c, _, _)| c == code)
        .map(|(_, text, console)| (text, console))
        .unwrap_or_else(|| panic!("docs/errors.md has no section for {code}"))
}
