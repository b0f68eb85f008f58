//! Feature vectors read from the runtime for the hashes the layout writes: the one
//! place both `materialize` and the live sink read the state for Redis.

use featc_runtime::stream::{FeatureVector, Keys, Read, Selection, StreamError};
use featc_runtime::value::Value;

use super::layout::{HashPlan, Packed, Scratch};
use featc_runtime::stream::StreamReader;

/// The vector of `plan`'s features for `key` (a key of `plan.entity`) at `at`.
pub fn read_vector(
    rt: &StreamReader,
    plan: &HashPlan,
    key: &[Value],
    at: i64,
) -> Result<FeatureVector, StreamError> {
    let keys = [(plan.entity.as_str(), key)];
    rt.read(&Read::new(
        Keys::ByEntity(&keys),
        Selection::Indices(&plan.features),
        at,
    ))
}

/// The hash of `plan` for each of `keys`, read at `at`, packed into `out`.
pub fn read_hashes(
    rt: &StreamReader,
    plan: &HashPlan,
    prefix: &str,
    keys: &[Vec<Value>],
    at: i64,
    scratch: &mut Scratch,
    out: &mut Packed,
) -> Result<(), StreamError> {
    for key in keys {
        let vector = read_vector(rt, plan, key, at)?;
        plan.pack(prefix, key, &vector, scratch, out);
    }
    Ok(())
}
