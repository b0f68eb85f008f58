//! The catalog as JSON for tools: `{"catalog_version": 1, ...}` then the catalog's
//! fields, every list in declaration order (docs/catalog.md has the schema by example).

use super::Catalog;
use serde::Serialize;

/// The version of the JSON layout; a change that can break a reader bumps it.
pub const CATALOG_VERSION: u32 = 1;

#[derive(Serialize)]
struct Versioned<'a> {
    catalog_version: u32,
    #[serde(flatten)]
    catalog: &'a Catalog,
}

/// Pretty-printed JSON, ending with a newline.
pub fn render(c: &Catalog) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&Versioned {
        catalog_version: CATALOG_VERSION,
        catalog: c,
    })?;
    text.push('\n');
    Ok(text)
}
