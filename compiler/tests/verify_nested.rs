//! `featc verify` on struct and map columns (semantics.md, "Struct and map columns"):
//! its generated cases carry a declared struct (a nested struct and a list among its
//! fields) and a map as real Arrow `Struct` and `Map` columns, never their flat path
//! columns, so that every path reads the paths out of them itself; across the cases
//! they hold null structs (some with values left in their children), null fields at
//! each level, null and empty lists, null and empty maps, keys repeated in a map and
//! keys a lookup misses; and every path agrees on them.

use datafusion::arrow::array::{Array, AsArray, MapArray, StructArray};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::record_batch::RecordBatch;
use featc::ir::{is_path_column, Project};
use featc::verify::{
    self, generate::generated_case, BatchExecutor, Executor, Options, ReferenceExecutor, Report,
    SqlExecutor, StreamExecutor,
};
use featc_test_support::runtime::runtime;

/// A struct holding a nested struct and a list, and a map read by a lookup, `size`
/// and `contains`; `n_1h` and `amount_1d` read no path, so the SQL (which refuses
/// paths, E0040) computes something over the flat tables it gets.
const PROJECT: &str = r#"
source orders {
    time ts
    columns {
        user_id: int64
        amount:  float64?
        address: struct<city: string?, geo: struct<lat: float64?, lon: float64?>?, labels: list<string>?>?
        attrs:   map<string, float64?>?
    }
    lateness 1m
}
entity user { key user_id: int64 }
view user_orders from orders by user {
    feature n_1h         = count(*) over 1h
    feature amount_1d    = sum(amount) over 1d
    feature cities       = count(address.city) over 1h
    feature last_city    = last(address.city) over 1d
    feature lat_sum      = sum(address.geo.lat) over 1d
    feature label_count  = sum(size(address.labels)) over 1d
    feature first_labels = count(address.labels[1]) over 1d
    feature color_sum    = sum(attrs['color']) over 1d
    feature last_color   = last(attrs['color']) over 1d
    feature attr_sizes   = sum(size(attrs)) over 1d
    feature with_color   = count_if(contains(attrs, 'color')) over 1d
}
"#;

const CASES: usize = 20;
const SEED: u64 = 11;

fn project() -> Project {
    featc_test_support::project::compile_text("nested.feat", PROJECT)
}

/// The generated source batches of `project`'s cases.
fn case_batches(project: &Project) -> Vec<RecordBatch> {
    let features = project.all_features();
    (1..=CASES)
        .flat_map(|index| {
            let case = generated_case(project, &features, index, SEED, "ts").expect("a case");
            assert_eq!(case.sources.len(), 1);
            case.sources.into_iter().flat_map(|(_, batches)| batches)
        })
        .collect()
}

/// What the cases hold, counted over every event.
#[derive(Debug, Default)]
struct Seen {
    null_structs: usize,
    null_structs_with_values: usize,
    null_fields: usize,
    null_nested_structs: usize,
    null_nested_fields: usize,
    null_lists: usize,
    empty_lists: usize,
    null_items: usize,
    null_maps: usize,
    empty_maps: usize,
    repeated_keys: usize,
    missing_keys: usize,
    unread_keys: usize,
}

impl Seen {
    fn address(&mut self, address: &StructArray) {
        let city = address
            .column_by_name("city")
            .expect("city")
            .as_string::<i32>();
        let geo = address.column_by_name("geo").expect("geo").as_struct();
        let lat = geo.column_by_name("lat").expect("lat");
        let labels = address
            .column_by_name("labels")
            .expect("labels")
            .as_list::<i32>();
        for row in 0..address.len() {
            if address.is_null(row) {
                self.null_structs += 1;
                self.null_structs_with_values += usize::from(city.is_valid(row));
                continue;
            }
            self.null_fields += usize::from(city.is_null(row));
            self.null_nested_structs += usize::from(geo.is_null(row));
            self.null_nested_fields += usize::from(geo.is_valid(row) && lat.is_null(row));
            if labels.is_null(row) {
                self.null_lists += 1;
            } else {
                let items = labels.value(row);
                self.empty_lists += usize::from(items.is_empty());
                self.null_items += items.null_count();
            }
        }
    }

    fn attrs(&mut self, attrs: &MapArray) {
        for row in 0..attrs.len() {
            if attrs.is_null(row) {
                self.null_maps += 1;
                continue;
            }
            let entries = attrs.value(row);
            let keys = entries.column(0).as_string::<i32>();
            let keys: Vec<&str> = (0..keys.len()).map(|i| keys.value(i)).collect();
            self.empty_maps += usize::from(keys.is_empty());
            let repeated = keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k));
            self.repeated_keys += usize::from(repeated);
            self.missing_keys += usize::from(!keys.contains(&"color"));
            self.unread_keys += keys.iter().filter(|k| **k != "color").count();
        }
    }
}

/// (a) The source's batches hold `address` as a `Struct` and `attrs` as a `Map`, and
/// none of the flat path columns the features read; (b) across the cases, every kind
/// of value semantics.md has a rule for.
#[test]
fn generated_cases_carry_struct_and_map_columns_whole() {
    let project = project();
    let paths: Vec<&str> = project.sources[0]
        .columns
        .iter()
        .filter(|c| c.path.is_some())
        .map(|c| c.name.as_str())
        .collect();
    assert!(paths.contains(&"address.geo.lat") && paths.contains(&"size(attrs)"));
    let mut seen = Seen::default();
    for batch in case_batches(&project) {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["ts", "user_id", "amount", "address", "attrs"]);
        assert!(!names.iter().any(|n| is_path_column(n) || paths.contains(n)));
        let address = batch.column_by_name("address").expect("address");
        assert!(matches!(address.data_type(), ArrowType::Struct(_)));
        let attrs = batch.column_by_name("attrs").expect("attrs");
        assert!(matches!(attrs.data_type(), ArrowType::Map(_, _)));
        seen.address(address.as_struct());
        seen.attrs(attrs.as_map());
    }
    let all = [
        seen.null_structs,
        seen.null_structs_with_values,
        seen.null_fields,
        seen.null_nested_structs,
        seen.null_nested_fields,
        seen.null_lists,
        seen.empty_lists,
        seen.null_items,
        seen.null_maps,
        seen.empty_maps,
        seen.repeated_keys,
        seen.missing_keys,
        seen.unread_keys,
    ];
    assert!(all.iter().all(|n| *n > 0), "{seen:#?}");
}

/// The same seed draws the same struct and map columns; another seed others.
#[test]
fn the_same_seed_draws_the_same_structs_and_maps() {
    let project = project();
    let features = project.all_features();
    let case = |index, seed| {
        let d = generated_case(&project, &features, index, seed, "ts").expect("a case");
        d.sources[0].1.clone()
    };
    for index in 1..=3 {
        assert_eq!(case(index, SEED), case(index, SEED));
    }
    assert_ne!(case(1, SEED), case(1, SEED + 1));
}

fn verify_generated(project: &Project, others: &[&dyn Executor]) -> Report {
    let options = Options {
        user: None,
        cases: CASES,
        seed: SEED,
        probe_time: "ts".into(),
    };
    let features = project.all_features();
    runtime()
        .block_on(verify::run(
            project,
            &features,
            &options,
            &ReferenceExecutor,
            others,
            &mut |_, _| {},
        ))
        .expect("verify runs")
}

/// (c) The reference, the batch plan and the stream read the paths out of the
/// struct and map columns, each by its own extraction, and agree on every cell; the
/// SQL computes the features reading no path over the flat tables it is given and
/// agrees too, leaving out (and saying so) only the features reading a path.
#[test]
fn every_path_agrees_on_struct_and_map_columns() {
    let project = project();
    let report = verify_generated(
        &project,
        &[&BatchExecutor, &StreamExecutor, &SqlExecutor::default()],
    );
    assert!(report.agrees(), "{}", report.text());
    assert_eq!(report.datasets.len(), CASES);
    for d in &report.datasets {
        assert!(d.events > 0 && d.spine_rows > 0, "{} is empty", d.label);
        // Only the SQL leaves features out: those reading a path.
        for left in &d.left_out {
            assert_eq!(left.path, "sql", "{}", left.message);
            assert!(
                !left.message.contains("`n_1h`") && !left.message.contains("`amount_1d`"),
                "{}",
                left.message
            );
        }
    }
}
