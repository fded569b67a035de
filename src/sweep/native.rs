//! The native sweep file `*.sweep.json` (gzip allowed, detected by its magic bytes), described by
//! `schemas/sweep.schema.json`.
//!
//! A count matrix is written in the most compact of three encodings the schema allows: `row_constant`
//! (every column of a row equal, typical for `reads`), plain nested rows (small matrices), or packed
//! base64 of little-endian `u16`/`u32` (large matrices; `numpy.frombuffer(base64.b64decode(d), '<u4')`).
//! Loading parses the JSON once, validates it against the schema, decodes the matrices and checks the
//! invariants of [`super::check`].

use super::{CountMatrix, CouplerAgreement, Sweep, SweepError, SweepMeta};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::Path;

/// `format` field of every native sweep file.
pub const FORMAT: &str = "qasa-sweep";
/// Version of the native format.
pub const VERSION: u64 = 1;
/// Matrices with more cells than this are packed as base64.
const PACK_ABOVE_CELLS: usize = 4096;

/// Parses and validates a native sweep from its (decompressed) bytes; `path` is for messages.
pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Sweep, SweepError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|source| SweepError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    from_value(doc, path)
}

/// Validates a parsed document against the schema and converts it.
pub fn from_value(doc: Value, path: &Path) -> Result<Sweep, SweepError> {
    crate::schema::validate(crate::schema::SWEEP, &doc).map_err(|v| SweepError::Schema {
        path: path.to_path_buf(),
        json_path: v.json_path,
        reason: v.reason,
    })?;
    let Value::Object(mut obj) = doc else {
        return Err(SweepError::invalid(
            path,
            "the document is not a JSON object",
        ));
    };
    let schema_err = |json_path: &str, reason: String| SweepError::Schema {
        path: path.to_path_buf(),
        json_path: json_path.to_string(),
        reason,
    };
    let meta: SweepMeta = serde_json::from_value(obj.remove("meta").unwrap_or(Value::Null))
        .map_err(|e| schema_err("/meta", e.to_string()))?;
    let h: Vec<f64> = serde_json::from_value(obj.remove("h").unwrap_or(Value::Null))
        .map_err(|e| schema_err("/h", e.to_string()))?;
    let qubits: Vec<u32> = serde_json::from_value(obj.remove("qubits").unwrap_or(Value::Null))
        .map_err(|e| schema_err("/qubits", e.to_string()))?;
    let (n_h, n_q) = (h.len(), qubits.len());
    let counts = decode_counts(obj.get("counts"), "/counts", n_h, n_q)
        .map_err(|(p, r)| schema_err(&p, r))?;
    let mut blocks = Vec::new();
    if let Some(Value::Array(list)) = obj.get("blocks") {
        for (i, b) in list.iter().enumerate() {
            blocks.push(
                decode_counts(Some(b), &format!("/blocks/{i}"), n_h, n_q)
                    .map_err(|(p, r)| schema_err(&p, r))?,
            );
        }
    }
    let pairs = match obj.get("pairs") {
        Some(p) => {
            let couplers: Vec<(u32, u32)> =
                serde_json::from_value(p.get("couplers").cloned().unwrap_or(Value::Null))
                    .map_err(|e| schema_err("/pairs/couplers", e.to_string()))?;
            let n_c = couplers.len();
            let agree = decode_matrix(p.get("agree"), "/pairs/agree", n_h, n_c)
                .map_err(|(p, r)| schema_err(&p, r))?;
            let reads = decode_matrix(p.get("reads"), "/pairs/reads", n_h, n_c)
                .map_err(|(p, r)| schema_err(&p, r))?;
            Some(CouplerAgreement {
                couplers,
                agree,
                reads,
            })
        }
        None => None,
    };
    let mut h = h;
    for v in &mut h {
        if *v == 0.0 {
            *v = 0.0; // normalise -0.0
        }
    }
    let sweep = Sweep {
        meta,
        h,
        qubits,
        counts,
        blocks,
        pairs,
    };
    super::check::check(&sweep).map_err(|source| SweepError::Check {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(sweep)
}

fn decode_counts(
    v: Option<&Value>,
    at: &str,
    n_h: usize,
    n_q: usize,
) -> Result<CountMatrix, (String, String)> {
    let v = v.ok_or_else(|| (at.to_string(), "missing".to_string()))?;
    let down = decode_matrix(v.get("down"), &format!("{at}/down"), n_h, n_q)?;
    let reads = decode_matrix(v.get("reads"), &format!("{at}/reads"), n_h, n_q)?;
    Ok(CountMatrix {
        n_h,
        n_qubits: n_q,
        down,
        reads,
    })
}

/// Decodes one matrix of `rows × cols` counts in any of the three encodings.
fn decode_matrix(
    v: Option<&Value>,
    at: &str,
    rows: usize,
    cols: usize,
) -> Result<Vec<u32>, (String, String)> {
    let err = |p: String, r: String| Err((p, r));
    match v {
        Some(Value::Array(rs)) => {
            if rs.len() != rows {
                return err(
                    at.into(),
                    format!("expected {rows} rows (one per h), found {}", rs.len()),
                );
            }
            let mut out = Vec::with_capacity(rows * cols);
            for (i, r) in rs.iter().enumerate() {
                let r = r.as_array().map(Vec::as_slice).unwrap_or(&[]);
                if r.len() != cols {
                    return err(
                        format!("{at}/{i}"),
                        format!("expected {cols} values, found {}", r.len()),
                    );
                }
                for (j, x) in r.iter().enumerate() {
                    match x.as_u64().and_then(|x| u32::try_from(x).ok()) {
                        Some(x) => out.push(x),
                        None => {
                            return err(
                                format!("{at}/{i}/{j}"),
                                format!("{x} is not a 32-bit count"),
                            )
                        }
                    }
                }
            }
            Ok(out)
        }
        Some(Value::Object(o)) if o.contains_key("row_constant") => {
            let rc = o
                .get("row_constant")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if rc.len() != rows {
                return err(
                    format!("{at}/row_constant"),
                    format!("expected {rows} values, found {}", rc.len()),
                );
            }
            let mut out = Vec::with_capacity(rows * cols);
            for (i, x) in rc.iter().enumerate() {
                let Some(x) = x.as_u64().and_then(|x| u32::try_from(x).ok()) else {
                    return err(
                        format!("{at}/row_constant/{i}"),
                        format!("{x} is not a 32-bit count"),
                    );
                };
                out.extend(std::iter::repeat_n(x, cols));
            }
            Ok(out)
        }
        Some(Value::Object(o)) => {
            let shape: Vec<u64> = o
                .get("shape")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            if shape != [rows as u64, cols as u64] {
                return err(
                    format!("{at}/shape"),
                    format!("expected [{rows}, {cols}], found {shape:?}"),
                );
            }
            let width = match o.get("encoding").and_then(Value::as_str) {
                Some("base64-u16le") => 2,
                Some("base64-u32le") => 4,
                other => {
                    return err(
                        format!("{at}/encoding"),
                        format!("unknown encoding {other:?}"),
                    )
                }
            };
            let data = o.get("data").and_then(Value::as_str).unwrap_or("");
            let bytes = B64
                .decode(data)
                .map_err(|e| (format!("{at}/data"), format!("not valid base64: {e}")))?;
            if bytes.len() != rows * cols * width {
                return err(
                    format!("{at}/data"),
                    format!(
                        "expected {} bytes for {rows} × {cols} values, found {}",
                        rows * cols * width,
                        bytes.len()
                    ),
                );
            }
            Ok(if width == 2 {
                bytes
                    .chunks_exact(2)
                    .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                    .collect()
            } else {
                bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
        }
        _ => err(at.into(), "missing or not a matrix".into()),
    }
}

/// Encodes a `rows × cols` matrix in its most compact encoding.
fn encode_matrix(values: &[u32], rows: usize, cols: usize) -> Value {
    if cols > 0 && values.len() == rows * cols {
        let row_const: Option<Vec<u32>> = values
            .chunks(cols)
            .map(|r| r.iter().all(|&x| x == r[0]).then_some(r[0]))
            .collect();
        if let Some(rc) = row_const {
            if cols > 1 {
                return json!({ "row_constant": rc });
            }
        }
    }
    if values.len() <= PACK_ABOVE_CELLS || cols == 0 {
        let rows_v: Vec<Value> = if cols == 0 {
            vec![json!([]); rows]
        } else {
            values.chunks(cols).map(|r| json!(r)).collect()
        };
        return Value::Array(rows_v);
    }
    let max = values.iter().copied().max().unwrap_or(0);
    let (encoding, bytes) = if max <= u32::from(u16::MAX) {
        let mut b = Vec::with_capacity(values.len() * 2);
        for &v in values {
            b.extend_from_slice(&(v as u16).to_le_bytes());
        }
        ("base64-u16le", b)
    } else {
        let mut b = Vec::with_capacity(values.len() * 4);
        for &v in values {
            b.extend_from_slice(&v.to_le_bytes());
        }
        ("base64-u32le", b)
    };
    json!({ "encoding": encoding, "shape": [rows, cols], "data": B64.encode(bytes) })
}

fn encode_counts(m: &CountMatrix) -> Value {
    json!({
        "down": encode_matrix(&m.down, m.n_h, m.n_qubits),
        "reads": encode_matrix(&m.reads, m.n_h, m.n_qubits),
    })
}

/// The JSON document of a sweep.
pub fn to_value(sweep: &Sweep) -> Value {
    let mut o = Map::new();
    o.insert("format".into(), json!(FORMAT));
    o.insert("version".into(), json!(VERSION));
    o.insert(
        "meta".into(),
        serde_json::to_value(&sweep.meta).unwrap_or(Value::Null),
    );
    o.insert("h".into(), json!(sweep.h));
    o.insert("qubits".into(), json!(sweep.qubits));
    o.insert("counts".into(), encode_counts(&sweep.counts));
    if !sweep.blocks.is_empty() {
        o.insert(
            "blocks".into(),
            Value::Array(sweep.blocks.iter().map(encode_counts).collect()),
        );
    }
    if let Some(p) = &sweep.pairs {
        let n_c = p.couplers.len();
        o.insert(
            "pairs".into(),
            json!({
                "couplers": p.couplers.iter().map(|&(u, v)| json!([u, v])).collect::<Vec<_>>(),
                "agree": encode_matrix(&p.agree, sweep.h.len(), n_c),
                "reads": encode_matrix(&p.reads, sweep.h.len(), n_c),
            }),
        );
    }
    Value::Object(o)
}

/// Writes a sweep to `path` atomically (temporary file + rename), gzip-compressed when the name ends in
/// `.gz`.
pub fn write(sweep: &Sweep, path: &Path) -> Result<(), SweepError> {
    crate::atomic_file::write_atomic(path, io_error(path), |w| write_to(sweep, path, w))
}

/// Writes a sweep into `w`; `path` is the destination's name (gzip when it ends in `.gz`; named in
/// errors).
pub fn write_to(sweep: &Sweep, path: &Path, w: impl Write) -> Result<(), SweepError> {
    super::check::check(sweep).map_err(|source| SweepError::Refused {
        path: path.to_path_buf(),
        source,
    })?;
    let io = io_error(path);
    let mut buf = std::io::BufWriter::new(w);
    let doc = to_value(sweep);
    let gz = path.extension().is_some_and(|e| e == "gz");
    let to_io = |e: serde_json::Error| io(std::io::Error::other(e));
    if gz {
        let mut enc = flate2::write::GzEncoder::new(buf, flate2::Compression::fast());
        serde_json::to_writer(&mut enc, &doc).map_err(to_io)?;
        enc.finish().map_err(&io)?.flush().map_err(io)?;
    } else {
        serde_json::to_writer(&mut buf, &doc).map_err(to_io)?;
        buf.write_all(b"\n").map_err(&io)?;
        buf.flush().map_err(io)?;
    }
    Ok(())
}

/// Names `path` in an I/O error.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}
