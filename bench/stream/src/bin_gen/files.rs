//! The two Parquet files, in gen.py's schemas and compression (zstd at its default
//! level, dictionary pages as pyarrow writes them by default). The events file is
//! written one row group per chunk through per-column writers, so that the columns of
//! a chunk are encoded on several threads (`ArrowRowGroupWriterFactory`).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::TimestampMicrosecondArray;
use datafusion::arrow::array::{ArrayRef, Int64Array, Int8Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::errors::Result;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::writer::SerializedFileWriter;

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Every field nullable, as in gen.py's pyarrow tables (pyarrow's default), so that a
/// reader sees the same schema from either generator.
pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, true),
        Field::new("ts", ts_type(), true),
        Field::new("amount", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("is_mobile", DataType::Boolean, true),
    ]))
}

fn spine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, true),
        Field::new("ts", ts_type(), true),
        Field::new("label", DataType::Int8, true),
    ]))
}

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build()
}

pub struct EventsFile {
    writer: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    row_groups: usize,
}

impl EventsFile {
    pub fn create(path: &Path) -> Result<EventsFile> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        // Through ArrowWriter so that the file carries the Arrow schema (the "UTC"
        // time zone) as pyarrow's files do.
        let (writer, factory) = ArrowWriter::try_new(file, events_schema(), Some(properties()))?
            .into_serialized_writer()?;
        Ok(EventsFile {
            writer,
            factory,
            row_groups: 0,
        })
    }

    /// One writer per column (schema order) for the next row group.
    pub fn column_writers(&self) -> Result<Vec<ArrowColumnWriter>> {
        self.factory.create_column_writers(self.row_groups)
    }

    /// Appends the encoded columns of one chunk as a row group.
    pub fn append(&mut self, columns: Vec<ArrowColumnChunk>) -> Result<()> {
        let mut group = self.writer.next_row_group()?;
        for column in columns {
            column.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.row_groups += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        self.writer.close()?;
        Ok(())
    }
}

/// Encodes one column of a chunk (run on a worker thread).
pub fn encode(
    mut writer: ArrowColumnWriter,
    field: &Field,
    array: &ArrayRef,
) -> Result<ArrowColumnChunk> {
    for leaf in compute_leaves(field, array)? {
        writer.write(&leaf)?;
    }
    writer.close()
}

/// Writes the spine (row groups of the writer's default size, as pyarrow's).
pub fn write_spine(path: &Path, user: Vec<i64>, ts: Vec<i64>, label: Vec<i8>) -> Result<()> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(user)),
        Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
        Arc::new(Int8Array::from(label)),
    ];
    let batch = RecordBatch::try_new(spine_schema(), columns)?;
    let file = BufWriter::new(File::create(path)?);
    let mut writer = ArrowWriter::try_new(file, spine_schema(), Some(properties()))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}
