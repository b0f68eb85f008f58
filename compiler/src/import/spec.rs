//! The spec format of the acceptance cases: a JSON list of features.

use serde::Deserialize;

use super::ImportError;

/// One entry of a spec file. `col` is the value column, or for `count_if` the
/// predicate; `window` a duration like `7d` or absent for a lifetime feature.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SpecFeature {
    pub name: String,
    #[serde(default = "default_source")]
    pub source: String,
    pub entity_col: EntityCols,
    pub agg: String,
    #[serde(default)]
    pub col: Option<String>,
    #[serde(default)]
    pub window: Option<String>,
    #[serde(default, rename = "where")]
    pub filter: Option<String>,
}

/// The key of a feature: one column, or several for a composite key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum EntityCols {
    One(String),
    Many(Vec<String>),
}

impl EntityCols {
    pub fn columns(&self) -> Vec<String> {
        match self {
            EntityCols::One(c) => vec![c.clone()],
            EntityCols::Many(cs) => cs.clone(),
        }
    }
}

fn default_source() -> String {
    "events".to_string()
}

/// Parses a spec file's text.
pub fn parse_spec(json: &str) -> Result<Vec<SpecFeature>, ImportError> {
    serde_json::from_str(json).map_err(|e| ImportError::Json(e.to_string()))
}
