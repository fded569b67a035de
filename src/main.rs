//! The `qasa` binary: parses arguments, runs one pipeline stage, prints. Exit codes: 0 ok, 1 failure,
//! 2 usage error.

// Printing goes through cli::console, which never panics on a full or closed stream.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod cli;

fn main() -> std::process::ExitCode {
    // Like other Unix filters, end quietly when the reader of stdout goes away (`qasa ... | head`)
    // instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; restores the default disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main()
}
