//! Pacing the requests to one provider in a batch (SPEC §8: `rpm` and `concurrency`
//! in its `[providers.NAME]` table): at most `concurrency` requests in flight, starts
//! spaced so that no more than `rpm` begin in any minute, and a 429 holds back every
//! request to the provider until its `Retry-After` has passed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The pace of one provider, shared by every request to it.
#[derive(Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    /// The gap between two starts; none without an `rpm`.
    gap: Option<Duration>,
    /// The earliest moment the next request may start.
    next: Mutex<Option<Instant>>,
}

/// A request's place among those in flight; dropping it frees the place.
#[derive(Debug)]
pub struct Turn {
    _slot: OwnedSemaphorePermit,
}

impl Limiter {
    /// `rpm` requests a minute at most (none: no pacing), `concurrency` at once (at
    /// least one).
    pub fn new(rpm: Option<u32>, concurrency: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            gap: rpm
                .filter(|&rpm| rpm > 0)
                .map(|rpm| Duration::from_secs(60) / rpm),
            next: Mutex::new(None),
        }
    }

    /// Waits for a free place and for this request's start time, and takes them.
    pub async fn start(&self) -> Turn {
        // The semaphore is never closed, so acquiring only ever waits.
        let slot = loop {
            if let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await {
                break slot;
            }
        };
        let at = {
            let mut next = self.lock();
            let now = Instant::now();
            let at = next.map_or(now, |next| next.max(now));
            *next = Some(at + self.gap.unwrap_or_default());
            at
        };
        tokio::time::sleep_until(at).await;
        Turn { _slot: slot }
    }

    /// The provider said to wait (a 429 and its `Retry-After`): no request to it
    /// starts before `wait` has passed.
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut next = self.lock();
        *next = Some(next.map_or(until, |next| next.max(until)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // A panic elsewhere while holding it leaves a valid instant behind.
        self.next
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each of `n` requests started, in seconds from the first call.
    async fn starts(limiter: Arc<Limiter>, n: usize, hold_for: Duration) -> Vec<f64> {
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move {
                    let turn = limiter.start().await;
                    let started = t0.elapsed().as_secs_f64();
                    tokio::time::sleep(hold_for).await;
                    drop(turn);
                    started
                })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.unwrap());
        }
        out.sort_by(f64::total_cmp);
        out
    }

    #[tokio::test(start_paused = true)]
    async fn starts_are_spaced_by_the_rate() {
        let limiter = Arc::new(Limiter::new(Some(60), 10));
        let got = starts(limiter, 4, Duration::ZERO).await;
        assert_eq!(got, [0.0, 1.0, 2.0, 3.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_concurrency_are_in_flight() {
        let limiter = Arc::new(Limiter::new(None, 2));
        let got = starts(limiter, 5, Duration::from_secs(10)).await;
        assert_eq!(got, [0.0, 0.0, 10.0, 10.0, 20.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_back_every_request_to_the_provider() {
        let limiter = Arc::new(Limiter::new(Some(600), 4));
        limiter.hold(Duration::from_secs(30));
        let got = starts(Arc::clone(&limiter), 2, Duration::ZERO).await;
        assert_eq!(got, [30.0, 30.1]);
        // A shorter wait never shortens a longer one already set.
        limiter.hold(Duration::from_secs(5));
        limiter.hold(Duration::from_secs(1));
        let t0 = Instant::now();
        let _turn = limiter.start().await;
        assert_eq!(t0.elapsed(), Duration::from_secs(5));
    }
}
