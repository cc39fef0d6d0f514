//! The command line: the clap definitions (their doc comments are the help text),
//! the options several commands share, and one file with one `execute` entry
//! point per subcommand (as mdBook's `src/cmd/` and typst-cli's `compile.rs`).
//!
//! Exit codes: 0 when the command did what was asked; 1 when the data has
//! problems or a file could not be written (all problems are printed); 2 when the
//! command line itself is wrong (clap's errors, worded in Chinese by [`usage`],
//! and values clap cannot check, such as an unreadable date).
//!
//! Printing goes through [`outln!`] and [`errln!`]: a reader that goes away
//! (`gongwen fonts | head -1`) ends what is printed, never the process with a
//! panic.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use chrono::{Datelike, NaiveDate};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::{Diagnostic, Location};
use crate::pipeline::{Formats, Settings, Written};
use crate::render::typst::fonts::{FontOptions, FontSet};

/// Prints a line to standard output (see [`write_stdout`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cmd::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints a line to standard error (see [`write_stderr`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cmd::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod bench;
pub mod build;
pub mod check;
pub mod diff;
pub mod fonts;
pub mod init;
pub mod scores;
pub mod serve;
pub mod status;
pub mod table;
pub mod units;
pub mod usage;
mod watch;

/// gongwen：由数据生成符合 GB/T 9704-2012 的公文（PDF 与 DOCX）
#[derive(Debug, Parser)]
#[command(name = "gongwen", version, about, long_about = None)]
pub struct Cli {
    /// 子命令
    #[command(subcommand)]
    pub command: Command,
}

/// 子命令
#[derive(Debug, Subcommand)]
pub enum Command {
    /// 生成公文：不给案卷文件夹时生成内置示例
    Build(build::BuildArgs),
    /// 只检查案卷数据，不写任何文件
    Check(check::CheckArgs),
    /// 把内置示例写成可编辑的案卷文件夹
    Init(init::InitArgs),
    /// 把一个指标工作簿（责任清单、任务分解）单独印成附件表格
    Table(table::TableArgs),
    /// 按单位印出各自的任务清单，并附各单位任务汇总表
    Units(units::UnitsArgs),
    /// 比较两版指标表的责任单位，印出责任调整对照表
    Diff(diff::DiffArgs),
    /// 按单位统计已完成、未完成、逾期和 7 日内到期的任务，印出进度通报和督办通知
    Status(status::StatusArgs),
    /// 印出督察情况打分表和打分录入表；给出 --filled 时汇总得分、排名并印出督察情况通报
    Scores(scores::ScoresArgs),
    /// 列出找到的字体，以及每种用途选用哪一种
    Fonts(FontArgs),
    /// 性能测试：内置示例、1000 行附件、200 个案卷批量（预热后取中位数）
    Bench(bench::BenchArgs),
    /// 启动网页：在浏览器中编辑案卷、预览并下载公文
    Serve(serve::ServeArgs),
}

/// 字体选项
#[derive(Debug, Clone, Args)]
pub struct FontArgs {
    /// 额外的字体文件夹（可多次给出）
    #[arg(
        long = "font-path",
        env = "GONGWEN_FONT_PATHS",
        value_delimiter = ':',
        value_name = "DIR"
    )]
    pub font_paths: Vec<PathBuf>,
    /// 不使用系统字体（只用内置 Fandol 字体和 --font-path）
    #[arg(long)]
    pub ignore_system_fonts: bool,
}

impl FontArgs {
    /// The fonts these options ask for.
    pub fn load(&self) -> std::sync::Arc<FontSet> {
        FontSet::load(&FontOptions {
            paths: self.font_paths.clone(),
            ignore_system: self.ignore_system_fonts,
        })
    }
}

/// Options of every command that writes documents: where to, dated when, with
/// which fonts. A command with another default folder changes it with
/// `#[command(mut_arg("out", …))]`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// 输出文件夹
    #[arg(long, short, default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// 文件元数据使用的日期（YYYY-MM-DD）；默认取环境变量 SOURCE_DATE_EPOCH，再默认今天
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

impl OutputArgs {
    /// The checked run date: `--date`, else `SOURCE_DATE_EPOCH`, else `today`.
    pub fn date(&self, today: NaiveDate) -> Result<NaiveDate, Failure> {
        resolve_date(self.date.as_deref(), today)
    }

    /// The pipeline settings these options ask for (both formats, built-in
    /// templates); the date is checked before any font is loaded.
    pub fn settings(&self, today: NaiveDate) -> Result<Settings, Failure> {
        Ok(settings(&self.fonts, self.date(today)?))
    }
}

/// `--templates`, for the commands that print a case.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// 覆盖内置模板的文件夹（prose/*.tera、typst/gongwen.typ）
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// PDF（Typst 排版）
    Pdf,
    /// DOCX（Word、WPS 可编辑）
    Docx,
}

/// `--format`.
#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// 输出格式，逗号分隔
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_delimiter = ',',
        default_value = "pdf,docx"
    )]
    pub format: Vec<Format>,
}

impl FormatArgs {
    /// The formats asked for.
    pub fn formats(&self) -> Formats {
        Formats {
            pdf: self.format.contains(&Format::Pdf),
            docx: self.format.contains(&Format::Docx),
        }
    }
}

/// The one place where shared options become pipeline settings: the fonts they
/// name, Typst's library, the date; both formats and the built-in templates, which
/// a command changes with struct update syntax.
pub fn settings(fonts: &FontArgs, date: NaiveDate) -> Settings {
    Settings {
        fonts: fonts.load(),
        library: crate::render::typst::world::library(),
        templates: None,
        date,
        formats: Formats { pdf: true, docx: true },
        emit_typst: false,
    }
}

/// Years a run date may have. Typst's datetime (the `today` of the World) and the
/// PDF timestamp take four-digit years only; before 1900 is a typo, not a date a
/// document of this kind carries.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// The run date: `--date`, else `SOURCE_DATE_EPOCH`, else `today`. An unreadable
/// value is a usage error; a readable date outside [`YEARS`] is an error of the
/// run (exit code 1), as a date in the data would be.
pub fn resolve_date(arg: Option<&str>, today: NaiveDate) -> Result<NaiveDate, Failure> {
    if let Some(s) = arg {
        return parse_date("--date", s);
    }
    if let Some(epoch) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let epoch = epoch.to_string_lossy();
        let secs: i64 = epoch.trim().parse().map_err(|_| {
            Failure::usage(format!(
                "无法识别 SOURCE_DATE_EPOCH={epoch}（应为自 1970-01-01 起的秒数）"
            ))
        })?;
        let what = format!("SOURCE_DATE_EPOCH={epoch}");
        let date = chrono::DateTime::from_timestamp(secs, 0)
            .map(|d| d.date_naive())
            .ok_or_else(|| out_of_range(&what))?;
        return check_year(date, &what);
    }
    check_year(today, "今天的日期")
}

/// Reads a `YYYY-MM-DD` flag value and checks its year.
pub fn parse_date(flag: &str, value: &str) -> Result<NaiveDate, Failure> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        Failure::usage(format!("无法识别 {flag} {value}（应写作 YYYY-MM-DD）"))
    })?;
    check_year(date, &format!("{flag} {value}"))
}

/// The date if its year is in [`YEARS`].
fn check_year(date: NaiveDate, what: &str) -> Result<NaiveDate, Failure> {
    if YEARS.contains(&date.year()) { Ok(date) } else { Err(out_of_range(what)) }
}

/// The error of a date outside [`YEARS`].
fn out_of_range(what: &str) -> Failure {
    Failure::problem(format!(
        "{what} 超出范围（年份应在 {} 至 {} 之间）",
        YEARS.start(),
        YEARS.end()
    ))
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line asks for what cannot be done (exit code 2).
    Usage(Diagnostic),
    /// Problems with the data or the files, not yet printed (exit code 1).
    Problems(Vec<Diagnostic>),
    /// Problems already printed as they were found (exit code 1).
    Reported,
}

impl Failure {
    /// A usage error without a location.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(Diagnostic::error(Location::None, message))
    }

    /// One problem without a location.
    pub fn problem(message: impl Into<String>) -> Self {
        Self::Problems(vec![Diagnostic::error(Location::None, message)])
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Problems(_) | Self::Reported => 1,
        }
    }
}

/// Prints every diagnostic (a position in a text file with that line of the
/// file and a caret), then the count of errors.
pub fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        errln!("{}", d.render(&source_of));
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        errln!("共 {errors} 个错误，未写出任何文件");
    }
}

/// The text of a file a diagnostic names, for its source line: only a regular
/// file of at most 4 MiB, read as UTF-8 (the case was read the same way).
pub(crate) fn source_of(name: &str) -> Option<String> {
    let path = std::path::Path::new(name);
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 4 << 20 {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    Some(text.trim_start_matches('\u{feff}').to_string())
}

/// Prints the warnings of a run that succeeded (rows left out of a workbook and
/// the like) to standard error; they do not change the exit code.
pub fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        errln!("{}", w.render(&source_of));
    }
}

/// Prints the warnings and the files a command wrote, or returns its problems.
pub fn report(result: Result<Written, Vec<Diagnostic>>) -> Result<(), Failure> {
    let written = result.map_err(Failure::Problems)?;
    print_warnings(&written.warnings);
    for p in &written.files {
        outln!("已写出 {}", p.display());
    }
    Ok(())
}

/// Runs a command.
pub fn dispatch(cli: Cli, today: NaiveDate) -> Result<(), Failure> {
    match cli.command {
        Command::Build(a) => build::execute(a, today),
        Command::Check(a) => check::execute(a, today),
        Command::Init(a) => init::execute(&a),
        Command::Table(a) => table::execute(&a, today),
        Command::Units(a) => units::execute(&a, today),
        Command::Diff(a) => diff::execute(&a, today),
        Command::Status(a) => status::execute(&a, today),
        Command::Scores(a) => scores::execute(&a, today),
        Command::Fonts(a) => {
            fonts::execute(&a);
            Ok(())
        }
        Command::Bench(a) => bench::execute(&a),
        Command::Serve(a) => serve::execute(&a),
    }
}

/// Prints how a command ended and gives the exit code.
pub fn finish(result: Result<(), Failure>) -> ExitCode {
    let code = match result {
        Ok(()) => 0,
        Err(f) => {
            match &f {
                Failure::Usage(d) => errln!("{d}"),
                Failure::Problems(ds) => print_diags(ds),
                Failure::Reported => {}
            }
            f.exit_code()
        }
    };
    // output that could not be printed (other than to a reader that went away)
    // is a failure of the run
    if code == 0 && STDOUT.load(Ordering::SeqCst) == FAILED {
        return ExitCode::from(1);
    }
    ExitCode::from(code)
}

/// Standard output is open.
const OPEN: u8 = 0;
/// Its reader went away (a broken pipe): nothing more is printed there.
const CLOSED: u8 = 1;
/// Writing failed otherwise (a full disk): reported once, exit code 1.
const FAILED: u8 = 2;

/// What became of standard output.
static STDOUT: AtomicU8 = AtomicU8::new(OPEN);

/// Writes to standard output. When the reader goes away (`| head -1`), printing
/// ends but the command goes on: its files are what it is for, so a batch is not
/// cut short because nobody reads its log (ripgrep stops instead: its output is
/// all it makes). Any other failure is reported once and the exit code becomes 1.
pub fn write_stdout(args: fmt::Arguments<'_>) {
    if STDOUT.load(Ordering::SeqCst) != OPEN {
        return;
    }
    let mut out = std::io::stdout().lock();
    // stdout is line-buffered: a line that cannot be written fails here
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT.store(CLOSED, Ordering::SeqCst);
        } else if STDOUT.swap(FAILED, Ordering::SeqCst) == OPEN {
            errln!("错误：无法写出到标准输出（{}）", crate::case::io_reason(&e));
        }
    }
}

/// Writes to standard error; a failure there cannot be told to anyone, so it is
/// ignored rather than turned into a panic as `eprintln!` would.
pub fn write_stderr(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_are_read_and_range_checked() {
        let today = day(2024, 3, 5);
        assert_eq!(parse_date("--date", "2023-08-31").unwrap(), day(2023, 8, 31));
        assert_eq!(parse_date("--date", "9999-12-31").unwrap(), day(9999, 12, 31));
        assert_eq!(parse_date("--date", "1900-01-01").unwrap(), day(1900, 1, 1));
        let Err(Failure::Usage(d)) = parse_date("--date", "2023/08/31") else {
            panic!("an unreadable date is a usage error")
        };
        assert_eq!(d.message, "无法识别 --date 2023/08/31（应写作 YYYY-MM-DD）");
        for bad in ["+10000-01-01", "1899-12-31", "0000-01-01", "-0001-01-01"] {
            let Err(Failure::Problems(ds)) = parse_date("--date", bad) else {
                panic!("{bad} was accepted")
            };
            assert!(ds[0].message.contains("超出范围（年份应在 1900 至 9999 之间）"));
        }
        assert_eq!(resolve_date(None, today).map_err(|_| ()), Ok(today));
        assert!(resolve_date(None, day(10_000, 1, 1)).is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_with_their_own_output_folder_keep_it() {
        let units = Cli::try_parse_from(["gongwen", "units", "x"]).unwrap();
        let Command::Units(a) = units.command else { panic!() };
        assert_eq!(a.output.out, PathBuf::from("out/单位任务"));
        let status = Cli::try_parse_from(["gongwen", "status", "x"]).unwrap();
        let Command::Status(a) = status.command else { panic!() };
        assert_eq!(a.output.out, PathBuf::from("out/进度"));
        let build = Cli::try_parse_from(["gongwen", "build"]).unwrap();
        let Command::Build(a) = build.command else { panic!() };
        assert_eq!(a.output.out, PathBuf::from("out"));
        assert_eq!(a.format.formats(), Formats { pdf: true, docx: true });
        let docx = Cli::try_parse_from(["gongwen", "build", "--format", "DOCX"]).unwrap();
        let Command::Build(a) = docx.command else { panic!() };
        assert_eq!(a.format.formats(), Formats { pdf: false, docx: true });
    }
}
