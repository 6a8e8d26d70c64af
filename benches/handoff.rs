//! What it costs to hand work to another thread on this machine, the floor
//! under splitting one query over the cores (ARCHITECTURE.md, "A range scan
//! runs on the caller's thread"):
//! - `scoped_spawn_join`: `std::thread::scope` with one spawned no-op thread,
//!   as `query/parallel.rs` runs a multi-threaded downsample;
//! - `condvar_round_trip`: wake a parked persistent thread and wait for its
//!   answer, after 100 µs of work on the caller (a query's length) during which
//!   the helper has gone idle, as it would between queries.

use std::hint::black_box;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

fn handoff(c: &mut Criterion) {
    let mut g = c.benchmark_group("handoff");
    g.bench_function("scoped_spawn_join", |b| {
        b.iter(|| std::thread::scope(|s| s.spawn(|| black_box(1)).join().ok()))
    });
    // The helper answers each odd value of the counter by making it even.
    let pair = Arc::new((Mutex::new(0u64), Condvar::new()));
    let helper = Arc::clone(&pair);
    std::thread::spawn(move || {
        let (m, cv) = &*helper;
        let mut n = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            while *n % 2 == 0 {
                n = cv.wait(n).unwrap_or_else(|e| e.into_inner());
            }
            *n += 1;
            cv.notify_all();
        }
    });
    g.bench_function("condvar_round_trip", |b| {
        b.iter_custom(|iters| {
            let (m, cv) = &*pair;
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let busy = Instant::now();
                while busy.elapsed() < Duration::from_micros(100) {
                    std::hint::spin_loop();
                }
                let start = Instant::now();
                let mut n = m.lock().unwrap_or_else(|e| e.into_inner());
                *n += 1;
                cv.notify_all();
                while *n % 2 == 1 {
                    n = cv.wait(n).unwrap_or_else(|e| e.into_inner());
                }
                drop(n);
                timed += start.elapsed();
            }
            timed
        })
    });
    g.finish();
}

criterion_group!(benches, handoff);
criterion_main!(benches);
