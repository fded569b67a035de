//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The shared reference data (see its PROVENANCE.md), read in place: `$QASA_SHARED_DATA` if set, else
/// `../shared/data` beside the checkout (where CI puts it). Fails with a message saying where it looked.
pub fn shared_data() -> PathBuf {
    let mut looked = Vec::new();
    if let Some(dir) = std::env::var_os("QASA_SHARED_DATA") {
        looked.push(PathBuf::from(dir));
    }
    looked.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    match looked.iter().find(|p| p.join("PROVENANCE.md").is_file()) {
        Some(p) => p.clone(),
        None => panic!(
            "shared reference data not found; looked in {looked:?}. Put the shared/ folder beside the \
             checkout or set QASA_SHARED_DATA"
        ),
    }
}

/// The 8-qubit mock solver of the SAPI transcript (`sapi/mock-solver-Mock8Q.json`, docs/sapi-protocol.md
/// §4.5): one Chimera cell, qubit 6 missing; its qubit and coupler lists are the fixture every SAPI and
/// server test uses.
pub fn mock8q() -> qasa::sapi::SolverRecord {
    let path = shared_data().join("sapi/mock-solver-Mock8Q.json");
    qasa::sapi::SolverRecord::read_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
}
