//! The byte ranges of a Parquet file split across a scan's partitions, moved to
//! row-group boundaries so that each partition reads a fair share of the file's rows.
//!
//! To read one large file in parallel, DataFusion cuts it into byte ranges of equal
//! length, and a partition reads the row groups whose first page *starts* inside its
//! range. The cuts ignore where row groups start: in a file of two equal row groups
//! the second one starts a little before the middle (the footer follows the data), so
//! both land in the first range and the second partition reads nothing. One core then
//! decodes and evaluates every event while the other waits (1e7 events written by
//! `gen`, two row groups: about a third of the run). `cut_at_row_groups` reads the
//! footer of each file a scan splits (through the session's metadata cache, which the
//! scan then reads it from) and moves every cut to the row-group start that divides
//! the file's rows in the proportions the byte cuts meant. Which rows a partition
//! reads changes, never which rows are read: the ranges still tile the file.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::Result;
use datafusion::datasource::listing::{FileRange, PartitionedFile};
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::parquet::file::metadata::ParquetMetaData;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use object_store::path::Path;
use object_store::ObjectMeta;

/// `plan` with the ranges of every Parquet file one of its scans splits cut at
/// row-group starts (`recut`). A file whose footer cannot be read keeps its ranges:
/// the scan then reports the error as it would have.
pub async fn cut_at_row_groups(
    ctx: &SessionContext,
    plan: Arc<dyn ExecutionPlan>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let split = split_files(&plan)?;
    if split.is_empty() {
        return Ok(plan);
    }
    let runtime = ctx.runtime_env();
    let cache = runtime.cache_manager.get_file_metadata_cache();
    let mut row_groups: HashMap<Path, Vec<RowGroup>> = HashMap::new();
    for (url, meta) in split {
        let Ok(store) = runtime.object_store(&url) else {
            continue;
        };
        let read = DFParquetMetadata::new(store.as_ref(), &meta)
            .with_file_metadata_cache(Some(Arc::clone(&cache)))
            .fetch_metadata()
            .await;
        if let Ok(footer) = read {
            row_groups.insert(meta.location.clone(), row_groups_of(&footer));
        }
    }
    plan.transform_up(|node| {
        let Some(scan) = node.downcast_ref::<DataSourceExec>() else {
            return Ok(Transformed::no(node));
        };
        let Some((config, _)) = scan.downcast_to_file_source::<ParquetSource>() else {
            return Ok(Transformed::no(node));
        };
        let Some(groups) = recut_groups(config, &row_groups) else {
            return Ok(Transformed::no(node));
        };
        let mut config = config.clone();
        config.file_groups = groups;
        let scan = scan.clone().with_data_source(Arc::new(config));
        Ok(Transformed::yes(Arc::new(scan) as Arc<dyn ExecutionPlan>))
    })
    .map(|t| t.data)
}

/// A row group as a range reads it: where its first page starts, and its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowGroup {
    start: i64,
    rows: u64,
}

/// The row groups of a file's footer, each starting where DataFusion's range test
/// looks: its first column's dictionary page, or its first data page.
fn row_groups_of(footer: &ParquetMetaData) -> Vec<RowGroup> {
    footer
        .row_groups()
        .iter()
        .filter_map(|g| {
            let first = g.columns().first()?;
            let start = first
                .dictionary_page_offset()
                .unwrap_or_else(|| first.data_page_offset());
            Some(RowGroup {
                start,
                rows: g.num_rows().max(0) as u64,
            })
        })
        .collect()
}

/// The Parquet files the scans of `plan` read in more than one range, once each.
fn split_files(plan: &Arc<dyn ExecutionPlan>) -> Result<Vec<(ObjectStoreUrl, ObjectMeta)>> {
    let mut found: Vec<(ObjectStoreUrl, ObjectMeta)> = Vec::new();
    plan.apply(|node| {
        if let Some((config, _)) = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|scan| scan.downcast_to_file_source::<ParquetSource>())
        {
            for file in config.file_groups.iter().flat_map(|g| g.iter()) {
                if file.range.is_some()
                    && !found
                        .iter()
                        .any(|(_, m)| m.location == file.object_meta.location)
                {
                    found.push((config.object_store_url.clone(), file.object_meta.clone()));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(found)
}

/// `config`'s file groups with the ranges of each file in `row_groups` recut, or
/// `None` when no range changes.
fn recut_groups(
    config: &FileScanConfig,
    row_groups: &HashMap<Path, Vec<RowGroup>>,
) -> Option<Vec<FileGroup>> {
    // Every range of each file, as (group, index in the group, range).
    let mut pieces: HashMap<&Path, Vec<(usize, usize, FileRange)>> = HashMap::new();
    for (g, group) in config.file_groups.iter().enumerate() {
        for (i, file) in group.iter().enumerate() {
            if let Some(range) = &file.range {
                if row_groups.contains_key(&file.object_meta.location) {
                    pieces.entry(&file.object_meta.location).or_default().push((
                        g,
                        i,
                        range.clone(),
                    ));
                }
            }
        }
    }
    let mut moved: HashMap<(usize, usize), FileRange> = HashMap::new();
    for (path, mut ranges) in pieces {
        ranges.sort_by_key(|(_, _, r)| (r.start, r.end));
        let old: Vec<(i64, i64)> = ranges.iter().map(|(_, _, r)| (r.start, r.end)).collect();
        let Some(new) = recut(&old, &row_groups[path]) else {
            continue;
        };
        for ((g, i, _), (start, end)) in ranges.iter().zip(new) {
            moved.insert((*g, *i), FileRange { start, end });
        }
    }
    if moved.is_empty() {
        return None;
    }
    let groups = config
        .file_groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let files: Vec<PartitionedFile> = group
                .iter()
                .enumerate()
                .map(|(i, file)| {
                    let mut file = file.clone();
                    if let Some(range) = moved.get(&(g, i)) {
                        file.range = Some(range.clone());
                    }
                    file
                })
                .collect();
            // The group's statistics stay as DataFusion estimated them: the plan is
            // made, and they were an estimate for a byte range already.
            let regrouped = FileGroup::new(files);
            match group.file_statistics(None) {
                Some(stats) => regrouped.with_statistics(Arc::new(stats.clone())),
                None => regrouped,
            }
        })
        .collect();
    Some(groups)
}

/// The ranges `old` (contiguous, in file order) with each inner cut moved to a
/// row-group start: the one whose rows before it come nearest to the share of the
/// rows the old cut's bytes meant. The outer ends stay, so the ranges still tile the
/// same bytes, and a row group starts in exactly one of them. `None` when `old` is
/// not contiguous, names no row group, or nothing moves.
fn recut(old: &[(i64, i64)], row_groups: &[RowGroup]) -> Option<Vec<(i64, i64)>> {
    let (lo, hi) = (old.first()?.0, old.last()?.1);
    let contiguous = old.windows(2).all(|w| w[0].1 == w[1].0) && old.iter().all(|r| r.0 <= r.1);
    let inside: Vec<RowGroup> = row_groups
        .iter()
        .copied()
        .filter(|g| lo <= g.start && g.start < hi)
        .collect();
    if !contiguous || inside.is_empty() || hi <= lo {
        return None;
    }
    let total: u64 = inside.iter().map(|g| g.rows).sum();
    // before[b]: the rows of the row groups before the b-th.
    let before: Vec<u64> = std::iter::once(0)
        .chain(inside.iter().scan(0u64, |sum, g| {
            *sum += g.rows;
            Some(*sum)
        }))
        .collect();
    let mut cuts = Vec::with_capacity(old.len() + 1);
    cuts.push(lo);
    let mut b = 0;
    for &(_, end) in &old[..old.len() - 1] {
        let share = (end - lo) as f64 / (hi - lo) as f64;
        let target = share * total as f64;
        let distance = |b: usize| (before[b] as f64 - target).abs();
        while b < inside.len() && distance(b + 1) < distance(b) {
            b += 1;
        }
        cuts.push(match inside.get(b) {
            Some(g) => g.start.max(lo),
            None => hi,
        });
    }
    cuts.push(hi);
    let new: Vec<(i64, i64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    (new != old).then_some(new)
}

#[cfg(test)]
mod tests {
    use super::{recut, RowGroup};

    fn groups(of: &[(i64, u64)]) -> Vec<RowGroup> {
        of.iter()
            .map(|&(start, rows)| RowGroup { start, rows })
            .collect()
    }

    #[test]
    fn two_equal_row_groups_go_one_to_each_range() {
        // `gen`'s 1e7 events: the second row group starts just before the byte middle.
        let row_groups = groups(&[(4, 5_000_000), (56_894_919, 5_000_000)]);
        let old = [(0, 56_909_438), (56_909_438, 113_818_875)];
        assert_eq!(
            recut(&old, &row_groups),
            Some(vec![(0, 56_894_919), (56_894_919, 113_818_875)])
        );
    }

    #[test]
    fn cuts_follow_rows_not_bytes() {
        // Four ranges over row groups of 1, 1, 4 and 2 rows (8 in all): the cuts
        // aim at 2, 4 and 6 rows; the nearest boundaries have 2, 2 (or 6) and 6.
        let row_groups = groups(&[(10, 1), (20, 1), (30, 4), (90, 2)]);
        let old = [(0, 25), (25, 50), (50, 75), (75, 100)];
        let new = recut(&old, &row_groups).expect("moved");
        assert_eq!(new.first().map(|r| r.0), Some(0));
        assert_eq!(new.last().map(|r| r.1), Some(100));
        assert!(new.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 <= w[0].1));
        // Every row group starts in exactly one range.
        for g in &row_groups {
            let holding = new.iter().filter(|r| r.0 <= g.start && g.start < r.1);
            assert_eq!(holding.count(), 1, "{g:?} in {new:?}");
        }
        assert_eq!(new, vec![(0, 30), (30, 30), (30, 90), (90, 100)]);
    }

    #[test]
    fn nothing_moves_when_the_cuts_already_fall_between_row_groups() {
        let row_groups = groups(&[(0, 10), (50, 10)]);
        assert_eq!(recut(&[(0, 50), (50, 100)], &row_groups), None);
    }

    #[test]
    fn gaps_and_files_without_row_groups_are_left_alone() {
        let row_groups = groups(&[(0, 10), (50, 10)]);
        assert_eq!(recut(&[(0, 40), (45, 100)], &row_groups), None);
        assert_eq!(recut(&[(0, 50), (50, 100)], &[]), None);
        assert_eq!(recut(&[], &row_groups), None);
    }

    #[test]
    fn more_ranges_than_row_groups_leave_some_empty() {
        let row_groups = groups(&[(4, 100)]);
        let new = recut(&[(0, 30), (30, 60), (60, 90)], &row_groups).expect("moved");
        assert_eq!(new, vec![(0, 4), (4, 90), (90, 90)]);
    }
}
