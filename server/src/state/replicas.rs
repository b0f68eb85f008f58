//! Two copies of the online state so that reads never wait for a write ("left-right"):
//! readers use the published copy; the writer changes the other one, publishes it,
//! then makes the same change to the first.
//!
//! A read changes the copy it reads (the runtime's read cursors move with the read
//! time), so each copy is behind a mutex and readers of one copy take turns; what
//! this module adds is that they never queue behind a push.
//!
//! Invariants (checked by the tests below):
//! - A reader sees the state before a write or after it, never part of it.
//! - A reader never waits for a write in progress: the writer only ever locks the
//!   copy that is not published, and a reader that took the published copy just as
//!   the copies were swapped lets it go and takes the other.
//! - Reads are monotonic, and once `write` returns every later read sees its change:
//!   a reader only reads the copy that is published when it holds it.
//! - Both copies receive the same changes in the same order, so a deterministic
//!   change leaves them equal. Before `mirror` (while history is loaded and reads are
//!   refused) there is one current copy; writes then lock it, and reads wait.
//!
//! The price is memory: the state is held twice once mirrored.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Two copies of a `T` (see the module doc).
pub struct Replicas<T> {
    copies: [Mutex<T>; 2],
    /// The copy readers use.
    published: AtomicUsize,
    /// Whether both copies are current (false while only copy `published` is).
    mirrored: AtomicBool,
    /// Held for the whole of a write, so that writes never interleave.
    writing: Mutex<()>,
}

/// A lock whose holder panicked is taken over: the writer's changes take a batch
/// whole or not at all, so a panic cannot leave a half-applied change behind.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Replicas<T> {
    /// Two copies already equal (e.g. both restored from the same checkpoint).
    pub fn mirrored(first: T, second: T) -> Replicas<T> {
        Replicas {
            copies: [Mutex::new(first), Mutex::new(second)],
            published: AtomicUsize::new(0),
            mirrored: AtomicBool::new(true),
            writing: Mutex::new(()),
        }
    }

    /// One current copy (`current`) and a placeholder for the second, which `mirror`
    /// replaces with a copy of the first.
    pub fn single(current: T, placeholder: T) -> Replicas<T> {
        let r = Replicas::mirrored(current, placeholder);
        r.mirrored.store(false, Ordering::Release);
        r
    }

    pub fn is_mirrored(&self) -> bool {
        self.mirrored.load(Ordering::Acquire)
    }

    /// Runs `f` on the published copy.
    pub fn read<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        loop {
            let i = self.published.load(Ordering::Acquire);
            let mut copy = match self.copies[i].try_lock() {
                Ok(copy) => copy,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    if self.published.load(Ordering::Acquire) != i {
                        // Swapped since we looked: the writer is taking this copy.
                        continue;
                    }
                    // Another reader has it (or, before `mirror`, the writer).
                    lock(&self.copies[i])
                }
            };
            if self.is_mirrored() && self.published.load(Ordering::Acquire) != i {
                // Swapped while we waited: this copy is about to be written and is
                // older than the published one; read that instead.
                drop(copy);
                continue;
            }
            return f(&mut copy);
        }
    }

    /// Applies `change` to every current copy, the unpublished one first, then
    /// publishes it; returns what `change` returned on the first copy. `change` must
    /// be deterministic: given equal copies it must leave them equal.
    pub fn write<R>(&self, mut change: impl FnMut(&mut T) -> R) -> R {
        let _writing = lock(&self.writing);
        let old = self.published.load(Ordering::Acquire);
        if !self.is_mirrored() {
            return change(&mut lock(&self.copies[old]));
        }
        let new = 1 - old;
        // Readers are not on `new` except one that took it just before the last swap
        // and is finishing its read: this waits for it only.
        let result = change(&mut lock(&self.copies[new]));
        self.published.store(new, Ordering::Release);
        change(&mut lock(&self.copies[old]));
        result
    }

    /// Makes the second copy a copy of the current one (with `copy`), and from then on
    /// keeps both. Does nothing when already mirrored.
    pub fn mirror<E>(&self, copy: impl FnOnce(&T) -> Result<T, E>) -> Result<(), E> {
        let _writing = lock(&self.writing);
        if self.is_mirrored() {
            return Ok(());
        }
        let current = self.published.load(Ordering::Acquire);
        let fresh = copy(&lock(&self.copies[current]))?;
        *lock(&self.copies[1 - current]) = fresh;
        self.mirrored.store(true, Ordering::Release);
        Ok(())
    }

    /// Keeps only the published copy current from now on (e.g. while history is
    /// loaded and reads are refused) and frees the other, replaced by `placeholder`.
    pub fn unmirror(&self, placeholder: T) {
        let _writing = lock(&self.writing);
        let spare = 1 - self.published.load(Ordering::Acquire);
        self.mirrored.store(false, Ordering::Release);
        *lock(&self.copies[spare]) = placeholder;
    }

    /// Runs `f` on the copy readers are not using, between writes (e.g. to snapshot
    /// the state for a checkpoint, or to scan it for metrics): long work here holds
    /// up writes, never reads. Before `mirror` it is the only copy.
    pub fn spare<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let _writing = lock(&self.writing);
        let published = self.published.load(Ordering::Acquire);
        let spare = if self.is_mirrored() {
            1 - published
        } else {
            published
        };
        f(&lock(&self.copies[spare]))
    }

    /// Runs `f` on both copies in turn, between writes (for tests that compare them).
    pub fn each<R>(&self, mut f: impl FnMut(&mut T) -> R) -> [R; 2] {
        let _writing = lock(&self.writing);
        [f(&mut lock(&self.copies[0])), f(&mut lock(&self.copies[1]))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Arc;
    use std::time::Duration;

    /// A state whose two halves a write changes one after the other: a reader that
    /// saw them differ would have seen part of a write.
    #[derive(Debug, Clone, PartialEq)]
    struct Pair(u64, u64);

    fn bump(p: &mut Pair) -> u64 {
        p.0 += 1;
        std::thread::yield_now();
        p.1 += 1;
        p.0
    }

    #[test]
    fn readers_see_whole_writes_in_order() {
        let r = Arc::new(Replicas::mirrored(Pair(0, 0), Pair(0, 0)));
        let reader = {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..200_000 {
                    let (a, b) = r.read(|p: &mut Pair| (p.0, p.1));
                    assert_eq!(a, b, "a read saw part of a write");
                    assert!(a >= last, "a read went back in time: {a} after {last}");
                    last = a;
                }
            })
        };
        for i in 1..=20_000 {
            assert_eq!(r.write(bump), i);
            assert_eq!(
                r.read(|p: &mut Pair| p.0),
                i,
                "a write not visible after it returned"
            );
        }
        reader.join().expect("reader");
        assert_eq!(
            r.each(|p| p.clone()),
            [Pair(20_000, 20_000), Pair(20_000, 20_000)]
        );
    }

    /// The writer stops in the middle of each half of a write until a reader has
    /// finished a read: if reads waited for the write, this would never end (the
    /// `recv_timeout` turns that into a failure instead of a hang).
    #[test]
    fn reads_do_not_wait_for_a_write_in_progress() {
        let r = Arc::new(Replicas::mirrored(Pair(0, 0), Pair(0, 0)));
        let (read_done, wait_read) = mpsc::channel::<u64>();
        let (go, ready) = mpsc::channel::<()>();
        let reader = {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                while ready.recv().is_ok() {
                    let seen = r.read(|p: &mut Pair| p.0);
                    if read_done.send(seen).is_err() {
                        return;
                    }
                }
            })
        };
        let mut halves = Vec::new();
        r.write(|p| {
            p.0 += 1;
            p.1 += 1;
            go.send(()).expect("reader alive");
            halves.push(
                wait_read
                    .recv_timeout(Duration::from_secs(20))
                    .expect("a read waited for the write"),
            );
        });
        // During the first half nothing is published yet (the reader sees 0); during
        // the second the new copy is (it sees 1).
        assert_eq!(halves, vec![0, 1]);
        drop(go);
        reader.join().expect("reader");
    }

    /// A long scan of the spare copy does not hold up reads of the published one.
    #[test]
    fn reads_go_on_while_the_spare_copy_is_scanned() {
        let r = Arc::new(Replicas::mirrored(Pair(0, 0), Pair(0, 0)));
        r.write(bump);
        let (read_done, wait_read) = mpsc::channel::<u64>();
        let reader = {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                let _ = read_done.send(r.read(|p: &mut Pair| p.0));
            })
        };
        let seen = r.spare(|p| {
            let seen = wait_read
                .recv_timeout(Duration::from_secs(20))
                .expect("a read waited for the scan");
            (seen, p.0)
        });
        assert_eq!(seen, (1, 1));
        reader.join().expect("reader");
    }

    #[test]
    fn a_single_copy_is_written_in_place_until_mirrored() {
        let r = Replicas::single(Pair(0, 0), Pair(7, 7));
        r.write(bump);
        assert_eq!(r.each(|p| p.clone()), [Pair(1, 1), Pair(7, 7)]);
        r.mirror(|p| Ok::<_, ()>(p.clone())).expect("mirror");
        r.write(bump);
        assert_eq!(r.each(|p| p.clone()), [Pair(2, 2), Pair(2, 2)]);
        assert_eq!(r.read(|p: &mut Pair| p.0), 2);
    }
}
