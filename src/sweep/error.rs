//! Errors of the sweep readers and writers. Each names the file and where in it the problem is
//! (a JSON path for native files, a line and column for QASA csv files) and says what to do.

use std::path::PathBuf;

/// Everything that can go wrong reading, checking or writing a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file could not be read or decompressed (a truncated gzip says so).
    #[error(transparent)]
    File(#[from] crate::gzip::ReadError),
    #[error("{path}: not valid JSON ({source}); is the file truncated or not a qasa sweep?")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: at {json_path}: {reason}")]
    Schema {
        path: PathBuf,
        json_path: String,
        reason: String,
    },
    #[error("{path}: line {line}, column {column}: {reason}")]
    Csv {
        path: PathBuf,
        line: u64,
        column: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// The sweep breaks an invariant ([`super::check`]).
    #[error("{path}: {source}")]
    Check {
        path: PathBuf,
        #[source]
        source: super::CheckError,
    },
    /// A sweep that breaks an invariant is never written.
    #[error("{path}: refusing to write: {source}")]
    Refused {
        path: PathBuf,
        #[source]
        source: super::CheckError,
    },
    #[error("cannot export to QASA csv: {source}")]
    ExportCheck {
        #[source]
        source: super::CheckError,
    },
    #[error("cannot export to QASA csv: {reason}")]
    Export { reason: String },
    #[error(
        "{path}: unknown file format ({reason}); use a *.sweep.json[.gz] or a QASA spin_table.csv"
    )]
    Format { path: PathBuf, reason: String },
}

impl SweepError {
    /// Attaches a file name to an in-memory error.
    pub(crate) fn invalid(path: &std::path::Path, reason: impl Into<String>) -> Self {
        SweepError::Invalid {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
