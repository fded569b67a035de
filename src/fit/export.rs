//! Writers of fit results: the flat parameter table (`--csv`) and the reference QASA
//! `model_parameters.csv` (`spin,β,b,γ,η`). Both write into any `Write`; one row per qubit, failed
//! qubits included (empty values in the flat table, `nan` in the QASA table so that its scripts parse).

use super::result::FitResult;
use std::io::Write;

/// Header of the flat parameter table. Columns: `spin` (qubit id); `beta` (1/h), `b` (h), `gamma`
/// (|γ|), `eta` (|η|, or σ for the gaussian model; h); `*_se`: robust standard errors; `*_lo`, `*_hi`:
/// the robust two-sided 95 % interval (for γ and η built in γ², η², starting at 0 when the data allow
/// 0; `*_se` is empty for γ or η on their bound); `ll`: maximised log-likelihood (nats); `dispersion`:
/// Pearson χ²/dof of the pooled counts; `model`; `status`; `error_method`: `cluster_robust_calls`
/// (sandwich over the per-call block cells) or `robust_h` (sandwich over h values), both with
/// C/(C-1) and t critical values with C-1 degrees of freedom (docs/uncertainties.md). Numbers are plain
/// decimals; empty cells are values that do not exist (failed qubits, parameters a model does not fit).
pub const PARAMS_CSV_HEADER: &str =
    "spin,beta,b,gamma,eta,beta_se,b_se,gamma_se,eta_se,beta_lo,beta_hi,b_lo,b_hi,gamma_lo,gamma_hi,eta_lo,eta_hi,ll,dispersion,model,status,error_method";

/// Header of the QASA reference file.
pub const QASA_CSV_HEADER: &str = "spin,β,b,γ,η";

/// A plain decimal (shortest round-trip digits, no exponent; `0` for ±0), empty when absent.
fn opt(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or(String::new(), |x| {
        format!("{}", if x == 0.0 { 0.0 } else { x })
    })
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
        cells.push(q.error_method.map_or("", |m| m.name()).to_string());
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
                    .map_or("nan".into(), |x| opt(Some(x)))
            }
        };
        let cells: Vec<String> = v.iter().map(|x| cell(*x)).collect();
        writeln!(w, "{},{}", q.qubit, cells.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::opt;

    #[test]
    fn plain_decimals() {
        assert_eq!(opt(Some(6.403401844669161)), "6.403401844669161");
        assert_eq!(opt(Some(0.0)), "0");
        assert_eq!(opt(Some(-0.0)), "0");
        assert_eq!(opt(Some(-6.670386655096783e5)), "-667038.6655096783");
        assert_eq!(opt(Some(1.25e-5)), "0.0000125");
        assert_eq!(opt(None), "");
        assert_eq!(opt(Some(f64::NAN)), "");
    }
}
