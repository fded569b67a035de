//! Spatial structure of per-qubit quantities on the working graph (docs/physics.md §4 last point, §5).
//!
//! Weights are binary and symmetric: `w_ij = 1` for every working coupler between two qubits that both
//! have a value, `W = 2|E|`. With `z = x − x̄` over the n qubits with a value:
//!
//! ```text
//! Moran's I  = (n / W) Σ_ij w_ij z_i z_j / Σ z²         = n Σ_E z_i z_j / (|E| Σ z²),   E[I] = −1/(n−1)
//! Geary's C  = (n−1) Σ_ij w_ij (x_i − x_j)² / (2W Σ z²) = (n−1) Σ_E (x_i − x_j)² / (2|E| Σ z²),  E[C] = 1
//! ```
//!
//! I > E[I] (C < 1) means neighbours are alike. p-values come from R random permutations of the values
//! over the qubits (default 999; two-sided, `(1 + #{|T* − E| ≥ |T − E|})/(R + 1)`), run in parallel with
//! one seeded generator per permutation, so the result does not depend on the thread count. The same
//! permutations test the neighbour correlation per coupler class (internal / external / odd;
//! docs/topology.md §0): the class-restricted Moran's I `n Σ_{E_c} z_i z_j / (|E_c| Σ z²)`, reported beside
//! the plain Pearson correlation of the (symmetrised) neighbour pairs of that class.
//!
//! Dependence on coordinates (the analysis coordinates of `topology::QubitCoords`, the same for Chimera,
//! Pegasus and Zephyr): orientation u by Welch's t-test (effect: mean(u=1) − mean(u=0)); cell row, cell
//! column and index within the cell by one-way ANOVA (F-test), with the least-squares slope per row or
//! column as effect. Spatial autocorrelation makes these tests liberal when the field is smooth; read them
//! with Moran's I. All coordinate tests of an analysis share one Benjamini–Hochberg adjustment.

use super::stats::{bh_adjust, f_upper, mean, pearson, t_two_sided};
use crate::topology::{EdgeClass, QubitCoords, QubitId, WorkingGraph};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Default number of permutations.
pub const DEFAULT_PERMUTATIONS: usize = 999;

/// The working graph restricted to the analysed qubits, with coordinates and layout positions.
#[derive(Clone, Debug)]
pub struct SpatialGraph {
    /// Qubit ids in analysis order.
    pub qubits: Vec<QubitId>,
    /// Couplers as index pairs into `qubits`, `i < j`, with their class.
    pub edges: Vec<(u32, u32, EdgeClass)>,
    /// Analysis coordinates per qubit (`None` if the topology does not know the qubit).
    pub coords: Vec<Option<QubitCoords>>,
    /// dnx layout position of the perfect graph (full-yield extents) per qubit.
    pub position: Vec<Option<(f64, f64)>>,
}

impl SpatialGraph {
    /// Restricts `graph` to `qubits` (couplers of the graph between two listed qubits).
    pub fn new(graph: &WorkingGraph, qubits: &[QubitId]) -> Self {
        let index: HashMap<QubitId, u32> = qubits
            .iter()
            .enumerate()
            .map(|(i, &q)| (q, i as u32))
            .collect();
        let topo = graph.topology;
        let mut edges: Vec<(u32, u32, EdgeClass)> = graph
            .couplers
            .iter()
            .filter_map(|&(u, v)| {
                let (a, b) = (*index.get(&u)?, *index.get(&v)?);
                let class = topo.edge_class(u, v)?;
                (a != b).then(|| (a.min(b), a.max(b), class))
            })
            .collect();
        edges.sort_unstable_by_key(|e| (e.0, e.1));
        edges.dedup_by_key(|e| (e.0, e.1));
        let layout = topo.layout();
        let position = qubits
            .iter()
            .map(|q| {
                layout
                    .binary_search_by_key(q, |p| p.0)
                    .ok()
                    .and_then(|i| layout.get(i))
                    .map(|p| (p.1, p.2))
            })
            .collect();
        SpatialGraph {
            qubits: qubits.to_vec(),
            edges,
            coords: qubits.iter().map(|&q| topo.coords(q)).collect(),
            position,
        }
    }
}

/// Neighbour statistics of one coupler class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassNeighbours {
    /// `internal`, `external` or `odd`.
    pub class: String,
    /// Couplers of this class between two qubits with a value.
    pub n_edges: usize,
    /// Pearson correlation of the symmetrised neighbour pairs (dimensionless).
    pub correlation: Option<f64>,
    /// Class-restricted Moran's I (dimensionless).
    pub morans_i: Option<f64>,
    /// Permutation p-value (two-sided) of the class-restricted Moran's I.
    pub p: Option<f64>,
}

/// A test of dependence on one coordinate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordinateTest {
    /// `orientation`, `cell_row`, `cell_col` or `index_in_cell`.
    pub coordinate: String,
    /// `welch_t` or `anova_f`.
    pub test: String,
    pub statistic: Option<f64>,
    /// Degrees of freedom (df2 absent for t).
    pub df1: Option<f64>,
    pub df2: Option<f64>,
    pub p: Option<f64>,
    /// Benjamini–Hochberg q-value over every coordinate test of the analysis.
    pub q: Option<f64>,
    /// Orientation: mean(u=1) − mean(u=0); row / column: least-squares slope per cell; index: none.
    /// In the unit of the quantity (per cell for slopes).
    pub effect: Option<f64>,
}

impl CoordinateTest {
    /// A test with no result yet (too few values).
    fn untested(coordinate: &str, test: &str) -> Self {
        CoordinateTest {
            coordinate: coordinate.into(),
            test: test.into(),
            statistic: None,
            df1: None,
            df2: None,
            p: None,
            q: None,
            effect: None,
        }
    }
}

/// Spatial statistics of one quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpatialStats {
    /// Qubits with a value and couplers between them.
    pub n: usize,
    pub n_edges: usize,
    pub morans_i: Option<f64>,
    /// E[I] = −1/(n−1).
    pub morans_expected: Option<f64>,
    pub morans_p: Option<f64>,
    pub gearys_c: Option<f64>,
    pub gearys_p: Option<f64>,
    pub permutations: usize,
    pub neighbours: Vec<ClassNeighbours>,
    pub coordinates: Vec<CoordinateTest>,
}

const CLASSES: [EdgeClass; 3] = [EdgeClass::Internal, EdgeClass::External, EdgeClass::Odd];

fn class_index(c: EdgeClass) -> usize {
    match c {
        EdgeClass::Internal => 0,
        EdgeClass::External => 1,
        EdgeClass::Odd => 2,
    }
}

/// Edge sums of one assignment of centred values: `Σ z_i z_j` (all and per class) and `Σ (z_i − z_j)²`.
#[derive(Clone, Copy, Default)]
struct Sums {
    cross: f64,
    cross_class: [f64; 3],
    sq_diff: f64,
}

/// Edges split by class, with node degrees: `Σ_E (z_i − z_j)² = Σ_i deg_i z_i² − 2 Σ_E z_i z_j`, so one
/// pass of products per class gives every statistic.
struct EdgeSet {
    by_class: [Vec<(u32, u32)>; 3],
    degree: Vec<f64>,
}

impl EdgeSet {
    fn new(edges: &[(u32, u32, u8)], n: usize) -> Self {
        let mut by_class: [Vec<(u32, u32)>; 3] = Default::default();
        let mut degree = vec![0.0; n];
        for &(i, j, c) in edges {
            by_class[c as usize].push((i, j));
            degree[i as usize] += 1.0;
            degree[j as usize] += 1.0;
        }
        EdgeSet { by_class, degree }
    }

    fn sums(&self, z: &[f64]) -> Sums {
        let mut s = Sums::default();
        for (c, edges) in self.by_class.iter().enumerate() {
            let mut acc = 0.0;
            for &(i, j) in edges {
                acc += z[i as usize] * z[j as usize];
            }
            s.cross_class[c] = acc;
            s.cross += acc;
        }
        let weighted: f64 = self.degree.iter().zip(z).map(|(d, v)| d * v * v).sum();
        s.sq_diff = weighted - 2.0 * s.cross;
        s
    }
}

/// Moran's I, Geary's C and the neighbour statistics of `values` (aligned with `graph.qubits`; `None` or
/// non-finite = no value), with `permutations` seeded permutations.
pub fn spatial_stats(
    graph: &SpatialGraph,
    values: &[Option<f64>],
    permutations: usize,
    seed: u64,
) -> SpatialStats {
    // Compact the qubits with a value.
    let mut local = vec![u32::MAX; graph.qubits.len()];
    let mut x = Vec::new();
    for (i, v) in values.iter().enumerate().take(graph.qubits.len()) {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            local[i] = x.len() as u32;
            x.push(v);
        }
    }
    let edges: Vec<(u32, u32, u8)> = graph
        .edges
        .iter()
        .filter_map(|&(i, j, c)| {
            let (a, b) = (local[i as usize], local[j as usize]);
            (a != u32::MAX && b != u32::MAX).then_some((a, b, class_index(c) as u8))
        })
        .collect();
    let n = x.len();
    let mut out = SpatialStats {
        n,
        n_edges: edges.len(),
        morans_i: None,
        morans_expected: None,
        morans_p: None,
        gearys_c: None,
        gearys_p: None,
        permutations,
        neighbours: Vec::new(),
        coordinates: coordinate_tests(graph, values),
    };
    let m = mean(&x).unwrap_or(0.0);
    let z: Vec<f64> = x.iter().map(|v| v - m).collect();
    let ss: f64 = z.iter().map(|v| v * v).sum();
    let mut class_edges = [0usize; 3];
    for e in &edges {
        class_edges[e.2 as usize] += 1;
    }
    out.neighbours = neighbour_correlations(&edges, &x, class_edges);
    if n < 3 || edges.is_empty() || ss.is_nan() || ss <= 0.0 {
        return out;
    }
    let nf = n as f64;
    let ne = edges.len() as f64;
    let moran = |s: &Sums| nf * s.cross / (ne * ss);
    let geary = |s: &Sums| (nf - 1.0) * s.sq_diff / (2.0 * ne * ss);
    let class_moran = |s: &Sums, c: usize| {
        (class_edges[c] > 0).then(|| nf * s.cross_class[c] / (class_edges[c] as f64 * ss))
    };
    let set = EdgeSet::new(&edges, n);
    let obs = set.sums(&z);
    let e_i = -1.0 / (nf - 1.0);
    let (i_obs, c_obs) = (moran(&obs), geary(&obs));
    let perms: Vec<Sums> = (0..permutations)
        .into_par_iter()
        .map_init(
            || z.clone(),
            |buf, r| {
                let mut rng = Pcg64Mcg::seed_from_u64(
                    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        ^ (r as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
                );
                buf.copy_from_slice(&z);
                buf.shuffle(&mut rng);
                set.sums(buf)
            },
        )
        .collect();
    let p_of = |obs: f64, centre: f64, stat: &dyn Fn(&Sums) -> Option<f64>| -> Option<f64> {
        if permutations == 0 {
            return None;
        }
        let d0 = (obs - centre).abs() * (1.0 - 1e-12);
        let hits = perms
            .iter()
            .filter(|s| stat(s).is_some_and(|t| (t - centre).abs() >= d0))
            .count();
        Some((1 + hits) as f64 / (permutations + 1) as f64)
    };
    out.morans_i = Some(i_obs);
    out.morans_expected = Some(e_i);
    out.morans_p = p_of(i_obs, e_i, &|s| Some(moran(s)));
    out.gearys_c = Some(c_obs);
    out.gearys_p = p_of(c_obs, 1.0, &|s| Some(geary(s)));
    for (c, nb) in out.neighbours.iter_mut().enumerate() {
        if let Some(ic) = class_moran(&obs, c) {
            nb.morans_i = Some(ic);
            nb.p = p_of(ic, e_i, &|s| class_moran(s, c));
        }
    }
    out.neighbours.retain(|nb| nb.n_edges > 0);
    out
}

fn neighbour_correlations(
    edges: &[(u32, u32, u8)],
    x: &[f64],
    class_edges: [usize; 3],
) -> Vec<ClassNeighbours> {
    CLASSES
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for &(i, j, k) in edges {
                if k as usize == c {
                    let (xi, xj) = (x[i as usize], x[j as usize]);
                    a.extend([xi, xj]);
                    b.extend([xj, xi]);
                }
            }
            ClassNeighbours {
                class: class.name().into(),
                n_edges: class_edges[c],
                correlation: pearson(&a, &b).0,
                morans_i: None,
                p: None,
            }
        })
        .collect()
}

/// Groups of values by a coordinate.
fn groups(
    graph: &SpatialGraph,
    values: &[Option<f64>],
    key: fn(&QubitCoords) -> u32,
) -> Vec<(u32, Vec<f64>)> {
    let mut map: std::collections::BTreeMap<u32, Vec<f64>> = Default::default();
    for (c, v) in graph.coords.iter().zip(values) {
        if let (Some(c), Some(v)) = (c, v.filter(|v| v.is_finite())) {
            map.entry(key(c)).or_default().push(v);
        }
    }
    map.into_iter().collect()
}

fn welch(a: &[f64], b: &[f64]) -> CoordinateTest {
    let mut t = CoordinateTest::untested("orientation", "welch_t");
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if a.len() < 2 || b.len() < 2 {
        return t;
    }
    let (ma, mb) = (mean(a).unwrap_or(0.0), mean(b).unwrap_or(0.0));
    let var = |x: &[f64], m: f64| {
        x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)
    };
    let (va, vb) = (var(a, ma) / na, var(b, mb) / nb);
    t.effect = Some(mb - ma);
    if va + vb > 0.0 {
        let stat = (mb - ma) / (va + vb).sqrt();
        let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
        t.statistic = Some(stat);
        t.df1 = Some(df);
        t.p = Some(t_two_sided(stat, df));
    }
    t
}

fn anova(name: &str, groups: &[(u32, Vec<f64>)], slope: bool) -> CoordinateTest {
    let mut t = CoordinateTest::untested(name, "anova_f");
    let all: Vec<f64> = groups.iter().flat_map(|g| g.1.iter().copied()).collect();
    let (n, k) = (all.len(), groups.len());
    if k < 2 || n <= k {
        return t;
    }
    let grand = mean(&all).unwrap_or(0.0);
    let (mut between, mut within) = (0.0, 0.0);
    for (_, g) in groups {
        let m = mean(g).unwrap_or(0.0);
        between += g.len() as f64 * (m - grand) * (m - grand);
        within += g.iter().map(|v| (v - m) * (v - m)).sum::<f64>();
    }
    let (d1, d2) = ((k - 1) as f64, (n - k) as f64);
    if within > 0.0 {
        let f = (between / d1) / (within / d2);
        t.statistic = Some(f);
        t.df1 = Some(d1);
        t.df2 = Some(d2);
        t.p = Some(f_upper(f, d1, d2));
    }
    if slope {
        let (xs, ys): (Vec<f64>, Vec<f64>) = groups
            .iter()
            .flat_map(|(key, g)| g.iter().map(move |&v| (f64::from(*key), v)))
            .unzip();
        let mx = mean(&xs).unwrap_or(0.0);
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let sxy: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (x - mx) * (y - grand))
            .sum();
        t.effect = (sxx > 0.0).then(|| sxy / sxx);
    }
    t
}

fn coordinate_tests(graph: &SpatialGraph, values: &[Option<f64>]) -> Vec<CoordinateTest> {
    let by_u = groups(graph, values, |c| u32::from(c.orientation));
    let get = |u: u32| {
        by_u.iter()
            .find(|g| g.0 == u)
            .map(|g| g.1.clone())
            .unwrap_or_default()
    };
    vec![
        welch(&get(0), &get(1)),
        anova("cell_row", &groups(graph, values, |c| c.cell_row), true),
        anova("cell_col", &groups(graph, values, |c| c.cell_col), true),
        anova(
            "index_in_cell",
            &groups(graph, values, |c| c.index_in_cell),
            false,
        ),
    ]
}

/// Sets the BH q-values of every coordinate test across all quantities.
pub fn adjust_coordinate_tests<'a>(stats: impl IntoIterator<Item = &'a mut SpatialStats>) {
    let mut tests: Vec<&mut CoordinateTest> = stats
        .into_iter()
        .flat_map(|s| s.coordinates.iter_mut())
        .collect();
    let p: Vec<Option<f64>> = tests.iter().map(|t| t.p).collect();
    for (t, q) in tests.iter_mut().zip(bh_adjust(&p)) {
        t.q = q;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    fn chimera(m: u32) -> SpatialGraph {
        let g = WorkingGraph::perfect(Topology::Chimera { m, n: m, t: 4 });
        let q = g.qubits.clone();
        SpatialGraph::new(&g, &q)
    }

    #[test]
    fn morans_i_and_gearys_c_match_a_hand_computed_path() {
        // A 4-path 0-1-2-3 with x = (1, 2, 3, 4): z = (-1.5, -.5, .5, 1.5), Σz² = 5,
        // Σ_E z_i z_j = .75 - .25 + .75 = 1.25, I = 4·1.25/(3·5) = 1/3;
        // Σ_E (x_i - x_j)² = 3, C = 3·3/(2·3·5) = 0.3.
        let g = SpatialGraph {
            qubits: vec![0, 1, 2, 3],
            edges: vec![
                (0, 1, EdgeClass::Internal),
                (1, 2, EdgeClass::Internal),
                (2, 3, EdgeClass::External),
            ],
            coords: vec![None; 4],
            position: vec![None; 4],
        };
        let v = [Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        let s = spatial_stats(&g, &v, 0, 1);
        assert!((s.morans_i.unwrap() - 1.0 / 3.0).abs() < 1e-15);
        assert!((s.gearys_c.unwrap() - 0.3).abs() < 1e-15);
        assert_eq!(s.morans_p, None);
    }

    #[test]
    fn smooth_field_is_significant_and_noise_is_not() {
        let g = chimera(8);
        let field: Vec<Option<f64>> = g
            .coords
            .iter()
            .map(|c| c.map(|c| (f64::from(c.cell_row) * 0.4).sin() + f64::from(c.cell_col) * 0.1))
            .collect();
        let s = spatial_stats(&g, &field, 199, 3);
        assert!(s.morans_i.unwrap() > 0.5 && s.morans_p.unwrap() <= 0.005);
        assert!(s.gearys_c.unwrap() < 0.5 && s.gearys_p.unwrap() <= 0.005);
        let row = s
            .coordinates
            .iter()
            .find(|t| t.coordinate == "cell_row")
            .unwrap();
        assert!(row.p.unwrap() < 1e-10);
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let noise: Vec<Option<f64>> = (0..g.qubits.len())
            .map(|_| Some(rand::Rng::random::<f64>(&mut rng)))
            .collect();
        let s = spatial_stats(&g, &noise, 199, 3);
        assert!(s.morans_p.unwrap() > 0.01, "{:?}", s.morans_p);
    }

    #[test]
    fn permutations_do_not_depend_on_threads() {
        let g = chimera(4);
        let v: Vec<Option<f64>> = (0..g.qubits.len()).map(|i| Some((i % 7) as f64)).collect();
        let a = spatial_stats(&g, &v, 99, 11);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| spatial_stats(&g, &v, 99, 11));
        assert_eq!(a, b);
    }

    #[test]
    fn orientation_offset_is_found_by_welch() {
        let g = chimera(4);
        let v: Vec<Option<f64>> = g
            .coords
            .iter()
            .enumerate()
            .map(|(i, c)| c.map(|c| f64::from(c.orientation) * 0.5 + ((i * 37 % 11) as f64) * 0.01))
            .collect();
        let s = spatial_stats(&g, &v, 0, 1);
        let u = &s.coordinates[0];
        assert_eq!(u.coordinate, "orientation");
        assert!((u.effect.unwrap() - 0.5).abs() < 0.02 && u.p.unwrap() < 1e-20);
    }
}
