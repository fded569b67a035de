//! Parameter-vs-parameter correlations (docs/physics.md §5, second kind): Pearson and Spearman matrices
//! over β, b, γ, η and the scores, each entry with its two-sided p-value (t-test, n − 2 dof; Spearman by the
//! same test on ranks) and a Benjamini–Hochberg q-value over the off-diagonal pairs of its matrix. Pairs
//! use every qubit where both quantities exist (pairwise complete cases).

use super::stats::{bh_adjust, correlation_p, pearson, spearman};
use serde::{Deserialize, Serialize};

/// A symmetric correlation matrix with its tests. Entries are `None` where undefined (fewer than 3 pairs,
/// a constant column) and on the diagonal of `p` and `q`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrelationMatrix {
    /// Row and column names.
    pub names: Vec<String>,
    /// Correlation coefficients (dimensionless, −1..1).
    pub r: Vec<Vec<Option<f64>>>,
    /// Two-sided p-values.
    pub p: Vec<Vec<Option<f64>>>,
    /// Benjamini–Hochberg adjusted p-values over the upper triangle.
    pub q: Vec<Vec<Option<f64>>>,
    /// Pairs used.
    pub n: Vec<Vec<usize>>,
}

/// Both matrices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Correlations {
    pub pearson: CorrelationMatrix,
    pub spearman: CorrelationMatrix,
}

type CorrFn = fn(&[f64], &[f64]) -> (Option<f64>, usize);

fn matrix(columns: &[(String, Vec<f64>)], f: CorrFn) -> CorrelationMatrix {
    let k = columns.len();
    let mut m = CorrelationMatrix {
        names: columns.iter().map(|c| c.0.clone()).collect(),
        r: vec![vec![None; k]; k],
        p: vec![vec![None; k]; k],
        q: vec![vec![None; k]; k],
        n: vec![vec![0; k]; k],
    };
    let mut upper = Vec::new();
    let mut pvals = Vec::new();
    for i in 0..k {
        for j in i..k {
            let (r, n) = f(&columns[i].1, &columns[j].1);
            let r = if i == j { r.map(|_| 1.0) } else { r };
            m.r[i][j] = r;
            m.r[j][i] = r;
            m.n[i][j] = n;
            m.n[j][i] = n;
            if i != j {
                let p = r.and_then(|r| correlation_p(r, n));
                m.p[i][j] = p;
                m.p[j][i] = p;
                upper.push((i, j));
                pvals.push(p);
            }
        }
    }
    for ((i, j), q) in upper.into_iter().zip(bh_adjust(&pvals)) {
        m.q[i][j] = q;
        m.q[j][i] = q;
    }
    m
}

/// Pearson and Spearman matrices of named columns (NaN = missing), all columns of equal length.
pub fn correlations(columns: &[(String, Vec<f64>)]) -> Correlations {
    Correlations {
        pearson: matrix(columns, pearson),
        spearman: matrix(columns, spearman),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_are_symmetric_with_unit_diagonal() {
        let x: Vec<f64> = (0..50).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| v * v).collect();
        let z: Vec<f64> = x.iter().map(|v| (v * 1.7).sin()).collect();
        let mut w = z.clone();
        w[3] = f64::NAN;
        let c = correlations(&[
            ("x".into(), x),
            ("y".into(), y),
            ("z".into(), z),
            ("w".into(), w),
        ]);
        let m = &c.spearman;
        assert_eq!(m.r[0][0], Some(1.0));
        assert_eq!(m.r[0][1], Some(1.0), "monotone: Spearman 1");
        assert!(c.pearson.r[0][1].unwrap() < 1.0);
        assert_eq!(m.n[2][3], 49, "pairwise complete");
        for i in 0..4 {
            assert_eq!(m.p[i][i], None);
            for j in 0..4 {
                assert_eq!(m.r[i][j], m.r[j][i]);
                assert_eq!(m.q[i][j], m.q[j][i]);
            }
        }
        assert!(m.q[0][2].unwrap() >= m.p[0][2].unwrap());
    }
}
