//! `featc materialize --to redis://`: every known entity's hash of every service (or
//! of the chosen ones), as of one time, written from a runtime that holds the history.

use featc_runtime::stream::StreamRuntime;

use super::layout::{HashPlan, Packed, Scratch};
use super::store::{RedisError, RedisStore, Written, HASHES_PER_ROUND_TRIP};
use super::vectors::read_hashes;

/// Writes the hash of every key of every plan's entity at `at` (`rt` must hold every
/// event with `ts <= at`, and may hold no later one for the values to be as of `at`).
/// `progress(done, total)` is called after each round trip.
pub fn materialize(
    rt: &StreamRuntime,
    plans: &[HashPlan],
    at: i64,
    store: &mut RedisStore,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Written, RedisError> {
    let prefix = store.target().prefix.clone();
    let rt = rt.reader();
    let keyed = plans
        .iter()
        .map(|p| Ok((p, rt.entity_keys(&p.entity)?)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(RedisError::Read)?;
    let total: u64 = keyed.iter().map(|(_, k)| k.len() as u64).sum();
    let mut done = Written::default();
    let mut hashes = Packed::default();
    let mut scratch = Scratch::default();
    for (plan, keys) in &keyed {
        for chunk in keys.chunks(HASHES_PER_ROUND_TRIP * 4) {
            hashes.clear();
            read_hashes(&rt, plan, &prefix, chunk, at, &mut scratch, &mut hashes)
                .map_err(RedisError::Read)?;
            let chunk_done = store.write(&hashes)?;
            done.written += chunk_done.written;
            done.deleted += chunk_done.deleted;
            progress(done.written + done.deleted, total);
        }
    }
    Ok(done)
}
