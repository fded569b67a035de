//! The integration tests: one binary (one link of reqwest, rustls and rayon), one module per stage.
//! Run one module with `cargo test --test it fit::`; the slow checks are `#[ignore]`d and run by `.ci/run`.

mod analysis;
mod cli;
mod collect;
mod common;
mod design;
mod device;
mod e2e;
mod fit;
#[path = "../fixtures/physics_reference.rs"]
mod physics_reference;
mod report;
mod sapi;
mod server;
mod sweep;
mod topology;
