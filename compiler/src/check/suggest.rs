//! "Did you mean" suggestions: the closest known name to a misspelt one.
//!
//! The work is bounded so that `check` stays linear in the size of a project however
//! it is misspelt: names longer than `MAX_COMPARED` characters are not compared,
//! candidates whose length differs by more than the allowed distance are skipped
//! without computing it, and one check spends at most `BUDGET` units (a candidate
//! looked at, or a cell of an edit-distance table) on suggestions; past that, errors
//! come without a suggestion. The budget is per thread and reset by `reset_budget` at
//! the start of each check, so the same input always gets the same suggestions.

use std::cell::Cell;

/// Names compared for suggestions are at most this long (in characters).
const MAX_COMPARED: usize = 64;
/// Units one check may spend on suggestions (about a tenth of a second).
const BUDGET: u64 = 20_000_000;

thread_local! {
    static LEFT: Cell<u64> = const { Cell::new(BUDGET) };
}

/// Gives the current thread's check a fresh suggestion budget.
pub fn reset_budget() {
    LEFT.with(|left| left.set(BUDGET));
}

/// Takes `units` from the budget; false (taking nothing) when it is spent.
fn spend(units: u64) -> bool {
    LEFT.with(|left| match left.get().checked_sub(units) {
        Some(rest) => {
            left.set(rest);
            true
        }
        None => false,
    })
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo
/// (edit distance at most a third of the name's length, and at least 1). Ties go to
/// the first candidate, so suggestions are deterministic.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let length = name.chars().count();
    if length > MAX_COMPARED {
        return None;
    }
    let limit = (length / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if !spend(1) {
            break;
        }
        if candidate == name {
            continue;
        }
        let other = candidate.chars().count();
        let same_letters = other == length && candidate.eq_ignore_ascii_case(name);
        if !same_letters && (other.abs_diff(length) > limit || other > MAX_COMPARED) {
            continue;
        }
        if !spend((length * other) as u64) {
            break;
        }
        let distance = strsim::damerau_levenshtein(name, candidate);
        let close = distance <= limit || same_letters;
        if close && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::{closest, reset_budget, MAX_COMPARED};

    #[test]
    fn suggests_near_names_only() {
        reset_budget();
        assert_eq!(
            closest("amout", ["user_id", "amount"]),
            Some("amount".into())
        );
        assert_eq!(closest("sum", ["avg", "summ"]), Some("summ".into()));
        assert_eq!(closest("zzzzzz", ["amount"]), None);
        assert_eq!(closest("Amount", ["amount"]), Some("amount".into()));
    }

    #[test]
    fn long_names_and_far_lengths_are_not_compared() {
        reset_budget();
        let long = "a".repeat(MAX_COMPARED + 1);
        let near = format!("{long}b");
        assert_eq!(closest(&long, [near.as_str()]), None);
        assert_eq!(closest("amount", ["amount_in_cents_total"]), None);
    }

    #[test]
    fn a_spent_budget_gives_no_suggestion_instead_of_time() {
        reset_budget();
        let names: Vec<String> = (0..2_000_000).map(|i| format!("column_{i}")).collect();
        let many = || names.iter().map(String::as_str);
        for _ in 0..20 {
            closest("column_x", many());
        }
        assert_eq!(closest("amout", ["amount"]), None, "the budget is spent");
        reset_budget();
        assert_eq!(closest("amout", ["amount"]), Some("amount".into()));
    }
}
