//! The self-contained HTML page: one file with inline CSS and inline SVG figures; no scripts, no fonts to
//! fetch, no reference to anything outside the file. Laid out for a laptop screen (figures at their
//! natural size, so text reads at 100 % zoom, two per row where they fit) and for print (no navigation,
//! figures and tables kept whole on a page).

use super::document::{document, Block, Table};
use super::Fig;
use crate::report::model::Report;
use crate::report::plot::{escape, PlotError};
use std::fmt::Write;

const CSS: &str = r#"
:root { --ink: #222; --muted: #5d5d5d; --line: #d9d9d9; --accent: #0072b2; --soft: #f5f6f7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1420px; margin: 0 auto; padding: 20px 28px 64px; }
h1 { font-size: 26px; margin: 4px 0 2px; }
h2 { font-size: 21px; margin: 34px 0 10px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 17px; margin: 20px 0 6px; }
p, li { max-width: 980px; }
nav { font-size: 14px; margin: 6px 0 0; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
.keys { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0 4px; }
.key { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 160px; background: var(--soft); }
.key b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.key span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 10px 0 14px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #aaa; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
.figs { display: flex; flex-wrap: wrap; gap: 18px 22px; align-items: flex-start; margin: 10px 0; }
figure { margin: 0; max-width: 100%; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 2px; max-width: 640px; }
pre.formula { background: var(--soft); padding: 8px 12px; border-radius: 4px; overflow-x: auto;
  font: 14px/1.55 "DejaVu Sans Mono", Menlo, Consolas, monospace; margin: 6px 0 12px; max-width: 980px; }
footer { margin-top: 40px; font-size: 13px; color: var(--muted); }
@media print {
  main { max-width: none; padding: 0; }
  nav { display: none; }
  body { font-size: 10.5pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  figure, table, .keys, pre.formula { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

fn table(out: &mut String, t: &Table, kv: bool) {
    let _ = write!(out, "<table{}>", if kv { " class=\"kv\"" } else { "" });
    if !kv {
        out.push_str("<thead><tr>");
        for h in &t.head {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let numeric = t.numeric.get(i).copied().unwrap_or(false);
            let _ = write!(
                out,
                "<td{}>{}</td>",
                if numeric { " class=\"n\"" } else { "" },
                escape(c)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn figures(out: &mut String, figs: &[Fig]) -> Result<(), PlotError> {
    out.push_str("<div class=\"figs\">\n");
    for f in figs {
        let _ = write!(
            out,
            "<figure id=\"fig-{}\">\n{}\n<figcaption>{}</figcaption></figure>\n",
            escape(&f.name()),
            f.svg()?,
            escape(&f.title())
        );
    }
    out.push_str("</div>\n");
    Ok(())
}

/// The report as one HTML page.
pub fn html(report: &Report) -> Result<Vec<u8>, PlotError> {
    let blocks = document(report);
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"qasa {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        escape(&report.tool_version),
        escape(&report.title)
    );
    let contents: Vec<(&str, &str)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(2, id, text) if !id.is_empty() => Some((*id, text.as_str())),
            _ => None,
        })
        .collect();
    for b in &blocks {
        match b {
            Block::Heading(level, id, text) => {
                let id_attr = if id.is_empty() {
                    String::new()
                } else {
                    format!(" id=\"{id}\"")
                };
                let _ = writeln!(out, "<h{level}{id_attr}>{}</h{level}>", escape(text));
                if *level == 1 {
                    out.push_str("<nav>");
                    for (id, text) in &contents {
                        let _ = writeln!(out, "<a href=\"#{id}\">{}</a>", escape(text));
                    }
                    out.push_str("</nav>\n");
                }
            }
            Block::Para(text) => {
                let _ = writeln!(out, "<p>{}</p>", escape(text));
            }
            Block::KeyNumbers(items) => {
                out.push_str("<div class=\"keys\">");
                for (label, value) in items {
                    let _ = write!(
                        out,
                        "<div class=\"key\"><b>{}</b><span>{}</span></div>",
                        escape(value),
                        escape(label)
                    );
                }
                out.push_str("</div>\n");
            }
            Block::Table(t) => table(&mut out, t, t.head.iter().all(String::is_empty)),
            Block::Formulas(lines) => {
                let _ = writeln!(
                    out,
                    "<pre class=\"formula\">{}</pre>",
                    escape(&lines.join("\n"))
                );
            }
            Block::List(items) => {
                out.push_str("<ul>");
                for i in items {
                    let _ = write!(out, "<li>{}</li>", escape(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Figures(figs) => figures(&mut out, figs)?,
        }
    }
    let _ = write!(
        out,
        "<footer>Made by qasa {} — single-qubit assessment of quantum annealers.</footer>\n</main>\n</body>\n</html>\n",
        escape(&report.tool_version)
    );
    Ok(out.into_bytes())
}
