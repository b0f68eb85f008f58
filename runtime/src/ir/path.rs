//! A flat column of a source read out of a struct or map column (`address.city`,
//! `attrs['color']`, `size(attrs)`, `contains(attrs, 'k')`): the physical column and
//! the steps from it to the value. Expressions never hold a struct or a map: the
//! checker turns each access into such a column, and every reader extracts it
//! (docs/semantics.md, "Struct and map columns").

use serde::{Deserialize, Serialize};

/// Where a path column's values come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnPath {
    /// The declared column of the source the path starts at (a struct or a map).
    pub physical: String,
    /// The steps from it, in order: fields first, at most one map step last.
    pub steps: Vec<PathStep>,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathStep {
    /// A struct's field by name.
    Field(String),
    /// A map's value under a key (null when the key is absent).
    Key(String),
    /// A map's number of distinct keys (int64).
    Size,
    /// Whether a map holds a key (bool).
    HasKey(String),
}

impl ColumnPath {
    /// The path as written in expressions, which is also its flat column's name:
    /// `address.geo.lat`, `attrs['color']`, `size(attrs)`, `contains(attrs, 'k')`.
    pub fn written(&self) -> String {
        let mut inner = self.physical.clone();
        for step in &self.steps {
            match step {
                PathStep::Field(f) => {
                    inner.push('.');
                    inner.push_str(f);
                }
                PathStep::Key(k) => inner = format!("{inner}[{}]", quoted(k)),
                PathStep::Size => inner = format!("size({inner})"),
                PathStep::HasKey(k) => inner = format!("contains({inner}, {})", quoted(k)),
            }
        }
        inner
    }
}

/// True for the name of a path column (`ColumnPath::written`) among the columns a
/// view's expressions read: an identifier has no `.`, `[` or `(`; `source()` is no
/// path, and a lookup's column (`view.feature at key`) has a space where a field
/// path has none. (A request's `r.field` is read by derived features only.)
pub fn is_path_column(name: &str) -> bool {
    (name.contains('.') && !name.contains(' '))
        || name.contains("['")
        || name.starts_with("size(")
        || name.starts_with("contains(")
}

/// A key as a `.feat` string literal: single quotes, a quote inside doubled.
fn quoted(key: &str) -> String {
    format!("'{}'", key.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_named_as_written() {
        let path = |steps: Vec<PathStep>| ColumnPath {
            physical: "attrs".into(),
            steps,
        };
        assert_eq!(
            path(vec![
                PathStep::Field("geo".into()),
                PathStep::Field("lat".into())
            ])
            .written(),
            "attrs.geo.lat"
        );
        assert_eq!(
            path(vec![PathStep::Key("it's".into())]).written(),
            "attrs['it''s']"
        );
        assert_eq!(path(vec![PathStep::Size]).written(), "size(attrs)");
        assert!(is_path_column("attrs['a b']") && is_path_column("attrs.geo.lat"));
        assert!(!is_path_column("merchants.reports_30d at merchant_id"));
        assert!(!is_path_column(crate::ir::SOURCE_NAME_COLUMN));
        assert_eq!(
            path(vec![
                PathStep::Field("m".into()),
                PathStep::HasKey("k".into())
            ])
            .written(),
            "contains(attrs.m, 'k')"
        );
    }
}
