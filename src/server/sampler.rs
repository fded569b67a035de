//! The sampling backend behind the server: one programming cycle (one SAPI problem) of a QPU.
//!
//! The production backend is the virtual QPU (`crate::device::VirtualQpu`); tests may plug in their own.

use rand_pcg::Pcg64Mcg;

/// Spins of one programming cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSamples {
    /// Indices into the solver's `qubits` list (lin order) of the active qubits, ascending.
    pub active: Vec<usize>,
    pub num_reads: usize,
    /// ±1, row-major `[read][active]`.
    pub spins: Vec<i8>,
}

/// A QPU that samples problems with fields only (J = 0).
pub trait QpuSampler: Send + Sync {
    /// `fields[i]` is the field h on the i-th working qubit (lin order); NaN = qubit not used.
    fn sample_raw(
        &self,
        fields: &[f64],
        num_reads: usize,
        anneal_time_us: f64,
        rng: &mut Pcg64Mcg,
    ) -> RawSamples;
}
