//! The server's use of the `qp` codec (`crate::sapi::qp`, docs/sapi-protocol.md §4) for answers: int32 LE
//! `active_variables`/`num_occurrences`, float64 LE `energies`, solution rows bit-packed MSB-first,
//! `ceil(n/8)` bytes per row. Problems are decoded with [`crate::sapi::qp::QpGraph`] in [`super::submit`].

use super::answer::AnswerRows;
use crate::sapi::qp::{self, PackedSolutions, QpAnswer};
use serde_json::Value;

/// The `answer` object.
pub fn encode_answer(
    rows: &AnswerRows,
    num_variables: usize,
    timing: Value,
) -> Result<Value, String> {
    let n = rows.active_variables.len();
    let mut solutions = PackedSolutions::new(n);
    for r in 0..rows.energies.len() {
        solutions.push_spins(
            rows.solutions
                .get(r * n..(r + 1) * n)
                .unwrap_or(&[])
                .iter()
                .copied(),
        );
    }
    let num_variables =
        u32::try_from(num_variables).map_err(|_| "num_variables exceeds u32".to_string())?;
    let a = QpAnswer {
        num_variables,
        active_variables: rows.active_variables.clone(),
        energies: rows.energies.clone(),
        has_num_occurrences: rows.num_occurrences.is_some(),
        num_occurrences: rows
            .num_occurrences
            .clone()
            .unwrap_or_else(|| vec![1; rows.energies.len()]),
        solutions,
        timing: match timing {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
        format: "qp".into(),
    };
    a.validate()
        .map_err(|e| format!("internal error encoding the answer: {e}"))?;
    Ok(qp::encode_answer(&a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reproduces_the_worked_example() {
        // docs/sapi-protocol.md §4.5: rows (+1,+1,−1), (−1,−1,+1), (+1,−1,+1) on qubits 0, 4, 7.
        let rows = AnswerRows {
            active_variables: vec![0, 4, 7],
            solutions: vec![1, 1, -1, -1, -1, 1, 1, -1, 1],
            energies: vec![-1.75, -0.75, -0.25],
            num_occurrences: Some(vec![6, 3, 1]),
        };
        let a = encode_answer(&rows, 8, json!({})).unwrap();
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
            .unwrap()
            .get("num_occurrences")
            .is_none());
    }
}
