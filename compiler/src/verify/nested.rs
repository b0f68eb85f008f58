//! The struct and map columns of generated cases (semantics.md, "Struct and map
//! columns"): each struct or map column a source declares is drawn whole, in its
//! declared shape (`check::nested::written_shape`), and becomes an Arrow `Struct` or
//! `Map` column named as declared (`nested_array`), never its flat path columns: every
//! path verify runs reads the paths out of it by its own extraction.
//!
//! The draws hold what semantics.md has rules for: null structs (half of them with
//! values left in their children, which every path must read as null), null fields
//! and nested structs null at every level, list fields null, empty or holding null
//! items (`values`); null maps, empty maps, keys the paths read and keys they do not
//! (so a lookup misses one, or finds a map without it), and keys repeated within a
//! map (the last entry wins; `size` counts the key once).

use std::fmt;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field};
use rand::rngs::StdRng;
use rand::Rng;

use super::nested_array;
use super::values::{self, CaseValue, ColumnError, NULL_RATE};
use crate::check::error::CheckError;
use crate::check::nested::{written_shape, Shape};
use crate::ir::{PathStep, Source};

/// Keys no path reads (unless one does), drawn next to the read ones: the empty key,
/// non-ASCII text, a quote.
const UNREAD_KEYS: [&str; 4] = ["", "other", "ü", "it's"];
/// The most entries a generated map has, repeats included.
const MAX_ENTRIES: usize = 5;
/// The probability that an entry repeats the key of an entry before it.
const REPEAT_RATE: f64 = 0.25;
/// The probability that a new key is one the paths read, when they read any.
const READ_KEY_RATE: f64 = 0.6;

/// One struct or map column a source declares, as generated cases draw it.
pub struct Nested {
    pub name: String,
    pub nullable: bool,
    shape: Shape,
    /// The steps of each of the source's path columns read out of it.
    paths: Vec<Vec<PathStep>>,
}

/// A struct or map column whose type as the IR writes it did not read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeError {
    pub table: String,
    pub column: String,
    pub error: Box<CheckError>,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "source `{}`, column `{}`: {}",
            self.table,
            self.column,
            self.error.to_diagnostic().message
        )
    }
}

impl std::error::Error for ShapeError {}

/// The struct and map columns `source` declares (whether or not a path reads them:
/// data may carry them), in declaration order.
pub fn nested_columns(source: &Source) -> Result<Vec<Nested>, ShapeError> {
    source
        .nested
        .iter()
        .map(|n| {
            let shape = written_shape(&n.written).map_err(|error| ShapeError {
                table: source.name.clone(),
                column: n.name.clone(),
                error: Box::new(error),
            })?;
            let paths = source
                .columns
                .iter()
                .filter_map(|c| c.path.as_ref())
                .filter(|p| p.physical == n.name)
                .map(|p| p.steps.clone())
                .collect();
            Ok(Nested {
                name: n.name.clone(),
                nullable: n.nullable,
                shape,
                paths,
            })
        })
        .collect()
}

impl Nested {
    /// Its field in a case's schema.
    pub fn field(&self) -> Field {
        Field::new(&self.name, self.arrow_type(), self.nullable)
    }

    fn arrow_type(&self) -> ArrowType {
        nested_array::arrow_type(&self.shape)
    }

    /// One event's value; timestamps around `base` within `span` microseconds.
    pub fn draw(&self, rng: &mut StdRng, base: i64, span: i64) -> CaseValue {
        let draw = Draw {
            paths: &self.paths,
            base,
            span,
        };
        draw.value(&self.shape, self.nullable, &mut Vec::new(), rng)
    }

    /// `values` (drawn by `draw`) as its Arrow column.
    pub fn column(&self, values: &[CaseValue]) -> Result<ArrayRef, ColumnError> {
        nested_array::column(&self.shape, values, &self.arrow_type())
    }
}

/// What a draw needs besides the shape.
struct Draw<'a> {
    paths: &'a [Vec<PathStep>],
    base: i64,
    span: i64,
}

impl Draw<'_> {
    /// A value of `shape` at the struct fields `at` below the column.
    fn value(
        &self,
        shape: &Shape,
        nullable: bool,
        at: &mut Vec<String>,
        rng: &mut StdRng,
    ) -> CaseValue {
        match shape {
            Shape::Value(ty) => values::value(*ty, nullable, rng, self.base, self.span),
            Shape::Struct(fields) => {
                let null = nullable && rng.random_bool(NULL_RATE);
                if null && rng.random_bool(0.5) {
                    return CaseValue::Null;
                }
                let mut children = Vec::with_capacity(fields.len());
                for f in fields {
                    at.push(f.name.clone());
                    children.push(self.value(&f.shape, f.nullable, at, rng));
                    at.pop();
                }
                if null {
                    CaseValue::NullStruct(children)
                } else {
                    CaseValue::Struct(children)
                }
            }
            Shape::Map {
                value,
                nullable: values_nullable,
            } => {
                if nullable && rng.random_bool(NULL_RATE) {
                    return CaseValue::Null;
                }
                let read = self.read_keys(at);
                let unread: Vec<&str> = UNREAD_KEYS
                    .into_iter()
                    .filter(|k| !read.contains(k))
                    .collect();
                let len = match rng.random_range(0..6) {
                    0 => 0,
                    _ => rng.random_range(1..=MAX_ENTRIES),
                };
                let mut entries: Vec<(String, CaseValue)> = Vec::with_capacity(len);
                for _ in 0..len {
                    let key = if !entries.is_empty() && rng.random_bool(REPEAT_RATE) {
                        entries[rng.random_range(0..entries.len())].0.clone()
                    } else if !read.is_empty()
                        && (unread.is_empty() || rng.random_bool(READ_KEY_RATE))
                    {
                        read[rng.random_range(0..read.len())].to_string()
                    } else {
                        unread[rng.random_range(0..unread.len())].to_string()
                    };
                    let v = values::value(*value, *values_nullable, rng, self.base, self.span);
                    entries.push((key, v));
                }
                CaseValue::Map(entries)
            }
        }
    }

    /// The keys the paths look up or test in the map at the struct fields `at`.
    fn read_keys(&self, at: &[String]) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for steps in self.paths {
            let Some((last, fields)) = steps.get(..=at.len()).and_then(|s| s.split_last()) else {
                continue;
            };
            let on_the_way = fields
                .iter()
                .zip(at)
                .all(|(step, name)| matches!(step, PathStep::Field(f) if f == name));
            if let (true, PathStep::Key(k) | PathStep::HasKey(k)) = (on_the_way, last) {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn source(text: &str) -> Source {
        let files = [crate::SourceFile {
            name: "p.feat".into(),
            text: text.into(),
        }];
        let project = crate::compile(&files).expect("compiles");
        project.sources[0].clone()
    }

    /// A map inside a struct draws the keys its own paths read, and unread ones.
    #[test]
    fn a_map_draws_the_keys_its_paths_read() {
        let source = source(
            r#"
source s { time ts columns { u: int64, a: struct<m: map<string, int64?>?, n: int64?>? } }
entity user { key u: int64 }
view v from s by user {
  feature x = sum(a.m['k'])
  feature y = count_if(contains(a.m, 'j'))
}
"#,
        );
        let nested = nested_columns(&source).expect("shapes");
        assert_eq!(nested.len(), 1);
        let mut rng = StdRng::seed_from_u64(3);
        let mut keys = std::collections::BTreeSet::new();
        for _ in 0..200 {
            if let CaseValue::Struct(fields) = nested[0].draw(&mut rng, 0, 10) {
                if let Some(CaseValue::Map(entries)) = fields.first() {
                    keys.extend(entries.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        assert!(keys.contains("k") && keys.contains("j"), "{keys:?}");
        assert!(keys.iter().any(|k| UNREAD_KEYS.contains(&k.as_str())));
    }
}
