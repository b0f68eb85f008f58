//! Codecs that let a featc batch plan travel between processes (a Ballista client,
//! its scheduler and its executors): `FeatcLogicalCodec` for the `PointInTime` node,
//! `FeatcPhysicalCodec` for `GroupInputExec`, `GroupPruneExec`, `GroupSpineExec`,
//! `GroupMergeExec` and `AssembleExec`, both for featc's source functions (`io::udf::SourceFunction`).
//!
//! Invariants:
//! - A node is encoded as `MAGIC` followed by the JSON of its plan pieces (the feature
//!   plan is serde data; the workspace's `serde_json` round-trips floats exactly), never
//!   its children: datafusion-proto encodes those and hands them back, decoded, to
//!   `try_decode`. Decoding rebuilds the node with its constructor, so a decoded node
//!   is checked (`Plan::validate`, `GroupPlan::validate`) and compiles its expressions
//!   for the process that runs it. Decoding what encoding gave yields a node that
//!   computes the same bits.
//! - What is not featc's goes to the inner codec, every method of the trait (Ballista's
//!   codecs must see their own nodes, file formats and shuffles): encoding delegates
//!   what it does not recognise; decoding delegates bytes without `MAGIC`. `MAGIC`
//!   starts with a byte no protobuf message starts with (field 8, wire type 6, which
//!   does not exist), so featc's bytes and the inner codec's never collide.
//! - Bad bytes are an error, never a panic (the JSON is read without a recursion
//!   limit on a stack that grows, as deep plans need; `serde_stacker`).
//!
//! `runtime` knows nothing of Ballista: the inner codecs are given by the caller
//! (`featc-ballista` wraps Ballista's).

use std::any::Any;
use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, Extension, HigherOrderUDF, LogicalPlan, ScalarUDF, WindowUDF,
};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};

use super::assemble_exec::AssembleExec;
use super::input_exec::GroupInputExec;
use super::key_of;
use super::merge_exec::GroupMergeExec;
use super::node::PointInTime;
use super::prune_exec::GroupPruneExec;
use super::spine_exec::GroupSpineExec;
use crate::io::udf::SourceFunction;
use crate::plan::{GroupPlan, Plan};

/// The first bytes of everything featc's codecs encode (see the module docs).
const MAGIC: &[u8] = b"FEATC\x01";

/// A featc node or function, as encoded after `MAGIC`.
#[derive(Serialize, Deserialize)]
enum Encoded {
    PointInTime {
        spine_time: String,
        plan: Plan,
    },
    GroupInput {
        group: GroupPlan,
    },
    GroupPrune {
        group: GroupPlan,
    },
    GroupSpine {
        group: GroupPlan,
        spine_time: String,
    },
    GroupMerge {
        index: usize,
        group: GroupPlan,
    },
    Assemble {
        plan: Plan,
        spine_time: String,
        /// The output schema as an Arrow IPC stream without batches (exact, metadata
        /// included).
        schema: Vec<u8>,
    },
    Function(SourceFunction),
}

fn encode(what: &Encoded, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(MAGIC);
    serde_json::to_writer(buf, what)
        .map_err(|e| DataFusionError::Internal(format!("featc codec: cannot encode: {e}")))
}

/// The featc node or function in `buf`; None when `buf` is not featc's.
fn decode(buf: &[u8]) -> Option<Result<Encoded>> {
    let json = buf.strip_prefix(MAGIC)?;
    let bad = |e: serde_json::Error| {
        DataFusionError::Plan(format!("featc codec: not a featc plan node: {e}"))
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    de.disable_recursion_limit();
    let decoded = Encoded::deserialize(serde_stacker::Deserializer::new(&mut de))
        .map_err(bad)
        .and_then(|e| de.end().map(|()| e).map_err(bad));
    Some(decoded)
}

fn schema_bytes(schema: &Schema) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut writer = StreamWriter::try_new(&mut buf, schema)?;
    writer.finish()?;
    drop(writer);
    Ok(buf)
}

fn schema_from_bytes(bytes: &[u8]) -> Result<SchemaRef> {
    Ok(StreamReader::try_new(Cursor::new(bytes), None)?.schema())
}

fn checked<T, E: std::fmt::Display>(what: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| DataFusionError::Plan(format!("featc codec: a decoded {what} is invalid: {e}")))
}

fn wrong(what: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "featc codec: bytes of a {what} where another node was expected"
    ))
}

/// Encodes `PointInTime` nodes and featc's source functions; delegates the rest to
/// `inner` (see the module docs).
#[derive(Debug)]
pub struct FeatcLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl FeatcLogicalCodec {
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> FeatcLogicalCodec {
        FeatcLogicalCodec { inner }
    }
}

impl LogicalExtensionCodec for FeatcLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        let Some(decoded) = decode(buf) else {
            return self.inner.try_decode(buf, inputs, ctx);
        };
        let Encoded::PointInTime { spine_time, plan } = decoded? else {
            return Err(wrong("function"));
        };
        let Some((spine, groups)) = inputs.split_first() else {
            return Err(DataFusionError::Plan(
                "featc codec: PointInTime without inputs".into(),
            ));
        };
        let node = PointInTime::try_new(spine.clone(), spine_time, groups.to_vec(), plan)?;
        Ok(Extension {
            node: Arc::new(node),
        })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        match node.node.as_any().downcast_ref::<PointInTime>() {
            Some(pit) => encode(
                &Encoded::PointInTime {
                    spine_time: pit.spine_time.clone(),
                    plan: pit.plan.clone(),
                },
                buf,
            ),
            None => self.inner.try_encode(node, buf),
        }
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        match SourceFunction::of(node) {
            Some(f) => encode(&Encoded::Function(f), buf),
            None => self.inner.try_encode_udf(node, buf),
        }
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.inner.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

/// A featc source function from its bytes, or a key function (`key_of`, encoded by
/// name only) from its name; None when they are not featc's.
fn decode_udf(name: &str, buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    if let Some(f) = key_of::function(name).filter(|_| buf.is_empty()) {
        return Some(Ok(f));
    }
    Some(decode(buf)?.and_then(|decoded| match decoded {
        Encoded::Function(f) if f.udf().name() == name => Ok(f.udf()),
        Encoded::Function(_) => Err(DataFusionError::Plan(format!(
            "featc codec: the bytes of function `{name}` describe another function"
        ))),
        _ => Err(wrong("plan node")),
    }))
}

/// Encodes featc's five physical operators and its source functions; delegates the
/// rest to `inner` (see the module docs).
#[derive(Debug)]
pub struct FeatcPhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl FeatcPhysicalCodec {
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> FeatcPhysicalCodec {
        FeatcPhysicalCodec { inner }
    }
}

/// The one input of a one-input node.
fn only(inputs: &[Arc<dyn ExecutionPlan>], node: &str) -> Result<Arc<dyn ExecutionPlan>> {
    match inputs {
        [one] => Ok(Arc::clone(one)),
        _ => Err(DataFusionError::Plan(format!(
            "featc codec: {node} has one input, got {}",
            inputs.len()
        ))),
    }
}

fn decode_exec(
    decoded: Encoded,
    inputs: &[Arc<dyn ExecutionPlan>],
) -> Result<Arc<dyn ExecutionPlan>> {
    Ok(match decoded {
        Encoded::GroupInput { group } => {
            checked("group", group.validate())?;
            let input = only(inputs, "GroupInputExec")?;
            Arc::new(GroupInputExec::try_new(Arc::new(group), input)?)
        }
        Encoded::GroupPrune { group } => {
            checked("group", group.validate())?;
            let [events, spine] = inputs else {
                return Err(DataFusionError::Plan(format!(
                    "featc codec: GroupPruneExec has two inputs, got {}",
                    inputs.len()
                )));
            };
            Arc::new(GroupPruneExec::try_new(
                Arc::new(group),
                Arc::clone(events),
                Arc::clone(spine),
            )?)
        }
        Encoded::GroupSpine { group, spine_time } => {
            checked("group", group.validate())?;
            let input = only(inputs, "GroupSpineExec")?;
            Arc::new(GroupSpineExec::try_new(Arc::new(group), spine_time, input)?)
        }
        Encoded::GroupMerge { index, group } => {
            checked("group", group.validate())?;
            let [events, spine] = inputs else {
                return Err(DataFusionError::Plan(format!(
                    "featc codec: GroupMergeExec has two inputs, got {}",
                    inputs.len()
                )));
            };
            Arc::new(GroupMergeExec::try_new(
                index,
                Arc::new(group),
                Arc::clone(events),
                Arc::clone(spine),
            )?)
        }
        Encoded::Assemble {
            plan,
            spine_time,
            schema,
        } => {
            checked("plan", plan.validate())?;
            let schema = schema_from_bytes(&schema)?;
            Arc::new(AssembleExec::try_new(
                Arc::new(plan),
                spine_time,
                schema,
                inputs.to_vec(),
            )?)
        }
        Encoded::PointInTime { .. } => return Err(wrong("logical node")),
        Encoded::Function(_) => return Err(wrong("function")),
    })
}

/// `node` as featc encodes it, when it is one of featc's operators.
fn encoded_exec(node: &dyn ExecutionPlan) -> Result<Option<Encoded>> {
    let any: &dyn Any = node;
    if let Some(n) = any.downcast_ref::<GroupInputExec>() {
        return Ok(Some(Encoded::GroupInput {
            group: n.group().as_ref().clone(),
        }));
    }
    if let Some(n) = any.downcast_ref::<GroupPruneExec>() {
        return Ok(Some(Encoded::GroupPrune {
            group: n.group().as_ref().clone(),
        }));
    }
    if let Some(n) = any.downcast_ref::<GroupSpineExec>() {
        return Ok(Some(Encoded::GroupSpine {
            group: n.group().as_ref().clone(),
            spine_time: n.spine_time().to_string(),
        }));
    }
    if let Some(n) = any.downcast_ref::<GroupMergeExec>() {
        return Ok(Some(Encoded::GroupMerge {
            index: n.index(),
            group: n.group().as_ref().clone(),
        }));
    }
    if let Some(n) = any.downcast_ref::<AssembleExec>() {
        return Ok(Some(Encoded::Assemble {
            plan: n.plan().as_ref().clone(),
            spine_time: n.spine_time().to_string(),
            schema: schema_bytes(&n.schema())?,
        }));
    }
    Ok(None)
}

impl PhysicalExtensionCodec for FeatcPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode(buf) {
            Some(decoded) => decode_exec(decoded?, inputs),
            None => self.inner.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        match encoded_exec(node.as_ref())? {
            Some(encoded) => encode(&encoded, buf),
            None => self.inner.try_encode(node, buf, proto_converter),
        }
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        match SourceFunction::of(node) {
            Some(f) => encode(&Encoded::Function(f), buf),
            None => self.inner.try_encode_udf(node, buf),
        }
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.inner.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
    use datafusion_proto::physical_plan::{
        DefaultPhysicalExtensionCodec, DefaultPhysicalProtoConverter,
    };

    fn logical() -> FeatcLogicalCodec {
        FeatcLogicalCodec::new(Arc::new(DefaultLogicalExtensionCodec {}))
    }

    fn physical() -> FeatcPhysicalCodec {
        FeatcPhysicalCodec::new(Arc::new(DefaultPhysicalExtensionCodec {}))
    }

    /// Bytes that start like featc's but are not, and bytes that are not featc's at
    /// all (left to the inner codec, which refuses them): errors, never panics.
    #[test]
    fn bad_bytes_are_errors() {
        let ctx = TaskContext::default();
        let mut bad: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"junk".to_vec(),
            MAGIC.to_vec(),
            [MAGIC, b"{".as_slice()].concat(),
            [MAGIC, b"{\"GroupInput\":{\"group\":1}}".as_slice()].concat(),
            [MAGIC, b"{\"Nope\":{}}".as_slice()].concat(),
            [MAGIC, b"[".repeat(100_000).as_slice()].concat(),
        ];
        // A function's bytes where a node is expected, and the other way around.
        let mut function = Vec::new();
        encode(
            &Encoded::Function(SourceFunction::UtcMicros {
                source: "s".into(),
                column: "ts".into(),
                epoch: None,
            }),
            &mut function,
        )
        .unwrap();
        bad.push(function.clone());
        for buf in &bad {
            assert!(logical().try_decode(buf, &[], &ctx).is_err());
            let converter = DefaultPhysicalProtoConverter {};
            assert!(physical().try_decode(buf, &[], &ctx, &converter).is_err());
        }
        assert!(physical().try_decode_udf("other_name", &function).is_err());
        assert!(logical()
            .try_decode_udf("featc_utc_micros", b"junk")
            .is_err());
    }

    #[test]
    fn source_functions_round_trip() {
        let functions = [
            SourceFunction::UtcMicros {
                source: "events".into(),
                column: "ts".into(),
                epoch: Some(crate::ir::EpochUnit::Seconds),
            },
            SourceFunction::Require {
                source: "events".into(),
                column: "amount".into(),
                context_name: Some("ts".into()),
            },
            SourceFunction::Require {
                source: "events".into(),
                column: "ts".into(),
                context_name: None,
            },
            SourceFunction::Parse {
                source: "events".into(),
                column: "amount".into(),
                ty: crate::ir::DataType::Float64,
                time_name: "ts".into(),
            },
            SourceFunction::InPartition {
                source: "events".into(),
                partition: crate::ir::TimePartition {
                    key: "day".into(),
                    unit: crate::ir::PartitionUnit::Day,
                },
            },
        ];
        for f in functions {
            let udf = f.udf();
            let mut buf = Vec::new();
            physical().try_encode_udf(&udf, &mut buf).unwrap();
            let back = physical().try_decode_udf(udf.name(), &buf).unwrap();
            assert_eq!(SourceFunction::of(&back), Some(f.clone()));
            assert_eq!(back.as_ref(), udf.as_ref());
            let mut buf = Vec::new();
            logical().try_encode_udf(&udf, &mut buf).unwrap();
            let back = logical().try_decode_udf(udf.name(), &buf).unwrap();
            assert_eq!(SourceFunction::of(&back), Some(f));
        }
    }

    #[test]
    fn schemas_round_trip_with_metadata() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new(
                "t",
                DataType::Timestamp(
                    datafusion::arrow::datatypes::TimeUnit::Microsecond,
                    Some("UTC".into()),
                ),
                false,
            ),
        ])
        .with_metadata([("k".to_string(), "v".to_string())].into());
        let back = schema_from_bytes(&schema_bytes(&schema).unwrap()).unwrap();
        assert_eq!(back.as_ref(), &schema);
        assert!(schema_from_bytes(b"junk").is_err());
    }
}
