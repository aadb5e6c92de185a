//! Waiting for what another thread records: a condition variable and a deadline. Every wait of
//! the grader for an event goes through [`until`]: a run's output and exits, the process events
//! of its tree, the records and replies sent over a socket, a writer's FIFO. [`Watched`] pairs
//! a value with its condition variable.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A value that threads change and wait on: a mutex, and the condition variable notified at
/// each change.
#[derive(Debug, Default)]
pub struct Watched<T> {
    value: Mutex<T>,
    changed: Condvar,
}

impl<T> Watched<T> {
    pub fn new(value: T) -> Self {
        Watched {
            value: Mutex::new(value),
            changed: Condvar::new(),
        }
    }

    /// The value, locked (a poisoned lock is used as it is).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.value.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the value under the lock, then wakes every waiter.
    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> R {
        let result = change(&mut self.lock());
        self.changed.notify_all();
        result
    }

    /// [`until`] on this value.
    pub fn until<R>(
        &self,
        deadline: Instant,
        nap: Duration,
        done: impl FnMut(&mut T) -> Option<R>,
    ) -> Result<R, MutexGuard<'_, T>> {
        until(self.lock(), &self.changed, deadline, nap, done)
    }
}

/// Waits until `done` returns `Some` for the value behind `guard` (`Ok`), or `deadline` passes
/// (`Err`, with the lock still held, for a last look). `done` runs under the lock: at once, then
/// whenever `changed` is notified, and at least every `nap`, for what nobody notifies (a flag,
/// a process that ended). `Duration::MAX` naps until the deadline. A poisoned lock is used as
/// it is.
pub fn until<'a, S, T>(
    mut guard: MutexGuard<'a, S>,
    changed: &Condvar,
    deadline: Instant,
    nap: Duration,
    mut done: impl FnMut(&mut S) -> Option<T>,
) -> Result<T, MutexGuard<'a, S>> {
    loop {
        if let Some(v) = done(&mut guard) {
            return Ok(v);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(guard);
        }
        guard = changed
            .wait_timeout(guard, left.min(nap))
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn returns_what_done_found_once_notified() {
        let shared = Arc::new(Watched::<u32>::default());
        let writer = shared.clone();
        let t = std::thread::spawn(move || writer.update(|n| *n = 7));
        let deadline = Instant::now() + Duration::from_secs(10);
        let got = shared.until(deadline, Duration::MAX, |n| (*n == 7).then_some(*n * 2));
        assert_eq!(got.ok(), Some(14));
        t.join().unwrap();
    }

    #[test]
    fn gives_the_lock_back_at_the_deadline() {
        let shared = (Mutex::new(3u32), Condvar::new());
        let deadline = Instant::now() + Duration::from_millis(20);
        let got = until(
            shared.0.lock().unwrap(),
            &shared.1,
            deadline,
            Duration::from_millis(5),
            |_| None::<()>,
        );
        assert_eq!(got.map_err(|g| *g), Err(3));
        assert!(Instant::now() >= deadline);
    }
}
