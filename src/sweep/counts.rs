//! A dense (h × qubit) matrix of counts: `down` (reads with s = -1) out of `reads`.

/// Counts per (h index, qubit index), row-major by h: element `ih * n_qubits + iq`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CountMatrix {
    pub n_h: usize,
    pub n_qubits: usize,
    /// Reads with s = -1 in the physical frame.
    pub down: Vec<u32>,
    /// All reads.
    pub reads: Vec<u32>,
}

impl CountMatrix {
    /// All-zero counts.
    pub fn zeros(n_h: usize, n_qubits: usize) -> Self {
        CountMatrix {
            n_h,
            n_qubits,
            down: vec![0; n_h * n_qubits],
            reads: vec![0; n_h * n_qubits],
        }
    }

    /// `(down, reads)` at one cell.
    #[inline]
    pub fn get(&self, ih: usize, iq: usize) -> (u32, u32) {
        let i = ih * self.n_qubits + iq;
        (self.down[i], self.reads[i])
    }

    /// The column of one qubit: `(down, reads)` for every h in grid order.
    pub fn qubit_column(&self, iq: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.n_h).map(move |ih| self.get(ih, iq))
    }

    /// Adds another matrix of the same shape cell by cell (saturating).
    pub fn add(&mut self, other: &CountMatrix) {
        for (a, b) in self.down.iter_mut().zip(&other.down) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.reads.iter_mut().zip(&other.reads) {
            *a = a.saturating_add(*b);
        }
    }
}
