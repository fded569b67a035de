//! D-Wave SAPI (Solver API) client: configuration, HTTP client, `qp` codec, media types, answer counting.
//!
//! Protocol reference: `docs/sapi-protocol.md` (section numbers cited in each file).

pub mod media;
pub mod qp;
