//! Struct and map columns (semantics.md, "Struct and map columns") by hand on every
//! path: the project of `tests/fixtures/nested.feat` reads a struct's fields (one in
//! a nested struct, one a list), a map's values by key, its size and whether it holds
//! a key, from Arrow `Struct` and `Map` columns holding null structs, null fields,
//! missing keys, a repeated key and an empty map; the reference, the batch plan
//! (batch sizes 2, 7, default) and streaming replays (in memory and on a disk tier)
//! agree bit for bit, with the values worked out below.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Field, Fields, Float64Type, Int64Type, Schema, TimeUnit,
};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::{hand_case, key_spine};

use super::equivalence::{check, compile, reference};

const DAY: i64 = 86_400_000_000;

/// The events as JSON lines (`ts` in µs): a null struct and map (2d), a struct of
/// nulls with an empty list and an empty map (3d), a repeated key (4d: the last,
/// 4.0, counts), a missing key (user 2).
const EVENTS: &str = r#"
{"ts": 86400000000, "user_id": 1, "address": {"city": "Oslo", "geo": {"lat": 1.5, "lon": 2.0}, "labels": ["a", "b"]}, "attrs": {"color": 2.0, "size": 1.0}}
{"ts": 172800000000, "user_id": 1, "address": null, "attrs": null}
{"ts": 259200000000, "user_id": 1, "address": {"city": null, "geo": null, "labels": []}, "attrs": {}}
{"ts": 345600000000, "user_id": 1, "address": {"city": "Bergen", "geo": {"lat": 0.25, "lon": null}, "labels": null}, "attrs": {"color": 1.0, "color": 4.0}}
{"ts": 172800000000, "user_id": 2, "address": {"city": "Rome", "geo": {"lat": null, "lon": 1.0}, "labels": ["x"]}, "attrs": {"size": 3.0}}
"#;

fn schema() -> Arc<Schema> {
    let geo = DataType::Struct(Fields::from(vec![
        Field::new("lat", DataType::Float64, true),
        Field::new("lon", DataType::Float64, true),
    ]));
    let labels = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let address = DataType::Struct(Fields::from(vec![
        Field::new("city", DataType::Utf8, true),
        Field::new("geo", geo, true),
        Field::new("labels", labels, true),
    ]));
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Float64, true),
        ])),
        false,
    );
    let attrs = DataType::Map(Arc::new(entries), false);
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("address", address, true),
        Field::new("attrs", attrs, true),
    ]))
}

/// The events as Arrow `Struct` and `Map` columns.
fn events() -> RecordBatch {
    let mut reader = ReaderBuilder::new(schema())
        .build(Cursor::new(EVENTS.trim().as_bytes()))
        .expect("a JSON reader");
    reader.next().expect("a batch").expect("the events")
}

const FEATURES: &[&str] = &[
    "cities",
    "lat_sum",
    "label_count",
    "first_labels",
    "color_sum",
    "attr_sizes",
    "with_color",
];

fn case(seed: u64) -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("nested.feat"))
            .expect("the nested fixture");
    let spine = key_spine(
        "user_id",
        &[
            (1, 0),
            (1, DAY),
            (1, 2 * DAY),
            (1, 3 * DAY),
            (1, 4 * DAY),
            (2, 2 * DAY),
            (3, 4 * DAY),
        ],
    );
    hand_case(feat, events(), spine, FEATURES, seed)
}

fn ints(out: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = out.column_by_name(name).expect("column");
    c.as_primitive::<Int64Type>().iter().collect()
}

fn floats(out: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let c = out.column_by_name(name).expect("column");
    c.as_primitive::<Float64Type>().iter().collect()
}

#[test]
fn the_events_hold_a_map_with_a_repeated_key() {
    // Else the repeated-key case below would test nothing.
    let events = events();
    let attrs = events.column_by_name("attrs").expect("attrs").as_map();
    assert_eq!(attrs.value_length(3), 2);
    assert!(attrs.is_null(1));
    assert_eq!(attrs.value_length(2), 0);
}

#[test]
fn struct_and_map_paths_agree_on_every_path_with_the_worked_values() {
    for seed in [1, 2] {
        let case = case(seed);
        check(&case).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
        let (project, ids) = compile(&case).expect("compiles");
        let out = reference(&project, &ids, &case).expect("reference");
        // Spine rows: user 1 at 0, 1d, 2d, 3d, 4d; user 2 at 2d; unknown user 3 at 4d.
        // Cities: Oslo (1d), none under the null struct (2d) nor the null field
        // (3d), Bergen (4d); Rome for user 2.
        assert_eq!(
            ints(&out, "cities"),
            [
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(1),
                Some(0)
            ]
        );
        // A field of a nested struct: 1.5, then nothing under null structs, 0.25
        // (a sum of no values is 0, semantics.md "Aggregations").
        assert_eq!(
            floats(&out, "lat_sum"),
            [
                Some(0.0),
                Some(1.5),
                Some(1.5),
                Some(1.5),
                Some(1.75),
                Some(0.0),
                Some(0.0)
            ]
        );
        // A list field: ["a", "b"] has 2 items, [] none, a null list is null.
        assert_eq!(
            ints(&out, "label_count"),
            [
                Some(0),
                Some(2),
                Some(2),
                Some(2),
                Some(2),
                Some(1),
                Some(0)
            ]
        );
        assert_eq!(
            ints(&out, "first_labels"),
            [
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(0)
            ]
        );
        // `attrs['color']`: 2.0, the repeated key's last entry 4.0; user 2's map has
        // no `color`.
        assert_eq!(
            floats(&out, "color_sum"),
            [
                Some(0.0),
                Some(2.0),
                Some(2.0),
                Some(2.0),
                Some(6.0),
                Some(0.0),
                Some(0.0)
            ]
        );
        // Sizes count distinct keys: 2, null, 0 (empty), 1 (a repeated key).
        assert_eq!(
            ints(&out, "attr_sizes"),
            [
                Some(0),
                Some(2),
                Some(2),
                Some(2),
                Some(3),
                Some(1),
                Some(0)
            ]
        );
        assert_eq!(
            ints(&out, "with_color"),
            [
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(0),
                Some(0)
            ]
        );
    }
}

/// The events as a CSV file (or any text column) holds them: each struct and map as
/// its JSON text, the repeated key kept as written.
const EVENTS_CSV: &str = r#"ts,user_id,address,attrs
1970-01-02T00:00:00Z,1,"{""city"": ""Oslo"", ""geo"": {""lat"": 1.5, ""lon"": 2.0}, ""labels"": [""a"", ""b""]}","{""color"": 2.0, ""size"": 1}"
1970-01-03T00:00:00Z,1,,
1970-01-04T00:00:00Z,1,"{""city"": null, ""geo"": null, ""labels"": []}",{}
1970-01-05T00:00:00Z,1,"{""city"": ""Bergen"", ""geo"": {""lat"": 0.25, ""lon"": null}, ""labels"": null}","{""color"": 1.0, ""color"": 4}"
1970-01-03T00:00:00Z,2,"{""city"": ""Rome"", ""geo"": {""lat"": null, ""lon"": 1}, ""labels"": [""x""]}","{""size"": 3.0}"
"#;

/// The same events as an in-memory batch whose struct and map columns are JSON text
/// (as an embedder that read a CSV file would push them).
fn events_as_text() -> RecordBatch {
    text_events(EVENTS_CSV)
}

/// CSV text read with the struct and map columns as text.
fn text_events(csv: &str) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("address", DataType::Utf8, true),
        Field::new("attrs", DataType::Utf8, true),
    ]));
    let format = datafusion::arrow::csv::reader::Format::default().with_header(true);
    let mut reader = datafusion::arrow::csv::ReaderBuilder::new(schema)
        .with_format(format)
        .build(Cursor::new(csv.as_bytes()))
        .expect("a CSV reader");
    reader.next().expect("a batch").expect("the events")
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("a parquet file");
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .expect("a parquet writer");
    writer.write(batch).expect("written");
    writer.close().expect("closed");
}

#[test]
fn struct_and_map_columns_read_from_parquet_csv_and_json_text_give_the_reference_values() {
    let case = case(3);
    let (project, ids) = compile(&case).expect("compiles");
    let expected = reference(&project, &ids, &case).expect("reference");
    let dir = featc_test_support::scratch::fresh_dir(
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nested_files"),
    );
    let spine_path = dir.join("spine.parquet");
    write_parquet(&spine_path, &case.spine);
    // Parquet holds Arrow structs and maps; CSV holds their JSON text. Both go
    // through the IO boundary's path reading (`io::path`, `featc_path`).
    let parquet = dir.join("orders.parquet");
    write_parquet(&parquet, &events());
    let csv = dir.join("orders.csv");
    std::fs::write(&csv, EVENTS_CSV).expect("the CSV file");
    for file in [parquet, csv] {
        let sources = std::collections::HashMap::from([("orders".to_string(), file.clone())]);
        let actual = featc_test_support::runtime::runtime()
            .block_on(featc_test_support::batch::training_set(
                &project,
                &ids,
                &sources,
                &spine_path,
                "ts",
                Some(2),
            ))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        featc_test_support::compare::bit_equal(&actual, &expected)
            .unwrap_or_else(|d| panic!("{} vs the reference: {d}", file.display()));
    }
    // JSON text in memory: the reference's own text walk and the stream path's
    // reading of text leaves (numbers, booleans, sizes) agree with the values above.
    let text = GenCase {
        events: events_as_text(),
        ..case
    };
    let from_text = reference(&project, &ids, &text).expect("reference over text");
    featc_test_support::compare::bit_equal(&from_text, &expected).expect("reference: text = Arrow");
    let streamed = super::equivalence::stream(&project, &ids, &text).expect("stream over text");
    featc_test_support::compare::bit_equal(&streamed, &expected).expect("stream: text = Arrow");
}

#[test]
fn a_leaf_that_does_not_parse_from_json_text_names_its_row_on_every_path() {
    let case = case(4);
    let (project, ids) = compile(&case).expect("compiles");
    let bad = EVENTS_CSV.replace(r#""lat"": 0.25"#, r#""lat"": ""north"""#);
    let text = GenCase {
        events: text_events(&bad),
        ..case
    };
    let stream = super::equivalence::stream(&project, &ids, &text)
        .expect_err("a leaf that is no float64")
        .to_string();
    assert!(
        stream.contains("address.geo.lat") && stream.contains("north"),
        "{stream}"
    );
    let reference = reference(&project, &ids, &text)
        .expect_err("a leaf that is no float64")
        .to_string();
    assert!(reference.contains("address.geo.lat"), "{reference}");
}

/// A view over `orders` and `clicks`: both declare `attrs` (one shape), only
/// `orders` declares `address`, whose paths are null for a click's rows.
const UNION: &str = "source orders {\n    time ts\n    columns {\n        user_id: int64\n\
    \x20       address: struct<city: string?, geo: struct<lat: float64?, lon: float64?>?, labels: list<string>?>?\n\
    \x20       attrs: map<string, float64?>?\n    }\n}\n\
    source clicks {\n    time ts\n    columns {\n        user_id: int64\n        attrs: map<string, float64?>\n    }\n}\n\
    entity user { key user_id: int64 }\n\
    view activity from orders, clicks by user {\n\
    \x20   feature color_sum = sum(attrs['color'])\n\
    \x20   feature cities = count(address.city)\n\
    \x20   feature sizes = sum(size(attrs))\n\
    \x20   feature clicks_with_color = count_if(source() = 'clicks' and contains(attrs, 'color'))\n\
    }\n";

/// Clicks of user 1 (1d: `color` 0.5; 3d: an empty map) and user 2 (2d).
const CLICKS: &str = r#"
{"ts": 86400000000, "user_id": 1, "attrs": {"color": 0.5}}
{"ts": 259200000000, "user_id": 1, "attrs": {}}
{"ts": 172800000000, "user_id": 2, "attrs": {"size": 1.0, "color": 1.0}}
"#;

fn clicks() -> RecordBatch {
    let events = events();
    let attrs = events
        .schema()
        .field_with_name("attrs")
        .expect("attrs")
        .clone();
    let schema = Arc::new(Schema::new(vec![
        events.schema().field(0).clone(),
        events.schema().field(1).clone(),
        attrs.with_nullable(false),
    ]));
    let mut reader = ReaderBuilder::new(schema)
        .build(Cursor::new(CLICKS.trim().as_bytes()))
        .expect("a JSON reader");
    reader.next().expect("a batch").expect("the clicks")
}

#[test]
fn a_view_over_two_sources_reads_their_struct_and_map_paths() {
    for seed in [5, 6] {
        let case = GenCase {
            feat: UNION.to_string(),
            clicks: clicks(),
            features: ["color_sum", "cities", "sizes", "clicks_with_color"]
                .iter()
                .map(|f| f.to_string())
                .collect(),
            ..case(seed)
        };
        check(&case).unwrap_or_else(|d| panic!("seed {seed}: {d}"));
        let (project, ids) = compile(&case).expect("compiles");
        let out = reference(&project, &ids, &case).expect("reference");
        // Spine rows: user 1 at 0, 1d, 2d, 3d, 4d; user 2 at 2d; user 3 at 4d.
        // Colors: orders 2.0 (1d) and 4.0 (4d), a click's 0.5 (1d); user 2's click 1.0.
        assert_eq!(
            floats(&out, "color_sum"),
            [
                Some(0.0),
                Some(2.5),
                Some(2.5),
                Some(2.5),
                Some(6.5),
                Some(1.0),
                Some(0.0)
            ]
        );
        // A click has no address: its `address.city` is null, never counted.
        assert_eq!(
            ints(&out, "cities"),
            [
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(1),
                Some(0)
            ]
        );
        // Sizes: orders 2, 0, 1 and clicks 1, 0 for user 1; user 2: 1 + 2.
        assert_eq!(
            ints(&out, "sizes"),
            [
                Some(0),
                Some(3),
                Some(3),
                Some(3),
                Some(4),
                Some(3),
                Some(0)
            ]
        );
        assert_eq!(
            ints(&out, "clicks_with_color"),
            [
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(0)
            ]
        );
    }
}

#[test]
fn two_sources_declaring_one_struct_column_with_two_shapes_are_refused() {
    let feat = UNION.replace(
        "attrs: map<string, float64?>\n",
        "attrs: map<string, int64?>\n",
    );
    let case = GenCase {
        feat,
        clicks: clicks(),
        ..case(7)
    };
    let error = compile(&case).expect_err("two shapes of `attrs`");
    assert!(
        error.contains("E0") && error.contains("attrs") && error.contains("map<string, int64?>"),
        "{error}"
    );
}
