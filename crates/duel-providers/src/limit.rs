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
    pace: Mutex<Pace>,
}

#[derive(Debug, Default)]
struct Pace {
    /// The earliest moment the next request may start.
    next: Option<Instant>,
    /// No request starts before this: the provider said to wait.
    held_until: Option<Instant>,
}

/// A request's place among those in flight; dropping it frees the place.
#[derive(Debug)]
pub struct Place {
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
            pace: Mutex::new(Pace::default()),
        }
    }

    /// Waits for a free place and for this request's start time, and takes them.
    pub async fn start(&self) -> Place {
        // The semaphore is never closed, so acquiring only ever waits.
        let slot = loop {
            if let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await {
                break slot;
            }
        };
        loop {
            let at = {
                let mut pace = self.lock();
                let now = Instant::now();
                let at = [pace.next, pace.held_until]
                    .into_iter()
                    .flatten()
                    .fold(now, Instant::max);
                pace.next = Some(at + self.gap.unwrap_or_default());
                at
            };
            tokio::time::sleep_until(at).await;
            // A 429 that came while this one waited holds it back too.
            if self
                .lock()
                .held_until
                .is_none_or(|until| until <= Instant::now())
            {
                return Place { _slot: slot };
            }
        }
    }

    /// The provider said to wait (a 429 and its `Retry-After`): no request to it
    /// starts before `wait` has passed.
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut pace = self.lock();
        pace.held_until = Some(pace.held_until.map_or(until, |held| held.max(until)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pace> {
        // A panic elsewhere while holding it leaves valid instants behind.
        self.pace
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

    #[tokio::test(start_paused = true)]
    async fn a_429_also_holds_back_requests_already_waiting_for_their_start() {
        // At 60 a minute, three requests are due at 0, 1 and 2 s. The first goes out
        // and is refused with Retry-After: 10 s: the two waiting must not go before.
        let limiter = Arc::new(Limiter::new(Some(60), 10));
        let waiting = tokio::spawn(starts(Arc::clone(&limiter), 3, Duration::ZERO));
        tokio::task::yield_now().await;
        limiter.hold(Duration::from_secs(10));
        assert_eq!(
            waiting.await.unwrap(),
            [0.0, 10.0, 11.0],
            "spaced again after the wait"
        );
    }
}
