//! `featc_key_of_<type>(packed)`: the group's key read out of its packed sort key
//! column (`sort_key`), as the key's declared type. A group with one integer key
//! carries no key column of its own (8 bytes less per event repartitioned, sorted and
//! spilled): its events are hash-partitioned by this function, which gives the same
//! values (so the same hashes, partition for partition) as the spine's typed key
//! column it is co-partitioned with.
//!
//! It is a scalar function, not an expression of featc's own, because Ballista
//! encodes a shuffle's hash expressions with DataFusion's default codec, which knows
//! only built-in expressions and functions by name: every featc session, and every
//! featc Ballista executor, registers these functions (`functions`), and featc's
//! codecs also decode them by name.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType as ArrowType, Field};
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

use super::sort_key;
use crate::ir::DataType;
use crate::row::types::arrow_type;

/// The key types `sort_key::packs` takes, one function each.
const KEY_TYPES: [DataType; 3] = [DataType::Int64, DataType::Timestamp, DataType::Date];

/// The key of a packed (key, time) column (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KeyOf {
    /// The key's declared type.
    key: DataType,
    name: String,
    signature: Signature,
}

impl KeyOf {
    fn new(key: DataType) -> KeyOf {
        KeyOf {
            key,
            name: format!("featc_key_of_{}", key.name()),
            signature: Signature::exact(vec![sort_key::SORT_KEY_TYPE], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for KeyOf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[ArrowType]) -> Result<ArrowType> {
        Ok(arrow_type(self.key))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [packed] = arrays.as_slice() else {
            return Err(DataFusionError::Internal(format!(
                "{} takes one argument",
                self.name
            )));
        };
        Ok(ColumnarValue::Array(sort_key::keys(
            packed,
            &arrow_type(self.key),
        )?))
    }
}

/// Every key function, to register in a session or an executor's registry.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    KEY_TYPES
        .iter()
        .map(|&k| Arc::new(ScalarUDF::new_from_impl(KeyOf::new(k))))
        .collect()
}

/// The key function called `name`, if it is one.
pub fn function(name: &str) -> Option<Arc<ScalarUDF>> {
    functions().into_iter().find(|f| f.name() == name)
}

/// The key of `packed` (the packed sort key column) for a key of type `key`. Built
/// with its return type given rather than checked against a schema: the type is the
/// key's, and the argument is the packed column by construction.
pub fn expr(packed: Arc<dyn PhysicalExpr>, key: DataType) -> Arc<dyn PhysicalExpr> {
    let udf = KeyOf::new(key);
    let name = udf.name.clone();
    Arc::new(ScalarFunctionExpr::new(
        &name,
        Arc::new(ScalarUDF::new_from_impl(udf)),
        vec![packed],
        Arc::new(Field::new(&name, arrow_type(key), true)),
        Arc::new(ConfigOptions::default()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::physical_expr::expressions::Column;

    #[test]
    fn a_packed_column_evaluates_to_its_keys() {
        let key: ArrayRef = Arc::new(Int64Array::from(vec![Some(-4), None, Some(9)]));
        let time: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1, 2, 3]));
        let packed = sort_key::pack(&key, &time).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new(
            sort_key::SORT_KEY_COLUMN,
            sort_key::SORT_KEY_TYPE,
            true,
        )]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![packed]).unwrap();
        let column = Arc::new(Column::new(sort_key::SORT_KEY_COLUMN, 0));
        let expr = expr(column, DataType::Int64);
        let got = expr.evaluate(&batch).unwrap().into_array(3).unwrap();
        assert_eq!(&got, &key);
        assert_eq!(expr.to_string(), "featc_key_of_int64(__sort@0)");
    }

    #[test]
    fn every_key_type_sort_key_packs_has_a_function_found_by_name() {
        let names: Vec<String> = functions().iter().map(|f| f.name().to_string()).collect();
        assert_eq!(
            names,
            [
                "featc_key_of_int64",
                "featc_key_of_timestamp",
                "featc_key_of_date"
            ]
        );
        for name in &names {
            assert_eq!(
                function(name).map(|f| f.name().to_string()).as_ref(),
                Some(name)
            );
        }
        assert!(function("featc_key_of_string").is_none());
    }
}
