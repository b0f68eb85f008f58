//! Every panic of the process, on any thread, with its place: a panic inside a
//! DataFusion or tokio task may come back as an `Err` (or not at all), so the fuzz
//! test asks the hook rather than trusting the results.

use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once};

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-text payload)".to_string());
    let place = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let thread = std::thread::current();
    format!(
        "thread '{}' panicked at {place}: {message}",
        thread.name().unwrap_or("<unnamed>")
    )
}

/// Records every panic from now on (and still prints it, as the default hook does).
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut panics) = PANICS.lock() {
                panics.push(describe(info));
            }
            previous(info);
        }));
    });
}

/// The panics recorded since the last call.
pub fn take() -> Vec<String> {
    match PANICS.lock() {
        Ok(mut panics) => std::mem::take(&mut *panics),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}
