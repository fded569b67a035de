//! The single-qubit model: response function, derivatives and likelihood (docs/physics.md §2–3). Pure
//! math, no I/O.
//!
//! - [`response`]: `p_down(h)` of the two-point noise model and of its Gaussian-noise variant, with exact
//!   first and second derivatives with respect to `(β, b, γ, η)`.
//! - [`likelihood`]: the binomial log-likelihood in count form, its derivatives, Pearson χ², deviance and
//!   the Fisher information.
//! - [`calls`]: the per-call likelihood, in which the reads of one call share one noise draw.
//! - [`Model`]: the nested models `gibbs ⊂ bias ⊂ noise ⊂ qasa` and the `gaussian` alternative.

// Small fixed-size numeric kernels read best with index loops.
#![allow(clippy::needless_range_loop)]

pub mod calls;
pub mod likelihood;
mod params;
pub mod response;
mod stable;

pub use calls::{call_log_likelihood, for_each_call};
pub use likelihood::{
    fisher_information, goodness_of_fit, log_likelihood, saturated_log_likelihood, GoodnessOfFit,
    LogLik, QubitCounts, P_MIN,
};
pub use params::{Model, NoiseKind, Param, Params};
pub use response::{branch_response, magnetization, p_down, response, Order, Response};
