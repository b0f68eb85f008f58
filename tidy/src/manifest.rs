//! A crate's `Cargo.toml` read as lines, enough for the rules on dependencies.

/// The `[dependencies]` of a manifest, one line per dependency (`name = ...` or
/// `name.workspace = true`), comments left out.
pub fn dependencies(manifest: &str) -> Vec<&str> {
    let mut section = "";
    let mut lines = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" && !line.is_empty() && !line.starts_with('#') {
            lines.push(line);
        }
    }
    lines
}
