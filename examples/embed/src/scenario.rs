//! The events of the example: a few card payments and logins around `NOW`, chosen so
//! that the reads show a windowed count, a view filter, a composite key, window decay,
//! a stale (ttl) view and an unknown entity.

use crate::events::{Login, Txn, DAY, HOUR, MINUTE};

/// The time of the main read: 2024-03-31T12:00:00Z.
pub const NOW: i64 = 1_711_886_400_000_000;

/// Payments, in two batches as they would arrive: the second batch holds one payment
/// a little older than the first batch's newest (within the source's 5m lateness).
pub fn payments() -> [Vec<Txn>; 2] {
    let t = |ts, user_id, merchant_id, amount, category, is_mobile| Txn {
        ts,
        user_id,
        merchant_id,
        amount,
        category,
        is_mobile,
    };
    [
        vec![
            t(
                NOW - 40 * DAY,
                8,
                "m_books",
                Some(15.0),
                "retail",
                Some(false),
            ),
            t(
                NOW - 3 * DAY,
                7,
                "m_books",
                Some(80.0),
                "retail",
                Some(false),
            ),
            t(
                NOW - 50 * MINUTE,
                7,
                "m_grocer",
                Some(12.5),
                "grocery",
                Some(true),
            ),
            t(
                NOW - 5 * MINUTE,
                7,
                "m_cafe",
                Some(40.0),
                "dining",
                Some(true),
            ),
        ],
        vec![
            // Arrives after the 5-minutes-ago payment but happened before it (within
            // the 5m lateness, so it is not even counted as late).
            t(NOW - 8 * MINUTE, 7, "m_travel", Some(250.0), "travel", None),
            // A payment with no amount still counts for count(*).
            t(NOW - 2 * MINUTE, 7, "m_shop", None, "online", Some(true)),
            // A refund: dropped by the view's `where amount is null or amount >= 0`.
            t(
                NOW - MINUTE,
                7,
                "m_travel",
                Some(-30.0),
                "travel",
                Some(false),
            ),
        ],
    ]
}

/// Logins: user 7 last logged in 20 days ago (its login view has `ttl 14d`).
pub fn login_events() -> Vec<Login> {
    let l = |ts, user_id, success, country| Login {
        ts,
        user_id,
        success,
        country,
    };
    vec![
        l(NOW - 20 * DAY, 7, false, "NL"),
        l(NOW - 2 * HOUR, 8, false, "US"),
        l(NOW - HOUR, 8, true, "US"),
    ]
}
