//! Campaigns: plans and their two executors (design.md "collect"; issue 11).
//!
//! A [`Plan`] is the list of calls of a single-qubit assessment: for each call its uniform h, its reads, its
//! gauge and its block, with the solver parameters every call sends. It is built from settings
//! ([`PlanSpec`]) and checked against the solver's limits ([`SolverLimits`]) before anything runs, costed
//! with the solver's timing model ([`cost`], equal to dwave-cloud-client's estimate) and given the
//! standard errors it can expect ([`precision`]). Both executors run a plan unchanged and record the
//! counts in the physical frame through one [`SweepBuilder`]:
//!
//! - [`virtual_qpu`]: the built-in virtual QPU (`qasa simulate`);
//! - [`runner`]: a SAPI solver (`qasa collect`), with calls in flight, an fsynced [`journal`], resume,
//!   budgets and recovery from every fault the service can show.
//!
//! Module map: [`grid`] (exact h grids), [`build`] (settings → plan), [`plan`] (the plan file and its
//! accessors), [`limits`], [`cost`], [`information`] (what a call tells about a qubit), [`precision`], [`accumulate`], [`virtual_qpu`], [`journal`],
//! [`runner`] (with its workers), [`error`].

pub mod accumulate;
pub mod build;
pub mod cost;
pub mod design_record;
pub mod error;
pub mod grid;
pub mod information;
pub mod journal;
pub mod limits;
pub mod plan;
pub mod precision;
pub mod runner;
pub mod virtual_qpu;
mod worker;

pub use accumulate::{sweep_meta, CallCounts, CountsError, SweepBuilder};
pub use build::{PlanSpec, Target};
pub use error::{PlanError, Setting};
pub use grid::GridSpec;
pub use journal::{Journal, JournalError};
pub use limits::SolverLimits;
pub use plan::{Call, Plan, PlanSolver, SolverSource};
pub use runner::{collect, CollectError, CollectOptions, CollectProgress, Collected};
pub use virtual_qpu::{run_virtual, simulate, VirtualOptions};
