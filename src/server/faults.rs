//! Seeded fault injection: latency, failed requests (429 with `Retry-After`, or 5xx), dropped connections
//! (the request is processed, then the connection is closed without a reply: a lost response; or, with
//! `drop_before`, closed before processing: a lost request), failed
//! problems (end FAILED with an `error_message`) and "first poll of every problem answered 429".
//!
//! Every decision is a pure function of the server seed and a counter (the n-th request, the n-th problem),
//! so a client that sends the same sequence of requests sees the same faults.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Fault-injection settings (all off by default).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Delay added before every reply, ms.
    pub latency_ms: u64,
    /// Fraction of SAPI requests answered with an injected error (not processed).
    pub fail_rate: f64,
    /// Status codes an injected error picks from (uniformly): 429 and 503 carry `Retry-After`.
    pub fail_statuses: Vec<u16>,
    /// `Retry-After` value, seconds.
    pub retry_after_s: u64,
    /// Fraction of SAPI requests whose reply is lost: processed, then the connection is closed.
    pub drop_rate: f64,
    /// Dropped requests are closed *before* processing (the request is lost, not the reply).
    pub drop_before: bool,
    /// Fraction of accepted problems that end FAILED.
    pub problem_fail_rate: f64,
    /// Answer the first status poll (`GET problems/?id=`) that lists a problem with 429 + `Retry-After`.
    pub fail_first_poll: bool,
    /// The solvers go offline once this many problems were accepted: later submissions get the item error
    /// "solver is offline" and the solver views say `OFFLINE`.
    pub offline_after: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency_ms: 0,
            fail_rate: 0.0,
            fail_statuses: vec![429, 500, 503],
            retry_after_s: 1,
            drop_rate: 0.0,
            drop_before: false,
            problem_fail_rate: 0.0,
            fail_first_poll: false,
            offline_after: None,
        }
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    None,
    /// Answer with this status, do not process.
    Fail(u16),
    /// Process, then close the connection without a reply.
    Drop,
}

const REQUEST_STREAM: u64 = 0x5EED_FA17_0000_0001;
const PROBLEM_STREAM: u64 = 0x5EED_FA17_0000_0002;

/// SplitMix64 finaliser: decorrelates (seed, stream, counter).
pub fn mix(seed: u64, stream: u64, n: u64) -> u64 {
    let mut z = seed ^ stream.rotate_left(17) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FaultConfig {
    /// Fault for the `n`-th SAPI request (0-based).
    pub fn request_fault(&self, seed: u64, n: u64) -> RequestFault {
        if self.fail_rate <= 0.0 && self.drop_rate <= 0.0 {
            return RequestFault::None;
        }
        let mut rng = Pcg64Mcg::seed_from_u64(mix(seed, REQUEST_STREAM, n));
        let u: f64 = rng.random();
        if u < self.fail_rate && !self.fail_statuses.is_empty() {
            let k = rng.random_range(0..self.fail_statuses.len());
            return RequestFault::Fail(self.fail_statuses.get(k).copied().unwrap_or(500));
        }
        let v: f64 = rng.random();
        if v < self.drop_rate {
            return RequestFault::Drop;
        }
        RequestFault::None
    }

    /// Whether the solvers are offline after `accepted` problems.
    pub fn offline(&self, accepted: u64) -> bool {
        self.offline_after.is_some_and(|n| accepted >= n)
    }

    /// Whether the `index`-th accepted problem fails.
    pub fn problem_fails(&self, seed: u64, index: u64) -> bool {
        if self.problem_fail_rate <= 0.0 {
            return false;
        }
        let mut rng = Pcg64Mcg::seed_from_u64(mix(seed, PROBLEM_STREAM, index));
        rng.random::<f64>() < self.problem_fail_rate
    }

    /// Check the rates and statuses.
    pub fn validate(&self) -> Result<(), FaultError> {
        for (name, value) in [
            ("fail_rate", self.fail_rate),
            ("drop_rate", self.drop_rate),
            ("problem_fail_rate", self.problem_fail_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(FaultError::Rate { name, value });
            }
        }
        if let Some(&status) = self
            .fail_statuses
            .iter()
            .find(|s| !(400..=599).contains(*s))
        {
            return Err(FaultError::Status { status });
        }
        Ok(())
    }
}

/// An invalid fault-injection setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    /// `name` is the [`FaultConfig`] field (`fail_rate`, `drop_rate`, `problem_fail_rate`).
    #[error("{name} must be a fraction in [0, 1], got {value}")]
    Rate { name: &'static str, value: f64 },
    #[error("the injected failure status {status} is not an HTTP error status (400-599)")]
    Status { status: u16 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_seeded_and_near_the_rate() {
        let f = FaultConfig {
            fail_rate: 0.2,
            drop_rate: 0.1,
            ..FaultConfig::default()
        };
        let a: Vec<_> = (0..2000).map(|n| f.request_fault(7, n)).collect();
        let b: Vec<_> = (0..2000).map(|n| f.request_fault(7, n)).collect();
        assert_eq!(a, b);
        let c: Vec<_> = (0..2000).map(|n| f.request_fault(8, n)).collect();
        assert_ne!(a, c);
        let fails = a
            .iter()
            .filter(|x| matches!(x, RequestFault::Fail(_)))
            .count();
        let drops = a.iter().filter(|x| **x == RequestFault::Drop).count();
        assert!((300..500).contains(&fails), "{fails}");
        assert!((100..230).contains(&drops), "{drops}");
        assert!(a.iter().all(|x| match x {
            RequestFault::Fail(s) => [429, 500, 503].contains(s),
            _ => true,
        }));
        assert_eq!(
            FaultConfig::default().request_fault(7, 3),
            RequestFault::None
        );
    }

    #[test]
    fn validation_names_the_setting() {
        let f = FaultConfig {
            drop_rate: 1.5,
            ..FaultConfig::default()
        };
        assert_eq!(
            f.validate(),
            Err(FaultError::Rate {
                name: "drop_rate",
                value: 1.5
            })
        );
        let f = FaultConfig {
            fail_statuses: vec![200],
            ..FaultConfig::default()
        };
        assert_eq!(f.validate(), Err(FaultError::Status { status: 200 }));
        assert_eq!(FaultConfig::default().validate(), Ok(()));
    }
}
