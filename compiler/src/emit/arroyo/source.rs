//! A source's table: its declared columns in Arroyo's types (and its time column,
//! never null), read from Kafka as JSON (the topic the source declares, else one
//! named like it), its time column the event time, and a watermark lagging the
//! events by the source's `lateness`.
//!
//! Arroyo's documented `WATERMARK FOR ts AS (ts - INTERVAL ...)` clause is a
//! constraint of Arroyo's own sqlparser fork that sqlparser cannot represent; Arroyo
//! plans it as a virtual column `__watermark` named by the table's watermark field.
//! The table here states the same thing in syntax sqlparser has: a virtual column
//! (`GENERATED ALWAYS AS`) and the `event_time_field`/`watermark_field` options
//! (which Arroyo still accepts, with a deprecation warning in its log).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Statement};

use super::statements::{create_table, interval, Column, QUOTE};
use crate::emit::sql::ast::{binary, col};
use crate::ir::{DataType, Source};

/// The virtual column holding a source's watermark (lateness > 0).
pub const WATERMARK: &str = "featc_watermark";

/// The Kafka topic a source is read from.
pub fn topic(source: &Source) -> &str {
    source
        .topic
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or(&source.name)
}

/// The source's `CREATE TABLE`.
pub fn table(source: &Source, brokers: &str) -> Statement {
    let mut columns: Vec<Column> = source
        .columns
        .iter()
        .map(|c| Column::new(&c.name, c.ty, c.nullable))
        .collect();
    columns.push(Column::new(&source.time_column, DataType::Timestamp, false));
    let watermark = if source.lateness_us > 0 {
        let mut c = Column::new(WATERMARK, DataType::Timestamp, false);
        c.generated = Some(binary(
            col(QUOTE, &source.time_column),
            BinaryOperator::Minus,
            interval(source.lateness_us),
        ));
        columns.push(c);
        WATERMARK
    } else {
        &source.time_column
    };
    let text = |s: &str| s.to_string();
    create_table(
        &source.name,
        columns,
        vec![
            ("connector", text("kafka")),
            ("bootstrap_servers", text(brokers)),
            ("topic", text(topic(source))),
            ("type", text("source")),
            ("format", text("json")),
            // Read the topic from its beginning, as `featc serve --kafka` does.
            ("source.offset", text("earliest")),
            // featc dead-letters a record it cannot read rather than stop.
            ("bad_data", text("drop")),
            ("event_time_field", text(&source.time_column)),
            ("watermark_field", text(watermark)),
        ],
    )
}
