//! Generators of random featc projects and data for the cross-path property tests.
//!
//! A generated case is a `.feat` project (text, so the parser and checker are exercised
//! too), one event source as an Arrow batch and a spine. The generator is tuned to hit
//! the boundaries semantics.md cares about: timestamps on a coarse grid so that events
//! fall exactly at `t` and `t - W` and tie with each other, nulls in keys and values,
//! keys the spine asks for but no event has, `-0.0`/`+0.0`, values whose float sums need
//! exact arithmetic, infinities and NaN, duplicate spine rows, a key read from a
//! differently named column, time columns in any unit and time zone, and a `date`
//! column (`Date32` or whole-day `Date64`, days at the ends of the range) that is an
//! aggregated value and the key of the `day` entity, a `decimal(12, 2)` column `m`
//! (exact sums, the type's largest magnitudes, mixed with int64s) and a
//! `list<float64>` column `xs` (null and empty lists, null, NaN and infinite items,
//! lists of equal length for `dot` and the element-wise `avg`), a struct column
//! `addr` (`city`, a struct `geo` holding `lat`, a list `` `tags` `` named by a
//! keyword: null structs at both levels with values left under them, null fields,
//! empty and null lists) and a map column `attrs` (null and empty maps, missing keys,
//! a key repeated in one map), as Arrow `Struct` and `Map` columns that every path
//! extracts its paths from. Row functions (`abs`, `least`, `substr`, ...) appear in
//! lets, filters and aggregation arguments, on the same values (and non-ASCII strings
//! for the case mappings); like the arithmetic, they never overflow here
//! (`abs(i64::MIN)` has its own tests). Each case also
//! carries its requested features (a subset), the source's lateness and how a
//! streaming replay disorders (within that lateness) and chunks its events. Views
//! and a service also get derived features over the numeric ones, the service's
//! reading the request `req` (`amount`, `n`: spine columns). The `clicks` source
//! sometimes lands a second late (`delay 1s`).

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Decimal128Array, Float64Array,
    Float64Builder, Int64Array, ListBuilder, MapBuilder, MapFieldNames, StringArray, StringBuilder,
    StructArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use proptest::prelude::*;
use proptest::sample::select;
use std::sync::Arc;

/// One generated case.
#[derive(Debug, Clone)]
pub struct GenCase {
    /// The project text (one file).
    pub feat: String,
    /// The events of source `events`, unsorted.
    pub events: RecordBatch,
    /// The events of source `clicks` (same columns, its own lateness), unsorted.
    pub clicks: RecordBatch,
    /// The events of source `taps`: `clicks`' rows with fewer columns (`k`, `sk`,
    /// `i`, `s`) and the time column `at`, so that a view over `events, taps` meets
    /// columns one source lacks and two time columns.
    pub taps: RecordBatch,
    /// The spine: `k`, `sk`, `kind`, `ts`, `row`, `amount`, `n`, `d`.
    pub spine: RecordBatch,
    /// The requested features: a non-empty subset of the project's, in declaration order.
    pub features: Vec<String>,
    /// The smaller declared `lateness` of the two sources, in microseconds.
    pub lateness_us: i64,
    /// How a replay of this case disorders and chunks the events: a disorder within
    /// the lateness, an ingest batch size and a seed, all drawn with the case so that a
    /// failure replays the same way.
    pub replay: ReplaySettings,
}

/// The streaming replay of one case.
#[derive(Debug, Clone, Copy)]
pub struct ReplaySettings {
    pub disorder_us: i64,
    pub batch_size: usize,
    pub seed: u64,
    /// Events an entity buffers between two folds (`Options::fold_run`).
    pub fold_run: u32,
}

/// One second in microseconds: the generated timestamps sit on a grid of seconds.
const SECOND: i64 = 1_000_000;

/// An event row before it becomes Arrow columns.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Microseconds, and nanoseconds past them (seen only when the batch is in ns).
    ts: i64,
    sub_ns: i64,
    k: Option<i64>,
    sk: Option<&'static str>,
    i: Option<i64>,
    f: Option<f64>,
    s: Option<&'static str>,
    b: Option<bool>,
    /// A second, nullable timestamp column (microseconds and extra nanoseconds).
    seen: Option<(i64, i64)>,
    /// A nullable date column (days since 1970-01-01).
    d: Option<i32>,
    /// A nullable `decimal(12, 2)` column: the unscaled value.
    m: Option<i128>,
    /// A nullable `list<float64>` column with nullable items.
    xs: Option<Vec<Option<f64>>>,
    /// A nullable struct column (`ADDR_TYPE`).
    addr: Addr,
    /// A nullable `map<string, float64?>` column: its entries in order, a key
    /// possibly repeated.
    attrs: Option<Vec<(&'static str, Option<f64>)>>,
}

/// A cell of the struct column `addr`. Its fields are drawn whether or not the
/// struct (or `geo`) is null, so that a null struct holds values under it, which
/// every path must read as null (semantics.md, "Struct and map columns").
#[derive(Debug, Clone)]
struct Addr {
    valid: bool,
    city: Option<&'static str>,
    geo_valid: bool,
    lat: Option<f64>,
    tags: Option<Vec<Option<&'static str>>>,
}

/// The declared type of `addr`, as written in the generated source.
const ADDR_TYPE: &str =
    "struct<city: string?, geo: struct<lat: float64?>?, `tags`: list<string>?>?";
/// The keys of `attrs`' entries: few, so that a map repeats one and misses others
/// (`attrs['w']` is never present).
const MAP_KEYS: &[&str] = &["x", "y", "x y", "X"];

/// A feature of a generated view, already in `.feat` syntax.
#[derive(Debug, Clone)]
struct FeatureSpec {
    call: String,
    /// Whether the result is a number (int64 or float64): derived features combine
    /// numbers.
    numeric: bool,
    filter: Option<&'static str>,
    window: Option<&'static str>,
}

/// A derived feature to generate: a template over two numeric features picked by
/// index (modulo what exists) and the request's fields.
#[derive(Debug, Clone, Copy)]
struct DerivedSpec {
    template: &'static str,
    a: usize,
    b: usize,
}

/// A generated view: its entity, optional row filter and ttl, and features.
#[derive(Debug, Clone)]
struct ViewSpec {
    source: &'static str,
    entity: &'static str,
    filter: Option<&'static str>,
    ttl: Option<&'static str>,
    features: Vec<FeatureSpec>,
    /// Derived features over the view's numeric features.
    derived: Vec<DerivedSpec>,
    /// An as-of lookup of an earlier view's numeric feature (picked by index, modulo
    /// what exists), read by a feature of this view: a template over `looked`.
    lookup: Option<(usize, &'static str)>,
}

/// A feature over an as-of lookup's let `looked`.
const LOOKUP_FEATURES: &[&str] = &[
    "sum(looked) over 3s",
    "max(looked)",
    "count(*) where looked > 1 over 20s",
    "last(looked) over 2 events",
    "avg(looked) where i > 0",
];

/// Derived features of a view: `{a}` and `{b}` are numeric features of its entity.
/// Sums of large ints overflow in `+` and `*` (an error on every path), `/` and `%`
/// divide by zero (null), comparisons meet signed zeros and NaN.
const VIEW_DERIVED: &[&str] = &[
    "{a} + {b}",
    "{a} * 2 - {b}",
    "{a} / {b}",
    "coalesce({a}, 0) - {b}",
    "case when {a} > {b} then {a} else {b} end",
    "if({a} is null, -1, {a} % 3)",
    "{a} = {b} or {b} is null",
];
/// A service's derived features: also the request's fields `req.amount` (float64?)
/// and `req.n` (int64), and features of several entities.
const SERVICE_DERIVED: &[&str] = &[
    "{a} + req.amount",
    "req.n * {a}",
    "if(req.amount > {a}, 1, 0)",
    "coalesce(req.amount, {a}) / req.n",
    "{a} - {b}",
    "case when req.amount is null then {b} else {a} end",
];

fn derived_strategy(templates: &'static [&'static str]) -> impl Strategy<Value = DerivedSpec> {
    (select(templates), 0usize..100, 0usize..100).prop_map(|(template, a, b)| DerivedSpec {
        template,
        a,
        b,
    })
}

const FLOATS: &[f64] = &[
    0.0, -0.0, 0.1, 0.2, 0.3, 1.5, -2.25, 123.456, 1e16, -1e16, 1e300, -1e300, 5e-324, 3.0e-310,
    7.0, -7.0,
];
/// Floats at the edges of f64: sums that overflow to infinity only when rounded once
/// (`1e308`), the largest and smallest magnitudes, values whose naive running sum
/// loses the small terms (`2^53` with `1.0`), subnormals, and the non-finite values.
const EDGE_FLOATS: &[f64] = &[
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN_POSITIVE,
    -5e-324,
    9007199254740992.0,
    1.0,
    -9007199254740992.0,
    0.30000000000000004,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];
/// Integers whose sums overflow int64 after a few events (an error, never a wrapped
/// value), whose squares need more than 64 bits (exact var_pop), and that do not fit
/// f64 exactly (`2^53 + 1`); every generated expression (`i * 2`, `i - 3`) still fits.
const BIG_INTS: &[i64] = &[
    (1 << 62) - 1,
    -((1 << 62) - 1),
    3_000_000_000_000_000_000,
    -3_000_000_000_000_000_000,
    (1 << 53) + 1,
];
const STRINGS: &[&str] = &["a", "b", "ab", "B", "", "zz", "ßé", "É"];
/// `decimal(12, 2)` values (unscaled): zero, cents, `1.50` (equal to `1.5` and to
/// the int64 `1.5` is not), the type's largest magnitudes (`±9999999999.99`).
const DECIMALS: &[i128] = &[
    0,
    1,
    -1,
    150,
    100,
    -725,
    12_345,
    999_999_999_999,
    -999_999_999_999,
];
/// The decimal type of the generated column `m`.
pub const DECIMAL_PRECISION: u8 = 12;
pub const DECIMAL_SCALE: i8 = 2;
/// Days (since 1970-01-01): the first and last dates featc reads (0001-01-01,
/// 9999-12-31), around 1970 (negative days too) and a leap day; few, so they repeat.
const DAYS: &[i32] = &[-719_162, -1, 0, 1, 19_782, 19_783, 2_932_896];
const SHOP_KEYS: &[&str] = &["x", "y", "z"];
const PREDICATES: &[&str] = &[
    "i > 0",
    "f < 1.5",
    "s = 'a'",
    "b",
    "not b",
    "s in ('a', 'ab')",
    "i is null",
    "f is not null and i % 2 = 0",
    "i / 2 > 1",
    "s not in ('b', null)",
    "coalesce(i, 0) + 1 >= 2 or b",
    "shifted > 0",
    "if(b, i, 0) > 1",
    "case when f > 1.0 then 'x' when f is null then s else 'y' end = 'x'",
    "-i < -1",
    "f / i > 0.5",
    "i % 3 = -1",
    "ratio < 0",
    "s < 'b'",
    "seen < ts",
    "seen is null or seen >= ts",
    "d is null",
    "d is not null and b",
    // Decimals compare exactly, with int64s too; lists by their functions.
    "m > 1",
    "m is null or m <= -7",
    "m + i >= 0",
    // A number with a point beside a decimal is that decimal, exactly.
    "m >= 0.25",
    "m < -1.5 or m = 2.50",
    "m in (1.5, 2.50, -7)",
    "least(m, 0.5) < 0",
    "contains(xs, 1.5)",
    "size(xs) >= 2",
    "xs[1] > 0.1",
    // Struct fields and map entries (null for `taps`' rows, which lack them).
    "contains(attrs, 'x')",
    "addr.city = 'a' or addr.geo.lat > 0.1",
    "attrs['y'] is null",
    "size(attrs) > 1 and addr.`tags`[2] is not null",
    "not contains(addr.`tags`, 'b')",
    // The event's source (a constant over one source).
    "source() = 'events'",
    "source() <> 'clicks' or i > 1",
    // Row functions (semantics.md "Functions").
    "starts_with(s, 'a') or ends_with(kind_of, 'B')",
    "contains(tag, 'É')",
    "sqrt(f) > 1",
    "ln(f) is null",
    "abs(i) >= 2",
    "least(i, f, 3) = i",
    "greatest(f, -0.0) = 0.0",
    "nullif(s, 'a') is null",
    "length(upper(s)) > 1",
];
const WINDOWS: &[&str] = &[
    "500ms",
    "1s",
    "1500ms",
    "2s",
    "5s",
    "30s",
    "90s",
    // Window options: an offset, an exclusive end, both.
    "1s offset 1s",
    "2s offset 500ms",
    "1500ms exclusive",
    "2s offset 1s exclusive",
    // Count windows: ties at the cut are common (times repeat), alone and with a
    // duration, a shift, an exclusive end.
    "1 events",
    "3 events",
    "2 events exclusive",
    "2 events offset 1s",
    "5s max 2 events",
    "30s max 3 events",
    "1500ms max 1 events exclusive",
];
/// Columns any aggregation that orders values can take, with their `.feat` spelling.
const ANY_COLUMNS: &[&str] = &[
    "i",
    "f",
    "s",
    "b",
    "ts",
    "source()",
    "shifted",
    "i * 2",
    "ratio",
    "kind_of",
    "seen",
    "tag",
    "least(f, ratio)",
    "greatest(ts, seen)",
    "least(s, 'b', kind_of)",
    "nullif(b, true)",
    "substr(s, shifted, i)",
    "lower(kind_of)",
    "d",
    "coalesce(d, last_day)",
    "greatest(d, last_day)",
    "addr.city",
    "addr.`tags`[1]",
    "attrs['x y']",
    "contains(attrs, 'X')",
];
const NUMERIC_COLUMNS: &[&str] = &[
    "i",
    "f",
    "shifted",
    "i * 2",
    "f + i",
    "i - 3",
    "ratio",
    "-f",
    "root",
    "sqrt(f)",
    "abs(f)",
    "abs(i - 3)",
    "ln(f)",
    "exp(ratio)",
    "pow(f, shifted)",
    "round(ratio)",
    "floor(f) + ceil(i)",
    "greatest(i, shifted, null)",
    "nullif(ratio, 0.0)",
    "haversine(f, i, 1.5, ratio)",
    "length(kind_of)",
    // Numbers out of list columns and decimals (as float64s).
    "size(xs)",
    "xs[1]",
    "element_at(xs, -1)",
    "dot(xs, xs)",
    "cosine(xs, xs)",
    "l2_distance(xs, xs)",
    "float64(m)",
    "m / 4",
    // Numbers out of struct and map paths.
    "addr.geo.lat",
    "attrs['x']",
    "size(attrs)",
    "size(addr.`tags`)",
    "coalesce(attrs['w'], attrs['y'], addr.geo.lat)",
];
/// Decimal expressions: the aggregations that keep a decimal (exact `sum`, `min`,
/// `percentile`) and the float ones (`avg`, `var_pop`) take them.
const DECIMAL_COLUMNS: &[&str] = &[
    "m",
    "m * 2",
    "m + i",
    "-m",
    "abs(m)",
    "coalesce(m, 0)",
    "m * 0.5",
    "m - 1.25",
    "coalesce(m, 0.75)",
    "greatest(m, -2.5)",
    "case when m > 0 then m else 0.5 end",
    "if(i > 1, m, 1.5)",
];

fn feature_strategy() -> impl Strategy<Value = FeatureSpec> {
    let numeric_column = |c: &str| NUMERIC_COLUMNS.contains(&c);
    let call = prop_oneof![
        Just(("count(*)".to_string(), true)),
        select(ANY_COLUMNS).prop_map(|c| (format!("count({c})"), true)),
        select(PREDICATES).prop_map(|p| (format!("count_if({p})"), true)),
        select(
            &[
                "i",
                "f",
                "s",
                "b",
                "ts",
                "ratio",
                "-f",
                "d",
                "addr.city",
                "attrs['x']"
            ][..]
        )
        .prop_map(|c| (format!("count_distinct({c})"), true)),
        (
            select(&["sum", "avg", "var_pop", "stddev_pop"][..]),
            select(NUMERIC_COLUMNS)
        )
            .prop_map(|(a, c)| (format!("{a}({c})"), true)),
        (
            select(&["min", "max", "first", "last"][..]),
            select(ANY_COLUMNS)
        )
            .prop_map(move |(a, c)| (format!("{a}({c})"), numeric_column(c))),
        (
            select(&["0", "0.25", "0.5", "0.9", "1"][..]),
            select(NUMERIC_COLUMNS)
        )
            .prop_map(|(p, c)| if p == "0.5" {
                (format!("median({c})"), true)
            } else {
                (format!("percentile({c}, {p})"), true)
            }),
        // Decimals: exact sums (of type decimal(38, 2): not a number to derived
        // features, which mix with float64s), and the float aggregations.
        (
            select(&["sum", "min", "max", "first", "median"][..]),
            select(DECIMAL_COLUMNS)
        )
            .prop_map(|(a, c)| (format!("{a}({c})"), false)),
        (
            select(&["avg", "var_pop", "stddev_pop"][..]),
            select(DECIMAL_COLUMNS)
        )
            .prop_map(|(a, c)| (format!("{a}({c})"), true)),
        // Lists as values: the latest, the earliest, counted, the element-wise mean.
        select(&["first(xs)", "last(xs)", "avg(xs)"][..]).prop_map(|c| (c.to_string(), false)),
        Just(("count(xs)".to_string(), true)),
        // List aggregations: small k (ties and truncation are common) and large.
        (
            select(&["last_k", "first_k", "top_k"][..]),
            select(ANY_COLUMNS),
            select(&["1", "2", "3", "5", "1000"][..])
        )
            .prop_map(|(a, c, k)| (format!("{a}({c}, {k})"), false)),
    ];
    (
        call,
        proptest::option::weighted(0.25, select(PREDICATES)),
        proptest::option::weighted(0.75, select(WINDOWS)),
    )
        .prop_map(|((call, numeric), filter, window)| FeatureSpec {
            call,
            numeric,
            filter,
            window,
        })
}

fn view_strategy(lookups: bool) -> impl Strategy<Value = ViewSpec> {
    let lookup = if lookups {
        proptest::option::weighted(0.3, (0..8usize, select(LOOKUP_FEATURES))).boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop_oneof![
            3 => Just("events"),
            1 => Just("clicks"),
            1 => Just("events, clicks"),
            1 => Just("events, taps"),
        ],
        select(&["user", "shop", "pair", "kind", "day"][..]),
        proptest::option::weighted(0.3, select(PREDICATES)),
        proptest::option::weighted(0.2, select(&["2500ms", "3s", "20s"][..])),
        proptest::collection::vec(feature_strategy(), 1..6),
        proptest::collection::vec(derived_strategy(VIEW_DERIVED), 0..3),
        lookup,
    )
        .prop_map(
            |(source, entity, filter, ttl, features, derived, lookup)| ViewSpec {
                source,
                entity,
                filter,
                ttl,
                features,
                derived,
                lookup,
            },
        )
}

fn event_strategy() -> impl Strategy<Value = EventRow> {
    (
        -3i64..40,
        prop_oneof![3 => Just(0i64), 1 => 1i64..SECOND],
        prop_oneof![3 => Just(0i64), 1 => 1i64..1000],
        proptest::option::weighted(0.9, 0i64..4),
        proptest::option::weighted(0.9, select(SHOP_KEYS)),
        proptest::option::weighted(0.8, prop_oneof![10 => -3i64..6, 2 => select(BIG_INTS)]),
        proptest::option::weighted(
            0.8,
            prop_oneof![6 => select(FLOATS), 1 => select(EDGE_FLOATS)],
        ),
        proptest::option::weighted(0.8, select(STRINGS)),
        (
            proptest::option::weighted(0.8, any::<bool>()),
            proptest::option::weighted(
                0.7,
                (-5i64..45, prop_oneof![Just(0i64), 1i64..SECOND], 0i64..1000),
            ),
            proptest::option::weighted(0.8, select(DAYS)),
            proptest::option::weighted(0.8, select(DECIMALS)),
            proptest::option::weighted(
                0.8,
                prop_oneof![
                    1 => Just(Vec::new()),
                    3 => proptest::collection::vec(float_item(), 2..=2),
                    2 => proptest::collection::vec(float_item(), 1..4),
                ],
            ),
            addr_strategy(),
            proptest::option::weighted(
                0.8,
                proptest::collection::vec((select(MAP_KEYS), float_item()), 0..4),
            ),
        ),
    )
        .prop_map(
            |(sec, micros, sub_ns, k, sk, i, f, s, (b, seen, d, m, xs, addr, attrs))| EventRow {
                ts: sec * SECOND + micros,
                sub_ns,
                k,
                sk,
                i,
                f,
                s,
                b,
                seen: seen.map(|(sec, us, ns)| (sec * SECOND + us, ns)),
                d,
                m,
                xs,
                addr,
                attrs,
            },
        )
}

fn addr_strategy() -> impl Strategy<Value = Addr> {
    (
        proptest::bool::weighted(0.8),
        proptest::option::weighted(0.8, select(STRINGS)),
        proptest::bool::weighted(0.8),
        float_item(),
        proptest::option::weighted(
            0.8,
            proptest::collection::vec(proptest::option::weighted(0.85, select(STRINGS)), 0..3),
        ),
    )
        .prop_map(|(valid, city, geo_valid, lat, tags)| Addr {
            valid,
            city,
            geo_valid,
            lat,
            tags,
        })
}

/// An item of `xs`: mostly ordinary floats, sometimes an edge one or null.
fn float_item() -> impl Strategy<Value = Option<f64>> {
    proptest::option::weighted(
        0.9,
        prop_oneof![6 => select(FLOATS), 1 => select(EDGE_FLOATS)],
    )
}

/// A spine row before it becomes Arrow columns.
#[derive(Debug, Clone, Copy)]
pub struct SpineRow {
    k: Option<i64>,
    sk: Option<&'static str>,
    kind: &'static str,
    /// The `day` entity's key.
    d: Option<i32>,
    ts: i64,
    sub_ns: i64,
    row: i64,
    /// The request fields `amount` (float64?) and `n` (int64).
    amount: Option<f64>,
    n: i64,
}

/// A spine row: keys (the unseen key 9, shop `w` and kind `none`, and nulls, which
/// match no event, included), a time on
/// the grid or one microsecond off it (plus nanoseconds, seen in ns spines).
fn spine_strategy() -> impl Strategy<Value = SpineRow> {
    (
        proptest::option::weighted(0.95, prop_oneof![4 => 0i64..4, 1 => Just(9i64)]),
        proptest::option::weighted(0.95, prop_oneof![4 => select(SHOP_KEYS), 1 => Just("w")]),
        (
            prop_oneof![4 => select(STRINGS), 1 => Just("none")],
            proptest::option::weighted(0.9, prop_oneof![4 => select(DAYS), 1 => Just(7i32)]),
        ),
        -4i64..45,
        prop_oneof![4 => Just(0i64), 1 => Just(1i64), 1 => Just(-1i64)],
        prop_oneof![3 => Just(0i64), 1 => 1i64..1000],
        (
            proptest::option::weighted(
                0.8,
                prop_oneof![6 => select(FLOATS), 1 => select(EDGE_FLOATS)],
            ),
            prop_oneof![4 => -3i64..4, 1 => select(BIG_INTS)],
        ),
    )
        .prop_map(
            |(k, sk, (kind, d), sec, off, sub_ns, (amount, n))| SpineRow {
                k,
                sk,
                kind,
                d,
                ts: sec * SECOND + off,
                sub_ns,
                row: 0,
                amount,
                n,
            },
        )
}

/// The Arrow types of the spine's key columns: any type that holds the entity key's
/// values (int32 for int64 keys; large, view or dictionary strings), which every path
/// reads as the entity's type.
#[derive(Debug, Clone)]
pub struct KeyRepr {
    int: DataType,
    string: DataType,
}

fn key_repr_strategy() -> impl Strategy<Value = KeyRepr> {
    (
        prop_oneof![3 => Just(DataType::Int64), 1 => Just(DataType::Int32)],
        prop_oneof![
            3 => Just(DataType::Utf8),
            1 => Just(DataType::LargeUtf8),
            1 => Just(DataType::Utf8View),
            1 => Just(DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)))
        ],
    )
        .prop_map(|(int, string)| KeyRepr { int, string })
}

/// How a batch stores its time column: the unit and the time zone, or (events only)
/// plain integers counting `unit` under the source's `epoch` clause. Every path
/// converts it to UTC microseconds, flooring nanoseconds (semantics.md "Time").
#[derive(Debug, Clone, Copy)]
pub struct TimeRepr {
    unit: TimeUnit,
    tz: Option<&'static str>,
    /// Int64 counts of `unit` instead of a timestamp type.
    integer: bool,
    /// Date columns as `Date64` (whole days, in ms) instead of `Date32`.
    date64: bool,
}

fn time_repr_strategy() -> impl Strategy<Value = TimeRepr> {
    (
        prop_oneof![
            4 => Just(TimeUnit::Microsecond),
            2 => Just(TimeUnit::Nanosecond),
            1 => Just(TimeUnit::Millisecond),
            1 => Just(TimeUnit::Second)
        ],
        select(&[Some("UTC"), None, Some("+02:00")][..]),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(unit, tz, date64)| TimeRepr {
            unit,
            tz,
            integer: false,
            date64,
        })
}

/// An event source's times: a timestamp (`time_repr_strategy`), or integers in a
/// declared epoch unit (generated times lie near 1970: the clause is what makes them
/// times).
fn event_time_repr_strategy() -> impl Strategy<Value = TimeRepr> {
    prop_oneof![
        3 => time_repr_strategy(),
        1 => time_repr_strategy().prop_map(|t| TimeRepr { integer: true, ..t }),
    ]
}

impl TimeRepr {
    fn field(&self, name: &str) -> Field {
        let ty = if self.integer {
            DataType::Int64
        } else {
            DataType::Timestamp(self.unit, self.tz.map(Into::into))
        };
        Field::new(name, ty, false)
    }

    /// The source clause that declares this representation's integers (`epoch ms`).
    fn epoch_clause(&self) -> String {
        if !self.integer {
            return String::new();
        }
        let unit = match self.unit {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        };
        format!("    epoch {unit}\n")
    }

    /// The type of a date column.
    fn date_type(&self) -> DataType {
        if self.date64 {
            DataType::Date64
        } else {
            DataType::Date32
        }
    }

    /// The column of `days` (since 1970-01-01) as `date_type`.
    fn dates(&self, days: impl Iterator<Item = Option<i32>>) -> ArrayRef {
        if self.date64 {
            let ms = days.map(|d| d.map(|d| i64::from(d) * 86_400_000));
            Arc::new(Date64Array::from(ms.collect::<Vec<_>>()))
        } else {
            Arc::new(Date32Array::from(days.collect::<Vec<_>>()))
        }
    }

    /// The column of `(micros, extra nanoseconds)` times in this unit.
    fn array(&self, times: &[Option<(i64, i64)>]) -> ArrayRef {
        let array = self.timestamps(times);
        if self.integer {
            return cast(&array, &DataType::Int64).expect("a timestamp casts to its integer");
        }
        array
    }

    fn timestamps(&self, times: &[Option<(i64, i64)>]) -> ArrayRef {
        let tz = self.tz;
        match self.unit {
            TimeUnit::Nanosecond => Arc::new(
                TimestampNanosecondArray::from(
                    times
                        .iter()
                        .map(|t| t.map(|(us, ns)| us * 1000 + ns))
                        .collect::<Vec<_>>(),
                )
                .with_timezone_opt(tz),
            ),
            TimeUnit::Microsecond => Arc::new(
                TimestampMicrosecondArray::from(
                    times
                        .iter()
                        .map(|t| t.map(|(us, _)| us))
                        .collect::<Vec<_>>(),
                )
                .with_timezone_opt(tz),
            ),
            TimeUnit::Millisecond => Arc::new(
                TimestampMillisecondArray::from(
                    times
                        .iter()
                        .map(|t| t.map(|(us, _)| us.div_euclid(1000)))
                        .collect::<Vec<_>>(),
                )
                .with_timezone_opt(tz),
            ),
            TimeUnit::Second => Arc::new(
                TimestampSecondArray::from(
                    times
                        .iter()
                        .map(|t| t.map(|(us, _)| us.div_euclid(SECOND)))
                        .collect::<Vec<_>>(),
                )
                .with_timezone_opt(tz),
            ),
        }
    }
}

/// The declared lateness of the generated source, in seconds (0: none declared).
const LATENESS_SECONDS: &[i64] = &[0, 1, 5, 30];

/// Everything drawn for a case besides views, events and spine.
#[derive(Debug, Clone)]
struct Extras {
    lateness_s: i64,
    clicks_lateness_s: i64,
    /// Per feature (in declaration order, cycled): is it requested? At least one is.
    requested: Vec<bool>,
    /// Spine rows to repeat verbatim (indices modulo the spine length).
    duplicates: Vec<usize>,
    /// A fraction of the lateness, in 1/8ths, and the ingest batch size and seed.
    disorder_eighths: i64,
    /// The time columns' storage, of the events and of the spine.
    event_time: TimeRepr,
    spine_time: TimeRepr,
    spine_keys: KeyRepr,
    batch_size: usize,
    seed: u64,
    fold_run: u32,
    /// The service's own derived features.
    service: Vec<DerivedSpec>,
    /// Whether `clicks` lands a second late (`delay 1s`).
    clicks_delay: bool,
}

fn extras_strategy() -> impl Strategy<Value = Extras> {
    (
        (select(LATENESS_SECONDS), select(LATENESS_SECONDS)),
        proptest::collection::vec(proptest::bool::weighted(0.85), 1..20),
        proptest::collection::vec(0usize..1000, 0..4),
        0i64..=8,
        prop_oneof![Just(1usize), 2usize..8, Just(1000usize)],
        any::<u64>(),
        prop_oneof![Just(1u32), 2u32..5, Just(16u32)],
        (
            event_time_repr_strategy(),
            time_repr_strategy(),
            key_repr_strategy(),
            proptest::collection::vec(derived_strategy(SERVICE_DERIVED), 0..3),
            proptest::bool::weighted(0.4),
        ),
    )
        .prop_map(
            |(
                (lateness_s, clicks_lateness_s),
                requested,
                duplicates,
                disorder_eighths,
                batch_size,
                seed,
                fold_run,
                (event_time, spine_time, spine_keys, service, clicks_delay),
            )| {
                Extras {
                    lateness_s,
                    clicks_lateness_s,
                    requested,
                    duplicates,
                    disorder_eighths,
                    batch_size,
                    seed,
                    fold_run,
                    event_time,
                    spine_time,
                    spine_keys,
                    service,
                    clicks_delay,
                }
            },
        )
}

/// Strategy for whole cases.
pub fn case_strategy() -> impl Strategy<Value = GenCase> {
    cases(true)
}

fn cases(lookups: bool) -> impl Strategy<Value = GenCase> {
    (
        proptest::collection::vec(view_strategy(lookups), 1..4),
        proptest::collection::vec(event_strategy(), 0..80),
        proptest::collection::vec(event_strategy(), 0..30),
        proptest::collection::vec(spine_strategy(), 1..40),
        extras_strategy(),
    )
        .prop_map(|(views, events, clicks, spine, extras)| {
            build_case(&views, &events, &clicks, &spine, &extras)
        })
}

fn build_case(
    views: &[ViewSpec],
    events: &[EventRow],
    clicks: &[EventRow],
    spine: &[SpineRow],
    extras: &Extras,
) -> GenCase {
    let mut feat = source_text("events", extras.lateness_s, false, extras.event_time);
    feat.push_str(&source_text(
        "clicks",
        extras.clicks_lateness_s,
        extras.clicks_delay,
        extras.event_time,
    ));
    feat.push_str(&taps_text(extras.clicks_lateness_s, extras.event_time));
    feat.push_str(
        "entity user { key k: int64 }\n\
         entity shop { key sk: string }\n\
         entity pair { key (k: int64, sk: string) }\n\
         entity kind { key kind: string }\n\
         entity day { key d: date }\n",
    );
    feat.push_str("request req { amount: float64?  n: int64 }\n");
    let mut features = Vec::new();
    let (mut skipped, mut last_skipped) = (0, None);
    let mut request = |name: String, features: &mut Vec<String>| {
        let nth = features.len() + skipped;
        if extras.requested[nth % extras.requested.len()] {
            features.push(name);
        } else {
            skipped += 1;
            last_skipped = Some(name);
        }
    };
    // Numeric features by entity, for derived features: (entity, name).
    let mut numeric: Vec<(&str, String)> = Vec::new();
    for (v, view) in views.iter().enumerate() {
        // The kind entity reads its key from the column `s` (a renamed key).
        let by = if view.entity == "kind" {
            "kind (s)"
        } else {
            view.entity
        };
        // The sources of one view share a delay: with `clicks` delayed, a view over
        // `events, clicks` reads `events, taps` instead.
        let source = match view.source {
            // `taps` has no date column to key a day by.
            "events, clicks" | "events, taps" if view.entity == "day" => "events",
            "events, clicks" if extras.clicks_delay => "events, taps",
            s => s,
        };
        feat.push_str(&format!("view v{v} from {source} by {by} {{\n"));
        // The lets come first so that a view filter may use them.
        feat.push_str("    let shifted = i - 1\n");
        feat.push_str("    let ratio = f / i\n");
        feat.push_str("    let kind_of = if(s is null, 'none', s)\n");
        feat.push_str("    let tag = concat(upper(substr(kind_of, 1, 1)), substr(kind_of, 2))\n");
        feat.push_str("    let root = sqrt(abs(f) - 1)\n");
        feat.push_str("    let last_day = least(d, d)\n");
        // An as-of lookup of an earlier view's number (views before it only: no
        // cycle), keyed by this view's columns for that view's entity.
        let looked_up = view
            .lookup
            .filter(|_| !numeric.is_empty())
            .map(|(pick, template)| (numeric[pick % numeric.len()].clone(), template));
        if let Some(((entity, name), _)) = &looked_up {
            let at = match *entity {
                "user" => "k",
                "shop" => "sk",
                "pair" => "(k, sk)",
                "day" => "d",
                _ => "s",
            };
            let owner = name.split('_').next().unwrap_or_default();
            feat.push_str(&format!("    let looked = {owner}.{name} at {at}\n"));
        }
        if let Some(filter) = view.filter {
            feat.push_str(&format!("    where {filter}\n"));
        }
        for (n, f) in view.features.iter().enumerate() {
            let name = format!("v{v}_f{n}");
            feat.push_str(&format!("    feature {name} = {}", f.call));
            if let Some(filter) = f.filter {
                feat.push_str(&format!(" where {filter}"));
            }
            if let Some(window) = f.window {
                // Under `delay 1s` a window must reach further back than a second
                // (`check` refuses one that never sees a visible event).
                let delayed = source == "clicks" && extras.clicks_delay;
                let window = match window {
                    "500ms" | "1s" if delayed => "2s",
                    w => w,
                };
                feat.push_str(&format!(" over {window}"));
            }
            feat.push('\n');
            if f.numeric {
                numeric.push((view.entity, name.clone()));
            }
            request(name, &mut features);
        }
        if let Some((_, template)) = looked_up {
            let name = format!("v{v}_lk");
            feat.push_str(&format!("    feature {name} = {template}\n"));
            request(name, &mut features);
        }
        // Derived features over this entity's numeric features (of this view or an
        // earlier one).
        let own: Vec<&String> = numeric
            .iter()
            .filter(|(e, _)| *e == view.entity)
            .map(|(_, n)| n)
            .collect();
        if !own.is_empty() {
            for (m, d) in view.derived.iter().enumerate() {
                let name = format!("v{v}_d{m}");
                let text = d
                    .template
                    .replace("{a}", own[d.a % own.len()])
                    .replace("{b}", own[d.b % own.len()]);
                feat.push_str(&format!("    feature {name} = {text}\n"));
                request(name, &mut features);
            }
        }
        if let Some(ttl) = view.ttl {
            feat.push_str(&format!("    ttl {ttl}\n"));
        }
        feat.push_str("}\n");
    }
    // A service's own features: over any entity's numbers and the request.
    if !numeric.is_empty() && !extras.service.is_empty() {
        feat.push_str("service svc {\n");
        for (m, d) in extras.service.iter().enumerate() {
            let name = format!("svc_d{m}");
            let text = d
                .template
                .replace("{a}", &numeric[d.a % numeric.len()].1)
                .replace("{b}", &numeric[d.b % numeric.len()].1);
            feat.push_str(&format!("    feature {name} = {text}\n"));
            request(name, &mut features);
        }
        feat.push_str("}\n");
    }
    if features.is_empty() {
        features.extend(last_skipped);
    }
    let mut spine_rows: Vec<SpineRow> = spine
        .iter()
        .enumerate()
        .map(|(n, r)| SpineRow {
            row: n as i64,
            ..*r
        })
        .collect();
    for d in &extras.duplicates {
        let row = spine_rows[d % spine.len()];
        spine_rows.insert(d % (spine_rows.len() + 1), row);
    }
    let lateness_us = extras.lateness_s.min(extras.clicks_lateness_s) * SECOND;
    GenCase {
        feat,
        events: events_batch(events, extras.event_time),
        clicks: events_batch(clicks, extras.event_time),
        taps: taps_batch(&events_batch(clicks, extras.event_time)),
        spine: spine_batch(&spine_rows, extras.spine_time, extras.spine_keys.clone()),
        features,
        lateness_us,
        replay: ReplaySettings {
            disorder_us: lateness_us * extras.disorder_eighths / 8,
            batch_size: extras.batch_size,
            seed: extras.seed,
            fold_run: extras.fold_run,
        },
    }
}

/// The declaration of an event source `name` with the generated columns (and
/// `delay 1s` when `delayed`: events on the grid of seconds become visible exactly
/// at a later grid point).
fn source_text(name: &str, lateness_s: i64, delayed: bool, time: TimeRepr) -> String {
    let mut lateness = if lateness_s > 0 {
        format!("    lateness {lateness_s}s\n")
    } else {
        String::new()
    };
    lateness.push_str(&time.epoch_clause());
    if delayed {
        lateness.push_str("    delay 1s\n");
    }
    format!(
        "source {name} {{\n    time ts\n    columns {{\n        k: int64?\n        sk: string?\n        \
         i: int64?\n        f: float64?\n        s: string?\n        b: bool?\n        seen: timestamp?\n        \
         d: date?\n        m: decimal(12, 2)?\n        xs: list<float64>?\n        \
         addr: {ADDR_TYPE}\n        attrs: map<string, float64?>?\n    }}\n{lateness}}}\n"
    )
}

/// The declaration of source `taps`: `clicks`' rows under the time column `at`,
/// with only some of its columns.
fn taps_text(lateness_s: i64, time: TimeRepr) -> String {
    let mut clauses = if lateness_s > 0 {
        format!("    lateness {lateness_s}s\n")
    } else {
        String::new()
    };
    clauses.push_str(&time.epoch_clause());
    format!(
        "source taps {{\n    time at\n    columns {{\n        k: int64?\n        sk: string?\n        \
         i: int64?\n        s: string?\n    }}\n{clauses}}}\n"
    )
}

/// `taps`' events: a batch of `events_batch`'s columns cut to `taps`' (its time
/// column renamed `at`).
pub fn taps_batch(events: &RecordBatch) -> RecordBatch {
    let keep = ["ts", "k", "sk", "i", "s"];
    let schema = events.schema();
    let mut fields = Vec::with_capacity(keep.len());
    let mut columns = Vec::with_capacity(keep.len());
    for name in keep {
        let Ok(i) = schema.index_of(name) else {
            continue;
        };
        let field = schema.field(i);
        let renamed = if name == "ts" { "at" } else { name };
        fields.push(Field::new(
            renamed,
            field.data_type().clone(),
            field.is_nullable(),
        ));
        columns.push(Arc::clone(events.column(i)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}

/// The events as one Arrow batch with the declared schema.
pub fn events_batch(rows: &[EventRow], time: TimeRepr) -> RecordBatch {
    let attrs = attrs_array(rows);
    let schema = Arc::new(Schema::new(vec![
        time.field("ts"),
        Field::new("k", DataType::Int64, true),
        Field::new("sk", DataType::Utf8, true),
        Field::new("i", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("seen", time.field("seen").data_type().clone(), true),
        Field::new("d", time.date_type(), true),
        Field::new(
            "m",
            DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            true,
        ),
        Field::new_list("xs", Field::new_list_field(DataType::Float64, true), true),
        Field::new("addr", addr_type(), true),
        Field::new("attrs", attrs.data_type().clone(), true),
    ]));
    let mut xs = ListBuilder::new(Float64Builder::new());
    for r in rows {
        match &r.xs {
            Some(items) => {
                xs.values().extend(items.iter().copied());
                xs.append(true);
            }
            None => xs.append(false),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        time.array(
            &rows
                .iter()
                .map(|r| Some((r.ts, r.sub_ns)))
                .collect::<Vec<_>>(),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.k).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.sk).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.i).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.f).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.s).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.b).collect::<Vec<_>>(),
        )),
        time.array(&rows.iter().map(|r| r.seen).collect::<Vec<_>>()),
        time.dates(rows.iter().map(|r| r.d)),
        Arc::new(
            Decimal128Array::from(rows.iter().map(|r| r.m).collect::<Vec<_>>())
                .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                .expect("generated decimals fit their type"),
        ),
        Arc::new(xs.finish()),
        addr_array(rows),
        attrs,
    ];
    RecordBatch::try_new(schema, columns).expect("generated events match their schema")
}

/// The Arrow type of `addr` (`ADDR_TYPE`).
fn addr_type() -> DataType {
    DataType::Struct(addr_fields())
}

fn addr_fields() -> Fields {
    Fields::from(vec![
        Field::new("city", DataType::Utf8, true),
        Field::new("geo", DataType::Struct(geo_fields()), true),
        Field::new_list("tags", Field::new_list_field(DataType::Utf8, true), true),
    ])
}

fn geo_fields() -> Fields {
    Fields::from(vec![Field::new("lat", DataType::Float64, true)])
}

/// The `addr` column: each level's children hold the values drawn under a null
/// parent too (Arrow keeps them; a reader must not).
fn addr_array(rows: &[EventRow]) -> ArrayRef {
    let city = StringArray::from(rows.iter().map(|r| r.addr.city).collect::<Vec<_>>());
    let lat = Float64Array::from(rows.iter().map(|r| r.addr.lat).collect::<Vec<_>>());
    let geo = StructArray::try_new(
        geo_fields(),
        vec![Arc::new(lat)],
        Some(NullBuffer::from(
            rows.iter().map(|r| r.addr.geo_valid).collect::<Vec<_>>(),
        )),
    )
    .expect("geo's one field matches its type");
    let mut tags = ListBuilder::new(StringBuilder::new());
    for r in rows {
        match &r.addr.tags {
            Some(items) => {
                for item in items {
                    tags.values().append_option(*item);
                }
                tags.append(true);
            }
            None => tags.append(false),
        }
    }
    let addr = StructArray::try_new(
        addr_fields(),
        vec![Arc::new(city), Arc::new(geo), Arc::new(tags.finish())],
        Some(NullBuffer::from(
            rows.iter().map(|r| r.addr.valid).collect::<Vec<_>>(),
        )),
    )
    .expect("addr's fields match their types");
    Arc::new(addr)
}

/// The `attrs` column: entries in drawn order, repeated keys kept.
fn attrs_array(rows: &[EventRow]) -> ArrayRef {
    let names = MapFieldNames {
        entry: "entries".into(),
        key: "keys".into(),
        value: "values".into(),
    };
    let mut map = MapBuilder::new(Some(names), StringBuilder::new(), Float64Builder::new());
    for r in rows {
        if let Some(entries) = &r.attrs {
            for (key, value) in entries {
                map.keys().append_value(key);
                map.values().append_option(*value);
            }
        }
        map.append(r.attrs.is_some())
            .expect("keys and values are appended in pairs");
    }
    Arc::new(map.finish())
}

/// The spine as one Arrow batch: `k`, `sk`, `kind`, `ts`, `row` (a label the output
/// must keep; a duplicated spine row repeats its label too), and the request fields
/// `amount` and `n`, and the `day` key `d`.
pub fn spine_batch(rows: &[SpineRow], time: TimeRepr, keys: KeyRepr) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", keys.int.clone(), true),
        Field::new("sk", keys.string.clone(), true),
        Field::new("kind", keys.string.clone(), false),
        time.field("ts"),
        Field::new("row", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
        Field::new("n", DataType::Int64, false),
        Field::new("d", time.date_type(), true),
    ]));
    let as_type = |a: ArrayRef, ty: &DataType| cast(&a, ty).expect("generated keys cast");
    let columns: Vec<ArrayRef> = vec![
        as_type(
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.k).collect::<Vec<_>>(),
            )),
            &keys.int,
        ),
        as_type(
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.sk).collect::<Vec<_>>(),
            )),
            &keys.string,
        ),
        as_type(
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.kind).collect::<Vec<_>>(),
            )),
            &keys.string,
        ),
        time.array(
            &rows
                .iter()
                .map(|r| Some((r.ts, r.sub_ns)))
                .collect::<Vec<_>>(),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.amount).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.n).collect::<Vec<_>>(),
        )),
        time.dates(rows.iter().map(|r| r.d)),
    ];
    RecordBatch::try_new(schema, columns).expect("generated spine matches its schema")
}
