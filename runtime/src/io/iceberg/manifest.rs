//! A snapshot's manifest list and its manifests, Avro files (read with the
//! `apache-avro` crate, by the schema each file carries): the manifests a snapshot is
//! made of, and the files each one tracks with their status. Only the fields reading
//! the snapshot needs are taken: a manifest's path and content, an entry's status and
//! its file's content, path and format. Version 1 files have no `content` fields:
//! everything in them is data.

use apache_avro::types::Value;
use apache_avro::Reader;

/// A manifest of a snapshot, from its manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    pub content: Content,
}

/// What a manifest, or a file it tracks, holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Data,
    PositionDeletes,
    EqualityDeletes,
    /// A manifest of delete files (a manifest list says no more).
    Deletes,
}

impl Content {
    /// The name a delete file's kind is told by in errors.
    pub fn deletes_name(self) -> &'static str {
        match self {
            Content::PositionDeletes => "a position",
            Content::EqualityDeletes => "an equality",
            Content::Data | Content::Deletes => "a",
        }
    }
}

/// A file a manifest tracks, as of the manifest's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Removed from the table by this manifest's snapshot (status 2, DELETED): no
    /// longer part of it.
    pub deleted: bool,
    pub content: Content,
    pub path: String,
    /// `PARQUET`, `AVRO`, `ORC`, as written.
    pub format: String,
}

/// The manifests listed in a manifest list's bytes.
pub(super) fn manifest_list(bytes: &[u8]) -> Result<Vec<ManifestFile>, String> {
    records(bytes)?
        .iter()
        .map(|record| {
            let path = string(record, "manifest_path")?;
            let content = match optional_int(record, "content")? {
                None | Some(0) => Content::Data,
                Some(1) => Content::Deletes,
                Some(other) => return Err(format!("manifest `{path}` has content {other}")),
            };
            Ok(ManifestFile { path, content })
        })
        .collect()
}

/// The entries of a manifest's bytes.
pub(super) fn manifest_entries(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    records(bytes)?
        .iter()
        .map(|record| {
            let status = optional_int(record, "status")?
                .ok_or_else(|| "an entry has no `status`".to_string())?;
            let file = field(record, "data_file")
                .ok_or_else(|| "an entry has no `data_file`".to_string())?;
            let path = string(file, "file_path")?;
            let content = match optional_int(file, "content")? {
                None | Some(0) => Content::Data,
                Some(1) => Content::PositionDeletes,
                Some(2) => Content::EqualityDeletes,
                Some(other) => return Err(format!("file `{path}` has content {other}")),
            };
            Ok(Entry {
                deleted: status == 2,
                content,
                format: string(file, "file_format")?,
                path,
            })
        })
        .collect()
}

/// Every record of an Avro object container file.
fn records(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let reader = Reader::new(bytes).map_err(|e| e.to_string())?;
    reader
        .map(|record| record.map_err(|e| e.to_string()))
        .collect()
}

/// Field `name` of `record`, a union's branch taken for what it holds.
fn field<'v>(record: &'v Value, name: &str) -> Option<&'v Value> {
    let Value::Record(fields) = record else {
        return None;
    };
    let (_, value) = fields.iter().find(|(n, _)| n == name)?;
    Some(match value {
        Value::Union(_, inner) => inner,
        v => v,
    })
}

fn string(record: &Value, name: &str) -> Result<String, String> {
    match field(record, name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{name}` is not a string: {other:?}")),
        None => Err(format!("a record has no `{name}`")),
    }
}

/// An int field that version 1 files may not have (`content`), or a null.
fn optional_int(record: &Value, name: &str) -> Result<Option<i32>, String> {
    match field(record, name) {
        Some(Value::Int(i)) => Ok(Some(*i)),
        None | Some(Value::Null) => Ok(None),
        Some(other) => Err(format!("`{name}` is not an int: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_avro_do_not_decode() {
        assert!(manifest_list(b"not avro").is_err());
        assert!(manifest_entries(b"").is_err());
    }
}
