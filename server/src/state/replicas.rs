//! Two copies of the online state so that reads never wait for a write ("left-right"):
//! readers use the published copy; the writer changes the other one, publishes it,
//! then makes the same change to the first.
//!
//! A read changes the copy it reads (the runtime's read cursors move with the read
//! time), so each copy is behind a mutex and one copy serves one read at a time.
//! Between writes both copies are equal, so a reader that finds the published copy
//! busy reads the spare one ("open" then); only when both are busy does it wait, and
//! then for a read, never for a write.
//!
//! The protocol (an epoch count per copy): a reader announces itself on a copy
//! (`readers[i] += 1`), then checks the copy is still usable (published, or the spare
//! while it is open) and only then locks it; if not, it withdraws and starts again. The
//! writer makes a copy unusable first (closes the spare; publishes the other copy) and
//! then waits until no reader is announced on it before it locks it. All of it is
//! `SeqCst`, so a reader either sees the copy unusable or is seen by the writer.
//!
//! Invariants (checked by the tests below):
//! - A reader sees the state before a write or after it, never part of it.
//! - A reader never waits for a write in progress: it locks only a usable copy, and
//!   the writer locks a copy only when it is unusable and no reader is announced on
//!   it; so a reader queued behind another reader is never overtaken by the
//!   writer's second pass (the writer waits for the queue instead).
//! - Reads are monotonic, and once `write` returns every later read sees its change:
//!   the published copy has it, and the spare opens again only once it has it too.
//! - Both copies receive the same changes in the same order, so a deterministic
//!   change leaves them equal. Before `mirror` (while history is loaded and reads are
//!   refused) there is one current copy; writes then lock it, and reads wait.
//!
//! The price is memory: the state is held twice once mirrored.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

/// Two copies of a `T` (see the module doc).
pub struct Replicas<T> {
    copies: [Mutex<T>; 2],
    /// Readers announced on each copy (reading it, or queued for it).
    readers: [AtomicUsize; 2],
    /// The copy readers use first.
    published: AtomicUsize,
    /// Whether the other copy is equal to the published one and nobody changes it:
    /// readers may use it too.
    spare_open: AtomicBool,
    /// Whether both copies are current (false while only copy `published` is).
    mirrored: AtomicBool,
    /// Held for the whole of a write, so that writes never interleave.
    writing: Mutex<()>,
    /// How the last reader leaving a copy wakes the writer waiting for it.
    wake: Wake,
}

/// A writer waiting for a copy's readers to leave sleeps here (rather than yielding
/// in a loop, which on a loaded machine gives its turn away for milliseconds).
#[derive(Default)]
struct Wake {
    /// Whether the writer waits (at most one: writers hold `writing`).
    waiting: AtomicBool,
    lock: Mutex<()>,
    left: Condvar,
}

/// A lock whose holder panicked is taken over: the writer's changes take a batch
/// whole or not at all, so a panic cannot leave a half-applied change behind.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A reader's announcement on a copy, withdrawn when dropped (after its lock); the
/// last reader to leave wakes a waiting writer.
struct Announced<'a> {
    readers: &'a AtomicUsize,
    wake: &'a Wake,
}

impl Drop for Announced<'_> {
    fn drop(&mut self) {
        // SeqCst with the writer's `waiting` store then `readers` load: either the
        // writer sees this reader gone, or this reader sees the writer waiting.
        if self.readers.fetch_sub(1, SeqCst) == 1 && self.wake.waiting.load(SeqCst) {
            let _held = lock(&self.wake.lock);
            self.wake.left.notify_all();
        }
    }
}

impl<T> Replicas<T> {
    /// Two copies already equal (e.g. both restored from the same checkpoint).
    pub fn mirrored(first: T, second: T) -> Replicas<T> {
        Replicas {
            copies: [Mutex::new(first), Mutex::new(second)],
            readers: [AtomicUsize::new(0), AtomicUsize::new(0)],
            published: AtomicUsize::new(0),
            spare_open: AtomicBool::new(true),
            mirrored: AtomicBool::new(true),
            writing: Mutex::new(()),
            wake: Wake::default(),
        }
    }

    /// One current copy (`current`) and a placeholder for the second, which `mirror`
    /// replaces with a copy of the first.
    pub fn single(current: T, placeholder: T) -> Replicas<T> {
        let r = Replicas::mirrored(current, placeholder);
        r.spare_open.store(false, SeqCst);
        r.mirrored.store(false, SeqCst);
        r
    }

    pub fn is_mirrored(&self) -> bool {
        self.mirrored.load(SeqCst)
    }

    /// Announces a reader on copy `i`; `None` (withdrawn) when `i` is not usable.
    fn announce(&self, i: usize) -> Option<Announced<'_>> {
        self.readers[i].fetch_add(1, SeqCst);
        let announced = Announced {
            readers: &self.readers[i],
            wake: &self.wake,
        };
        let usable = self.published.load(SeqCst) == i || self.spare_open.load(SeqCst);
        usable.then_some(announced)
    }

    /// Waits until no reader is announced on copy `i` (made unusable by the caller):
    /// readers hold a copy for their lookups only. Spins a little, then sleeps until
    /// the last one leaves (the time-out only guards against a lost wake-up).
    fn wait_for_readers(&self, i: usize) {
        for _ in 0..256 {
            if self.readers[i].load(SeqCst) == 0 {
                return;
            }
            std::hint::spin_loop();
        }
        self.wake.waiting.store(true, SeqCst);
        let mut held = lock(&self.wake.lock);
        while self.readers[i].load(SeqCst) != 0 {
            held = match self.wake.left.wait_timeout(held, Duration::from_millis(1)) {
                Ok((held, _)) => held,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        drop(held);
        self.wake.waiting.store(false, SeqCst);
    }

    /// Runs `f` on the published copy, or on the spare one when the published one is
    /// busy and the spare is open (equal to it).
    pub fn read<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        loop {
            let p = self.published.load(SeqCst);
            let Some(on_published) = self.announce(p) else {
                continue;
            };
            match self.copies[p].try_lock() {
                Ok(mut copy) => return f(&mut copy),
                Err(TryLockError::Poisoned(copy)) => return f(&mut copy.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
            if let Some(_on_spare) = self.announce(1 - p) {
                if let Ok(mut copy) = self.copies[1 - p].try_lock() {
                    drop(on_published);
                    return f(&mut copy);
                }
            }
            // Both busy with reads (or, before `mirror`, the writer has the one copy):
            // queue for the published copy; a writer waits for this queue.
            let result = f(&mut lock(&self.copies[p]));
            drop(on_published);
            return result;
        }
    }

    /// Applies `change` to every current copy, the unpublished one first, then
    /// publishes it; returns what `change` returned on the first copy. `change` must
    /// be deterministic: given equal copies it must leave them equal.
    pub fn write<R>(&self, mut change: impl FnMut(&mut T) -> R) -> R {
        let _writing = lock(&self.writing);
        let old = self.published.load(SeqCst);
        if !self.is_mirrored() {
            return change(&mut lock(&self.copies[old]));
        }
        let new = 1 - old;
        self.spare_open.store(false, SeqCst);
        self.wait_for_readers(new);
        let result = change(&mut lock(&self.copies[new]));
        self.published.store(new, SeqCst);
        self.wait_for_readers(old);
        change(&mut lock(&self.copies[old]));
        self.spare_open.store(true, SeqCst);
        result
    }

    /// Makes the second copy a copy of the current one (with `copy`), and from then on
    /// keeps both. Does nothing when already mirrored.
    pub fn mirror<E>(&self, copy: impl FnOnce(&T) -> Result<T, E>) -> Result<(), E> {
        let _writing = lock(&self.writing);
        if self.is_mirrored() {
            return Ok(());
        }
        let current = self.published.load(SeqCst);
        let fresh = copy(&lock(&self.copies[current]))?;
        *lock(&self.copies[1 - current]) = fresh;
        self.mirrored.store(true, SeqCst);
        self.spare_open.store(true, SeqCst);
        Ok(())
    }

    /// Keeps only the published copy current from now on (e.g. while history is
    /// loaded and reads are refused) and frees the other, replaced by `placeholder`.
    pub fn unmirror(&self, placeholder: T) {
        let _writing = lock(&self.writing);
        let spare = 1 - self.published.load(SeqCst);
        self.spare_open.store(false, SeqCst);
        self.mirrored.store(false, SeqCst);
        self.wait_for_readers(spare);
        *lock(&self.copies[spare]) = placeholder;
    }

    /// Runs `f` on the copy readers are not using, between writes (e.g. to snapshot
    /// the state for a checkpoint, or to scan it for metrics): long work here holds
    /// up writes, never reads (they use the published copy meanwhile). Before
    /// `mirror` it is the only copy.
    pub fn spare<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let _writing = lock(&self.writing);
        let published = self.published.load(SeqCst);
        if !self.is_mirrored() {
            return f(&lock(&self.copies[published]));
        }
        let spare = 1 - published;
        self.spare_open.store(false, SeqCst);
        self.wait_for_readers(spare);
        let result = f(&lock(&self.copies[spare]));
        self.spare_open.store(true, SeqCst);
        result
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

    /// Reads that hold a copy until told to let go: (started, let go, thread).
    fn holding_read(
        r: &Arc<Replicas<Pair>>,
    ) -> (
        mpsc::Receiver<u64>,
        mpsc::Sender<()>,
        std::thread::JoinHandle<()>,
    ) {
        let (started, wait_started) = mpsc::channel();
        let (release, wait_release) = mpsc::channel::<()>();
        let r = Arc::clone(r);
        let thread = std::thread::spawn(move || {
            r.read(|p: &mut Pair| {
                let _ = started.send(p.0);
                let _ = wait_release.recv_timeout(Duration::from_secs(20));
            });
        });
        (wait_started, release, thread)
    }

    /// The race the epoch count closes: reader B queues for the published copy behind
    /// reader A while the spare is busy too (reader C); the writer publishes the
    /// other copy and must then wait for A and B before its second pass, never take
    /// the copy between them (B would wait for a whole second application).
    #[test]
    fn a_reader_queued_behind_another_is_not_overtaken_by_the_second_pass() {
        let r = Arc::new(Replicas::mirrored(Pair(0, 0), Pair(0, 0)));
        let (a_in, release_a, a) = holding_read(&r);
        a_in.recv_timeout(Duration::from_secs(20)).expect("A reads");
        // The published copy is busy: C reads the spare one.
        let (c_in, release_c, c) = holding_read(&r);
        c_in.recv_timeout(Duration::from_secs(20))
            .expect("C reads the spare");
        let (b_done, wait_b) = mpsc::channel::<u64>();
        let b = {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                // Said while B still holds the copy, so it precedes B's leaving.
                r.read(|p: &mut Pair| {
                    let _ = b_done.send(p.0);
                });
            })
        };
        // B is queued for the published copy behind A once two readers are on it.
        let queued = std::time::Instant::now();
        while r.readers[0].load(SeqCst) < 2 {
            assert!(queued.elapsed() < Duration::from_secs(20), "B never queued");
            std::thread::sleep(Duration::from_millis(1));
        }
        let (second_pass, wait_second) = mpsc::channel::<bool>();
        let writer = {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                let mut pass = 0;
                r.write(|p| {
                    pass += 1;
                    if pass == 2 {
                        // B must have read by now: it never waits for this pass.
                        let _ = second_pass.send(wait_b.try_recv() == Ok(0));
                    }
                    bump(p)
                });
            })
        };
        // The first pass waits for C to leave the spare; the second for A and B.
        release_c.send(()).expect("C");
        std::thread::sleep(Duration::from_millis(50));
        release_a.send(()).expect("A");
        let b_read_first = wait_second
            .recv_timeout(Duration::from_secs(20))
            .expect("the second pass ran");
        assert!(b_read_first, "the second pass overtook a queued reader");
        for t in [a, b, c, writer] {
            t.join().expect("thread");
        }
        assert_eq!(r.each(|p| p.clone()), [Pair(1, 1), Pair(1, 1)]);
    }

    /// Several readers at once while writes change both halves slowly: every read sees
    /// whole writes, each reader's reads never go back, and a read that starts after
    /// a write returned sees it.
    #[test]
    fn several_concurrent_readers_see_whole_monotonic_writes() {
        let r = Arc::new(Replicas::mirrored(Pair(0, 0), Pair(0, 0)));
        let done = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let (r, done, written) = (Arc::clone(&r), Arc::clone(&done), Arc::clone(&written));
                std::thread::spawn(move || {
                    let mut last = 0;
                    let mut reads = 0u64;
                    while !done.load(SeqCst) {
                        let before = written.load(SeqCst) as u64;
                        let (x, y) = r.read(|p: &mut Pair| (p.0, p.1));
                        assert_eq!(x, y, "a read saw part of a write");
                        assert!(x >= last, "a read went back in time: {x} after {last}");
                        assert!(
                            x >= before,
                            "a read missed a returned write: {x} < {before}"
                        );
                        last = x;
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for i in 1..=2_000u64 {
            let n = r.write(|p| {
                p.0 += 1;
                for _ in 0..2_000 {
                    std::hint::spin_loop();
                }
                p.1 += 1;
                p.0
            });
            assert_eq!(n, i);
            written.store(i as usize, SeqCst);
        }
        done.store(true, SeqCst);
        for t in readers {
            assert!(t.join().expect("reader") > 0);
        }
        assert_eq!(
            r.each(|p| p.clone()),
            [Pair(2_000, 2_000), Pair(2_000, 2_000)]
        );
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
