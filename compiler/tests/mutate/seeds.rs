//! Valid projects the mutations start from: the public cases and examples, small
//! hand-written ones that use every type, every aggregation and every literal kind
//! of an `in` list, and the project that calls every row function.

/// A project: named files, in the order the compiler takes them.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    pub name: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

pub const MARKETPLACE: &str = include_str!("../../../tests/cases/marketplace/features.feat");

/// One source keyed two ways, with lets, `case`, `if`, `coalesce` and `in` lists.
pub const EVENTS: &str = "source events {
    time ts
    columns { user_id: int64  amount: float64?  items: int64?  category: string?  is_mobile: bool? }
    lateness 1m
}
entity user { key user_id: int64 }
entity pair { key (user_id: int64, category: string) }
view v from events by user {
    where amount >= 0 or amount is null
    let unit = amount / items
    let bucket = case when amount < 10 then 'small' else 'large' end
    let desktop = if(is_mobile is null, false, not is_mobile)
    feature a = avg(unit) over 7d
    feature b = count_if(bucket = 'large' and desktop) over 1d
    feature c = count(*) where category not in ('x', 'y') or -items < 0 over 1h
    feature d = last(coalesce(category, null))
    ttl 30d
}
view p from events by pair (user_id, category) { feature e = sum(items) over 1w }
service s { v.a  b  e }
";

/// Every column type, every aggregation, `in` lists of each literal kind, a key read
/// from a differently named column and a timestamp column.
pub const LIMITS: &str = "source events {
    time ts
    columns {
        k: int64
        who: int64
        s: string?
        x: float64?
        n: int64?
        b: bool?
        at: timestamp?
    }
    lateness 10s
}
entity item { key k: int64 }
entity person { key id: int64 }
entity pair { key (k: int64, s: string) }
view v from events by item {
    where x is null or x > -1e300
    let y = x * 2.5
    let big = n in (1, 2, 3, 9223372036854775807)
    let tag = case when s in ('a', 'b', 'é') then 'ab' else coalesce(s, '') end
    feature v_sum = sum(y) where x in (0.5, 1.5, -2.25) over 1h
    feature v_n = sum(n) over 1d
    feature v_big = count_if(big) over 7d
    feature v_tags = count_distinct(tag) over 30d
    feature v_first = first(tag) over 1m
    feature v_max_at = max(at)
    feature v_min = min(x)
    feature v_var = var_pop(n) over 2d
    feature v_sd = stddev_pop(x) over 3h
    feature v_count = count(s) over 10s
    feature v_last_b = last(b)
    feature v_recent = last_k(tag, 3) over 1h
    feature v_first_at = first_k(at, 2) over 1d
    feature v_top_x = top_k(x, 2)
    ttl 5d
}
view w from events by person (who) {
    feature w_count = count(*) over 1d
    feature w_avg = avg(n) where b over 1h
}
view p from events by pair (k, s) {
    feature p_count = count(*) over 1d
    feature p_max = max(x)
}
service all { v_sum  w_count  p_count }
";

/// The smallest project with data: one source, one entity, one feature.
pub const TINY: &str = "source e { time ts columns { k: int64  v: float64? } }
entity u { key k: int64 }
view t from e by u {
    let w = v + 1
    feature f = sum(w) over 1h
}
";

/// A view over two sources with different time columns and columns, `source()` in
/// every place an expression stands, and a count window over the union.
pub const UNION: &str = "source payments {
    time ts
    columns { user_id: int64  amount: float64?  shop: string }
    lateness 30s
}
source logins {
    time login_at
    columns { user_id: int64  device: string?  shop: string? }
}
entity user { key user_id: int64 }
view activity from payments, logins by user {
    where source() = 'logins' or amount > 0
    let spent = coalesce(amount, 0.0)
    feature events_1h = count(*) over 1h
    feature logins_1h = count_if(source() = 'logins') over 1h
    feature spent_1d = sum(spent) over 1d
    feature shops_7d = count_distinct(shop) where device is null over 7d
    feature last_sources = last_k(source(), 3) over 3 events
    feature last_login = max(login_at)
    ttl 30d
}
service u { events_1h  logins_1h  last_sources }
";

/// Every row function, in every place an expression stands.
pub const FUNCTIONS: &str = include_str!("../../../tests/functions/functions.feat");

pub const FRAUD_SOURCES: &str = include_str!("../../../examples/fraud/sources.feat");
pub const FRAUD_FEATURES: &str = include_str!("../../../examples/fraud/features.feat");

pub const PROJECTS: &[Seed] = &[
    Seed {
        name: "fraud",
        files: &[
            ("examples/fraud/features.feat", FRAUD_FEATURES),
            ("examples/fraud/sources.feat", FRAUD_SOURCES),
        ],
    },
    Seed {
        name: "marketplace",
        files: &[("tests/cases/marketplace/features.feat", MARKETPLACE)],
    },
    Seed {
        name: "events",
        files: &[("events.feat", EVENTS)],
    },
    Seed {
        name: "limits",
        files: &[("limits.feat", LIMITS)],
    },
    Seed {
        name: "tiny",
        files: &[("tiny.feat", TINY)],
    },
    Seed {
        name: "union",
        files: &[("union.feat", UNION)],
    },
    Seed {
        name: "functions",
        files: &[("tests/functions/functions.feat", FUNCTIONS)],
    },
];
