//! featc's plan codecs (`featc_runtime::batch::codec`) on the public cases: a case's
//! physical plan, encoded to bytes and decoded again (datafusion-proto with
//! `FeatcPhysicalCodec`), computes the training set of the plan itself bit for bit;
//! so does its logical plan (the spine read from an Arrow IPC copy, as on Ballista)
//! through `FeatcLogicalCodec`. Damaged bytes are errors, never panics.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use featc_runtime::batch::{self, codec};
use featc_runtime::io::{self, SpineFile};
use featc_test_support::batch::config;
use featc_test_support::project::compile_dir;

fn logical_codec() -> codec::FeatcLogicalCodec {
    codec::FeatcLogicalCodec::new(Arc::new(DefaultLogicalExtensionCodec {}))
}

fn physical_codec() -> codec::FeatcPhysicalCodec {
    codec::FeatcPhysicalCodec::new(Arc::new(DefaultPhysicalExtensionCodec {}))
}

/// A case bound in a session: everything but its spine's table.
struct Case {
    project: featc::ir::Project,
    plan: featc_runtime::plan::Plan,
    tables: HashMap<String, Arc<dyn TableProvider>>,
    spine: io::Spine,
}

/// The same steps as `job::training_set`.
async fn bind(ctx: &SessionContext, case: &str) -> Case {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = compile_dir(&dir);
    let features = project.all_features();
    let plan = featc::lower::groups::plan_groups(&project, &features).unwrap();
    let tables = io::bind_sources(ctx, &project, &plan, &Default::default())
        .await
        .unwrap();
    let keys = io::spine_keys(&project, &features);
    let spine = io::read_spine(&dir.join("spine.parquet"), &keys, "ts")
        .await
        .unwrap();
    Case {
        project,
        plan,
        tables,
        spine,
    }
}

/// The case's logical plan over `spine`.
fn lower(case: &Case, spine: Arc<dyn TableProvider>) -> LogicalPlan {
    let table_of = |s: &featc::ir::Source| provider_as_source(Arc::clone(&case.tables[&s.name]));
    featc::lower::batch::lower_plan(
        &case.project,
        case.plan.clone(),
        &table_of,
        provider_as_source(spine),
        "ts",
    )
    .unwrap()
}

async fn run(ctx: &SessionContext, plan: Arc<dyn ExecutionPlan>) -> RecordBatch {
    let schema = plan.schema();
    let batches = collect(plan, ctx.task_ctx()).await.unwrap();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

/// The table as Arrow IPC bytes: equal bytes are equal types, values and bits.
fn ipc(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    out
}

/// Every way `bytes` is damaged inside featc's part (cut short, a character
/// replaced) decodes to an error or to some plan, never to a panic.
fn damaged(bytes: &[u8]) -> Vec<Vec<u8>> {
    let magic = b"FEATC\x01";
    let starts: Vec<usize> = (0..bytes.len().saturating_sub(magic.len()))
        .filter(|&i| &bytes[i..i + magic.len()] == magic)
        .collect();
    assert!(!starts.is_empty(), "no featc node in the encoded plan");
    let mut out = Vec::new();
    for &s in &starts {
        for offset in [0, 3, 6, 7, 20, 50, 200] {
            if let Some(b) = bytes.get(s + offset) {
                let mut d = bytes.to_vec();
                d[s + offset] = b.wrapping_add(1);
                out.push(d);
            }
        }
        out.push(bytes[..s + 10].to_vec());
    }
    out
}

async fn physical_round_trip(case: &str) {
    let ctx = batch::session_context(config(None));
    let bound = bind(&ctx, case).await;
    let logical = lower(&bound, bound.spine.provider().unwrap());
    let physical = ctx.state().create_physical_plan(&logical).await.unwrap();
    let bytes =
        physical_plan_to_bytes_with_extension_codec(Arc::clone(&physical), &physical_codec())
            .unwrap();
    let decoded =
        physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &physical_codec())
            .unwrap();
    let expected = run(&ctx, physical).await;
    let actual = run(&ctx, decoded).await;
    assert!(expected.num_rows() > 0);
    assert!(
        ipc(&actual) == ipc(&expected),
        "{case}: the decoded plan computes other bits"
    );
    for d in damaged(&bytes) {
        let _ =
            physical_plan_from_bytes_with_extension_codec(&d, &ctx.task_ctx(), &physical_codec());
    }
}

async fn logical_round_trip(case: &str) {
    let ctx = batch::session_context(config(None));
    // The spine as the Ballista path ships it: an Arrow IPC copy.
    let bound = bind(&ctx, case).await;
    // Under the test binary's temporary directory; the file's folder goes when dropped.
    let file = SpineFile::write(
        &bound.spine,
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
    .unwrap();
    let options = ArrowReadOptions {
        schema: Some(bound.spine.schema.as_ref()),
        ..ArrowReadOptions::default()
    };
    let spine = ctx
        .read_arrow(file.path().to_string_lossy().to_string(), options)
        .await
        .unwrap()
        .into_view();
    let logical = lower(&bound, spine);
    // What a Ballista client sends: the plan once analyzed (views inlined) and
    // optimized by featc's session.
    let logical = ctx.state().optimize(&logical).unwrap();
    let bytes = logical_plan_to_bytes_with_extension_codec(&logical, &logical_codec()).unwrap();
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &logical_codec())
            .unwrap();
    let expected = ctx.state().create_physical_plan(&logical).await.unwrap();
    let actual = ctx.state().create_physical_plan(&decoded).await.unwrap();
    let (expected, actual) = (run(&ctx, expected).await, run(&ctx, actual).await);
    assert!(expected.num_rows() > 0);
    assert!(
        ipc(&actual) == ipc(&expected),
        "{case}: the decoded plan computes other bits"
    );
    for d in damaged(&bytes) {
        let _ = logical_plan_from_bytes_with_extension_codec(&d, &ctx.task_ctx(), &logical_codec());
    }
    drop(file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn physical_plans_round_trip() {
    for case in ["synthetic", "marketplace"] {
        physical_round_trip(case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logical_plans_round_trip() {
    for case in ["synthetic", "marketplace"] {
        logical_round_trip(case).await;
    }
}

#[tokio::test]
async fn bad_bytes_are_errors() {
    let ctx = SessionContext::new();
    for bytes in [&b""[..], b"\x00", b"junk", b"FEATC\x01{}"] {
        // An empty message decodes to an empty plan node, which is refused too.
        assert!(physical_plan_from_bytes_with_extension_codec(
            bytes,
            &ctx.task_ctx(),
            &physical_codec()
        )
        .is_err());
        assert!(logical_plan_from_bytes_with_extension_codec(
            bytes,
            &ctx.task_ctx(),
            &logical_codec()
        )
        .is_err());
    }
}
