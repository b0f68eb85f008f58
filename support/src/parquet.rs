//! A Parquet file read whole, as it is stored (no conversion on the way).

use std::path::Path;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The file's batches, in order.
pub fn read_parquet_batches(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("parquet reader");
    reader.map(|b| b.expect("parquet batch")).collect()
}

/// The file as one batch.
pub fn read_parquet(path: &Path) -> RecordBatch {
    let batches = read_parquet_batches(path);
    let schema = batches.first().map(|b| b.schema()).expect("a batch");
    concat_batches(&schema, &batches).expect("concat")
}
