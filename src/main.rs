//! The `gongwen` binary: parse arguments, run, print diagnostics, set the exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc (its version 2) instead of glibc's malloc: `gongwen serve` lays
/// documents out on several threads, and glibc kept what they freed (with the
/// same cache trimming, 162 MiB after 20 builds of different documents, 191
/// after 140; mimalloc 2: 186, then 184–197 up to 300).
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
