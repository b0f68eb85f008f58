//! What can go wrong reading an Iceberg table, as data, and its one rendering as an
//! `IoError` naming the source, the table's metadata file and, where it was another
//! file of the table (a manifest list, a manifest, a data file), that file.

use std::fmt;
use std::path::PathBuf;

use crate::io::IoError;

/// A failure while reading an Iceberg table, and the file of the table it was in.
#[derive(Debug, Clone, PartialEq)]
pub struct IcebergError {
    /// The file that failed: the metadata file, a manifest list, a manifest.
    pub file: String,
    pub problem: Problem,
}

impl IcebergError {
    pub fn new(file: &str, problem: Problem) -> IcebergError {
        IcebergError {
            file: file.to_string(),
            problem,
        }
    }
}

/// Why a file of an Iceberg table could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The file could not be read at all (missing, denied, a dropped connection).
    Unreadable(String),
    /// The metadata file is not JSON, or lacks (or mistypes) a field the format
    /// requires.
    BadMetadata(String),
    /// A `format-version` other than 1 or 2.
    Version(i64),
    /// The table has no snapshot yet (nothing was ever written to it).
    NoSnapshot,
    /// A pinned snapshot id the table does not have.
    UnknownSnapshot { id: i64, known: Vec<i64> },
    /// A column of a type featc does not read from Iceberg tables.
    UnsupportedType { column: String, ty: String },
    /// A manifest list or a manifest that is not the Avro the format says.
    BadManifest(String),
    /// A delete file in the snapshot: featc does not apply them, and never ignores
    /// one.
    DeleteFile {
        snapshot: i64,
        kind: &'static str,
        file: String,
    },
    /// A data file in a format other than Parquet.
    DataFormat { file: String, format: String },
    /// Data files in more than one store (bucket): one scan reads one store.
    ManyStores { first: String, other: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(message) => f.write_str(message),
            Problem::BadMetadata(message) => {
                write!(f, "not an Iceberg table metadata file: {message}")
            }
            Problem::Version(v) => write!(
                f,
                "Iceberg format version {v} is not supported (featc reads versions 1 and 2)"
            ),
            Problem::NoSnapshot => f.write_str("the Iceberg table has no snapshot (no data) yet"),
            Problem::UnknownSnapshot { id, known } => {
                let known: Vec<String> = known.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "the Iceberg table has no snapshot {id} (its snapshots: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
            Problem::UnsupportedType { column, ty } => write!(
                f,
                "column `{column}` has Iceberg type `{ty}`, which featc does not read"
            ),
            Problem::BadManifest(message) => {
                write!(f, "not an Iceberg manifest (Avro) file: {message}")
            }
            Problem::DeleteFile {
                snapshot,
                kind,
                file,
            } => write!(
                f,
                "snapshot {snapshot} has {kind} delete file `{file}`: featc does not apply \
                 Iceberg delete files yet, and will not read the table as if it had none \
                 (rewrite the table's data files, e.g. compact them, or pin an older snapshot)"
            ),
            Problem::DataFormat { file, format } => write!(
                f,
                "data file `{file}` is {format}: featc reads Iceberg data files in Parquet only"
            ),
            Problem::ManyStores { first, other } => write!(
                f,
                "data files in more than one store (`{first}` and `{other}`): featc reads \
                 an Iceberg table's data files from one store"
            ),
        }
    }
}

impl IcebergError {
    /// The error as featc reports it, for source `table` read from the Iceberg table
    /// whose metadata file is `metadata`.
    pub fn into_io(self, table: &str, metadata: &str) -> IoError {
        let in_table = self.file != metadata;
        match self.problem {
            Problem::Unreadable(message) if !in_table => IoError::Unreadable {
                table: table.to_string(),
                path: PathBuf::from(format!("iceberg:{metadata}")),
                message,
            },
            problem => {
                let message = if in_table {
                    format!("{problem} (in the Iceberg table `iceberg:{metadata}`)")
                } else {
                    problem.to_string()
                };
                IoError::BadFile {
                    table: table.to_string(),
                    file: PathBuf::from(if in_table {
                        self.file
                    } else {
                        format!("iceberg:{metadata}")
                    }),
                    message,
                }
            }
        }
    }
}
