//! The sampling backend behind the server: one programming cycle (one SAPI problem) of a QPU.
//!
//! The production backend is the virtual QPU ([`VirtualQpu`]); tests may plug in their own.

pub use crate::device::RawSamples;
use crate::device::VirtualQpu;
use rand_pcg::Pcg64Mcg;

/// A QPU that samples problems with fields only (J = 0).
pub trait QpuSampler: Send + Sync {
    /// `fields[i]` is the field h on the i-th working qubit (lin order); NaN = qubit not used (no spin).
    /// Returns per-read spins (±1) of the active qubits, `active` ascending.
    fn sample_raw(
        &self,
        fields: &[f64],
        num_reads: usize,
        anneal_time_us: f64,
        rng: &mut Pcg64Mcg,
    ) -> RawSamples;
}

impl QpuSampler for VirtualQpu {
    fn sample_raw(
        &self,
        fields: &[f64],
        num_reads: usize,
        anneal_time_us: f64,
        rng: &mut Pcg64Mcg,
    ) -> RawSamples {
        VirtualQpu::sample_raw(self, fields, num_reads, anneal_time_us, rng)
    }
}
