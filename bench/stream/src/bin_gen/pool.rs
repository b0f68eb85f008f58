//! Running a step's tasks on a fixed number of threads: each thread takes the next
//! task of the list until none is left, so long tasks (a column to encode) listed first
//! and short ones (blocks of rows to draw) after keep both cores busy to the end.

use std::sync::Mutex;

pub type Task<'a> = Box<dyn FnOnce() + Send + 'a>;

pub fn run(threads: usize, tasks: Vec<Task<'_>>) {
    let queue = Mutex::new(tasks.into_iter());
    let work = || loop {
        // A task that panicked poisons the lock; its panic ends the run anyway.
        let next = queue.lock().map_or(None, |mut q| q.next());
        match next {
            Some(task) => task(),
            None => break,
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.max(1) {
            s.spawn(work);
        }
        work();
    });
}
