//! The text tables of `featc stats` and `featc drift`: fixed columns, numbers in a
//! short stable form (the JSON keeps every digit).

use std::fmt::Write;

use super::drift::DriftReport;
use super::types::{FeatureStats, Num, TableStats};

/// A number in at most 6 significant digits, without trailing zeros; integers as
/// they are.
fn num(n: Num) -> String {
    match n {
        Num::Int(i) => i.to_string(),
        Num::Float(x) => float(x),
    }
}

fn float(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    if !x.is_finite() {
        return x.to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{x:.5e}");
    }
    let decimals = (5 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn percent(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), float)
}

/// Rows of cells as a table: the first column left-aligned, the others right-aligned
/// (the last one left-aligned too when it is text, `text_last`), two spaces apart.
fn table(out: &mut String, rows: &[Vec<String>], text_last: bool) {
    let columns = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else if text_last && i + 1 == r.len() {
                line.push_str("  ");
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn numeric_row(f: &FeatureStats) -> Option<Vec<String>> {
    let n = f.numeric.as_ref()?;
    let mut row = vec![f.name.clone(), f.ty.clone(), percent(f.fill_rate)];
    row.push(n.min.map_or("-".to_string(), num));
    for q in &n.quantiles {
        row.push(num(q.value));
    }
    if n.quantiles.is_empty() {
        row.extend(std::iter::repeat_n("-".to_string(), 7));
    }
    row.push(n.max.map_or("-".to_string(), num));
    row.push(opt(n.mean));
    row.push(opt(n.stddev));
    row.push(n.nan.to_string());
    row.push((n.pos_inf + n.neg_inf).to_string());
    Some(row)
}

fn categorical_row(f: &FeatureStats) -> Option<Vec<String>> {
    let c = f.categorical.as_ref()?;
    let top: Vec<String> = c
        .top
        .iter()
        .map(|v| format!("{:?} {}", v.value, v.count))
        .collect();
    let mut top = top.join(", ");
    if c.other > 0 {
        let _ = write!(top, ", other {}", c.other);
    }
    Some(vec![
        f.name.clone(),
        f.ty.clone(),
        percent(f.fill_rate),
        c.distinct.to_string(),
        top,
    ])
}

/// `featc stats`' text output.
pub fn render_stats(s: &TableStats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} rows, {} features",
        s.table,
        s.rows,
        s.features.len()
    );
    let head = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let mut numeric = vec![head(&[
        "feature", "type", "fill", "min", "p1", "p5", "p25", "p50", "p75", "p95", "p99", "max",
        "mean", "stddev", "nan", "inf",
    ])];
    numeric.extend(s.features.iter().filter_map(numeric_row));
    if numeric.len() > 1 {
        out.push('\n');
        table(&mut out, &numeric, false);
    }
    let mut categorical = vec![head(&["feature", "type", "fill", "distinct", "top values"])];
    categorical.extend(s.features.iter().filter_map(categorical_row));
    if categorical.len() > 1 {
        out.push('\n');
        table(&mut out, &categorical, true);
    }
    if !s.skipped.is_empty() {
        out.push('\n');
        for k in &s.skipped {
            let _ = writeln!(out, "skipped `{}` ({}): {}", k.column, k.ty, k.reason);
        }
    }
    out
}

/// `featc drift`'s text output.
pub fn render_drift(r: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "baseline: {}", r.baseline);
    let _ = writeln!(out, "current:  {}", r.current);
    let _ = writeln!(
        out,
        "drift when PSI > {} or KS > {}",
        float(r.thresholds.psi),
        float(r.thresholds.ks)
    );
    let mut rows = vec![[
        "feature",
        "type",
        "fill baseline",
        "fill current",
        "PSI",
        "KS",
        "",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect::<Vec<_>>()];
    for f in &r.features {
        let mut flag = if f.drifted { "DRIFT" } else { "" }.to_string();
        if let Some(note) = &f.note {
            if !flag.is_empty() {
                flag.push(' ');
            }
            flag.push_str(&format!("({note})"));
        }
        rows.push(vec![
            f.name.clone(),
            f.ty.clone(),
            percent(f.baseline_fill_rate),
            percent(f.current_fill_rate),
            f.psi.map_or("-".to_string(), |p| format!("{p:.4}")),
            f.ks.map_or("-".to_string(), |k| format!("{k:.4}")),
            flag,
        ]);
    }
    out.push('\n');
    table(&mut out, &rows, true);
    if !r.only_in_baseline.is_empty() {
        let _ = writeln!(
            out,
            "\nonly in the baseline: {}",
            r.only_in_baseline.join(", ")
        );
    }
    if !r.only_in_current.is_empty() {
        let _ = writeln!(
            out,
            "\nonly in the current table: {}",
            r.only_in_current.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n{} of {} features drifted",
        r.drifted(),
        r.features.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_short_and_stable() {
        assert_eq!(float(0.1 + 0.2), "0.3");
        assert_eq!(float(1234.5678), "1234.57");
        assert_eq!(float(-2.0), "-2");
        assert_eq!(float(1e-7), "1.00000e-7");
        assert_eq!(float(0.0), "0");
    }
}
