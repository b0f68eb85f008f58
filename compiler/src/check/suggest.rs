//! "Did you mean" suggestions: the closest known name to a misspelt one.

/// The candidate closest to `name`, if it is close enough to be a plausible typo
/// (edit distance at most a third of the name's length, and at least 1). Ties go to
/// the first candidate, so suggestions are deterministic.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = strsim::damerau_levenshtein(name, candidate);
        let close = distance <= limit || candidate.eq_ignore_ascii_case(name);
        if close && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(
            closest("amout", ["user_id", "amount"]),
            Some("amount".into())
        );
        assert_eq!(closest("sum", ["avg", "summ"]), Some("summ".into()));
        assert_eq!(closest("zzzzzz", ["amount"]), None);
        assert_eq!(closest("Amount", ["amount"]), Some("amount".into()));
    }
}
