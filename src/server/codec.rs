//! Encoding of the `qp` answer (docs/sapi-protocol.md §4.4): int32 LE `active_variables` and
//! `num_occurrences`, float64 LE `energies`, solutions bit-packed per row, `ceil(n/8)` bytes per row,
//! most-significant bit first, bit 1 ↔ +1 (ising) / 1 (qubo); all base64 (standard, padded).

use super::answer::AnswerRows;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

/// Pack rows of `n` values (bit set for a positive value) MSB-first, `ceil(n/8)` bytes per row.
pub fn pack_rows(values: &[i8], n: usize) -> Vec<u8> {
    if n == 0 {
        return Vec::new();
    }
    let per_row = n.div_ceil(8);
    let rows = values.len() / n;
    let mut out = vec![0u8; rows * per_row];
    for (r, row) in values.chunks_exact(n).enumerate() {
        for (i, &v) in row.iter().enumerate() {
            if v > 0 {
                out[r * per_row + i / 8] |= 0x80 >> (i % 8);
            }
        }
    }
    out
}

/// The `answer` object.
pub fn encode_answer(rows: &AnswerRows, num_variables: usize, timing: Value) -> Value {
    let n = rows.active_variables.len();
    let av: Vec<u8> = rows
        .active_variables
        .iter()
        .flat_map(|&q| (q as i32).to_le_bytes())
        .collect();
    let en: Vec<u8> = rows.energies.iter().flat_map(|e| e.to_le_bytes()).collect();
    let mut a = json!({
        "format": "qp",
        "num_variables": num_variables,
        "active_variables": STANDARD.encode(av),
        "energies": STANDARD.encode(en),
        "solutions": STANDARD.encode(pack_rows(&rows.solutions, n)),
        "timing": timing,
    });
    if let (Some(occ), Value::Object(m)) = (&rows.num_occurrences, &mut a) {
        let b: Vec<u8> = occ.iter().flat_map(|&c| (c as i32).to_le_bytes()).collect();
        m.insert("num_occurrences".into(), json!(STANDARD.encode(b)));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_worked_example() {
        // docs/sapi-protocol.md §4.5: rows (+1,+1,−1), (−1,−1,+1), (+1,−1,+1) on qubits 0, 4, 7.
        let rows = AnswerRows {
            active_variables: vec![0, 4, 7],
            solutions: vec![1, 1, -1, -1, -1, 1, 1, -1, 1],
            energies: vec![-1.75, -0.75, -0.25],
            num_occurrences: Some(vec![6, 3, 1]),
        };
        let a = encode_answer(&rows, 8, json!({}));
        assert_eq!(a["active_variables"], "AAAAAAQAAAAHAAAA");
        assert_eq!(a["energies"], "AAAAAAAA/L8AAAAAAADovwAAAAAAANC/");
        assert_eq!(a["num_occurrences"], "BgAAAAMAAAABAAAA");
        assert_eq!(a["solutions"], "wCCg");
        assert_eq!(a["num_variables"], 8);
        let raw = AnswerRows {
            num_occurrences: None,
            ..rows
        };
        assert!(encode_answer(&raw, 8, json!({}))
            .get("num_occurrences")
            .is_none());
    }
}
