//! Which characters of a long source line a diagnostic shows: windows around the
//! labels on it, at most [`WIDTH`] columns in all, so that a 10 000-character line
//! does not fill the screen and the labels are still on it.

// Lists of byte and character ranges are this module's data (one range per window or
// label), not ranges meant to be expanded.
#![allow(clippy::single_range_in_vec_init)]

use std::ops::Range;

/// The most columns of a source line shown; a longer line is cut around its labels.
pub(crate) const WIDTH: usize = 120;

/// The fewest columns a window around one of many far-apart labels gets.
const MIN_WINDOW: usize = 16;

/// The characters kept of a line whose characters take `widths` columns, as ranges
/// of character indices in increasing order: the whole line when it fits, else a
/// window around each group of labels (`focus`: character ranges on the line) that
/// fit together, widened evenly on both sides. A `…` goes at each cut (one column,
/// counted in). Without labels, the start of the line.
pub(crate) fn kept(widths: &[usize], focus: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut prefix = Vec::with_capacity(widths.len() + 1);
    prefix.push(0);
    for w in widths {
        prefix.push(prefix.last().copied().unwrap_or(0) + w);
    }
    let width = |r: &Range<usize>| prefix[r.end.min(widths.len())] - prefix[r.start.min(r.end)];
    if width(&(0..widths.len())) <= WIDTH {
        return vec![0..widths.len()];
    }
    let mut focus: Vec<Range<usize>> = focus
        .iter()
        .map(|r| r.start.min(widths.len())..r.end.min(widths.len()))
        .collect();
    focus.sort_by_key(|r| (r.start, r.end));
    if focus.is_empty() {
        focus.push(0..0);
    }
    // Labels close enough to be shown in one window go together.
    let mut groups: Vec<Range<usize>> = Vec::new();
    for r in focus {
        match groups.last_mut() {
            Some(g) if width(&(g.start..r.end.max(g.end))) <= WIDTH - 2 => g.end = g.end.max(r.end),
            _ => groups.push(r),
        }
    }
    // Each group's share of the width, less a `…` per cut (one more than groups).
    let budget = (WIDTH.saturating_sub(groups.len() + 1) / groups.len()).max(MIN_WINDOW);
    let mut windows: Vec<Range<usize>> = Vec::with_capacity(groups.len());
    for g in groups {
        let w = window(widths, g, budget);
        match windows.last_mut() {
            // Windows that meet are shown as one stretch.
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => windows.push(w),
        }
    }
    windows
}

/// The focus (or as much of it as fits from its start) widened one character at a
/// time on each side while it takes at most `budget` columns.
fn window(widths: &[usize], focus: Range<usize>, budget: usize) -> Range<usize> {
    let (mut first, mut last) = (focus.start, focus.start);
    let mut used = 0;
    while last < focus.end && used + widths[last] <= budget {
        used += widths[last];
        last += 1;
    }
    loop {
        let mut grew = false;
        if first > 0 && used + widths[first - 1] <= budget {
            first -= 1;
            used += widths[first];
            grew = true;
        }
        if last < widths.len() && used + widths[last] <= budget {
            used += widths[last];
            last += 1;
            grew = true;
        }
        if !grew {
            return first..last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_fits_is_kept_whole() {
        assert_eq!(kept(&[1; 120], &[3..4]), [0..120]);
    }

    #[test]
    fn a_long_line_keeps_a_centred_window() {
        let kept = kept(&[1; 10_000], &[5000..5006]);
        assert_eq!(kept.len(), 1);
        let w = &kept[0];
        assert_eq!(w.end - w.start, WIDTH - 2);
        assert!(w.start + 50 < 5000 && 5006 + 50 < w.end, "{w:?}");
    }

    #[test]
    fn far_apart_labels_get_a_window_each() {
        let kept = kept(&[1; 10_000], &[20..21, 9000..9010]);
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept[0].contains(&20) && kept[1].contains(&9009), "{kept:?}");
        let shown: usize = kept.iter().map(|r| r.end - r.start).sum();
        assert!(shown + 3 <= WIDTH, "{kept:?}");
    }

    #[test]
    fn a_label_wider_than_the_budget_is_kept_from_its_start() {
        let kept = kept(&[1; 1000], &[100..900]);
        assert_eq!(kept, [100..218]);
    }

    #[test]
    fn without_labels_the_start_is_kept() {
        assert_eq!(kept(&[2; 1000], &[]), [0..59]);
    }
}
