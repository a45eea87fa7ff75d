//! Tasks on several threads with results in task order: the output does
//! not depend on the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `task(0..n)` on `jobs` threads pulling indices from a shared
/// counter; results in index order. `progress` is told each finished
/// task's count. The first failing task in index order is the error: after
/// a failure later tasks are skipped, earlier ones still run.
pub fn run_ordered<T: Send, E: Send>(
    n: usize,
    jobs: usize,
    task: &(dyn Fn(usize) -> Result<T, E> + Sync),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<T>, E> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed_at = AtomicUsize::new(usize::MAX);
    let results: Mutex<Vec<Option<Result<T, E>>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            s.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::Relaxed);
                if t >= n || t > failed_at.load(Ordering::Relaxed) {
                    break;
                }
                let r = task(t);
                if r.is_err() {
                    failed_at.fetch_min(t, Ordering::Relaxed);
                }
                results.lock().expect("no panics while held")[t] = Some(r);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            });
        }
    });
    let mut out = Vec::with_capacity(n);
    for r in results.into_inner().expect("threads joined") {
        match r {
            Some(Ok(x)) => out.push(x),
            Some(Err(e)) => return Err(e),
            None => unreachable!("a skipped task follows a failed one"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_and_the_first_error_whatever_the_threads() {
        for jobs in [1, 2, 7] {
            let r: Result<Vec<usize>, String> = run_ordered(50, jobs, &|i| Ok(i * i), &|_| {});
            assert_eq!(r.unwrap(), (0..50).map(|i| i * i).collect::<Vec<_>>());
            let e = run_ordered(
                50,
                jobs,
                &|i| if i % 10 == 3 { Err(i) } else { Ok(i) },
                &|_| {},
            );
            assert_eq!(e, Err(3));
        }
        let none: Result<Vec<u8>, ()> = run_ordered(0, 2, &|_| Ok(1), &|_| {});
        assert_eq!(none, Ok(vec![]));
    }
}
