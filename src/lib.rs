//! qasa: single-qubit assessment (QASA) of D-Wave quantum annealers.
//!
//! The crate follows the data flow of `docs/design.md`, one module per stage, dependencies one way:
//!
//! ```text
//! topology ─┬─ device (virtual QPU) ─┐
//!           │                        ├─ collect (plan, run) ─┐
//! sapi ─────┴────────────────────────┘                       ├─> sweep (counts, physical frame)
//! recorded files (QASA csv) ─────────────────────────────────┘      └─> fit (per-qubit MLE, errors)
//! ```
//!
//! `model` is pure math at the bottom; `gzip` reads plain or gzip files for every loader; the solver record
//! type lives in `sapi::solver` and the topology loader builds working graphs from it. `server` serves the virtual QPU over the SAPI protocol. The binary
//! (`src/main.rs`, `src/cli/`) only parses arguments and prints.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod analysis;
pub mod atomic_file;
pub mod collect;
pub mod design;
pub mod device;
pub mod fit;
pub mod gzip;
pub mod model;
pub mod report;
pub mod sapi;
pub mod schema;
pub mod server;
pub mod sweep;
pub mod topology;

/// Version of this tool, recorded in every file it writes.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
