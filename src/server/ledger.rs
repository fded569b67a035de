//! Billing ledger: one JSON line per accepted problem, flushed per line, so tests can count exactly what a
//! real account would have been charged for.
//!
//! Line: `{"id", "submitted_at" (ISO-8601 UTC), "solver", "label", "num_reads", "active_qubits",
//! "qpu_access_time_us" (the §6.3 estimate), "lin_sha256" (hex SHA-256 of the decoded `lin` bytes: the
//! little-endian float64 array as sent)}`.

use super::ServerError;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One accepted problem.
#[derive(Debug, Clone)]
pub struct LedgerEntry<'a> {
    pub id: &'a str,
    pub submitted_at: &'a str,
    pub solver: &'a str,
    pub label: Option<&'a str>,
    pub num_reads: usize,
    pub active_qubits: usize,
    pub qpu_access_time_us: f64,
    pub lin_bytes: &'a [u8],
}

/// An append-only JSON-lines file.
pub struct Ledger {
    path: PathBuf,
    file: Mutex<File>,
}

impl Ledger {
    /// Open (create or append).
    pub fn open(path: &Path) -> Result<Ledger, ServerError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ServerError::Ledger {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Ledger {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Append one line and flush it.
    pub fn record(&self, e: &LedgerEntry<'_>) -> Result<(), ServerError> {
        let digest = Sha256::digest(e.lin_bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let line = json!({
            "id": e.id,
            "submitted_at": e.submitted_at,
            "solver": e.solver,
            "label": e.label,
            "num_reads": e.num_reads,
            "active_qubits": e.active_qubits,
            "qpu_access_time_us": e.qpu_access_time_us,
            "lin_sha256": hex,
        });
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(f, "{line}")
            .and_then(|_| f.flush())
            .map_err(|err| ServerError::Ledger {
                path: self.path.display().to_string(),
                reason: err.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_and_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&path).unwrap();
        let e = LedgerEntry {
            id: "a",
            submitted_at: "t",
            solver: "s",
            label: None,
            num_reads: 10,
            active_qubits: 2,
            qpu_access_time_us: 1.5,
            lin_bytes: b"",
        };
        l.record(&e).unwrap();
        l.record(&LedgerEntry { id: "b", ..e }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["id"], "b");
        assert_eq!(
            lines[0]["lin_sha256"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(Ledger::open(&dir.path().join("no/such/dir/x")).is_err());
    }
}
