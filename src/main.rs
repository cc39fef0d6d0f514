//! The `gongwen` binary: parse arguments, run, print diagnostics, set the exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: `gongwen serve` builds on several
/// threads, and glibc kept the memory they freed (the server grew by a fifth
/// between its 20th and 200th build while its live heap stayed flat).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // clap parses; its errors are worded in Chinese (exit code 2), its help and
    // version printed as they are (exit code 0)
    let cli = match gongwen::cmd::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(gongwen::cmd::usage::report(&e)),
    };
    // the only place "now" is read; everything else takes the date from here
    let today = chrono::Local::now().date_naive();
    gongwen::cmd::finish(gongwen::cmd::dispatch(cli, today))
}
