//! Writers of fit results: the flat parameter table (`--csv`) and the reference QASA
//! `model_parameters.csv` (`spin,β,b,γ,η`). Both write into any `Write`; one row per qubit, failed
//! qubits included (empty values in the flat table, `nan` in the QASA table so that its scripts parse).

use super::result::FitResult;
use std::io::Write;

/// Header of the flat parameter table.
pub const PARAMS_CSV_HEADER: &str =
    "spin,beta,b,gamma,eta,beta_se,b_se,gamma_se,eta_se,beta_lo,beta_hi,b_lo,b_hi,gamma_lo,gamma_hi,eta_lo,eta_hi,ll,dispersion,model,status";

/// Header of the QASA reference file.
pub const QASA_CSV_HEADER: &str = "spin,β,b,γ,η";

fn opt(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or(String::new(), |x| format!("{x:e}"))
}

/// Writes the flat parameter table.
pub fn write_params_csv(res: &FitResult, mut w: impl Write) -> std::io::Result<()> {
    writeln!(w, "{PARAMS_CSV_HEADER}")?;
    for q in &res.qubits {
        let mut cells = vec![q.qubit.to_string()];
        cells.extend(q.values().iter().map(|v| opt(*v)));
        cells.extend(q.ses().iter().map(|v| opt(*v)));
        for (lo, hi) in q.intervals() {
            cells.push(opt(lo));
            cells.push(opt(hi));
        }
        cells.push(opt(q.ll));
        cells.push(opt(q.dispersion));
        cells.push(q.model.name().to_string());
        cells.push(q.status.label());
        writeln!(w, "{}", cells.join(","))?;
    }
    Ok(())
}

/// Writes `model_parameters.csv` in the reference format `spin,β,b,γ,η`.
pub fn write_qasa_csv(res: &FitResult, mut w: impl Write) -> std::io::Result<()> {
    writeln!(w, "{QASA_CSV_HEADER}")?;
    for q in &res.qubits {
        let v = q.values();
        let cell = |x: Option<f64>| {
            if q.status.is_failed() {
                "nan".to_string()
            } else {
                x.filter(|x| x.is_finite())
                    .map_or("nan".into(), |x| format!("{x}"))
            }
        };
        let cells: Vec<String> = v.iter().map(|x| cell(*x)).collect();
        writeln!(w, "{},{}", q.qubit, cells.join(","))?;
    }
    Ok(())
}
