//! JSON Schema (draft 2020-12) validation of the files qasa reads and writes in its own formats.
//! The schemas live in `schemas/` and are compiled into the binary; each is compiled once (boon).

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The sweep file schema (`schemas/sweep.schema.json`).
pub const SWEEP: &str = include_str!("../schemas/sweep.schema.json");
/// The virtual QPU truth file schema (`schemas/truth.schema.json`).
pub const TRUTH: &str = include_str!("../schemas/truth.schema.json");
/// The campaign plan schema (`schemas/plan.schema.json`).
pub const PLAN: &str = include_str!("../schemas/plan.schema.json");
/// The fit result schema (`schemas/fit.schema.json`).
pub const FIT: &str = include_str!("../schemas/fit.schema.json");
/// The report file schema (`schemas/report.schema.json`).
pub const REPORT: &str = include_str!("../schemas/report.schema.json");
/// The analysis file schema (`schemas/analysis.schema.json`).
pub const ANALYSIS: &str = include_str!("../schemas/analysis.schema.json");

/// A schema violation: where in the document and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the instance (`/counts/down/3`), `/` for the root.
    pub json_path: String,
    /// What the schema expected.
    pub reason: String,
}

struct Compiled {
    schemas: boon::Schemas,
    index: HashMap<&'static str, boon::SchemaIndex>,
}

fn compiled() -> &'static Mutex<Compiled> {
    static C: OnceLock<Mutex<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        Mutex::new(Compiled {
            schemas: boon::Schemas::new(),
            index: HashMap::new(),
        })
    })
}

/// Validates `value` against the schema text `schema` (one of the constants of this module).
///
/// Reports the deepest failing location, which is the most useful single line for a user.
pub fn validate(schema: &'static str, value: &Value) -> Result<(), Violation> {
    let mut guard = match compiled().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let c = &mut *guard;
    let idx = match c.index.get(schema) {
        Some(i) => *i,
        None => {
            let doc: Value = serde_json::from_str(schema).map_err(|e| Violation {
                json_path: "/".into(),
                reason: format!("internal: embedded schema is not JSON: {e}"),
            })?;
            let url = format!("qasa-schema-{}.json", c.index.len());
            let mut compiler = boon::Compiler::new();
            let compiled = match compiler.add_resource(&url, doc) {
                Ok(()) => compiler.compile(&url, &mut c.schemas),
                Err(e) => Err(e),
            };
            let i = compiled.map_err(|e| Violation {
                json_path: "/".into(),
                reason: format!("internal: schema: {e}"),
            })?;
            c.index.insert(schema, i);
            i
        }
    };
    match c.schemas.validate(value, idx) {
        Ok(()) => Ok(()),
        Err(e) => {
            let leaf = deepest(&e);
            let loc = leaf.instance_location.to_string();
            Err(Violation {
                json_path: if loc.is_empty() { "/".into() } else { loc },
                reason: leaf.kind.to_string(),
            })
        }
    }
}

fn deepest<'a, 's, 'v>(e: &'a boon::ValidationError<'s, 'v>) -> &'a boon::ValidationError<'s, 'v> {
    let mut best = e;
    let mut best_depth = depth(e);
    for c in &e.causes {
        let d = deepest(c);
        let dd = depth(d);
        if dd > best_depth {
            best = d;
            best_depth = dd;
        }
    }
    best
}

fn depth(e: &boon::ValidationError<'_, '_>) -> usize {
    e.instance_location.to_string().matches('/').count()
}
