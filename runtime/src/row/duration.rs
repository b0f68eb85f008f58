//! Durations printed as they are written (`7d`, `90m`, `1500us`): the one printer the
//! compiler's messages and listings and the server's refusals share.

/// Microseconds per printed unit, largest first. Weeks are never printed: `7d` reads
/// better than `1w`, and `14d` than `2w`.
const UNITS: [(&str, i64); 6] = [
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
    ("us", 1),
];

/// The microsecond count written with the largest unit that divides it exactly
/// (zero is `0us`), a literal the language and the CLI's flags both read back.
pub fn display(us: i64) -> String {
    for &(unit, per_unit) in &UNITS {
        if us != 0 && us % per_unit == 0 {
            return format!("{}{unit}", us / per_unit);
        }
    }
    format!("{us}us")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_the_largest_exact_unit() {
        assert_eq!(display(604_800_000_000), "7d");
        assert_eq!(display(2 * 86_400_000_000), "2d");
        assert_eq!(display(3_600_000_000), "1h");
        assert_eq!(display(90 * 60_000_000), "90m");
        assert_eq!(display(90_000_000), "90s");
        assert_eq!(display(1_500_000), "1500ms");
        assert_eq!(display(1_500), "1500us");
        assert_eq!(display(7), "7us");
        assert_eq!(display(0), "0us");
        assert_eq!(display(-2 * 3_600_000_000), "-2h");
    }
}
