//! The source of one UDF crate: `src/lib.rs` filled in from the template of its
//! kind, with the shared modules it needs (exact sums, featc's order) inline.

use featc_runtime::ir::DataType;

use super::super::udf::{UdfKind, UdfSpec};

const EXACT: &str = include_str!("../templates/exact.rs.txt");
const ORDER: &str = include_str!("../templates/order.rs.txt");
const MOMENTS: &str = include_str!("../templates/moments.rs.txt");
const SUM_INT: &str = include_str!("../templates/sum_int.rs.txt");
const MIN_MAX: &str = include_str!("../templates/min_max.rs.txt");
const COUNT_DISTINCT: &str = include_str!("../templates/count_distinct.rs.txt");
const BY_TIME: &str = include_str!("../templates/by_time.rs.txt");
const PERCENTILE: &str = include_str!("../templates/percentile.rs.txt");
const CHECKED_BINARY: &str = include_str!("../templates/checked_binary.rs.txt");
const CHECKED_NEG: &str = include_str!("../templates/checked_neg.rs.txt");

/// A spec with no UDF: featc does not define its kind over the type, or
/// arroyo-udf-plugin cannot pass that type to it. The caller reports it as a
/// diagnostic naming the feature that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedUdf {
    pub spec: UdfSpec,
    pub reason: &'static str,
}

/// One crate's code.
pub struct CrateSource {
    /// `src/lib.rs`, self-contained: Arroyo takes a UDF as one source file (its API
    /// and Web UI compile the definition themselves), so the shared modules are
    /// inline and the dependencies beyond arroyo-udf-plugin are declared in the
    /// `/* [dependencies] ... */` comment Arroyo reads.
    pub lib: String,
    /// The dependencies beyond arroyo-udf-plugin: (crate, version requirement).
    pub dependencies: &'static [(&'static str, &'static str)],
}

/// What the exact arithmetic (`exact.rs.txt`) depends on.
const EXACT_DEPENDENCIES: &[(&str, &str)] = &[("num-bigint", "0.4"), ("num-traits", "0.2")];

/// The Rust type of an argument or result of type `ty`: timestamps travel as int64
/// microseconds since the epoch (the plugin's macro takes no timestamp argument).
fn rust_type(ty: DataType) -> Option<&'static str> {
    match ty {
        DataType::Int64 | DataType::Timestamp => Some("i64"),
        DataType::Float64 => Some("f64"),
        _ => None,
    }
}

/// The code of the crate for `spec`, or why there is none.
pub fn crate_source(spec: &UdfSpec) -> Result<CrateSource, UnsupportedUdf> {
    let unsupported = |reason| UnsupportedUdf {
        spec: *spec,
        reason,
    };
    let numeric = matches!(spec.input, DataType::Int64 | DataType::Float64);
    let int = spec.input == DataType::Int64;
    if matches!(spec.input, DataType::String | DataType::Bool) {
        return Err(unsupported(
            "arroyo-udf-plugin 0.2.0 passes a UDF only numeric columns as a window's \
             values (no Vec<String> or Vec<bool>)",
        ));
    }
    let t = rust_type(spec.input).ok_or_else(|| unsupported("featc has no such input type"))?;
    let undefined = || unsupported("featc does not define it over this type");
    let (body, modules, exact): (String, Vec<(&'static str, &'static str)>, bool) = match spec.kind
    {
        UdfKind::Sum if int => (SUM_INT.to_string(), vec![], false),
        UdfKind::Sum if numeric => (
            moments(
                t,
                "f64",
                "sum",
                "The exact sum of the non-null values (Arroyo drops the \
                nulls before the call) rounded once, ties to even; `+0.0` when there are none \
                or they cancel exactly. A NaN or both infinities give NaN, one infinity that \
                infinity.",
            ),
            vec![("exact", EXACT)],
            true,
        ),
        UdfKind::Avg if numeric => (
            moments(
                t,
                "Option<f64>",
                "avg",
                "The exact sum of the non-null values (Arroyo \
                drops the nulls before the call) divided by their count, rounded once; null \
                when there are none. With a non-finite value: the sum's IEEE value divided \
                by the count.",
            ),
            vec![("exact", EXACT)],
            true,
        ),
        UdfKind::VarPop if numeric => (
            moments(
                t,
                "Option<f64>",
                "var_pop",
                "The population variance of the non-null \
                values (Arroyo drops the nulls before the call): the exact rational \
                `(n * sum(x^2) - sum(x)^2) / n^2`, rounded once; null when there are none, \
                NaN with a non-finite value.",
            ),
            vec![("exact", EXACT)],
            true,
        ),
        UdfKind::StddevPop if numeric => (
            moments(
                t,
                "Option<f64>",
                "stddev_pop",
                "The population standard deviation of \
                the non-null values (Arroyo drops the nulls before the call): the square \
                root of var_pop's exact rational, rounded once; null when there are none, \
                NaN with a non-finite value.",
            ),
            vec![("exact", EXACT)],
            true,
        ),
        UdfKind::Min => (
            select(MIN_MAX, t, "minimum", "Less"),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::Max => (
            select(MIN_MAX, t, "maximum", "Greater"),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::First => (
            select(BY_TIME, t, "smallest", "Less"),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::Last => (
            select(BY_TIME, t, "greatest", "Greater"),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::CountDistinct => (
            COUNT_DISTINCT.replace("__T__", t),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::Percentile(q) if numeric => (
            PERCENTILE
                .replace("__T__", t)
                .replace("__NUM__", &q.num().to_string())
                .replace("__DEN__", &q.den().to_string()),
            vec![("order", ORDER)],
            false,
        ),
        UdfKind::CheckedAdd if int => (checked(" + ", "checked_add"), vec![], false),
        UdfKind::CheckedSub if int => (checked(" - ", "checked_sub"), vec![], false),
        UdfKind::CheckedMul if int => (checked(" * ", "checked_mul"), vec![], false),
        UdfKind::CheckedNeg if int => (CHECKED_NEG.to_string(), vec![], false),
        _ => return Err(undefined()),
    };
    let header = format!(
        "Generated by featc: the Arroyo UDF `{name}`, featc's {what} over {ty} \
         (docs/semantics.md){timestamps}. Do not edit: `featc build --emit arroyo` \
         rewrites it.",
        name = spec.name(),
        what = kind_phrase(spec.kind),
        ty = spec.input.name(),
        timestamps = if spec.input == DataType::Timestamp {
            ", timestamps as int64 microseconds since the epoch"
        } else {
            ""
        },
    );
    let dependencies = if exact { EXACT_DEPENDENCIES } else { &[] };
    let mut lib = wrap(&header, "//! ") + "\n";
    if !dependencies.is_empty() {
        lib.push_str("/*\n[dependencies]\n");
        for (name, version) in dependencies {
            lib.push_str(&format!("{name} = \"{version}\"\n"));
        }
        lib.push_str("*/\n\n");
    }
    let mut body = body.replace("__NAME__", &spec.name());
    for (module, text) in modules {
        body = body.replace(&format!("mod {module};\n"), &inline_module(module, text));
    }
    lib.push_str(&body);
    Ok(CrateSource { lib, dependencies })
}

/// `mod NAME { TEXT }`, the text indented.
fn inline_module(name: &str, text: &str) -> String {
    let mut out = format!("mod {name} {{\n");
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

/// How a header names a kind.
fn kind_phrase(kind: UdfKind) -> String {
    match kind {
        UdfKind::Sum => "`sum`".into(),
        UdfKind::Avg => "`avg`".into(),
        UdfKind::VarPop => "`var_pop`".into(),
        UdfKind::StddevPop => "`stddev_pop`".into(),
        UdfKind::Min => "`min`".into(),
        UdfKind::Max => "`max`".into(),
        UdfKind::CountDistinct => "`count_distinct`".into(),
        UdfKind::First => "`first`".into(),
        UdfKind::Last => "`last`".into(),
        UdfKind::Percentile(q) => format!("`percentile(x, {q})`"),
        UdfKind::CheckedAdd => "int64 `+`".into(),
        UdfKind::CheckedSub => "int64 `-`".into(),
        UdfKind::CheckedMul => "int64 `*`".into(),
        UdfKind::CheckedNeg => "int64 unary `-`".into(),
    }
}

/// A moments UDF: `exact::Moments::of(&xs).finish()`.
fn moments(t: &str, ret: &str, finish: &str, doc: &str) -> String {
    let squares = matches!(finish, "var_pop" | "stddev_pop");
    MOMENTS
        .replace("__DOC__\n", &wrap(doc, "/// "))
        .replace("__T__", t)
        .replace("__RET__", ret)
        .replace("__FINISH__", finish)
        .replace("__OF__", if squares { "with_squares" } else { "of" })
}

/// A min/max/first/last UDF from `template`.
fn select(template: &str, t: &str, word: &str, preferred: &str) -> String {
    template
        .replace("__T__", t)
        .replace("__KIND__", word)
        .replace("__EXTREME__", word)
        .replace("__PREFERRED__", preferred)
}

/// A checked binary operator UDF.
fn checked(op: &str, method: &str) -> String {
    CHECKED_BINARY
        .replace(" __OP__ ", op)
        .replace("__METHOD__", method)
}

/// `text` (its words) as lines of at most 88 columns starting with `prefix`, each
/// ending with a newline.
fn wrap(text: &str, prefix: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= 88 => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(format!("{prefix}{word}")),
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}
