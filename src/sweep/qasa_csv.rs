//! The reference QASA count table `spin_table.csv` (github.com/lanl-ansi/QASA, `collect_spin_table.py`):
//! a header `h,samples,spin_<id>,...` and one row per h value with the number of reads (`samples`) and, per
//! qubit, the number of reads with s = -1. The reference writes h with `{:.5f}` (so `-0.00000` occurs) and
//! appends rows as h values complete, so a table may be partial or out of order.
//!
//! Reading accepts rows in any order (they are sorted by h), `-0.00000`, and different `samples` per row.
//! A count above `samples`, a negative count, a ragged row, a duplicate h or a non-number is an error naming
//! the line and column (1-based). Gauges are unknown in this format (physics.md §3.4).

use super::{CountMatrix, Sweep, SweepError, SweepMeta, SweepSource};
use std::io::Write;
use std::path::Path;

/// Builds the error of a position in one file.
struct At<'a>(&'a Path);

impl At<'_> {
    fn err(&self, line: u64, column: usize, reason: String) -> SweepError {
        SweepError::Csv {
            path: self.0.to_path_buf(),
            line,
            column,
            reason,
        }
    }
}

/// The header: qubit ids in column order, and the column order that sorts them.
struct Header {
    ids: Vec<u32>,
    order: Vec<usize>,
}

/// One data row: h, its line, `samples`, and the counts in increasing qubit id order.
struct Row {
    h: f64,
    line: u64,
    samples: u32,
    counts: Vec<u32>,
}

/// Parses a QASA table from bytes; `path` is for messages.
pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Sweep, SweepError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let at = At(path);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = rdr.byte_records();
    let header = match records.next() {
        Some(Ok(r)) => read_header(&r, &at)?,
        Some(Err(e)) => return Err(at.err(1, 1, format!("cannot read the header: {e}"))),
        None => {
            return Err(at.err(
                1,
                1,
                "the file is empty; expected a header `h,samples,spin_<id>,...`".into(),
            ))
        }
    };
    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at.err(line, 1, format!("cannot read the row: {e}"))
        })?;
        if let Some(row) = read_row(&rec, &header, &at)? {
            rows.push(row);
        }
    }
    let sweep = assemble(sorted_rows(rows, &at)?, &header);
    super::check::check(&sweep).map_err(|source| SweepError::Check {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(sweep)
}

fn field(r: &csv::ByteRecord, i: usize) -> String {
    String::from_utf8_lossy(r.get(i).unwrap_or(b""))
        .trim()
        .to_string()
}

/// `h,samples,spin_<id>,...` with distinct ids.
fn read_header(header: &csv::ByteRecord, at: &At) -> Result<Header, SweepError> {
    if header.len() < 3 || field(header, 0) != "h" || field(header, 1) != "samples" {
        return Err(at.err(
            1,
            1,
            "the header must start with `h,samples,spin_<id>`".into(),
        ));
    }
    let mut ids = Vec::with_capacity(header.len() - 2);
    for j in 2..header.len() {
        let name = field(header, j);
        let id = name
            .strip_prefix("spin_")
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                at.err(
                    1,
                    j + 1,
                    format!("column name {name:?} is not `spin_<qubit id>`"),
                )
            })?;
        ids.push(id);
    }
    // Columns in increasing qubit id order.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    if let Some(w) = order.windows(2).find(|w| ids[w[0]] == ids[w[1]]) {
        return Err(at.err(
            1,
            w[1] + 3,
            format!("qubit {} appears twice in the header", ids[w[1]]),
        ));
    }
    Ok(Header { ids, order })
}

/// One data row (`None` for a blank line): a finite h, `samples`, and every count `≤ samples`.
fn read_row(rec: &csv::ByteRecord, header: &Header, at: &At) -> Result<Option<Row>, SweepError> {
    let line = rec.position().map_or(0, |p| p.line());
    if rec.len() == 1
        && rec
            .get(0)
            .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
    {
        return Ok(None);
    }
    let n_q = header.ids.len();
    if rec.len() != n_q + 2 {
        return Err(at.err(
            line,
            rec.len().min(n_q + 2) + 1,
            format!(
                "ragged row: expected {} fields as in the header, found {}",
                n_q + 2,
                rec.len()
            ),
        ));
    }
    let h_text = field(rec, 0);
    let h: f64 = h_text
        .parse()
        .ok()
        .filter(|h: &f64| h.is_finite())
        .ok_or_else(|| at.err(line, 1, format!("h = {h_text:?} is not a finite number")))?;
    let samples =
        parse_count(&field(rec, 1)).map_err(|r| at.err(line, 2, format!("samples: {r}")))?;
    let mut counts = vec![0u32; n_q];
    for (c, &col) in header.order.iter().enumerate() {
        let id = header.ids[col];
        let k = parse_count(&field(rec, col + 2))
            .map_err(|r| at.err(line, col + 3, format!("spin_{id}: {r}")))?;
        if k > samples {
            return Err(at.err(
                line,
                col + 3,
                format!("spin_{id}: count {k} is above samples = {samples}"),
            ));
        }
        counts[c] = k;
    }
    Ok(Some(Row {
        h: if h == 0.0 { 0.0 } else { h }, // normalise -0.00000
        line,
        samples,
        counts,
    }))
}

/// Rows sorted by h; at least one, no h twice.
fn sorted_rows(mut rows: Vec<Row>, at: &At) -> Result<Vec<Row>, SweepError> {
    if rows.is_empty() {
        return Err(at.err(2, 1, "the table has a header but no rows".into()));
    }
    rows.sort_by(|a, b| a.h.total_cmp(&b.h));
    if let Some(w) = rows.windows(2).find(|w| w[0].h == w[1].h) {
        return Err(at.err(
            w[1].line,
            1,
            format!("h = {} also appears on line {}", w[1].h, w[0].line),
        ));
    }
    Ok(rows)
}

/// The sweep of sorted rows: `down` from the counts, `reads` = `samples` across each row.
fn assemble(rows: Vec<Row>, header: &Header) -> Sweep {
    let n_q = header.ids.len();
    let mut m = CountMatrix::zeros(rows.len(), n_q);
    let mut h = Vec::with_capacity(rows.len());
    for (ih, row) in rows.into_iter().enumerate() {
        h.push(row.h);
        m.down[ih * n_q..(ih + 1) * n_q].copy_from_slice(&row.counts);
        m.reads[ih * n_q..(ih + 1) * n_q].fill(row.samples);
    }
    Sweep {
        meta: SweepMeta::new(SweepSource::QasaCsv),
        h,
        qubits: header.order.iter().map(|&i| header.ids[i]).collect(),
        counts: m,
        blocks: Vec::new(),
        pairs: None,
    }
}

fn parse_count(text: &str) -> Result<u32, String> {
    if text.starts_with('-') && text.len() > 1 {
        return Err(format!("negative count {text:?}"));
    }
    text.parse::<u32>()
        .map_err(|_| format!("{text:?} is not a non-negative integer count"))
}

/// Renders a sweep as a QASA table. Refused when the reads of one h differ between qubits (the format has
/// one `samples` per row).
pub fn to_string(sweep: &Sweep) -> Result<String, SweepError> {
    super::check::check(sweep).map_err(|source| SweepError::ExportCheck { source })?;
    let n_q = sweep.qubits.len();
    let mut out = String::with_capacity((sweep.h.len() + 1) * (n_q * 7 + 24));
    out.push_str("h,samples");
    for q in &sweep.qubits {
        out.push_str(",spin_");
        out.push_str(&q.to_string());
    }
    out.push('\n');
    for (ih, h) in sweep.h.iter().enumerate() {
        let row_reads = &sweep.counts.reads[ih * n_q..(ih + 1) * n_q];
        let row_down = &sweep.counts.down[ih * n_q..(ih + 1) * n_q];
        if let Some(j) = row_reads.iter().position(|&r| r != row_reads[0]) {
            return Err(SweepError::Export {
                reason: format!(
                    "at h = {h}, qubit {} has {} reads but qubit {} has {}; the QASA format has one `samples` per row \
                     (export the native *.sweep.json instead)",
                    sweep.qubits[0], row_reads[0], sweep.qubits[j], row_reads[j]
                ),
            });
        }
        out.push_str(&format!("{h},{}", row_reads[0]));
        for d in row_down {
            out.push(',');
            out.push_str(&d.to_string());
        }
        out.push('\n');
    }
    Ok(out)
}

/// Writes a QASA table to `path` atomically (temporary file + rename).
pub fn write(sweep: &Sweep, path: &Path) -> Result<(), SweepError> {
    crate::atomic_file::write_atomic(path, super::native::io_error(path), |w| {
        write_to(sweep, path, w)
    })
}

/// Writes a QASA table into `w`; `path` names the destination in errors.
pub fn write_to(sweep: &Sweep, path: &Path, mut w: impl Write) -> Result<(), SweepError> {
    let text = to_string(sweep)?;
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .map_err(super::native::io_error(path))
}
