//! The constants of bench/peers/gen.py's data, which this generator must reproduce.

pub const START_US: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
pub const DAY_US: i64 = 86_400_000_000;
pub const SPAN_US: i64 = 60 * DAY_US;
pub const WINDOWS_US: [i64; 4] = [3_600_000_000, DAY_US, 7 * DAY_US, 30 * DAY_US];
pub const CATEGORIES: [&str; 8] = [
    "grocery", "fuel", "travel", "dining", "online", "pharmacy", "cash", "gaming",
];
pub const CATEGORY_P: [f64; 8] = [0.30, 0.15, 0.05, 0.20, 0.15, 0.07, 0.05, 0.03];

/// Zipf-Mandelbrot rank weights `1 / (rank + Q)^S`, ranks from 1.
pub const ZIPF_Q: f64 = 20.0;
pub const ZIPF_S: f64 = 1.0;

/// Row shares: (user, ts) copies, null amounts, null categories, mobile, null mobile.
pub const COPY_P: f64 = 0.02;
pub const AMOUNT_NULL_P: f64 = 0.02;
pub const CATEGORY_NULL_P: f64 = 0.01;
pub const MOBILE_P: f64 = 0.4;
pub const MOBILE_NULL_P: f64 = 0.01;
/// lognormal(mean, sigma) of the amounts, before rounding to cents.
pub const AMOUNT_MEAN: f64 = 3.0;
pub const AMOUNT_SIGMA: f64 = 1.2;

/// Spine rows per kind, in gen.py's SPINE_MIX order (which is the order of the draws).
pub const SPINE_MIX: [(SpineKind, f64); 10] = [
    (SpineKind::AtEvent, 0.10),
    (SpineKind::AtTie, 0.05),
    (SpineKind::EdgeExcluded, 0.15),
    (SpineKind::EdgeInside, 0.05),
    (SpineKind::EdgeOutside, 0.05),
    (SpineKind::AfterExpiry, 0.10),
    (SpineKind::AbsentUser, 0.05),
    (SpineKind::DuplicateRow, 0.01),
    (SpineKind::RandomWeighted, 0.24),
    (SpineKind::RandomUniform, 0.20),
];
/// Uniform event sample kept per spine row, and tied rows kept per spine row.
pub const SPINE_POOL: usize = 10;
pub const SPINE_TIES: usize = 2;
pub const LABEL_P: f64 = 0.1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SpineKind {
    AtEvent,
    AtTie,
    EdgeExcluded,
    EdgeInside,
    EdgeOutside,
    AfterExpiry,
    AbsentUser,
    DuplicateRow,
    RandomWeighted,
    RandomUniform,
}
