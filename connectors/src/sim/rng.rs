//! Deterministic randomness: every stream is ChaCha8 seeded from (world seed,
//! stream name, index) through keccak, so one stream's draws never depend on how
//! many another consumed, and the same seed gives the same world on any machine.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use sha3::{Digest, Keccak256};

pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn derive(seed: u64, stream: &str, index: u64) -> SimRng {
        let mut h = Keccak256::new();
        h.update(b"mirrorflow/sim/v1\0");
        h.update(seed.to_be_bytes());
        h.update(stream.as_bytes());
        h.update([0]);
        h.update(index.to_be_bytes());
        SimRng(ChaCha8Rng::from_seed(h.finalize().into()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).max(f64::MIN_POSITIVE).ln()
    }

    /// Log-uniform in [lo, hi].
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.uniform()).exp()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = SimRng::derive(7, "market", 0);
                move |_| r.next_u64()
            })
            .collect();
        let mut again = SimRng::derive(7, "market", 0);
        assert_eq!(a, (0..4).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(a[0], SimRng::derive(7, "market", 1).next_u64());
        assert_ne!(a[0], SimRng::derive(8, "market", 0).next_u64());
        let mut r = SimRng::derive(1, "x", 0);
        for _ in 0..1000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!((3..=5).contains(&r.range_u64(3, 5)));
        }
    }
}
