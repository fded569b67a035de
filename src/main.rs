//! The `qasa` binary: parses arguments, runs one pipeline stage, prints. Exit codes: 0 ok, 1 failure,
//! 2 usage error.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
