//! `qasa solvers [--json]`: list the solvers SAPI offers (name, topology, working/total qubits, status,
//! average load). Protocol: docs/sapi-protocol.md §3.1.

use super::sapi_args::SapiArgs;
use qasa::sapi::SolverRecord;
use serde::Serialize;

/// Arguments of `qasa solvers`.
#[derive(clap::Args, Debug)]
pub struct SolversArgs {
    #[command(flatten)]
    pub sapi: SapiArgs,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One solver, as printed by `--json`.
#[derive(Serialize, Debug, PartialEq)]
pub struct SolverSummary {
    pub name: String,
    /// `{type, shape}`, null for solvers without a graph (hybrid).
    pub topology: Option<qasa::sapi::solver::SolverTopology>,
    pub num_working_qubits: usize,
    pub num_qubits: Option<u32>,
    pub num_working_couplers: usize,
    pub status: Option<String>,
    /// Average load, 0..1.
    pub avg_load: Option<f64>,
    pub category: Option<String>,
    pub graph_id: Option<String>,
}

impl From<&SolverRecord> for SolverSummary {
    fn from(s: &SolverRecord) -> Self {
        SolverSummary {
            name: s.name.clone(),
            topology: s.topology().cloned(),
            num_working_qubits: s.qubits().len(),
            num_qubits: s.num_qubits(),
            num_working_couplers: s.couplers().len(),
            status: s.status.clone(),
            avg_load: s.avg_load,
            category: s.properties.category.clone(),
            graph_id: s.graph_id.clone(),
        }
    }
}

fn topology_text(t: &Option<qasa::sapi::solver::SolverTopology>) -> String {
    match t {
        Some(t) => {
            let shape: Vec<String> = t.shape.iter().map(u32::to_string).collect();
            format!("{}[{}]", t.kind, shape.join(","))
        }
        None => "-".into(),
    }
}

/// The table `qasa solvers` prints.
pub fn render_table(rows: &[SolverSummary]) -> String {
    let mut lines = vec![[
        "NAME".to_string(),
        "TOPOLOGY".into(),
        "QUBITS".into(),
        "STATUS".into(),
        "LOAD".into(),
    ]];
    for r in rows {
        lines.push([
            r.name.clone(),
            topology_text(&r.topology),
            match r.num_qubits {
                Some(n) => format!("{}/{}", r.num_working_qubits, n),
                None => "-".into(),
            },
            r.status.clone().unwrap_or_else(|| "-".into()),
            r.avg_load.map_or("-".into(), |l| format!("{l:.2}")),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        let cells: Vec<String> = l
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Runs `qasa solvers`.
pub fn run(args: &SolversArgs) -> anyhow::Result<()> {
    let client = args.sapi.client()?;
    let solvers = client.list_solvers().map_err(|e| args.sapi.explain(e))?;
    let rows: Vec<SolverSummary> = solvers.iter().map(SolverSummary::from).collect();
    if args.json {
        super::console::json(&rows)
    } else {
        super::console::stdout(|out| out.write_all(render_table(&rows).as_bytes()))
    }
}
