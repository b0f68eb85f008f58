//! Struct and map columns served (semantics.md, "Struct and map columns"): a JSON
//! push carries each as one object per row, an Arrow push as an Arrow `Struct` or
//! `Map`; both give the values the paths read, a restart from the durable log gives
//! them again, a struct or map column no view reads is taken and ignored, and a value
//! a path cannot read is refused naming the column and the row.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Builder, Int64Array, MapBuilder, StringArray, StringBuilder,
    StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{json, Value as Json};

use crate::support::*;

const PROJECT: &str = "source orders {\n    time ts\n    columns {\n\
    \x20       user_id: int64\n\
    \x20       address: struct<city: string?, zip: int64?>?\n\
    \x20       attrs: map<string, float64?>?\n\
    \x20       unread: struct<note: string?>?\n    }\n}\n\
    entity user { key user_id: int64 }\n\
    view shopper from orders by user {\n\
    \x20   feature cities = count(address.city) over 1d\n\
    \x20   feature zips = sum(address.zip) over 1d\n\
    \x20   feature color_sum = sum(attrs['color']) over 1d\n\
    \x20   feature attr_sizes = sum(size(attrs)) over 1d\n\
    \x20   feature with_color = count_if(contains(attrs, 'color')) over 1d\n\
    }\n";

const FEATURES: [&str; 5] = ["cities", "zips", "color_sum", "attr_sizes", "with_color"];

fn read(served: &Served) -> Vec<Json> {
    let (status, answer) = post(
        served,
        "/get-online-features",
        &json!({"features": FEATURES, "entities": {"user_id": [1]},
                "at": "2024-01-01T12:00:00Z"}),
    );
    assert_eq!(status, 200, "{answer}");
    (1..=FEATURES.len())
        .map(|i| answer["results"][i]["values"][0].clone())
        .collect()
}

/// Two rows as Arrow: a struct with both fields and a map with a repeated key (the
/// last entry wins), then a null struct and an empty map.
fn arrow_rows() -> RecordBatch {
    let ts = TimestampMicrosecondArray::from(vec![1_704_078_000_000_000, 1_704_081_600_000_000])
        .with_timezone("UTC");
    let address_fields = Fields::from(vec![
        Field::new("city", DataType::Utf8, true),
        Field::new("zip", DataType::Int64, true),
    ]);
    let address = StructArray::try_new(
        address_fields.clone(),
        vec![
            Arc::new(StringArray::from(vec![Some("Oslo"), Some("ignored")])) as ArrayRef,
            Arc::new(Int64Array::from(vec![Some(150), Some(9)])),
        ],
        Some(vec![true, false].into()),
    )
    .expect("address");
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), Float64Builder::new());
    for (k, v) in [("color", 1.0), ("color", 3.0), ("size", 2.0)] {
        attrs.keys().append_value(k);
        attrs.values().append_value(v);
    }
    attrs.append(true).expect("a map");
    attrs.append(true).expect("an empty map");
    let attrs = attrs.finish();
    let schema = Schema::new(vec![
        Field::new("ts", ts.data_type().clone(), false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("address", DataType::Struct(address_fields), true),
        Field::new("attrs", attrs.data_type().clone(), true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(ts),
            Arc::new(Int64Array::from(vec![1, 1])),
            Arc::new(address),
            Arc::new(attrs),
        ],
    )
    .expect("rows")
}

#[test]
fn struct_and_map_columns_pushed_as_json_and_arrow_are_read_by_their_paths() {
    let work = project_dir("nested", PROJECT);
    let mut config = Served::config();
    config.state = Some(work.join("state"));
    let served = Served::start(&work, config.clone(), false);
    // JSON: one object per row; the unread struct column is taken and ignored.
    let (status, answer) = post(
        &served,
        "/push",
        &json!({"push_source_name": "orders", "df": {
            "ts": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"],
            "user_id": [1, 1, 1],
            "address": [{"city": "Rome", "zip": 100}, {"city": null}, null],
            "attrs": [{"color": 2.5}, {"size": 1.0, "shape": 4.0}, null],
            "unread": [{"note": "x"}, null, {"note": "y"}]}}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 3, "{answer}");
    // cities: Rome; zips: 100; color 2.5; sizes 1 + 2; one map holds `color`.
    assert_eq!(
        read(&served),
        vec![json!(1), json!(100), json!(2.5), json!(3), json!(1)]
    );
    let (status, raw) = request(
        &served,
        "POST",
        "/push?push_source_name=orders",
        &[("Content-Type", "application/vnd.apache.arrow.stream")],
        &arrow_body(&arrow_rows()),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    // + Oslo (the second row's struct is null), zip 150, color 3.0 (the last of the
    // repeated key), sizes 2 (distinct keys) + 0, one more map holding `color`.
    let expected = vec![json!(2), json!(250), json!(5.5), json!(5), json!(2)];
    assert_eq!(read(&served), expected);
    served.stop();
    let served = Served::start(&work, config, false);
    assert_eq!(
        read(&served),
        expected,
        "after a restart from the durable log"
    );
    served.stop();
}

#[test]
fn a_value_a_path_cannot_read_is_refused_naming_the_column_and_row() {
    let work = project_dir("nested-refused", PROJECT);
    let served = Served::start(&work, Served::config(), false);
    let push = |df: Json| {
        post(
            &served,
            "/push",
            &json!({"push_source_name": "orders", "df": df}),
        )
    };
    let cases = [
        // Not an object where the struct is.
        (
            json!({"ts": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"], "user_id": [1, 1],
                   "address": [{"city": "Rome"}, "Rome"]}),
            "df.address[1]",
            "expected an object",
        ),
        // A field of the wrong type.
        (
            json!({"ts": ["2024-01-01T00:00:00Z"], "user_id": [1],
                   "address": [{"zip": "100"}]}),
            "df.address[0]",
            "address.zip",
        ),
        // A path's flat name is no column of a push.
        (
            json!({"ts": ["2024-01-01T00:00:00Z"], "user_id": [1], "address.city": ["Rome"]}),
            "df.address.city",
            "does not declare",
        ),
    ];
    for (df, field, said) in cases {
        let (status, answer) = push(df.clone());
        assert_eq!(status / 100, 4, "{df} -> {answer}");
        let error = refusal(&answer);
        let message = error["message"].as_str().unwrap_or("");
        assert_eq!(error["field"], field, "{df} -> {error}");
        assert!(message.contains(said), "{df} -> {error}");
    }
    assert_eq!(
        read(&served),
        vec![json!(0), json!(0), json!(0.0), json!(0), json!(0)]
    );
    served.stop();
}
