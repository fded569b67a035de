//! The Markdown report (GitHub-flavoured tables) with its figures as PNG files beside it.

use super::document::{document, Block, Table};
use crate::report::model::Report;
use crate::report::plot::PlotError;
use std::fmt::Write;

/// A file beside the Markdown: name and bytes.
pub type Attachment = (String, Vec<u8>);

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(out: &mut String, t: &Table) {
    let kv = t.head.iter().all(String::is_empty);
    let head: Vec<String> = if kv {
        vec!["".into(), "".into()]
    } else {
        t.head.iter().map(|h| cell(h)).collect()
    };
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let rule: Vec<&str> = (0..head.len())
        .map(|i| {
            if t.numeric.get(i).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The report as Markdown, and its PNG figures (`name.png`).
pub fn markdown(report: &Report) -> Result<(Vec<u8>, Vec<Attachment>), PlotError> {
    let mut out = String::new();
    let mut files = Vec::new();
    for b in document(report) {
        match b {
            Block::Heading(level, _, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(level as usize), text);
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::KeyNumbers(items) => {
                let t = Table {
                    head: vec![String::new(), String::new()],
                    rows: items.into_iter().map(|(l, v)| vec![l, v]).collect(),
                    numeric: vec![false, true],
                };
                table(&mut out, &t);
            }
            Block::Table(t) => table(&mut out, &t),
            Block::Formulas(lines) => {
                let _ = writeln!(out, "```text\n{}\n```\n", lines.join("\n"));
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {i}");
                }
                out.push('\n');
            }
            Block::Figures(figs) => {
                for f in &figs {
                    let name = format!("{}.png", f.name());
                    let _ = writeln!(out, "![{}]({name})\n", f.title().replace(['[', ']'], ""));
                    files.push((name, f.png()?));
                }
            }
        }
    }
    let _ = writeln!(out, "---\nMade by qasa {}.", report.tool_version);
    Ok((out.into_bytes(), files))
}
