//! The staleness cost of an Arroyo pipeline's hopping windows, simulated on the
//! public cases: what a model served from the emitted pipeline reads at each spine
//! row, beside featc's exact `(t - W, t]`, as a figure per window and slide.
//!
//! The model of the pipeline (docs/scale-out.md, "Streaming on Arroyo"): a window of
//! width `W` is `hop(S, W)` with `S = slide_for(W, staleness)`; the window ending at
//! `e` holds the events of `[e - W, e)` (featc's `over W exclusive` read at `e`) and
//! is emitted when the watermark, the latest event time less the source's lateness,
//! passes `e`; a key with no event in a window emits nothing for it, so the sink keeps
//! the key's previous value. At time `t` (the watermark at `t - lateness`) the served
//! value is therefore the window ending at `e* = min(e_c, floor_S(last + W))`, where
//! `e_c = floor_S(t - lateness)` is the latest closed end and `last` the key's latest
//! event before `e_c` (its view's filter applied); with no such event, the empty
//! window's value. Lifetime aggregations are updating aggregates in Arroyo, not
//! windows: they are not part of the figure. Every value is computed by featc's
//! reference interpreter, from the project with auxiliary features added.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit, TimestampMicrosecondType};
use featc::emit::arroyo::slide::slide_for;
use featc::ir::{
    AggKind, Aggregate, DataType, Expr, ExprKind, Feature, FeatureId, FeatureKind, Meta, Project,
};
use featc_runtime::reference::{evaluate, SpineInput};

use featc_test_support::batch::read_case_sources;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;

const SECOND: i64 = 1_000_000;

/// A windowed aggregation the figure covers: the feature, its view and width, and the
/// auxiliary `exclusive` twin (the hop's window) added to the project.
struct Hopped {
    feature: FeatureId,
    view: usize,
    width_us: i64,
    twin: FeatureId,
}

/// Adds, per view with windowed features, `__last_ts = last(<time>)` and, per
/// windowed aggregation, its `exclusive` twin. Returns the covered features, each
/// view's `__last_ts`, and how many windowed features were left out (an offset, an
/// exclusive end already, a view ttl or a source delay: the model does not say what
/// Arroyo computes for them).
fn with_twins(project: &mut Project) -> (Vec<Hopped>, HashMap<usize, FeatureId>, usize) {
    let mut hopped = Vec::new();
    let mut last_ts = HashMap::new();
    let mut left_out = 0;
    for v in 0..project.views.len() {
        let view = project.views[v].clone();
        let source = project.sources[view.source.0].clone();
        for (f, feature) in view.features.iter().enumerate() {
            let Some(a) = feature.aggregate() else {
                continue;
            };
            let Some(width_us) = a.window_us else {
                continue;
            };
            if a.offset_us != 0 || a.exclusive_end || view.ttl_us.is_some() || source.delay_us != 0
            {
                left_out += 1;
                continue;
            }
            let mut twin = a.clone();
            twin.exclusive_end = true;
            let twin = push(
                project,
                v,
                format!("{}__hop", feature.name),
                twin,
                feature.ty,
                feature,
            );
            hopped.push(Hopped {
                feature: FeatureId::View {
                    view: v,
                    feature: f,
                },
                view: v,
                width_us,
                twin,
            });
        }
        if hopped.iter().any(|h| h.view == v) {
            let time = Expr {
                kind: ExprKind::Column(source.time_column.clone()),
                ty: DataType::Timestamp,
                nullable: false,
                span: view.span,
            };
            let last = Aggregate {
                agg: AggKind::Last,
                arg: Some(time),
                filter: None,
                window_us: None,
                events: None,
                offset_us: 0,
                exclusive_end: false,
            };
            let first = &view.features[0];
            let id = push(
                project,
                v,
                "__last_ts".into(),
                last,
                DataType::Timestamp,
                first,
            );
            last_ts.insert(v, id);
        }
    }
    (hopped, last_ts, left_out)
}

fn push(
    project: &mut Project,
    view: usize,
    name: String,
    aggregate: Aggregate,
    ty: DataType,
    like: &Feature,
) -> FeatureId {
    let features = &mut project.views[view].features;
    features.push(Feature {
        name,
        kind: FeatureKind::Aggregate(aggregate),
        ty,
        meta: Meta::default(),
        span: like.span,
    });
    FeatureId::View {
        view,
        feature: features.len() - 1,
    }
}

/// The spine's times as µs.
fn spine_times(spine: &RecordBatch) -> Vec<i64> {
    let ts = spine.column_by_name("ts").expect("spine ts");
    let ts = cast(ts, &ArrowType::Timestamp(TimeUnit::Microsecond, None)).expect("µs");
    ts.as_primitive::<TimestampMicrosecondType>()
        .values()
        .to_vec()
}

/// The spine with its times replaced.
fn at_times(spine: &RecordBatch, times: &[i64]) -> RecordBatch {
    let i = spine.schema().index_of("ts").expect("spine ts");
    let original = spine.column(i);
    let times: ArrayRef = Arc::new(TimestampMicrosecondArray::from(times.to_vec()));
    let times = cast(&times, original.data_type()).expect("spine time type");
    let mut columns = spine.columns().to_vec();
    columns[i] = times;
    RecordBatch::try_new(spine.schema(), columns).expect("shifted spine")
}

/// One column of the reference's training set for `features` at `times`.
fn values_at(
    project: &Project,
    features: &[FeatureId],
    sources: &HashMap<String, Vec<RecordBatch>>,
    spine: &RecordBatch,
    times: &[i64],
) -> RecordBatch {
    let shifted = at_times(spine, times);
    evaluate(
        project,
        features,
        sources,
        SpineInput {
            batches: &[shifted],
            time_column: "ts",
        },
    )
    .expect("reference")
}

/// Whether two cells are the same value (floats by bits, nulls equal).
fn same(a: &ArrayRef, b: &ArrayRef, r: usize) -> bool {
    match (a.is_valid(r), b.is_valid(r)) {
        (false, false) => true,
        (true, true) => {
            if let (Some(x), Some(y)) = (
                a.as_primitive_opt::<datafusion::arrow::datatypes::Float64Type>(),
                b.as_primitive_opt::<datafusion::arrow::datatypes::Float64Type>(),
            ) {
                return x.value(r).to_bits() == y.value(r).to_bits();
            }
            a.slice(r, 1) == b.slice(r, 1)
        }
        _ => false,
    }
}

/// What one window width's features gave, over every spine row.
#[derive(Debug, Default, Clone, Copy)]
struct Cells {
    slide: i64,
    cells: usize,
    /// The hop window closed last (`e_c`) differs from featc's value: what a reader
    /// that keeps each row's window end (and reads a window it has no row for as
    /// empty) serves; the cost of the slide and the lateness alone.
    hop_differs: usize,
    /// The key's last emitted window (`e*`) differs: what a sink that keeps a key's
    /// last row serves.
    kept_differs: usize,
}

/// Per window width.
type Figure = BTreeMap<i64, Cells>;

/// One windowed feature's values at every spine row: featc's, the last closed hop
/// window's, and the key's last emitted window's.
struct Served {
    name: String,
    width_us: i64,
    slide_us: i64,
    exact: ArrayRef,
    hop: ArrayRef,
    kept: ArrayRef,
}

/// What the modelled pipeline serves for every windowed feature the model covers, at
/// one staleness; and how many windowed features it leaves out.
fn served(
    project: &Project,
    sources: &HashMap<String, Vec<RecordBatch>>,
    spine: &RecordBatch,
    staleness_us: i64,
) -> (Vec<Served>, usize) {
    let mut project = project.clone();
    let (hopped, last_ts, left_out) = with_twins(&mut project);
    let times = spine_times(spine);
    let exact_ids: Vec<FeatureId> = hopped.iter().map(|h| h.feature).collect();
    let exact = values_at(&project, &exact_ids, sources, spine, &times);
    let column = |batch: &RecordBatch| Arc::clone(batch.column(spine.num_columns()));
    let mut out = Vec::new();
    for (i, h) in hopped.iter().enumerate() {
        let slide = slide_for(h.width_us, staleness_us);
        let lateness = project.sources[project.views[h.view].source.0].lateness_us;
        let closed: Vec<i64> = times
            .iter()
            .map(|t| (t - lateness).div_euclid(slide) * slide)
            .collect();
        let before: Vec<i64> = closed.iter().map(|e| e - 1).collect();
        let last = values_at(&project, &[last_ts[&h.view]], sources, spine, &before);
        let last = cast(
            &column(&last),
            &ArrowType::Timestamp(TimeUnit::Microsecond, None),
        )
        .expect("µs");
        let last = last.as_primitive::<TimestampMicrosecondType>();
        let emitted: Vec<i64> = closed
            .iter()
            .enumerate()
            .map(|(r, &e)| {
                if last.is_valid(r) {
                    let reach = (last.value(r) + h.width_us).div_euclid(slide) * slide;
                    e.min(reach)
                } else {
                    e
                }
            })
            .collect();
        out.push(Served {
            name: project.feature(h.feature).name.clone(),
            width_us: h.width_us,
            slide_us: slide,
            exact: Arc::clone(exact.column(spine.num_columns() + i)),
            hop: column(&values_at(&project, &[h.twin], sources, spine, &closed)),
            kept: column(&values_at(&project, &[h.twin], sources, spine, &emitted)),
        });
    }
    (out, left_out)
}

/// The figure of a project and its data at one staleness.
fn figure(
    project: &Project,
    sources: &HashMap<String, Vec<RecordBatch>>,
    spine: &RecordBatch,
    staleness_us: i64,
) -> (Figure, usize) {
    let (served, left_out) = served(project, sources, spine, staleness_us);
    let mut out = Figure::new();
    for s in &served {
        let rows = s.exact.len();
        let entry = out.entry(s.width_us).or_insert(Cells {
            slide: s.slide_us,
            ..Cells::default()
        });
        entry.cells += rows;
        entry.hop_differs += (0..rows).filter(|&r| !same(&s.hop, &s.exact, r)).count();
        entry.kept_differs += (0..rows).filter(|&r| !same(&s.kept, &s.exact, r)).count();
    }
    (out, left_out)
}

fn share(part: usize, whole: usize) -> String {
    format!(
        "{part:>6} ({:>5.2}%)",
        100.0 * part as f64 / whole.max(1) as f64
    )
}

fn duration(us: i64) -> String {
    for (unit, size) in [
        ("d", 86_400 * SECOND),
        ("h", 3_600 * SECOND),
        ("m", 60 * SECOND),
        ("s", SECOND),
    ] {
        if us % size == 0 {
            return format!("{}{unit}", us / size);
        }
    }
    format!("{us}µs")
}

/// The printed figure of one case: a line per staleness and window width.
fn report(case: &str) -> String {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = compile_dir(&dir);
    let spine = read_parquet(&dir.join("spine.parquet"));
    let sources = read_case_sources(&project, &dir);
    let mut text = format!("case {case}: served value differs from featc's, per window (cells = spine rows x features)\n");
    // 1 µs: hop(1µs, W), the floor: `[t - W, t)` beside featc's `(t - W, t]` (an event
    // exactly at t is not in a closed window yet), and the lateness.
    for staleness in [1, 60 * SECOND, 3_600 * SECOND] {
        let (figure, left_out) = figure(&project, &sources, &spine, staleness);
        text.push_str(&format!(
            "staleness {} ({left_out} windowed features not modelled):\n",
            duration(staleness)
        ));
        let mut all = Cells::default();
        for (width, c) in &figure {
            text.push_str(&format!(
                "  over {:>4} hop {:>4}: {:>6} cells, last closed window differs {}, last emitted row differs {}\n",
                duration(*width),
                duration(c.slide),
                c.cells,
                share(c.hop_differs, c.cells),
                share(c.kept_differs, c.cells),
            ));
            all.cells += c.cells;
            all.hop_differs += c.hop_differs;
            all.kept_differs += c.kept_differs;
        }
        text.push_str(&format!(
            "  all windows: {:>6} cells, last closed window differs {}, last emitted row differs {}\n",
            all.cells,
            share(all.hop_differs, all.cells),
            share(all.kept_differs, all.cells),
        ));
    }
    text
}

// One test per case, so that the two (slow: the reference interpreter, many times)
// run side by side.
#[test]
fn staleness_cost_on_synthetic() {
    check("synthetic");
}

#[test]
fn staleness_cost_on_marketplace() {
    check("marketplace");
}

fn check(case: &str) {
    let text = report(case);
    println!("{text}");
    insta::assert_snapshot!(format!("arroyo_staleness_{case}"), text);
}

/// The model on events placed by hand, its values worked out by hand: a 1h count
/// hopped every 10 minutes.
#[test]
fn the_model_serves_the_hop_windows_worked_out_by_hand() {
    use datafusion::arrow::array::{Float64Array, Int64Array};
    use datafusion::arrow::datatypes::{Field, Schema};

    let text = "source events {\n    time ts\n    columns {\n        k: int64\n        x: float64?\n    }\n}\n\
                entity user { key k: int64 }\n\
                view v from events by user {\n    feature c = count(*) over 1h\n}\n";
    let project = featc::compile(&[featc::SourceFile {
        name: "hand.feat".into(),
        text: text.into(),
    }])
    .expect("compiles");
    let minute = 60 * SECOND;
    let ts = |m: i64, s: i64| m * minute + s * SECOND;
    let micros = |values: Vec<i64>| -> ArrayRef {
        Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
    };
    // Events at 00:05, 00:59:59, 01:00 (a window's end exactly) and 02:30.
    let event_times = vec![ts(5, 0), ts(59, 59), ts(60, 0), ts(150, 0)];
    let events = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new(
                "ts",
                ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("k", ArrowType::Int64, false),
            Field::new("x", ArrowType::Float64, true),
        ])),
        vec![
            micros(event_times),
            Arc::new(Int64Array::from(vec![1; 4])),
            Arc::new(Float64Array::from(vec![None; 4])),
        ],
    )
    .expect("events");
    // Read at 01:00, 01:00:30, 03:45 and 09:00.
    let spine = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("k", ArrowType::Int64, false),
            Field::new(
                "ts",
                ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1; 4])),
            micros(vec![ts(60, 0), ts(60, 30), ts(225, 0), ts(540, 0)]),
        ],
    )
    .expect("spine");
    let sources = HashMap::from([("events".to_string(), vec![events])]);
    let (served, left_out) = served(&project, &sources, &spine, 10 * minute);
    assert_eq!(left_out, 0);
    let [c] = &served[..] else {
        panic!("one windowed feature")
    };
    assert_eq!((c.name.as_str(), c.slide_us), ("c", 10 * minute));
    let ints = |a: &ArrayRef| {
        a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .values()
            .to_vec()
    };
    // featc: (t - 1h, t], the event at 01:00 counted at 01:00.
    assert_eq!(ints(&c.exact), [3, 3, 0, 0]);
    // The window closed last: [00:00, 01:00) twice (01:00 not yet in it), then
    // [02:40, 03:40) and [08:00, 09:00), both empty.
    assert_eq!(ints(&c.hop), [2, 2, 0, 0]);
    // A sink keeping the key's last row: after 02:30, the last window holding an
    // event ends at 03:30 ([02:30, 03:30): one event), and stays.
    assert_eq!(ints(&c.kept), [2, 2, 1, 1]);
}
