//! `Footprint`: where a `KeyState`'s bytes go, part by part, in memory (what
//! `approx_bytes` counts) and in its snapshot (what `save` writes). `approx_bytes`
//! itself is the sum of `memory_parts`, so the split and the total cannot drift
//! apart; the saved split is marked by `save` as it writes.

use super::accumulator::WindowAccumulator;
use super::buffer::{EventBuffer, OddCell};
use super::key_state::{Cursor, KeyState};
use super::spec::KeySpec;
use crate::snapshot::Writer;
use crate::value::Value;

/// A state's bytes by part, in the order they were first met; parts of the same
/// name (an accumulator kind in several cursors of one window) add up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// `(part, bytes in memory, bytes saved)`.
    pub parts: Vec<(String, usize, usize)>,
}

impl Footprint {
    /// Adds `memory` and `saved` bytes to part `part`.
    pub fn add(&mut self, part: &str, memory: usize, saved: usize) {
        match self.parts.iter_mut().find(|p| p.0 == part) {
            Some(p) => {
                p.1 += memory;
                p.2 += saved;
            }
            None => self.parts.push((part.to_string(), memory, saved)),
        }
    }

    /// Adds every part of `other` (to total many states).
    pub fn merge(&mut self, other: &Footprint) {
        for (part, memory, saved) in &other.parts {
            self.add(part, *memory, *saved);
        }
    }

    /// Bytes in memory: `approx_bytes` for one state.
    pub fn memory(&self) -> usize {
        self.parts.iter().map(|p| p.1).sum()
    }

    /// Bytes saved: the length of `save`'s output for one state.
    pub fn saved(&self) -> usize {
        self.parts.iter().map(|p| p.2).sum()
    }
}

/// A part's name, built only when a footprint asks for it.
pub(super) type Label<'a> = &'a dyn Fn() -> String;

/// `1h`, `7d`, `life`: a cursor's window in part names.
pub(super) fn window_name(window_us: Option<i64>) -> String {
    const HOUR: i64 = 3_600_000_000;
    match window_us {
        None => "life".to_string(),
        Some(w) if w % (24 * HOUR) == 0 => format!("{}d", w / (24 * HOUR)),
        Some(w) if w % HOUR == 0 => format!("{}h", w / HOUR),
        Some(w) => format!("{w}us"),
    }
}

/// An accumulator's type without module paths: `InvertibleWindow<Avg>`.
pub(super) fn kind_name(acc: &dyn WindowAccumulator) -> String {
    let full = acc.type_name();
    let mut out = String::with_capacity(full.len());
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            // Drop the path segment just written.
            let keep = out
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            out.truncate(keep);
        } else {
            out.push(c);
        }
    }
    out
}

/// An accumulator's part name: its cursor's window and its kind.
pub(super) fn acc_part(
    prefix: &str,
    window_us: Option<i64>,
    acc: &dyn WindowAccumulator,
) -> String {
    format!("{prefix} {} {}", window_name(window_us), kind_name(acc))
}

/// An accumulator's counted bytes: its own (boxed) block and heap, and the fat
/// pointer its cursor's vector holds.
fn acc_bytes(acc: &dyn WindowAccumulator) -> usize {
    acc.approx_bytes() + std::mem::size_of::<Box<dyn WindowAccumulator>>()
}

impl EventBuffer {
    /// The buffer's heap, part by part (used rows, then the spare room).
    pub(super) fn memory_parts(&self, mark: &mut impl FnMut(Label<'_>, usize)) {
        let spare = |len: usize, cap: usize, size: usize| (cap - len) * size;
        // The struct itself lives inside its `KeyState` (counted there).
        mark(&|| "buffer times".into(), self.ts.len() * 8);
        mark(
            &|| "buffer times spare".into(),
            spare(self.ts.len(), self.ts.capacity(), 8),
        );
        mark(&|| "buffer words".into(), self.words.len() * 8);
        mark(
            &|| "buffer words spare".into(),
            spare(self.words.len(), self.words.capacity(), 8),
        );
        let value = std::mem::size_of::<Value>();
        mark(&|| "buffer boxed".into(), self.boxed.len() * value);
        mark(
            &|| "buffer boxed spare".into(),
            spare(self.boxed.len(), self.boxed.capacity(), value),
        );
        mark(
            &|| "buffer odd".into(),
            self.odd.capacity() * std::mem::size_of::<OddCell>(),
        );
    }
}

impl KeySpec {
    /// About the most one event adds to a state's `approx_bytes`, doubled for the
    /// room a growing vector takes: a buffered row (its time, its words, its boxed
    /// cells) and an entry in each accumulator. An estimate for the disk tier's
    /// count between two exact ones (`Entities::finish_push`), not a bound: one push
    /// can double a vector's room.
    pub(crate) fn growth_per_event(&self) -> usize {
        const ENTRY: usize = 64;
        let row = 8 + self.layout.stride * 8 + self.layout.n_boxed * std::mem::size_of::<Value>();
        let accumulators: usize = self.cursors.iter().map(|c| c.columns.len()).sum();
        2 * (row + accumulators * ENTRY)
    }
}

impl KeyState {
    /// Every part `approx_bytes` counts, in the order `save` writes them.
    pub(super) fn memory_parts(&self, mut mark: impl FnMut(Label<'_>, usize)) {
        mark(&|| "state scalars".into(), std::mem::size_of::<Self>());
        mark(
            &|| "dropped latest".into(),
            std::mem::size_of_val::<[i64]>(&self.dropped_latest),
        );
        self.buf.memory_parts(&mut mark);
        let spec = &*self.spec;
        for (c, plan) in self.cursors.iter().zip(&spec.cursors) {
            mark(&|| "cursors".into(), std::mem::size_of::<Cursor>());
            for a in &c.accs {
                mark(&|| acc_part("acc", plan.window_us, &**a), acc_bytes(&**a));
            }
            mark(
                &|| "cached finishes".into(),
                c.finished.capacity() * std::mem::size_of::<Value>(),
            );
        }
        if let Some(base) = &self.base {
            // The lifetime cursor's (`None`: lifetime).
            for a in base {
                mark(&|| acc_part("base", None, &**a), acc_bytes(&**a));
            }
        }
        for c in super::counted::windows(&self.counted).iter() {
            mark(&|| "counted events".into(), c.approx_bytes());
        }
    }

    /// Where this state's bytes go, in memory and in its snapshot.
    pub fn footprint(&self) -> Footprint {
        let mut f = Footprint::default();
        self.memory_parts(|part, bytes| f.add(&part(), bytes, 0));
        let mut w = Writer::new();
        self.save_marked(&mut w, &mut |part, bytes| f.add(&part(), 0, bytes));
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_kind_names_are_short() {
        assert_eq!(window_name(Some(3_600_000_000)), "1h");
        assert_eq!(window_name(Some(7 * 24 * 3_600_000_000)), "7d");
        assert_eq!(window_name(Some(5)), "5us");
        assert_eq!(window_name(None), "life");
        let acc = super::super::window_accumulator(
            crate::ir::AggKind::Avg,
            Some(crate::ir::DataType::Float64),
            true,
        );
        assert!(matches!(
            acc.map(|a| kind_name(&*a)).as_deref(),
            Ok("InvertibleWindow<Avg>")
        ));
    }
}
