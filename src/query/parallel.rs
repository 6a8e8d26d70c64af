//! Work spread over threads: a slice of independent tasks run by scoped
//! threads taking the next task from an atomic index, results returned in
//! task order.
//!
//! Invariants:
//! 1. Results are in task order whatever the thread count or timing, so
//!    callers that combine them in order are deterministic.
//! 2. `threads <= 1` (or a single task) runs inline on the caller's thread,
//!    spawning nothing; otherwise the caller is one of the workers.
//! 3. Each thread owns one scratch value from `scratch` for all its tasks;
//!    the scratch values outlive the call (no re-allocation per batch).
//! 4. The first error (by task order) is returned; a task's panic is
//!    propagated by `std::thread::scope`.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::Result;

/// Threads to use for `requested` (0 = one per available core).
pub(crate) fn thread_count(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Runs `f(task, scratch)` for every task on up to `scratch.len()` threads
/// and returns the results in task order.
pub(crate) fn map_ordered<T, S, R, F>(tasks: &[T], scratch: &mut [S], f: F) -> Result<Vec<R>>
where
    T: Sync,
    S: Send,
    R: Send,
    F: Fn(&T, &mut S) -> Result<R> + Sync,
{
    let threads = scratch.len().min(tasks.len());
    if threads <= 1 {
        let Some(s) = scratch.first_mut() else {
            return Ok(Vec::new());
        };
        return tasks.iter().map(|t| f(t, s)).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<R>>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
    let work = |s: &mut S| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let (Some(task), Some(slot)) = (tasks.get(i), slots.get(i)) else {
            break;
        };
        let r = f(task, s);
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    };
    std::thread::scope(|scope| {
        let mut scratch = scratch.iter_mut().take(threads);
        let own = scratch.next();
        for s in scratch {
            let work = &work;
            scope.spawn(move || work(s));
        }
        // The caller works too instead of waiting idle.
        if let Some(s) = own {
            work(s);
        }
    });
    slots
        .into_iter()
        .map(|m| {
            let r = m.into_inner().unwrap_or_else(|e| e.into_inner());
            // Every index below tasks.len() was taken by a thread that
            // either stored its result or panicked (propagated above).
            r.unwrap_or_else(|| Err(crate::error::Error::invalid("task", "not run")))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_task_order() {
        let tasks: Vec<u64> = (0..1000).collect();
        for threads in [1, 2, 5] {
            let mut scratch = vec![0u64; threads];
            let out = map_ordered(&tasks, &mut scratch, |t, s| {
                *s += 1;
                Ok(t * 2)
            })
            .unwrap();
            assert_eq!(out, tasks.iter().map(|t| t * 2).collect::<Vec<_>>());
            assert_eq!(scratch.iter().sum::<u64>(), 1000);
        }
        let mut scratch = vec![(); 2];
        let r = map_ordered(&tasks, &mut scratch, |&t, _| match t {
            7 | 9 => Err(crate::error::Error::Closed),
            _ => Ok(t),
        });
        assert!(r.is_err());
        assert_eq!(thread_count(3), 3);
        assert!(thread_count(0) >= 1);
    }
}
