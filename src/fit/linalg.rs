//! Tiny dense linear algebra on at most 4 × 4 symmetric matrices (a sub-block picked by `idx`).

/// Cholesky factor `L` (lower) of the `idx` sub-block of a symmetric matrix; `None` if not positive
/// definite (or not finite).
pub fn cholesky(a: &[[f64; 4]; 4], idx: &[usize]) -> Option<[[f64; 4]; 4]> {
    let m = idx.len();
    let mut l = [[0.0; 4]; 4];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[idx[i]][idx[j]];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves `L Lᵀ x = b` for the first `m` entries.
pub fn cholesky_solve(l: &[[f64; 4]; 4], m: usize, b: &[f64; 4]) -> [f64; 4] {
    let mut y = [0.0; 4];
    for i in 0..m {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * y[k];
        }
        y[i] = s / l[i][i];
    }
    let mut x = [0.0; 4];
    for i in (0..m).rev() {
        let mut s = y[i];
        for k in i + 1..m {
            s -= l[k][i] * x[k];
        }
        x[i] = s / l[i][i];
    }
    x
}

/// Inverse of the `idx` sub-block of a symmetric positive definite matrix, scattered back into a 4 × 4
/// matrix (zeros elsewhere); `None` if not positive definite.
pub fn spd_inverse(a: &[[f64; 4]; 4], idx: &[usize]) -> Option<[[f64; 4]; 4]> {
    let l = cholesky(a, idx)?;
    let m = idx.len();
    let mut inv = [[0.0; 4]; 4];
    for j in 0..m {
        let mut e = [0.0; 4];
        e[j] = 1.0;
        let col = cholesky_solve(&l, m, &e);
        for i in 0..m {
            inv[idx[i]][idx[j]] = col[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_known_matrix() {
        let a = [
            [4.0, 1.0, 0.0, 9.0],
            [1.0, 3.0, 0.5, 9.0],
            [0.0, 0.5, 2.0, 9.0],
            [9.0, 9.0, 9.0, 9.0],
        ];
        let inv = spd_inverse(&a, &[0, 1, 2]).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        assert_eq!(inv[3], [0.0; 4]);
        assert!(cholesky(&[[-1.0; 4]; 4], &[0]).is_none());
    }
}
