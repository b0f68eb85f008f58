//! A job stopped by SIGINT or SIGTERM (`spine_job::block_on`: `training-set`, `replay`,
//! `materialize`) leaves no temporary file: it is cancelled, its temporary folder is
//! removed, and the process exits with the conventional status, 130 or 143.
//!
//! DataFusion spills sorts to a folder it makes under the OS temporary directory and
//! removes when the last handle on its runtime is dropped, which a process killed by a
//! signal never does: a large training set left gigabytes in `/tmp`. So a job runs
//!
//! - with a temporary folder of its own, `featc-PID` under the OS temporary directory,
//!   made the process's `TMPDIR`, so that every temporary file the job makes (the
//!   spills' folder, an object-store output before its upload) is inside it;
//! - beside a thread that waits for the signals (installed before the job starts). On
//!   the first, the job's future is dropped at its next await (an unfinished output's
//!   writer removes its temporary file), the runtime is shut down (its tasks dropped,
//!   so DataFusion removes its spill folder), and the folder is removed;
//! - against a deadline: a job that does not come to an await within `NOTICE` (a
//!   replay computing synchronously), or does not wind down within `WIND_DOWN`, has
//!   its folder removed under it by the thread, which then exits the process. So does
//!   a second signal, at once.
//!
//! A SIGKILL still leaves the folder; its name says whose it was.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// How long a stopped job has to come to an await and notice it was stopped.
const NOTICE: Duration = Duration::from_millis(200);

/// How long a stopped job that noticed has to wind down (its tasks to be dropped and
/// its files removed by their owners) before its folder is removed under it.
const WIND_DOWN: Duration = Duration::from_secs(5);

/// Runs `job` on a multi-threaded IO runtime until it ends or a signal stops it; its
/// error becomes a usage/data failure (exit status 2).
pub fn block_on(job: impl Future<Output = Result<(), String>>) -> ExitCode {
    // Before any thread starts: the process's environment is changed only here.
    let folder = TempFolder::create();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return super::fail(format!("cannot start the IO runtime: {e}")),
    };
    let stop = Arc::new(Stop::default());
    if let Err(e) = watch(&stop, folder.as_ref().map(|f| f.path.clone())) {
        return super::fail(format!("cannot listen for SIGINT and SIGTERM: {e}"));
    }
    let outcome = runtime.block_on(async {
        tokio::select! {
            biased;
            signal = stop.requested() => Err(signal),
            done = job => Ok(done),
        }
    });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(message)) => super::fail(message),
        Err(signal) => {
            wind_down(runtime, folder);
            stop.say(signal);
            ExitCode::from(signal.status)
        }
    }
}

/// After a stop: the job's tasks dropped (DataFusion's spill folder goes with the last
/// of them), then whatever is left of the folder.
fn wind_down(runtime: Runtime, folder: Option<TempFolder>) {
    runtime.shutdown_timeout(WIND_DOWN);
    drop(folder);
}

/// A signal that stops a job.
#[derive(Debug, Clone, Copy)]
struct Signal {
    name: &'static str,
    /// The exit status: 128 and the signal's number, as a shell reports a process it
    /// killed.
    status: u8,
}

const SIGINT: Signal = Signal {
    name: "SIGINT",
    status: 130,
};

#[cfg(unix)]
const SIGTERM: Signal = Signal {
    name: "SIGTERM",
    status: 143,
};

/// What the signal thread tells the job: which signal stopped it, once.
#[derive(Default)]
struct Stop {
    signal: OnceLock<Signal>,
    wake: Notify,
    /// The job saw the stop (it came to an await): it gets `WIND_DOWN` to end.
    noticed: AtomicBool,
    /// Whichever of the job's thread and the signal thread ends the process says why,
    /// once.
    said: AtomicBool,
}

impl Stop {
    fn request(&self, signal: Signal) {
        let _ = self.signal.set(signal);
        self.wake.notify_one();
    }

    fn say(&self, signal: Signal) {
        if !self.said.swap(true, Ordering::SeqCst) {
            eprintln!(
                "stopped by {}: the run was cancelled and its temporary files removed",
                signal.name
            );
        }
    }

    /// The signal, once one came; the job's runner awaits it beside the job, so its
    /// coming back says the job is at an await and will be dropped.
    async fn requested(&self) -> Signal {
        loop {
            if let Some(signal) = self.signal.get() {
                self.noticed.store(true, Ordering::SeqCst);
                return *signal;
            }
            self.wake.notified().await;
        }
    }
}

/// Listens for SIGINT and SIGTERM from now on (a signal that comes before the job
/// starts is not lost) on a thread of its own, which stops the job on the first and
/// exits the process past the deadline or on a second.
fn watch(stop: &Arc<Stop>, folder: Option<PathBuf>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut signals = {
        let _inside = runtime.enter();
        Signals::listen()?
    };
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("featc-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                let signal = signals.next().await;
                stop.request(signal);
                let deadline = async {
                    tokio::time::sleep(NOTICE).await;
                    if stop.noticed.load(Ordering::SeqCst) {
                        tokio::time::sleep(WIND_DOWN).await;
                    }
                };
                tokio::select! {
                    _ = deadline => {}
                    _ = signals.next() => {}
                }
                if let Some(folder) = &folder {
                    remove(folder);
                }
                stop.say(signal);
                std::process::exit(i32::from(signal.status))
            })
        })?;
    Ok(())
}

/// SIGINT and SIGTERM, each listened for from `listen` on (inside a runtime).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn listen() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn listen() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// The next signal.
    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => SIGINT,
            _ = self.terminate.recv() => SIGTERM,
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            SIGINT
        }
    }
}

/// The job's temporary folder, removed when dropped.
struct TempFolder {
    path: PathBuf,
}

impl TempFolder {
    /// `featc-PID` (`featc-PID-N` when a process of the same id left one) under the
    /// OS temporary directory, made the process's `TMPDIR`; `None` when it cannot be
    /// made (the job then runs as before, its temporary files where they would be).
    fn create() -> Option<TempFolder> {
        let parent = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..100 {
            let name = match n {
                0 => format!("featc-{pid}"),
                n => format!("featc-{pid}-{n}"),
            };
            let path = parent.join(name);
            // Not private: a Ballista run's executors read the spine's copy in it (the
            // spills are in DataFusion's own folder inside, which is).
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    // The job's threads do not exist yet: nothing reads the environment
                    // while it changes.
                    std::env::set_var("TMPDIR", &path);
                    return Some(TempFolder { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => return None,
            }
        }
        None
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

/// Removes `folder` and everything in it. A task still spilling may add a file while
/// it is being emptied, which fails its removal: tried again, a few times.
fn remove(folder: &Path) {
    for _ in 0..20 {
        match std::fs::remove_dir_all(folder) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}
