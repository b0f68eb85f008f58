//! Checking `source` declarations: column types, the time column, location, topic
//! (`topic`), lateness.

use super::durations::{self, Zero};
use super::error::{CheckError, NameKind};
use super::exprs::{span, Binding, Scope};
use super::nested::{self, Shape};
use super::{meta, types};
use crate::project::resolve_location;
use featc_grammar::ast;
use featc_runtime::ir::{self, DataType};
use std::cell::RefCell;

/// A checked source, plus what its views need to avoid follow-up errors.
pub struct CheckedSource<'a> {
    pub ir: ir::Source,
    pub decl: &'a ast::SourceDecl,
    /// Columns whose declared type was invalid: they exist, but have no type.
    pub poisoned: Vec<String>,
    /// Its struct and map columns: name, shape, nullable.
    pub nested: Vec<(String, Shape, bool)>,
    /// The flat columns its views read out of `nested` (`address.city`), added to
    /// the IR source's columns by `into_ir`.
    pub paths: RefCell<Vec<ir::Column>>,
}

impl CheckedSource<'_> {
    /// A column (or the time column) by name: its binding and where it is declared.
    pub fn column(&self, name: &str) -> Option<(Binding, ast::Span)> {
        if let Some(time) = self.decl.time.as_ref().filter(|t| t.name == name) {
            return Some((
                Binding::Typed {
                    ty: DataType::Timestamp,
                    nullable: false,
                },
                time.span,
            ));
        }
        let decl = self.decl.columns.iter().find(|c| c.name.name == name)?;
        let binding = match self.ir.columns.iter().find(|c| c.name == name) {
            Some(c) => Binding::Typed {
                ty: c.ty,
                nullable: c.nullable,
            },
            None => Binding::Poisoned,
        };
        Some((binding, decl.name.span))
    }

    /// The scope the expressions of a view over this source start with.
    pub fn scope(&self, later_lets: Vec<String>) -> Scope {
        let mut scope = Scope::new(&self.ir.name, later_lets);
        if let Some(time) = &self.decl.time {
            scope.bind(
                &time.name,
                Binding::Typed {
                    ty: DataType::Timestamp,
                    nullable: false,
                },
            );
        }
        for c in &self.ir.columns {
            scope.bind(
                &c.name,
                Binding::Typed {
                    ty: c.ty,
                    nullable: c.nullable,
                },
            );
        }
        for name in &self.poisoned {
            scope.bind(name, Binding::Poisoned);
        }
        scope.with_nested(self.nested.clone())
    }

    /// Keeps the path columns a view's scope read (each once).
    pub fn add_paths(&self, read: Vec<ir::Column>) {
        let mut paths = self.paths.borrow_mut();
        for c in read {
            if !paths.iter().any(|p| p.name == c.name) {
                paths.push(c);
            }
        }
    }

    /// The IR source with its path columns after the declared ones, by name (so
    /// that the order of the views does not change the IR).
    pub fn into_ir(self) -> ir::Source {
        let mut ir = self.ir;
        let mut paths = self.paths.into_inner();
        paths.sort_by(|a, b| a.name.cmp(&b.name));
        ir.columns.extend(paths);
        ir
    }
}

/// Checks one source; `file_names` are indexed by file id (for `file "..."`, and a
/// topic's schema file, read through `reader`).
pub fn check<'a>(
    decl: &'a ast::SourceDecl,
    file_names: &[String],
    reader: &std::sync::Arc<dyn crate::project::ReadFile>,
    errors: &mut Vec<CheckError>,
) -> CheckedSource<'a> {
    if decl.time.is_none() {
        errors.push(CheckError::MissingTime {
            source: decl.name.name.clone(),
            span: decl.name.span,
        });
    }
    let time_name = decl.time.as_ref().map(|t| t.name.as_str());
    let mut columns = Vec::new();
    let mut poisoned = Vec::new();
    let mut nested_columns = Vec::new();
    for (i, c) in decl.columns.iter().enumerate() {
        if let Some(first) = decl.columns[..i]
            .iter()
            .find(|o| o.name.name == c.name.name)
        {
            errors.push(CheckError::Duplicate {
                kind: NameKind::Column,
                name: c.name.name.clone(),
                span: c.name.span,
                first: first.name.span,
            });
            continue;
        }
        if nested::is_nested(&c.ty) && Some(c.name.name.as_str()) != time_name {
            match nested::shape(&c.ty) {
                Ok(shape) => nested_columns.push((c.name.name.clone(), shape, c.ty.nullable)),
                Err(e) => {
                    errors.push(e);
                    poisoned.push(c.name.name.clone());
                }
            }
            continue;
        }
        let ty = match types::data_type(&c.ty) {
            Ok(ty) => ty,
            Err(e) => {
                errors.push(e);
                poisoned.push(c.name.name.clone());
                continue;
            }
        };
        if Some(c.name.name.as_str()) == time_name {
            // Declaring the time column again is allowed, as long as it agrees.
            if ty != DataType::Timestamp || c.ty.nullable {
                errors.push(CheckError::TimeColumnType {
                    column: c.name.name.clone(),
                    written: format!("{}{}", ty.name(), if c.ty.nullable { "?" } else { "" }),
                    span: c.ty.span,
                    time_span: decl.time.as_ref().map_or(decl.name.span, |t| t.span),
                });
            }
            continue;
        }
        columns.push(ir::Column {
            name: c.name.name.clone(),
            ty,
            nullable: c.ty.nullable,
            span: span(c.span),
            path: None,
        });
    }
    let lateness_us = match &decl.lateness {
        Some(lit) => durations::micros(lit, Zero::Allowed).unwrap_or_else(|e| {
            errors.push(e);
            0
        }),
        None => 0,
    };
    let freshness_us = decl.freshness.as_ref().and_then(|lit| {
        durations::micros(lit, Zero::Rejected)
            .map_err(|e| errors.push(e))
            .ok()
    });
    let delay_us = match &decl.delay {
        Some(lit) => durations::micros(lit, Zero::Allowed).unwrap_or_else(|e| {
            errors.push(e);
            0
        }),
        None => 0,
    };
    let location = decl.file.as_ref().map(|f| {
        let declared_in = file_names
            .get(f.span.file as usize)
            .map_or("", String::as_str);
        resolve_location(declared_in, &f.value)
    });
    let topic = decl.topic.as_ref().and_then(|t| {
        let wanted = super::topic::wanted(decl, &columns, &nested_columns);
        let declared_in = file_names
            .get(t.span.file as usize)
            .map_or("", String::as_str);
        super::topic::check(t, declared_in, reader, &wanted, errors)
    });
    let epoch = decl.epoch.as_ref().and_then(|unit| {
        ir::EpochUnit::from_name(&unit.name).or_else(|| {
            errors.push(CheckError::UnknownEpochUnit {
                unit: unit.name.clone(),
                span: unit.span,
            });
            None
        })
    });
    let partition = decl
        .partition
        .as_ref()
        .and_then(|p| partition(p, decl, errors));
    CheckedSource {
        ir: ir::Source {
            name: decl.name.name.clone(),
            time_column: time_name.unwrap_or_default().to_string(),
            columns,
            nested: decl
                .columns
                .iter()
                .filter(|c| nested_columns.iter().any(|(n, _, _)| *n == c.name.name))
                .map(|c| ir::NestedColumn {
                    name: c.name.name.clone(),
                    written: featc_grammar::type_text(&featc_grammar::ast::TypeRef {
                        nullable: false,
                        ..c.ty.clone()
                    }),
                    nullable: c.ty.nullable,
                })
                .collect(),
            location,
            topic,
            lateness_us,
            freshness_us,
            delay_us,
            epoch,
            partition,
            meta: meta(&decl.meta),
            span: span(decl.span),
        },
        decl,
        poisoned,
        nested: nested_columns,
        paths: RefCell::new(Vec::new()),
    }
}

/// `partition KEY by UNIT` of `decl`, checked: a unit featc knows (E0076), and a key
/// that names no column (E0077): a folder's value is not a column of its events.
fn partition(
    clause: &(ast::Ident, ast::Ident),
    decl: &ast::SourceDecl,
    errors: &mut Vec<CheckError>,
) -> Option<ir::TimePartition> {
    let (key, unit) = clause;
    let column = decl
        .columns
        .iter()
        .map(|c| &c.name)
        .chain(decl.time.as_ref())
        .find(|c| c.name == key.name);
    if let Some(column) = column {
        errors.push(CheckError::PartitionKeyColumn {
            key: key.name.clone(),
            span: key.span,
            column_span: column.span,
        });
    }
    let Some(unit) = ir::PartitionUnit::from_name(&unit.name) else {
        errors.push(CheckError::UnknownPartitionUnit {
            unit: unit.name.clone(),
            span: unit.span,
        });
        return None;
    };
    column.is_none().then(|| ir::TimePartition {
        key: key.name.clone(),
        unit,
    })
}
