//! A `Mutex<Option<T>>` slot shared by reference (a task's or the server's running
//! parts), emptied once when it stops.

use std::sync::Mutex;

/// Takes what `slot` holds, leaving it empty. A poisoned lock still gives its value:
/// a thread that panicked while holding it cannot have left a half-taken `Option`,
/// and stopping must go on.
pub fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}
