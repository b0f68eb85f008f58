//! The source lines one diagnostic shows, made safe and short: only the lines its
//! labels need, control characters shown as visible symbols (`escape`), and long
//! lines cut around the labels (`cut`) with `…` on each cut side. Label offsets are
//! moved into the shown text so that carets stay under what they mark; line and
//! column numbers still name the original file.

use super::{cut, escape};
use std::ops::Range;

/// Marks the side where a long line was cut.
const CUT: char = '…';

/// The lines codespan shows around labels besides the labelled lines themselves: its
/// `Config` values, passed in so that exactly those lines are prepared.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// Lines before a label's first line and after its last line.
    pub before: usize,
    pub after: usize,
    /// Lines shown after the first line and before the last line of a multi-line label.
    pub start: usize,
    pub end: usize,
}

/// One original line as shown.
#[derive(Debug)]
struct ShownLine {
    /// The line's index in the original text (0-based).
    index: usize,
    /// Where it is in the shown text, without its newline.
    range: Range<usize>,
    /// The original line's characters kept, as (byte offset in the original text,
    /// byte offset in the shown text, index on the line: columns count characters).
    kept: Vec<(usize, usize, usize)>,
    /// Where the last kept character ends, in the shown text and as an index.
    kept_end: (usize, usize),
}

/// The shown text of one file for one diagnostic.
#[derive(Debug)]
pub(crate) struct Excerpt {
    text: String,
    /// By increasing index (and so by increasing position in `text`).
    lines: Vec<ShownLine>,
}

/// Where each line of `text` starts (the first at 0; a line after a final newline
/// counts, as an empty last line).
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

impl Excerpt {
    /// Prepares the lines that `marks` (the labels' byte ranges in `text`, on
    /// character boundaries; its lines start at `starts`) need shown; returns the
    /// excerpt and each mark's range in its text.
    pub(crate) fn new(
        text: &str,
        starts: &[usize],
        marks: &[Range<usize>],
        context: Context,
    ) -> (Excerpt, Vec<Range<usize>>) {
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let last_line = starts.len().saturating_sub(1);
        let mut wanted: Vec<usize> = Vec::new();
        for mark in marks {
            let (first, last) = (line_of(mark.start), line_of(mark.end));
            wanted.extend(first.saturating_sub(context.before)..=first);
            wanted.extend(last..=(last + context.after).min(last_line));
            if first != last {
                wanted.extend(first + 1..=(first + context.start).min(last));
                wanted.extend(last.saturating_sub(context.end).max(first)..last);
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        // codespan also shows a lone unlabelled line between two shown lines rather
        // than a `·` break.
        let gaps: Vec<usize> = wanted
            .windows(2)
            .filter(|w| w[1] == w[0] + 2)
            .map(|w| w[0] + 1)
            .collect();
        wanted.extend(gaps);
        wanted.sort_unstable();

        let mut excerpt = Excerpt {
            text: String::new(),
            lines: Vec::with_capacity(wanted.len()),
        };
        for index in wanted {
            let start = starts.get(index).copied().unwrap_or(text.len());
            let end = starts.get(index + 1).map_or(text.len(), |next| next - 1);
            let content = &text[start..end];
            // A CRLF line's CR is part of its ending, not of what it shows.
            let content = content.strip_suffix('\r').unwrap_or(content);
            let focus = focus(marks, start, start + content.len());
            excerpt.push_line(index, start, content, &focus);
        }
        let ranges = marks
            .iter()
            .map(|m| {
                let from = excerpt.shown(line_of(m.start), m.start);
                let to = excerpt.shown(line_of(m.end), m.end);
                from..to.max(from)
            })
            .collect();
        (excerpt, ranges)
    }

    /// Appends the original line `index` (its `content` starts at byte `start`), cut
    /// around the byte ranges `focus` when it is too long.
    fn push_line(&mut self, index: usize, start: usize, content: &str, focus: &[Range<usize>]) {
        let chars: Vec<(usize, char)> = content
            .char_indices()
            .map(|(i, c)| (start + i, c))
            .collect();
        let widths: Vec<usize> = chars.iter().map(|&(_, c)| escape::shown_width(c)).collect();
        // The focus in characters: from the first one a range touches to past its last
        // (at least one, as codespan draws at least one caret).
        let char_at = |offset: usize| chars.partition_point(|&(o, _)| o < offset);
        let focus: Vec<Range<usize>> = focus
            .iter()
            .map(|r| {
                let a = char_at(r.start);
                a..char_at(r.end).max(a + 1).min(chars.len())
            })
            .collect();
        let line_start = self.text.len();
        let mut kept = Vec::new();
        let mut end = 0;
        for window in cut::kept(&widths, &focus) {
            if window.start > end {
                self.text.push(CUT);
            }
            for (i, &(offset, c)) in chars.iter().enumerate().take(window.end).skip(window.start) {
                kept.push((offset, self.text.len(), i));
                escape::push_shown(c, &mut self.text);
            }
            end = window.end;
        }
        let kept_end = (self.text.len(), end);
        if end < chars.len() {
            self.text.push(CUT);
        }
        let range = line_start..self.text.len();
        self.text.push('\n');
        self.lines.push(ShownLine {
            index,
            range,
            kept,
            kept_end,
        });
    }

    /// Where the original byte `offset` (on line `index`) is in the shown text: a
    /// position cut away moves to the nearest kept one.
    fn shown(&self, index: usize, offset: usize) -> usize {
        let Some(line) = self.line(index) else {
            return self.text.len();
        };
        let i = line.kept.partition_point(|&(o, ..)| o < offset);
        match line.kept.get(i) {
            Some(&(_, shown, _)) => shown,
            None => line.kept_end.0,
        }
    }

    fn line(&self, index: usize) -> Option<&ShownLine> {
        self.lines
            .binary_search_by_key(&index, |l| l.index)
            .ok()
            .and_then(|i| self.lines.get(i))
    }

    /// The shown text (shown lines only, each ending in a newline).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The original index of the line holding the shown byte `shown`.
    pub(crate) fn line_index(&self, shown: usize) -> usize {
        let i = self.lines.partition_point(|l| l.range.start <= shown);
        self.lines.get(i.saturating_sub(1)).map_or(0, |l| l.index)
    }

    /// Where the original line `index` is in the shown text: its range when it is
    /// shown, an empty range when it exists but is not shown (codespan asks for the
    /// lines inside a multi-line label and shows only some), `None` past the end.
    pub(crate) fn line_range(&self, index: usize, line_count: usize) -> Option<Range<usize>> {
        match self.line(index) {
            Some(line) => Some(line.range.clone()),
            None if index < line_count => Some(self.text.len()..self.text.len()),
            None => None,
        }
    }

    /// The 1-based column, in characters of the original line, of the shown byte
    /// `shown` on line `index`.
    pub(crate) fn column(&self, index: usize, shown: usize) -> usize {
        let Some(line) = self.line(index) else {
            return 1;
        };
        let i = line.kept.partition_point(|&(_, s, _)| s < shown);
        match line.kept.get(i) {
            Some(&(.., column)) => column + 1,
            None => line.kept_end.1 + 1,
        }
    }
}

/// The byte ranges of the labels on the line spanning `start..end`, which a cut
/// keeps in view. A multi-line label counts by its end that lies on the line.
fn focus(marks: &[Range<usize>], start: usize, end: usize) -> Vec<Range<usize>> {
    let on_line = |offset: usize| (start..=end).contains(&offset);
    marks
        .iter()
        .filter_map(|m| match (on_line(m.start), on_line(m.end)) {
            (true, true) => Some(m.clone()),
            (true, false) => Some(m.start..m.start),
            (false, true) => Some(m.end.saturating_sub(1).max(start)..m.end),
            (false, false) => None,
        })
        .collect()
}

#[cfg(test)]
// The marks are lists of label ranges, however many there are.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    const CONTEXT: Context = Context {
        before: 0,
        after: 0,
        start: 3,
        end: 1,
    };

    fn excerpt(text: &str, marks: &[Range<usize>]) -> (Excerpt, Vec<Range<usize>>) {
        Excerpt::new(text, &line_starts(text), marks, CONTEXT)
    }

    #[test]
    fn short_lines_are_kept_whole_with_controls_shown() {
        let text = "a\nb \u{1b}[31m c\nd\n";
        let (ex, ranges) = excerpt(text, &[4..9]);
        assert_eq!(ex.text(), "b \u{241b}[31m c\n");
        assert_eq!(&ex.text()[ranges[0].clone()], "\u{241b}[31m");
        assert_eq!(ex.line_index(ranges[0].start), 1);
        assert_eq!(ex.column(1, ranges[0].start), 3);
        assert_eq!(ex.line_range(0, 4), Some(ex.text().len()..ex.text().len()));
        assert_eq!(ex.line_range(4, 4), None);
    }

    #[test]
    fn long_lines_are_cut_around_the_label() {
        let line = format!("{}target{}", "x".repeat(5000), "y".repeat(5000));
        let (ex, ranges) = excerpt(&line, &[5000..5006]);
        let shown = ex.text().trim_end_matches('\n');
        assert!(shown.starts_with(CUT) && shown.ends_with(CUT), "{shown}");
        assert_eq!(shown.chars().count(), cut::WIDTH);
        assert_eq!(&ex.text()[ranges[0].clone()], "target");
        assert_eq!(ex.column(0, ranges[0].start), 5001);
    }

    #[test]
    fn a_label_at_the_start_or_end_of_a_long_line_cuts_one_side() {
        let line = "z".repeat(1000);
        let (ex, _) = excerpt(&line, &[0..1]);
        assert!(!ex.text().starts_with(CUT) && ex.text().ends_with("…\n"));
        let (ex, ranges) = excerpt(&line, &[1000..1000]);
        assert!(ex.text().starts_with(CUT) && !ex.text().ends_with("…\n"));
        assert_eq!(ex.column(0, ranges[0].start), 1001);
    }

    #[test]
    fn a_label_longer_than_the_width_is_shown_from_its_start() {
        let line = format!("ab{}", "w".repeat(500));
        let (ex, ranges) = excerpt(&line, &[2..502]);
        assert_eq!(ex.column(0, ranges[0].start), 3);
        assert!(ranges[0].end <= ex.text().len());
    }

    #[test]
    fn multi_line_labels_and_gaps_get_their_lines() {
        let text = "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let (ex, ranges) = excerpt(text, &[0..17]);
        // Lines 0 to 3 (start and three after), 7 and 8 (one before the end, the end).
        let shown: Vec<usize> = ex.lines.iter().map(|l| l.index).collect();
        assert_eq!(shown, [0, 1, 2, 3, 7, 8]);
        assert_eq!(ex.line_index(ranges[0].end), 8);
        // Lines 3 and 5 shown: codespan shows 4 rather than a break.
        let (ex, _) = excerpt(text, &[0..13]);
        let shown: Vec<usize> = ex.lines.iter().map(|l| l.index).collect();
        assert_eq!(shown, [0, 1, 2, 3, 4, 5, 6]);
        let (ex, _) = excerpt(text, &[0..1, 4..5]);
        let shown: Vec<usize> = ex.lines.iter().map(|l| l.index).collect();
        assert_eq!(shown, [0, 1, 2]);
    }

    #[test]
    fn far_apart_labels_on_a_long_line_are_both_shown() {
        let line = format!("a{}b{}", " ".repeat(3000), " ".repeat(3000));
        let (ex, ranges) = excerpt(&line, &[0..1, 3001..3002]);
        assert_eq!(&ex.text()[ranges[0].clone()], "a");
        assert_eq!(&ex.text()[ranges[1].clone()], "b");
        assert_eq!(ex.column(0, ranges[1].start), 3002);
        assert_eq!(ex.text().matches(CUT).count(), 2, "{}", ex.text());
    }

    #[test]
    fn crlf_endings_are_not_shown() {
        let (ex, _) = excerpt("a\r\nb\r\n", &[3..4]);
        assert_eq!(ex.text(), "b\n");
    }
}
