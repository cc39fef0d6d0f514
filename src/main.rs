//! The `gongwen` binary: parse arguments, run, print diagnostics, set the exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2
    let cli = gongwen::cmd::Cli::parse();
    // the only place "now" is read; everything else takes the date from here
    let today = chrono::Local::now().date_naive();
    gongwen::cmd::finish(gongwen::cmd::dispatch(cli, today))
}
