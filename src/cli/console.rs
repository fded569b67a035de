//! What commands print, without panicking: results and summaries go to stdout through [`stdout`], whose
//! write errors become ordinary errors (a full disk: `error: cannot write to standard output: …`, exit 1;
//! a closed pipe: a quiet end, see [`is_broken_pipe`]); warnings and notes go to stderr through [`warn`]
//! and [`note`], which ignore write errors (there is nowhere left to report them). `println!` and
//! `eprintln!` panic on such errors and are denied in the binary (clippy `print_stdout`, `print_stderr`).

use anyhow::{Context, Result};
use std::io::{BufWriter, Write};

/// Runs `print` on a buffered, locked stdout and flushes it.
pub fn stdout(print: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let lock = std::io::stdout().lock();
    let mut out = BufWriter::new(lock);
    print(&mut out)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Prints one line on stdout.
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    stdout(|out| writeln!(out, "{text}"))
}

/// Prints a value as pretty JSON on stdout.
pub fn json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot render JSON")?;
    line(text)
}

/// `warning: …` on stderr.
pub fn warn(text: impl std::fmt::Display) {
    note(format_args!("warning: {text}"));
}

/// One line on stderr.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// True when an error comes from writing to a closed pipe (`qasa … | head`): the reader has gone, so the
/// command ends quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
