//! Feature vectors read from the runtime as the hashes the layout writes: the one
//! place both `materialize` and the live sink turn state into Redis writes.

use featc_runtime::stream::{Selection, StreamError, StreamRuntime};
use featc_runtime::value::Value;

use super::layout::{HashPlan, HashWrite};

/// The hash of `plan` for each of `keys` (keys of `plan.entity`), read at `at`.
pub fn read_hashes(
    rt: &mut StreamRuntime,
    plan: &HashPlan,
    prefix: &str,
    keys: &[Vec<Value>],
    at: i64,
    out: &mut Vec<(String, HashWrite)>,
) -> Result<(), StreamError> {
    let selection = Selection::Indices(&plan.features);
    for key in keys {
        let vector = rt.get_keys(&[(plan.entity.as_str(), key)], &selection, at)?;
        out.push((plan.key(prefix, key), plan.encode(&vector)));
    }
    Ok(())
}
