//! A fingerprint of each feature's meaning, transitively: what `featc serve` records
//! in its served log (`MEANINGS_KEY`) so that `featc audit` can tell a value that
//! differs because the definition changed since the serve from a wrong one. Two
//! features' fingerprints are equal exactly when `featc diff` would call neither
//! changed: the meaning's canonical JSON, and the fingerprints of the features it
//! reads (a derived feature) or looks up (an aggregation), by name.

use std::collections::{BTreeMap, HashMap};

use featc_runtime::ir::Project;

use super::meaning::{definitions, Body, Definition};
use crate::lower::groups::GroupingError;

/// Every feature's fingerprint by its project-wide name: 32 hex digits (xxh3, 128
/// bits, stable across versions and platforms).
pub fn fingerprints(project: &Project) -> Result<BTreeMap<String, String>, GroupingError> {
    let (order, defs) = definitions(project)?;
    let mut memo: HashMap<String, u128> = HashMap::new();
    let mut out = BTreeMap::new();
    for name in &order {
        let print = fingerprint(name, &defs, &mut memo, 0);
        out.insert(name.clone(), format!("{print:032x}"));
    }
    Ok(out)
}

/// What a served log records of `project` (`featc serve --log-served`, the embedded
/// store's `log_served`): its features' fingerprints under `MEANINGS_KEY`.
pub fn served_log_metadata(project: &Project) -> Result<Vec<(String, String)>, GroupingError> {
    let prints = fingerprints(project)?;
    Ok(vec![(
        featc_runtime::stats::MEANINGS_KEY.to_string(),
        serde_json::to_string(&prints).unwrap_or_default(),
    )])
}

/// Deeper than any chain of reads a checked project has (they form no cycle, E0053);
/// past it a name hashes as itself alone.
const MAX_DEPTH: usize = 256;

fn fingerprint(
    name: &str,
    defs: &BTreeMap<String, Definition>,
    memo: &mut HashMap<String, u128>,
    depth: usize,
) -> u128 {
    if let Some(&known) = memo.get(name) {
        return known;
    }
    let Some(def) = defs.get(name).filter(|_| depth < MAX_DEPTH) else {
        return xxhash_rust::xxh3::xxh3_128(name.as_bytes());
    };
    let mut text = serde_json::to_string(&def.meaning).unwrap_or_default();
    let reads: Vec<&str> = match &def.meaning.body {
        Body::Derived(d) => d.reads.iter().map(String::as_str).collect(),
        Body::Aggregate(a) => a.lookups.iter().map(|l| l.feature.as_str()).collect(),
    };
    for read in reads {
        let print = fingerprint(read, defs, memo, depth + 1);
        text.push_str(&format!("\n{read}={print:032x}"));
    }
    let print = xxhash_rust::xxh3::xxh3_128(text.as_bytes());
    memo.insert(name.to_string(), print);
    print
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceFile;

    fn project(text: &str) -> Project {
        let files = [SourceFile {
            name: "p.feat".into(),
            text: text.into(),
        }];
        crate::compile(&files).expect("compiles")
    }

    const BASE: &str = r#"
source s {
    time ts
    columns { u: int64  x: float64 }
    file "s.csv"
}
entity user { key u: int64 }
view v from s by user {
    feature n = count(*) over 7d
    feature m = sum(x) over 7d
}
service api {
    n
    m
    feature both = n + m
}
"#;

    #[test]
    fn a_change_reaches_what_reads_it_and_nothing_else() {
        let before = fingerprints(&project(BASE)).unwrap_or_default();
        let after = fingerprints(&project(&BASE.replace("sum(x) over 7d", "sum(x) over 8d")))
            .unwrap_or_default();
        assert_eq!(before.len(), 3, "{before:?}");
        assert_eq!(before.get("n"), after.get("n"));
        assert_ne!(before.get("m"), after.get("m"));
        assert_ne!(before.get("both"), after.get("both"), "reads m");
        let documented = fingerprints(&project(
            &BASE.replace("    feature n", "    /// Counted.\n    feature n"),
        ))
        .unwrap_or_default();
        assert_eq!(before, documented, "a doc comment changes no value");
    }
}
