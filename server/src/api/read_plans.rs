//! Reads resolved once per list of names: a bounded map from what a read names (its
//! `features` list or its `feature_service`, and `full_feature_names`) to the
//! resolved features, the names the answer gives them and the read's plan.
//!
//! Clients send the same few lists again and again (a model's service, Feast's
//! benchmark body); looking up, checking and planning 32 names costs about a fifth of
//! a single-entity read's CPU. The names a server answers are fixed for its life (one
//! `Names` per `OnlineState`, one state per `App`), so a resolution stays right; a
//! list is kept only once it resolved, so a refused read is resolved (and refused)
//! again each time, with its own message. At most `CAPACITY` lists are kept: past it,
//! other lists are resolved on every read, as before there was a map.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::state::ReadPlan;

/// The most lists kept.
pub const CAPACITY: usize = 1024;

/// A read's names, resolved.
#[derive(Debug)]
pub struct Resolved {
    /// The features read, in answer order, and the entities and fields they need.
    pub plan: ReadPlan,
    /// The names the answer gives the features, in answer order.
    pub names: Vec<String>,
    /// `names` as the JSON answer lists them (strings, comma-separated), written
    /// once rather than escaped again for every read.
    pub names_json: Vec<u8>,
}

impl Resolved {
    pub fn new(plan: ReadPlan, names: Vec<String>) -> Resolved {
        let mut names_json = Vec::new();
        for (k, name) in names.iter().enumerate() {
            if k > 0 {
                names_json.push(b',');
            }
            // Writing a string into a vector cannot fail.
            let _ = serde_json::to_writer(&mut names_json, name);
        }
        Resolved {
            plan,
            names,
            names_json,
        }
    }
}

/// What a read names.
#[derive(Debug, Clone, Copy)]
pub enum Named<'a> {
    /// Features by name, in the order asked.
    Features(&'a [&'a str]),
    /// A feature service.
    Service(&'a str),
}

/// The map (see the module docs). Keys are a hash of the names; an entry keeps the
/// names it was made for, so a hash shared by two lists is never answered wrongly.
#[derive(Debug, Default)]
pub struct ReadPlans {
    entries: RwLock<HashMap<u64, Entry>>,
}

#[derive(Debug)]
struct Entry {
    full: bool,
    service: Option<Box<str>>,
    features: Vec<Box<str>>,
    resolved: Arc<Resolved>,
}

impl Entry {
    fn is(&self, named: Named<'_>, full: bool) -> bool {
        self.full == full
            && match named {
                Named::Service(s) => self.service.as_deref() == Some(s),
                Named::Features(list) => {
                    self.service.is_none()
                        && self.features.len() == list.len()
                        && self.features.iter().zip(list).all(|(a, b)| &**a == *b)
                }
            }
    }
}

fn hash(named: Named<'_>, full: bool) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&[u8::from(full)]);
    match named {
        Named::Service(s) => {
            h.update(b"s");
            h.update(s.as_bytes());
        }
        Named::Features(list) => {
            h.update(b"f");
            for name in list {
                // The length first, so that ["ab", "c"] and ["a", "bc"] differ.
                h.update(&(name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
            }
        }
    }
    h.digest()
}

impl ReadPlans {
    /// The resolution of `named` with `full`, from the map or from `resolve` (kept
    /// when it succeeds and the map has room).
    pub fn get_or_resolve<E>(
        &self,
        named: Named<'_>,
        full: bool,
        resolve: impl FnOnce() -> Result<Resolved, E>,
    ) -> Result<Arc<Resolved>, E> {
        let key = hash(named, full);
        // A poisoned lock only means a reader panicked: the map itself is whole.
        let found = {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            entries
                .get(&key)
                .filter(|e| e.is(named, full))
                .map(|e| Arc::clone(&e.resolved))
        };
        if let Some(resolved) = found {
            return Ok(resolved);
        }
        let resolved = Arc::new(resolve()?);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() < CAPACITY && !entries.contains_key(&key) {
            let (service, features) = match named {
                Named::Service(s) => (Some(s.into()), Vec::new()),
                Named::Features(list) => (None, list.iter().map(|&n| n.into()).collect()),
            };
            entries.insert(
                key,
                Entry {
                    full,
                    service,
                    features,
                    resolved: Arc::clone(&resolved),
                },
            );
        }
        Ok(resolved)
    }

    /// How many lists are kept.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn plans_made(plans: &ReadPlans, named: Named<'_>, full: bool, made: &Cell<u32>) -> usize {
        let r = plans
            .get_or_resolve::<()>(named, full, || {
                made.set(made.get() + 1);
                Ok(Resolved::new(
                    ReadPlan::empty(),
                    vec![format!("{}", made.get())],
                ))
            })
            .unwrap();
        r.names[0].parse().unwrap()
    }

    #[test]
    fn a_list_is_resolved_once_and_told_apart_from_others() {
        let plans = ReadPlans::default();
        let made = Cell::new(0);
        let ab = ["a", "b"];
        assert_eq!(plans_made(&plans, Named::Features(&ab), false, &made), 1);
        assert_eq!(plans_made(&plans, Named::Features(&ab), false, &made), 1);
        // The same names split otherwise, in another order, with full names, or as a
        // service are other reads.
        assert_eq!(
            plans_made(&plans, Named::Features(&["ab"]), false, &made),
            2
        );
        assert_eq!(
            plans_made(&plans, Named::Features(&["b", "a"]), false, &made),
            3
        );
        assert_eq!(plans_made(&plans, Named::Features(&ab), true, &made), 4);
        assert_eq!(plans_made(&plans, Named::Service("a"), false, &made), 5);
        assert_eq!(plans_made(&plans, Named::Service("a"), false, &made), 5);
        assert_eq!(plans.len(), 5);
    }

    #[test]
    fn a_refused_list_is_not_kept_and_the_map_is_bounded() {
        let plans = ReadPlans::default();
        let refused = plans.get_or_resolve::<&str>(Named::Service("x"), false, || Err("no"));
        assert_eq!(refused.unwrap_err(), "no");
        assert!(plans.is_empty());
        let made = Cell::new(0);
        let names: Vec<String> = (0..CAPACITY + 10).map(|i| format!("f{i}")).collect();
        for n in &names {
            plans_made(&plans, Named::Features(&[n.as_str()]), false, &made);
        }
        assert_eq!(plans.len(), CAPACITY);
        // A list past the bound is resolved again on every read.
        let last = [names[CAPACITY + 9].as_str()];
        let before = made.get();
        plans_made(&plans, Named::Features(&last), false, &made);
        assert_eq!(made.get(), before + 1);
    }
}
