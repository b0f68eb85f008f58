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
}

/// Renders lines: each run of consecutive lines of one group at one indentation (not
/// broken by a blank line or by another kind of line; comments may sit in it) is padded
/// so that their alignment points fall in one column.
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
            }
        }
    }
}
