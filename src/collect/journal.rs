//! The append-only journal of a collection (issue 11 §4), beside the output: `run.sweep.json.journal`.
//!
//! One JSON object per line, `{"r": record, "sha256": first 16 hex digits of SHA-256(record)}`, each line
//! written whole and fsynced before the campaign goes on. Records:
//!
//! - `header`: format, the plan's SHA-256, a random campaign id, its number of calls, solver, whether pair
//!   counts are kept;
//! - `submitting` (call, attempt, label): written **before** the problem is POSTed;
//! - `submitted` (call, attempt, problem id): as soon as SAPI answers with the id (`reconciled` when the id
//!   was found by label after a lost reply);
//! - `done` (call, problem id, counts per plan qubit and coupler, charged QPU time);
//! - `lost` (call, attempt, reason, billed): the service failed, cancelled or lost the problem (billed), or
//!   an interrupted submission is not on SAPI (not billed); the call is submitted again with the next
//!   attempt number.
//!
//! Replaying the journal gives each call's state: fresh, submitting (outcome unknown: reconcile by label
//! before resubmitting), submitted (fetch by id, never resubmit), lost (resubmit) or done. A last line
//! without its newline is the normal trace of a kill and is dropped (the file is cut back to the last whole
//! line); any other line that does not parse or whose checksum fails is refused, as is the journal of
//! another plan: nothing is ever merged silently.

use super::accumulate::CallCounts;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// `format` of the header.
pub const FORMAT: &str = "qasa-journal";
/// Version of the journal format.
pub const VERSION: u32 = 1;

/// Errors of the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal {path} already exists: a collection into this output was started before; add --resume to continue it (its finished calls are kept and none is paid twice), or remove the journal to start over")]
    Exists { path: PathBuf },
    #[error("journal {path}, line {line}: {reason}; the journal is damaged and qasa will not guess: move it away to start over (its problem ids are listed in it)")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("journal {path} belongs to another plan (its plan sha256 {journal}…, this plan's {plan}…): resume with the plan it was started with, or write to another output")]
    ForeignPlan {
        path: PathBuf,
        journal: String,
        plan: String,
    },
    #[error("journal {path} is in use by another qasa collect (process still running); wait for it to finish or stop it first")]
    Busy { path: PathBuf },
    #[error("journal {path} was started {was} pair counts; resume it the same way ({hint})")]
    Pairs {
        path: PathBuf,
        was: &'static str,
        hint: &'static str,
    },
}

/// Counts packed for the journal: base64 of zlib-compressed little-endian `u32`s.
fn pack(v: &[u32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let packed = enc
        .write_all(&bytes)
        .and_then(|_| enc.finish())
        .unwrap_or_default();
    B64.encode(packed)
}

fn unpack(s: &str, n: usize) -> Result<Vec<u32>, String> {
    let z = B64
        .decode(s)
        .map_err(|e| format!("counts are not base64 ({e})"))?;
    let mut bytes = Vec::with_capacity(4 * n);
    flate2::read::ZlibDecoder::new(&z[..])
        .take(4 * n as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("counts do not inflate ({e})"))?;
    if bytes.len() != 4 * n {
        return Err(format!("{} count bytes, expected {}", bytes.len(), 4 * n));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// The first record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub plan_sha256: String,
    /// Random id of this campaign (part of every problem label, so that two runs of one plan never
    /// reconcile each other's problems).
    pub campaign: String,
    pub calls: usize,
    pub qubits: usize,
    pub couplers: usize,
    pub solver: String,
    pub pairs: bool,
    pub created_at: String,
    pub tool_version: String,
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Submitting {
        call: usize,
        attempt: u32,
        label: String,
        at: String,
    },
    Submitted {
        call: usize,
        attempt: u32,
        problem_id: String,
        reconciled: bool,
    },
    Done {
        call: usize,
        attempt: u32,
        problem_id: String,
        reads: u32,
        down: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agree: Option<String>,
        /// `timing.qpu_access_time` of the answer, µs.
        qpu_access_time_us: Option<f64>,
        at: String,
    },
    Lost {
        call: usize,
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        problem_id: Option<String>,
        /// The service had accepted (and billed) the attempt; false when it never reached SAPI.
        billed: bool,
        reason: String,
    },
}

impl Record {
    /// A `done` record for counts.
    pub fn done(call: usize, attempt: u32, id: &str, c: &CallCounts, qpu_us: Option<f64>) -> Self {
        Record::Done {
            call,
            attempt,
            problem_id: id.to_string(),
            reads: c.reads,
            down: pack(&c.down),
            agree: c.agree.as_deref().map(pack),
            qpu_access_time_us: qpu_us,
            at: now(),
        }
    }
}

/// Takes an exclusive advisory lock on the journal for the life of the open file (released on exit, kill -9
/// included), so two collections can never write one journal.
fn lock(file: &File, path: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == std::io::ErrorKind::WouldBlock {
                JournalError::Busy {
                    path: path.to_path_buf(),
                }
            } else {
                JournalError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// A fresh campaign id: 8 hex digits from the time, the process and the plan.
pub fn campaign_id(plan_sha256: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{plan_sha256}/{nanos}/{}", std::process::id());
    checksum(&seed)[..8].to_string()
}

/// RFC 3339 UTC time, seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// What the journal says about one call.
#[derive(Clone, Debug, PartialEq)]
pub enum CallState {
    /// Not submitted yet (`attempt` is the next attempt number).
    Fresh { attempt: u32 },
    /// A POST was about to be sent or was sent; its outcome is unknown.
    Submitting { attempt: u32, label: String },
    /// SAPI holds the problem.
    Submitted { attempt: u32, problem_id: String },
    /// Counted (the counts went to the replay's `on_done`).
    Done {
        problem_id: String,
        qpu_access_time_us: Option<f64>,
    },
}

/// The replayed journal.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalState {
    pub header: Header,
    pub calls: Vec<CallState>,
    /// Billed attempts the service lost or failed (`lost` records with `billed`).
    pub lost: usize,
    /// Time of the first `submitting` record.
    pub first_at: Option<String>,
    /// Time of the last `done` record.
    pub last_at: Option<String>,
}

/// An open journal, appending.
pub struct Journal {
    path: PathBuf,
    file: File,
}

fn line_of(r: &Record) -> String {
    let body = serde_json::to_value(r).unwrap_or(Value::Null).to_string();
    format!("{{\"r\":{body},\"sha256\":\"{}\"}}\n", checksum(&body))
}

fn checksum(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_line(line: &str) -> Result<Record, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let r = v.get("r").ok_or("no record")?;
    let sum = v
        .get("sha256")
        .and_then(Value::as_str)
        .ok_or("no checksum")?;
    if checksum(&r.to_string()) != sum {
        return Err("checksum mismatch".into());
    }
    serde_json::from_value(r.clone()).map_err(|e| format!("not a journal record ({e})"))
}

impl Journal {
    /// The journal path of an output file.
    pub fn path_for(out: &Path) -> PathBuf {
        let mut s = out.as_os_str().to_owned();
        s.push(".journal");
        PathBuf::from(s)
    }

    /// Starts a new journal; refuses an existing one.
    pub fn create(path: &Path, header: Header) -> Result<Journal, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => JournalError::Exists {
                    path: path.to_path_buf(),
                },
                _ => io(e),
            })?;
        lock(&file, path)?;
        let mut j = Journal {
            path: path.to_path_buf(),
            file,
        };
        j.append(&Record::Header(header))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The new directory entry must survive a crash too.
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(j)
    }

    /// Opens an existing journal to continue it: replays it, checks it belongs to `plan_sha256` and was
    /// kept with the same `pairs`, drops a truncated last line. The counts of every finished call go to
    /// `on_done` (call index, counts) as they are read, so a long journal is never held in memory.
    /// A journal cut before its header was whole (a kill while it was created) holds nothing yet: it is
    /// started again with `expected`.
    pub fn resume(
        path: &Path,
        expected: &Header,
        on_done: &mut dyn FnMut(usize, CallCounts) -> Result<(), String>,
    ) -> Result<(Journal, JournalState), JournalError> {
        let (plan_sha256, pairs) = (expected.plan_sha256.as_str(), expected.pairs);
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        lock(&file, path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if whole == 0 {
            file.set_len(0).map_err(io)?;
            let mut j = Journal {
                path: path.to_path_buf(),
                file,
            };
            j.append(&Record::Header(expected.clone()))?;
            let state = JournalState {
                calls: vec![CallState::Fresh { attempt: 0 }; expected.calls],
                header: expected.clone(),
                lost: 0,
                first_at: None,
                last_at: None,
            };
            return Ok((j, state));
        }
        let header = read_header(path, &bytes[..whole])?;
        if header.plan_sha256 != plan_sha256 {
            return Err(JournalError::ForeignPlan {
                path: path.to_path_buf(),
                journal: header.plan_sha256.chars().take(12).collect(),
                plan: plan_sha256.chars().take(12).collect(),
            });
        }
        if header.pairs != pairs {
            let (was, hint) = if header.pairs {
                ("with", "add --pairs")
            } else {
                ("without", "drop --pairs")
            };
            return Err(JournalError::Pairs {
                path: path.to_path_buf(),
                was,
                hint,
            });
        }
        let state = replay(path, &bytes[..whole], header, on_done)?;
        if whole < bytes.len() {
            file.set_len(whole as u64).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io)?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            state,
        ))
    }

    /// Appends one record and makes it durable.
    pub fn append(&mut self, r: &Record) -> Result<(), JournalError> {
        let line = line_of(r);
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn corrupt(path: &Path, line: usize, reason: String) -> JournalError {
    JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// The header (first line) of a journal.
fn read_header(path: &Path, bytes: &[u8]) -> Result<Header, JournalError> {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line =
        std::str::from_utf8(first).map_err(|e| corrupt(path, 1, format!("not UTF-8 ({e})")))?;
    match parse_line(line) {
        _ if bytes.is_empty() => Err(corrupt(path, 1, "the journal is empty (no header)".into())),
        Ok(Record::Header(h)) if h.format == FORMAT && h.version == VERSION => Ok(h),
        Ok(_) => Err(corrupt(
            path,
            1,
            "the first record is not a qasa journal header".into(),
        )),
        Err(e) => Err(corrupt(path, 1, e)),
    }
}

/// Replays the lines after the header into call states; counts go to `on_done`.
fn replay(
    path: &Path,
    bytes: &[u8],
    header: Header,
    on_done: &mut dyn FnMut(usize, CallCounts) -> Result<(), String>,
) -> Result<JournalState, JournalError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| corrupt(path, 0, format!("not UTF-8 ({e})")))?;
    let mut st = JournalState {
        calls: vec![CallState::Fresh { attempt: 0 }; header.calls],
        header,
        lost: 0,
        first_at: None,
        last_at: None,
    };
    for (i, l) in text.lines().enumerate().skip(1) {
        let r = parse_line(l).map_err(|e| corrupt(path, i + 1, e))?;
        apply(&mut st, r, on_done).map_err(|e| corrupt(path, i + 1, e))?;
    }
    Ok(st)
}

fn apply(
    st: &mut JournalState,
    r: Record,
    on_done: &mut dyn FnMut(usize, CallCounts) -> Result<(), String>,
) -> Result<(), String> {
    let (n_q, n_c) = (st.header.qubits, st.header.couplers);
    let (call, next) = match r {
        Record::Header(_) => return Err("a second header".into()),
        Record::Submitting {
            call,
            attempt,
            label,
            at,
        } => {
            st.first_at.get_or_insert(at);
            (call, CallState::Submitting { attempt, label })
        }
        Record::Submitted {
            call,
            attempt,
            problem_id,
            ..
        } => (
            call,
            CallState::Submitted {
                attempt,
                problem_id,
            },
        ),
        Record::Done {
            call,
            problem_id,
            reads,
            down,
            agree,
            qpu_access_time_us,
            at,
            ..
        } => {
            st.last_at = Some(at);
            if matches!(st.calls.get(call), Some(CallState::Done { .. })) {
                return Err(format!("a second done record for call {call}"));
            }
            let counts = CallCounts {
                reads,
                down: unpack(&down, n_q)?,
                agree: agree.map(|a| unpack(&a, n_c)).transpose()?,
            };
            on_done(call, counts)?;
            (
                call,
                CallState::Done {
                    problem_id,
                    qpu_access_time_us,
                },
            )
        }
        Record::Lost {
            call,
            attempt,
            billed,
            ..
        } => {
            st.lost += usize::from(billed);
            (
                call,
                CallState::Fresh {
                    attempt: attempt + 1,
                },
            )
        }
    };
    let slot = st
        .calls
        .get_mut(call)
        .ok_or_else(|| format!("call {call} is not in the plan"))?;
    if matches!(slot, CallState::Done { .. }) {
        return Err(format!("a record for call {call} after it was done"));
    }
    *slot = next;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            plan_sha256: "ab".repeat(32),
            campaign: "0123abcd".into(),
            calls: 3,
            qubits: 2,
            couplers: 0,
            solver: "S".into(),
            pairs: false,
            created_at: now(),
            tool_version: "t".into(),
        }
    }

    #[test]
    fn replay_truncation_corruption_and_foreign_plans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.journal");
        let mut j = Journal::create(&p, header()).unwrap();
        assert!(matches!(
            Journal::create(&p, header()),
            Err(JournalError::Exists { .. })
        ));
        #[cfg(unix)]
        assert!(matches!(
            Journal::resume(&p, &header(), &mut |_, _| Ok(())),
            Err(JournalError::Busy { .. })
        ));
        let counts = CallCounts {
            reads: 10,
            down: vec![3, 7],
            agree: None,
        };
        j.append(&Record::Submitting {
            call: 0,
            attempt: 0,
            label: "l0".into(),
            at: now(),
        })
        .unwrap();
        j.append(&Record::Submitted {
            call: 0,
            attempt: 0,
            problem_id: "p0".into(),
            reconciled: false,
        })
        .unwrap();
        j.append(&Record::done(0, 0, "p0", &counts, Some(1.5)))
            .unwrap();
        j.append(&Record::Submitting {
            call: 1,
            attempt: 0,
            label: "l1".into(),
            at: now(),
        })
        .unwrap();
        drop(j);
        // A kill in the middle of a line: the tail is dropped.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"r\":{\"type\":\"subm").unwrap();
        drop(f);
        let mut seen = Vec::new();
        let (_, st) = Journal::resume(&p, &header(), &mut |i, c| {
            seen.push((i, c));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(0, counts)]);
        assert_eq!(
            st.calls[0],
            CallState::Done {
                problem_id: "p0".into(),
                qpu_access_time_us: Some(1.5)
            }
        );
        assert_eq!(
            st.calls[1],
            CallState::Submitting {
                attempt: 0,
                label: "l1".into()
            }
        );
        assert_eq!(st.calls[2], CallState::Fresh { attempt: 0 });
        assert!(std::fs::read(&p).unwrap().ends_with(b"\n"));
        // Another plan, another pairs setting.
        assert!(matches!(
            Journal::resume(
                &p,
                &Header {
                    plan_sha256: "cd".repeat(32),
                    ..header()
                },
                &mut |_, _| Ok(())
            ),
            Err(JournalError::ForeignPlan { .. })
        ));
        assert!(matches!(
            Journal::resume(
                &p,
                &Header {
                    pairs: true,
                    ..header()
                },
                &mut |_, _| Ok(())
            ),
            Err(JournalError::Pairs { .. })
        ));
        // A changed digit in a whole line is corruption, not truncation.
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replacen("\"p0\"", "\"p9\"", 1)).unwrap();
        match Journal::resume(&p, &header(), &mut |_, _| Ok(())) {
            Err(JournalError::Corrupt { line, .. }) => assert_eq!(line, 3),
            other => panic!("{:?}", other.map(|x| x.1)),
        }
    }

    #[test]
    fn a_journal_cut_inside_its_header_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.journal");
        std::fs::write(&p, b"{\"r\":{\"type\":\"hea").unwrap();
        let (_, st) = Journal::resume(&p, &header(), &mut |_, _| Ok(())).unwrap();
        assert_eq!(st.calls, vec![CallState::Fresh { attempt: 0 }; 3]);
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"header\""));
    }

    #[test]
    fn packed_counts_round_trip() {
        let v: Vec<u32> = (0..1000).map(|i| i * 7 % 10_001).collect();
        assert_eq!(unpack(&pack(&v), 1000).unwrap(), v);
        assert!(unpack(&pack(&v), 999).is_err());
        assert!(unpack("!!", 1).is_err());
    }
}
