//! `qasa topology`: edge lists, layouts and summaries of hardware graphs (docs/topology.md).
//!
//! * `edges SPEC`: canonical edge list, `u v` per line, u < v, sorted by (u, v) (§4).
//! * `layout SPEC`: CSV `index,x,y`, dnx default layout, f64 printed to round-trip exactly.
//! * `info (SPEC | --solver-file FILE [--solver NAME]) [--json]`: counts, classes, missing parts.

use std::io::Write;
use std::path::PathBuf;

use super::console;
use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};

use qasa::topology::{GraphSummary, Topology, WorkingGraph};

/// Arguments of `qasa topology`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: TopologyCommand,
}

#[derive(Subcommand, Debug)]
enum TopologyCommand {
    /// Print the canonical edge list: one `u v` line per edge, u < v, sorted.
    Edges {
        /// chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage or advantage2.
        spec: Topology,
    },
    /// Print the default 2D layout as CSV `index,x,y`.
    Layout {
        /// chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage or advantage2.
        spec: Topology,
    },
    /// Summarise a perfect graph or a solver's working graph.
    Info {
        /// chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage or advantage2.
        #[arg(
            required_unless_present = "solver_file",
            conflicts_with = "solver_file"
        )]
        spec: Option<Topology>,
        /// SAPI solver record (.json or .json.gz; a record or a list of records).
        #[arg(long, value_name = "FILE")]
        solver_file: Option<PathBuf>,
        /// With a list of records, the solver id to take (default: the first).
        #[arg(long, value_name = "NAME", requires = "solver_file")]
        solver: Option<String>,
        /// Machine-readable JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `qasa topology`. A closed stdout (`| head`) ends the output quietly (see `cli::main`).
pub fn run(args: Args) -> Result<()> {
    match args.command {
        TopologyCommand::Edges { spec } => console::stdout(|out| write_edges(out, &spec)),
        TopologyCommand::Layout { spec } => console::stdout(|out| write_layout(out, &spec)),
        TopologyCommand::Info {
            spec,
            solver_file,
            solver,
            json,
        } => {
            let summary = match (spec, solver_file) {
                (Some(spec), _) => GraphSummary::of_topology(&spec),
                (None, Some(path)) => GraphSummary::of_working(
                    &WorkingGraph::from_solver_file_named(&path, solver.as_deref())?,
                ),
                (None, None) => anyhow::bail!("give a SPEC or --solver-file FILE"),
            };
            if json {
                console::json(&summary)
            } else {
                console::stdout(|out| write_info(out, &summary))
            }
        }
    }
}

fn write_edges(out: &mut dyn Write, topology: &Topology) -> std::io::Result<()> {
    for e in topology.edges() {
        writeln!(out, "{} {}", e.u, e.v)?;
    }
    Ok(())
}

fn write_layout(out: &mut dyn Write, topology: &Topology) -> std::io::Result<()> {
    writeln!(out, "index,x,y")?;
    for (q, x, y) in topology.layout() {
        writeln!(out, "{q},{x:?},{y:?}")?;
    }
    Ok(())
}

/// Lists at most this many missing items in the human output.
const SHOW_MISSING: usize = 20;

fn write_info(out: &mut dyn Write, s: &GraphSummary) -> std::io::Result<()> {
    let shape: Vec<String> = s.shape.iter().map(u32::to_string).collect();
    if let Some(name) = &s.solver_name {
        writeln!(out, "solver            {name}")?;
    }
    writeln!(out, "family            {}", s.family)?;
    writeln!(
        out,
        "shape             [{}]  ({})",
        shape.join(", "),
        s.spec
    )?;
    writeln!(out, "index space       {}", s.num_index_space)?;
    writeln!(
        out,
        "qubits            {} of {}",
        s.num_qubits, s.perfect_num_qubits
    )?;
    writeln!(
        out,
        "couplers          {} of {}",
        s.num_couplers, s.perfect_num_couplers
    )?;
    writeln!(out, "  internal        {}", s.couplers_by_class.internal)?;
    writeln!(out, "  external        {}", s.couplers_by_class.external)?;
    writeln!(out, "  odd             {}", s.couplers_by_class.odd)?;
    let qubits: Vec<String> = s.missing_qubits.iter().map(u32::to_string).collect();
    writeln!(
        out,
        "missing qubits    {}{}",
        s.missing_qubits.len(),
        preview(&qubits)
    )?;
    let couplers: Vec<String> = s
        .missing_couplers
        .iter()
        .map(|(u, v)| format!("{u}-{v}"))
        .collect();
    writeln!(
        out,
        "missing couplers  {}{}",
        s.missing_couplers.len(),
        preview(&couplers)
    )?;
    Ok(())
}

fn preview(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let shown = items
        .iter()
        .take(SHOW_MISSING)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let more = if items.len() > SHOW_MISSING {
        " ..."
    } else {
        ""
    };
    format!(": {shown}{more}")
}
