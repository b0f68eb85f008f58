//! The seed of a property test's run: fresh on every run (so CI keeps exploring instead
//! of replaying one fixed sequence that was once chosen because it passed), or the one
//! `FEATC_SEED` names; printed first, with the command that replays it, so a failing
//! run's output says how to get the same cases again. Cases that failed once are kept
//! by proptest's regressions files beside the tests and run before the fresh ones.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use proptest::test_runner::RngSeed;

/// The variable that fixes a run's seed.
pub const SEED_VARIABLE: &str = "FEATC_SEED";

/// `FEATC_SEED` when set (a bad value is a test failure, never silently a fresh seed),
/// else a fresh one; printed (to the test's captured output, which a failing test
/// shows) with `replay`, the command that runs the same test again.
pub fn run_seed(replay: &str) -> RngSeed {
    let seed = match std::env::var(SEED_VARIABLE) {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{SEED_VARIABLE}={text:?} is not a u64")),
        Err(_) => fresh(),
    };
    eprintln!("property test seed {seed}; replay: {SEED_VARIABLE}={seed} {replay}");
    RngSeed::Fixed(seed)
}

/// A seed from the OS's randomness (std's hasher keys) mixed with the time.
fn fresh() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.finish()
}
