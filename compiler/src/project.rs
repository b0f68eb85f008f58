//! The input of a compilation: named source texts, path arithmetic on their names,
//! and the reader of the other files a project names (a topic's schema file).

use std::path::Path;

/// One `.feat` file handed to the compiler. The compiler never reads files itself: the
/// CLI (or an embedding program) reads them and passes their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as given by the user; diagnostics print it and relative `file "..."`
    /// locations are resolved against its directory.
    pub name: String,
    pub text: String,
}

/// Reads a file a project names besides its `.feat` files (a topic's Avro schema or
/// `.proto` file), by its location as `resolve_location` resolves it. `compile` reads
/// them from disk (`files::Disk`); an embedder or a test may read them from elsewhere
/// (`compile_with`). Shared, so that a schema compiler may hold it for imports.
pub trait ReadFile: Send + Sync {
    fn read(&self, location: &str) -> std::io::Result<Vec<u8>>;
}

/// Resolves a `file "..."` location written in the file `declared_in` against that
/// file's directory. A pure path join: nothing is read or canonicalized, so the result
/// is as relative as the name the file was given under.
pub fn resolve_location(declared_in: &str, location: &str) -> String {
    // A table (`delta:data/orders`, `iceberg:meta.json`): its path resolved the same
    // way, the prefix kept.
    for prefix in ["delta:", "iceberg:"] {
        if let Some(target) = location.strip_prefix(prefix) {
            return format!("{prefix}{}", resolve_location(declared_in, target));
        }
    }
    let location_path = Path::new(location);
    // A URL (`s3://bucket/key`) is where it says, wherever it is declared.
    if location_path.is_absolute() || location.contains("://") {
        return location.to_string();
    }
    match Path::new(declared_in).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            dir.join(location_path).to_string_lossy().into_owned()
        }
        _ => location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_location;

    #[test]
    fn locations_are_relative_to_the_declaring_file() {
        assert_eq!(
            resolve_location("cases/a/features.feat", "e.parquet"),
            "cases/a/e.parquet"
        );
        assert_eq!(
            resolve_location("features.feat", "data/e.csv"),
            "data/e.csv"
        );
        assert_eq!(
            resolve_location("x/features.feat", "/abs/e.csv"),
            "/abs/e.csv"
        );
        assert_eq!(
            resolve_location("x/features.feat", "delta:data/orders"),
            "delta:x/data/orders"
        );
        assert_eq!(
            resolve_location("x/features.feat", "delta:s3://b/orders"),
            "delta:s3://b/orders"
        );
    }
}
