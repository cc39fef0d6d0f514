//! The `gongwen` binary: parse arguments, run, print diagnostics, set the exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = gongwen::cli::Cli::parse();
    // the only place "now" is read; everything else takes the date from here
    let today = chrono::Local::now().date_naive();
    match gongwen::cli::dispatch(args, today) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::from(2)
        }
    }
}
