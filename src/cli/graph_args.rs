//! `--topology SPEC | --solver-file F`: the hardware graph for commands that read data whose file may not
//! say (dimod samples: pair counts on its couplers; analysis: neighbours and map coordinates).

use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use qasa::topology::{Topology, WorkingGraph};
use std::path::PathBuf;

#[derive(ClapArgs, Debug, Default)]
pub struct GraphArgs {
    /// Hardware graph: chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage, advantage2.
    #[arg(long, value_name = "SPEC", conflicts_with = "solver_file")]
    pub topology: Option<String>,
    /// Working graph from a SAPI solver record (.json or .json.gz).
    #[arg(long, value_name = "FILE")]
    pub solver_file: Option<PathBuf>,
}

impl GraphArgs {
    /// The graph asked for, if any.
    pub fn load(&self) -> Result<Option<WorkingGraph>> {
        match (&self.topology, &self.solver_file) {
            (Some(s), None) => Ok(Some(WorkingGraph::perfect(s.parse::<Topology>()?))),
            (None, Some(f)) => Ok(Some(WorkingGraph::from_solver_file(f)?)),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => {
                bail!("give at most one of --topology SPEC or --solver-file FILE")
            }
        }
    }
}
