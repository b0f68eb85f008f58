//! One string or bool column's accumulator: the count of every distinct value (held in
//! memory: the limit for a column of many distinct values, docs/stats.md), finished
//! as the top values.

use std::collections::HashMap;

use datafusion::arrow::array::{BooleanArray, StringArray};

use super::types::{CategoricalStats, ValueCount};

/// How many top values the statistics keep (and a baseline's PSI bins are made of).
pub const TOP: usize = 10;

#[derive(Debug, Default)]
pub struct CategoricalAcc {
    counts: HashMap<String, u64>,
}

impl CategoricalAcc {
    pub fn add_strings(&mut self, a: &StringArray) {
        for v in a.iter().flatten() {
            match self.counts.get_mut(v) {
                Some(c) => *c += 1,
                None => {
                    self.counts.insert(v.to_string(), 1);
                }
            }
        }
    }

    pub fn add_bools(&mut self, a: &BooleanArray) {
        for v in a.iter().flatten() {
            *self.counts.entry(v.to_string()).or_insert(0) += 1;
        }
    }

    /// The statistics and every value's count (what a drift's current side is binned
    /// from).
    pub fn finish(self) -> (CategoricalStats, HashMap<String, u64>) {
        let mut all: Vec<(&String, u64)> = self.counts.iter().map(|(v, &c)| (v, c)).collect();
        // Count descending, then value ascending (bytes of the UTF-8): a stable order.
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let top: Vec<ValueCount> = all
            .iter()
            .take(TOP)
            .map(|(v, c)| ValueCount {
                value: (*v).clone(),
                count: *c,
            })
            .collect();
        let total: u64 = all.iter().map(|(_, c)| c).sum();
        let in_top: u64 = top.iter().map(|v| v.count).sum();
        let stats = CategoricalStats {
            distinct: all.len() as u64,
            top,
            other: total - in_top,
        };
        (stats, self.counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_values_by_count_then_value() {
        let mut acc = CategoricalAcc::default();
        acc.add_strings(&StringArray::from(vec![
            Some("b"),
            Some("a"),
            None,
            Some("c"),
            Some("c"),
            Some("b"),
        ]));
        let (s, _) = acc.finish();
        let top: Vec<(&str, u64)> = s.top.iter().map(|v| (v.value.as_str(), v.count)).collect();
        // b and c tie at 2: b first by value.
        assert_eq!(top, vec![("b", 2), ("c", 2), ("a", 1)]);
        assert_eq!((s.distinct, s.other), (3, 0));
    }
}
