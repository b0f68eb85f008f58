//! A spine written to a file for other processes to read (the executors of a Ballista
//! cluster, which cannot see a spine held in this process's memory): an Arrow IPC
//! file, so every column comes back with its exact type and bits, in file order. It
//! lives in a folder of its own, removed when the `SpineFile` is dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use datafusion::arrow::ipc::writer::FileWriter;

use super::{IoError, Spine};

/// The written spine (see the module docs).
#[derive(Debug)]
pub struct SpineFile {
    folder: PathBuf,
    path: PathBuf,
}

/// Tells apart the folders of one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

impl SpineFile {
    /// Writes `spine` to a new folder in `dir` (which other readers must see at the
    /// same path).
    pub fn write(spine: &Spine, dir: &Path) -> Result<SpineFile, IoError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "featc-spine-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let folder = dir.join(name);
        let write_err = |path: &Path, e: &dyn std::fmt::Display| IoError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        // `create_dir` fails on an existing folder: never another run's.
        std::fs::create_dir(&folder).map_err(|e| write_err(&folder, &e))?;
        // From here on, dropping `file` removes the folder, also on failure.
        let file = SpineFile {
            path: folder.join("spine.arrow"),
            folder,
        };
        let out = std::fs::File::create(&file.path).map_err(|e| write_err(&file.path, &e))?;
        let out = std::io::BufWriter::new(out);
        let mut writer =
            FileWriter::try_new(out, &spine.schema).map_err(|e| write_err(&file.path, &e))?;
        for batch in &spine.batches {
            writer.write(batch).map_err(|e| write_err(&file.path, &e))?;
        }
        writer.finish().map_err(|e| write_err(&file.path, &e))?;
        let mut out = writer.into_inner().map_err(|e| write_err(&file.path, &e))?;
        std::io::Write::flush(&mut out).map_err(|e| write_err(&file.path, &e))?;
        Ok(file)
    }

    /// The Arrow IPC file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpineFile {
    fn drop(&mut self) {
        // A temporary file left behind is not worth failing a finished run for.
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::ipc::reader::FileReader;
    use std::sync::Arc;

    #[test]
    fn writes_every_batch_in_order_and_cleans_up() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let batch = |k: &str, x: f64| {
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from(vec![Some(k), None])),
                    Arc::new(Float64Array::from(vec![Some(x), Some(-0.0)])),
                ],
            )
            .unwrap()
        };
        let spine = Spine {
            schema: Arc::clone(&schema),
            batches: vec![batch("a", f64::NAN), batch("b", 1.5)],
        };
        let file = SpineFile::write(&spine, &std::env::temp_dir()).unwrap();
        let reader = FileReader::try_new(std::fs::File::open(file.path()).unwrap(), None).unwrap();
        assert_eq!(reader.schema(), schema);
        let back: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(back.len(), 2);
        for (b, s) in back.iter().zip(&spine.batches) {
            // Bits, not values: NaN and -0.0 too.
            assert_eq!(b.column(1).to_data(), s.column(1).to_data());
            assert_eq!(b, s);
        }
        let folder = file.path().parent().unwrap().to_path_buf();
        drop(file);
        assert!(!folder.exists());
    }
}
