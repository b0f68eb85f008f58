//! The typed IR as readable text: one declaration per block, expressions fully
//! parenthesized, types after names (`?` for nullable).

use crate::check::durations::display as duration;
/// A name as it would be written in a `.feat` file (backquoted when it must be).
pub(crate) use featc_grammar::ident_text as name;
use featc_runtime::ir::{
    AggKind, Aggregate, Column, Expr, ExprKind, Feature, FeatureId, FeatureKind, Literal, Meta,
    Project, View,
};
use std::fmt::Write;

/// Prints a checked project. The output depends only on the project value.
pub fn print_project(p: &Project) -> String {
    let mut out = String::new();
    for (i, f) in p.files.iter().enumerate() {
        let _ = writeln!(out, "file {i}: {f}");
    }
    for s in &p.sources {
        out.push('\n');
        docs(&mut out, &s.meta, "");
        let _ = writeln!(out, "source {}", name(&s.name));
        let _ = writeln!(out, "  time {}: timestamp", name(&s.time_column));
        columns(&mut out, &s.columns);
        if let Some(l) = &s.location {
            let _ = writeln!(out, "  file {}", quote(l));
        }
        if let Some(t) = &s.topic {
            let _ = writeln!(
                out,
                "  topic {} format {}",
                quote(&t.name),
                t.format.clause()
            );
        }
        if s.lateness_us != 0 {
            let _ = writeln!(out, "  lateness {}", duration(s.lateness_us));
        }
        if let Some(f) = s.freshness_us {
            let _ = writeln!(out, "  freshness {}", duration(f));
        }
        if s.delay_us != 0 {
            let _ = writeln!(out, "  delay {}", duration(s.delay_us));
        }
        if let Some(p) = &s.partition {
            let _ = writeln!(out, "  partition {} by {}", name(&p.key), p.unit.name());
        }
        owner_tags(&mut out, &s.meta);
    }
    for e in &p.entities {
        out.push('\n');
        docs(&mut out, &e.meta, "");
        let _ = writeln!(out, "entity {}", name(&e.name));
        for k in &e.keys {
            let _ = writeln!(out, "  key {}: {}", name(&k.name), k.ty.name());
        }
        owner_tags(&mut out, &e.meta);
    }
    for v in &p.views {
        out.push('\n');
        view(&mut out, p, v);
    }
    for r in &p.requests {
        out.push('\n');
        docs(&mut out, &r.meta, "");
        let _ = writeln!(out, "request {}", name(&r.name));
        for c in &r.fields {
            let _ = writeln!(
                out,
                "  field {}: {}",
                name(&c.name),
                ty(&c.ty.name(), c.nullable)
            );
        }
        owner_tags(&mut out, &r.meta);
    }
    for s in &p.services {
        out.push('\n');
        docs(&mut out, &s.meta, "");
        let _ = writeln!(out, "service {}", name(&s.name));
        for id in &s.features {
            let f = p.feature(*id);
            let owner = match *id {
                FeatureId::View { view, .. } => &p.views[view].name,
                FeatureId::Service { service, .. } => &p.services[service].name,
            };
            let t = ty(&f.ty.name(), p.can_be_null(*id));
            let _ = writeln!(out, "  {}.{}: {t}", name(owner), name(&f.name));
        }
        for f in &s.own {
            docs(&mut out, &f.meta, "  ");
            if let Some(d) = f.derived() {
                let t = ty(&f.ty.name(), d.expr.nullable);
                let _ = writeln!(out, "  feature {}: {t} = {}", name(&f.name), top(&d.expr));
            }
        }
        owner_tags(&mut out, &s.meta);
    }
    out
}

fn view(out: &mut String, p: &Project, v: &View) {
    docs(out, &v.meta, "");
    let sources: Vec<String> = v
        .sources()
        .map(|s| name(p.sources.get(s.0).map_or("?", |s| s.name.as_str())))
        .collect();
    let entity = p.entities.get(v.entity.0).map_or("?", |e| e.name.as_str());
    let keys: Vec<String> = v.key_columns.iter().map(|k| name(k)).collect();
    let _ = writeln!(
        out,
        "view {} from {} by {} ({})",
        name(&v.name),
        sources.join(", "),
        name(entity),
        keys.join(", ")
    );
    if let Some(f) = &v.filter {
        let _ = writeln!(out, "  where {}", top(f));
    }
    for l in &v.lets {
        let _ = writeln!(
            out,
            "  let {}: {} = {}",
            name(&l.name),
            ty(&l.expr.ty.name(), l.expr.nullable),
            top(&l.expr)
        );
    }
    for f in &v.features {
        docs(out, &f.meta, "  ");
        let f = match &f.kind {
            FeatureKind::Aggregate(a) => (f, a),
            FeatureKind::Derived(d) => {
                let t = feature_type(v, f);
                let _ = writeln!(out, "  feature {}: {t} = {}", name(&f.name), top(&d.expr));
                continue;
            }
        };
        let (f, a) = f;
        let _ = writeln!(
            out,
            "  feature {}: {} = {}",
            name(&f.name),
            feature_type(v, f),
            aggregate(a)
        );
    }
    if let Some(f) = v.freshness_us {
        let _ = writeln!(out, "  freshness {}", duration(f));
    }
    if let Some(ttl) = v.ttl_us {
        let _ = writeln!(out, "  ttl {}", duration(ttl));
    }
    owner_tags(out, &v.meta);
}

/// An aggregation as written after `=`: `sum(amount) where not food over 7d`,
/// `count(*) lifetime` (the catalog shows features this way too).
pub fn aggregate(a: &Aggregate) -> String {
    let arg = match (&a.arg, a.agg) {
        (None, AggKind::CountStar) => "*".to_string(),
        (Some(a), _) => top(a),
        (None, _) => String::new(),
    };
    let parameters = a
        .agg
        .parameters()
        .map_or(String::new(), |p| format!(", {p}"));
    let mut out = format!("{}({arg}{parameters})", a.agg.name());
    if let Some(filter) = &a.filter {
        let _ = write!(out, " where {}", top(filter));
    }
    match (a.window_us, a.events) {
        (None, None) => out.push_str(" lifetime"),
        (window, events) => {
            match (window, events) {
                (Some(w), Some(n)) => {
                    let _ = write!(out, " over {} max {n} events", duration(w));
                }
                (Some(w), None) => {
                    let _ = write!(out, " over {}", duration(w));
                }
                (None, n) => {
                    let _ = write!(out, " over {} events", n.unwrap_or_default());
                }
            }
            if a.offset_us != 0 {
                let _ = write!(out, " offset {}", duration(a.offset_us));
            }
            if a.exclusive_end {
                out.push_str(" exclusive");
            }
        }
    }
    out
}

/// A feature's output type: nullable unless empty windows give 0 and no ttl applies.
fn feature_type(v: &View, f: &Feature) -> String {
    ty(&f.ty.name(), v.can_be_null(f))
}

/// A source's declared columns, one `  column name: type` line each.
pub(crate) fn columns(out: &mut String, columns: &[Column]) {
    for c in columns {
        let _ = writeln!(
            out,
            "  column {}: {}",
            name(&c.name),
            ty(&c.ty.name(), c.nullable)
        );
    }
}

pub(crate) fn ty(name: &str, nullable: bool) -> String {
    format!("{name}{}", if nullable { "?" } else { "" })
}

/// An expression without the parentheses of its outermost operator, for where it
/// stands alone (a `where`, a `let`, an aggregation's argument).
pub fn top(e: &Expr) -> String {
    let text = expr(e);
    match &e.kind {
        ExprKind::Not(_)
        | ExprKind::Neg(_)
        | ExprKind::Binary { .. }
        | ExprKind::IsNull { .. }
        | ExprKind::InList { .. } => text[1..text.len() - 1].to_string(),
        _ => text,
    }
}

/// An expression, fully parenthesized; nulls carry their type, casts are written
/// as `float64(x)`.
#[recursive::recursive]
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        // A request field, `checkout.amount`: two names (a feature's has no dot).
        ExprKind::Column(c)
            if c == featc_runtime::ir::SOURCE_NAME_COLUMN
                || featc_runtime::ir::Lookup::is_lookup_column(c) =>
        {
            c.clone()
        }
        ExprKind::Column(c) => match c.split_once('.') {
            Some((request, field)) => format!("{}.{}", name(request), name(field)),
            None => name(c),
        },
        ExprKind::Literal(Literal::Null) => format!("null::{}", e.ty.name()),
        ExprKind::Literal(Literal::Int64(v)) => v.to_string(),
        ExprKind::Literal(Literal::Float64(v)) => format!("{v:?}"),
        ExprKind::Literal(Literal::String(s)) => quote(s),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Decimal(v)) => format!(
            "{}::{}",
            featc_runtime::row::decimal::format_decimal(
                *v,
                e.ty.decimal_parts().map_or(0, |(_, s)| s)
            ),
            e.ty.name()
        ),
        ExprKind::Cast(inner) => format!("{}({})", e.ty.name(), expr(inner)),
        ExprKind::Not(inner) => format!("(not {})", expr(inner)),
        ExprKind::Neg(inner) => format!("(-{})", expr(inner)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", expr(lhs), op.symbol(), expr(rhs))
        }
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => {
            format!(
                "({} is {}null)",
                expr(inner),
                if *negated { "not " } else { "" }
            )
        }
        ExprKind::InList {
            expr: inner,
            list,
            negated,
        } => {
            let items: Vec<String> = list.iter().map(expr).collect();
            format!(
                "({} {}in ({}))",
                expr(inner),
                if *negated { "not " } else { "" },
                items.join(", ")
            )
        }
        ExprKind::Coalesce(args) => {
            let items: Vec<String> = args.iter().map(expr).collect();
            format!("coalesce({})", items.join(", "))
        }
        ExprKind::Call { func, args } => {
            let items: Vec<String> = args.iter().map(expr).collect();
            format!("{}({})", func.name(), items.join(", "))
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            let mut s = String::from("case");
            for (c, v) in branches {
                let _ = write!(s, " when {} then {}", expr(c), expr(v));
            }
            if let Some(o) = otherwise {
                let _ = write!(s, " else {}", expr(o));
            }
            s.push_str(" end");
            s
        }
    }
}

fn docs(out: &mut String, meta: &Meta, indent: &str) {
    for line in &meta.docs {
        let _ = writeln!(out, "{indent}/// {line}");
    }
}

fn owner_tags(out: &mut String, meta: &Meta) {
    if let Some(o) = &meta.owner {
        let _ = writeln!(out, "  owner {}", quote(o));
    }
    if !meta.tags.is_empty() {
        let tags: Vec<String> = meta.tags.iter().map(|t| quote(t)).collect();
        let _ = writeln!(out, "  tags [{}]", tags.join(", "));
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
