//! Output lines and their rendering: indentation, blank lines, and the alignment of
//! `=` in runs of features and `let`s and of types in runs of columns.

/// What a line's alignment point lines up with in the lines around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// `name: type` in a block: types line up.
    Column,
    /// `feature name = ...`: the `=` lines up.
    Feature,
    /// `let name = ...`: the `=` lines up.
    Let,
}

/// One output line before rendering.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    /// Indentation in spaces.
    pub indent: usize,
    pub text: String,
    /// A blank line precedes this one.
    pub blank_before: bool,
    /// The line is an own-line comment (comments do not break an alignment run).
    pub comment: bool,
    /// Where padding goes (a byte offset in `text`) to align with its run.
    pub align: Option<(Group, usize)>,
    /// A `//` comment ends the line: where its code ends and where it starts.
    pub trailing: Option<(usize, usize)>,
}

/// Renders lines: each run of consecutive lines of one group at one indentation (not
/// broken by a blank line or by another kind of line; comments may sit in it) is padded
/// so that their alignment points fall in one column; then trailing comments of
/// consecutive lines are aligned.
pub(crate) fn render(mut lines: Vec<Line>) -> String {
    align(&mut lines);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if line.blank_before && i > 0 {
            out.push('\n');
        }
        let text = line.text.trim_end();
        if !text.is_empty() {
            out.extend(std::iter::repeat_n(' ', line.indent));
            out.push_str(text);
        }
        out.push('\n');
    }
    out
}

/// Trailing `//` comments of consecutive lines (no blank line between) start in one
/// column, one space after the longest code among them.
fn align_trailing(lines: &mut [Line]) {
    let width = |line: &Line| {
        line.trailing.map_or(0, |(code_end, _)| {
            line.indent
                + line
                    .text
                    .get(..code_end)
                    .map_or(code_end, |s| s.chars().count())
        })
    };
    let mut start = 0;
    while start < lines.len() {
        if lines[start].trailing.is_none() {
            start += 1;
            continue;
        }
        let mut end = start + 1;
        while end < lines.len() && lines[end].trailing.is_some() && !lines[end].blank_before {
            end += 1;
        }
        let column = lines[start..end].iter().map(width).max().unwrap_or(0) + 1;
        for line in &mut lines[start..end] {
            let pad = column - width(line);
            if let Some((code_end, comment)) = line.trailing {
                if line.text.is_char_boundary(code_end) && line.text.is_char_boundary(comment) {
                    line.text.replace_range(code_end..comment, &" ".repeat(pad));
                    line.trailing = Some((code_end, code_end + pad));
                }
            }
        }
        start = end;
    }
}

fn align(lines: &mut [Line]) {
    let mut run: Vec<usize> = Vec::new();
    let mut group: Option<(Group, usize)> = None;
    for i in 0..lines.len() {
        let line = &lines[i];
        let continues = !line.blank_before
            && group.is_some_and(|(g, indent)| {
                line.indent == indent && (line.comment || line.align.is_some_and(|(lg, _)| lg == g))
            });
        if !continues {
            pad(lines, &run);
            run.clear();
            group = lines[i].align.map(|(g, _)| (g, lines[i].indent));
        }
        if lines[i].align.is_some() {
            run.push(i);
        }
    }
    pad(lines, &run);
    align_trailing(lines);
}

fn pad(lines: &mut [Line], run: &[usize]) {
    let width = |line: &Line| {
        line.align.map_or(0, |(_, at)| {
            line.text.get(..at).map_or(at, |s| s.chars().count())
        })
    };
    let max = run.iter().map(|&i| width(&lines[i])).max().unwrap_or(0);
    for &i in run {
        let line = &mut lines[i];
        let missing = max - width(line);
        if let Some((_, at)) = line.align {
            if line.text.is_char_boundary(at) {
                line.text.insert_str(at, &" ".repeat(missing));
                if let Some((code_end, comment)) = line.trailing.as_mut() {
                    if *code_end >= at {
                        *code_end += missing;
                        *comment += missing;
                    }
                }
            }
        }
    }
}
