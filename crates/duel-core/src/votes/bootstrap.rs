//! The bootstrap's machinery, shared by the plain fit ([`super::rating`]) and the
//! style-controlled one ([`super::style_control`]): the seeded resample of one round,
//! the rounds spread over the cores, and the percentile an interval is read off.
//!
//! Every round has its own generator seeded from [`SEED`] and the round number, so a
//! result is the same on every run and on any number of threads.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

/// The bootstrap's seed: the same log always gives the same intervals.
const SEED: u64 = 0x6475_656c_2d62_7473;

/// `work(round)` for rounds 0..`rounds`, in round order, spread over the cores.
pub(crate) fn in_parallel<T: Send>(rounds: u32, work: impl Fn(u32) -> T + Sync) -> Vec<T> {
    if rounds == 0 {
        return Vec::new();
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(rounds as usize);
    let per_thread = (rounds as usize).div_ceil(threads);
    let all: Vec<u32> = (0..rounds).collect();
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = all
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(|&r| work(r)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            // A worker only computes; were it to panic, that is a bug to surface.
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// One bootstrap round's draw: `battles` (each a cell index below `cells`) resampled
/// with replacement to the same size, as counts per cell. Each round has its own
/// generator, seeded from [`SEED`] and the round number.
pub(crate) fn resample(battles: &[u32], cells: usize, round: u32) -> Vec<u32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED ^ u64::from(round));
    let mut counts = vec![0u32; cells];
    let len = battles.len();
    for _ in 0..len {
        // Lemire's multiply-shift: one draw per pick; its bias (< len / 2⁶⁴) is nil.
        let pick = ((u128::from(rng.next_u64()) * len as u128) >> 64) as usize;
        counts[battles[pick] as usize] += 1;
    }
    counts
}

/// The `q` quantile of sorted `values`, interpolating linearly between ranks.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}
