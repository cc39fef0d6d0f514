//! `gongwen status`: progress per unit on a day, the 进度通报, and a 督办通知 for
//! every unit with overdue tasks.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, OutputArgs};
use crate::case::CaseDir;
use crate::pipeline;

/// status 的选项
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.default_value("out/进度")))]
pub struct StatusArgs {
    /// 案卷文件夹
    pub dir: PathBuf,
    /// 统计截止日期（YYYY-MM-DD）；默认同 --date（环境变量 SOURCE_DATE_EPOCH，再默认今天）
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// 督办通知要求回复的期限（1 至 365 天）
    #[arg(long, default_value_t = 5, value_parser = super::usage::number_in::<i64>(1..=365))]
    pub reply_days: i64,
    /// 第一份督办通知的发文序号（1 至 99999）；默认为案卷发文字号的序号加一
    #[arg(long, value_parser = super::usage::number_in::<i64>(1..=99_999))]
    pub first_number: Option<i64>,
    /// 输出位置、日期（文件元数据；默认同 --as-of）、字体
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `gongwen status`.
pub fn execute(a: &StatusArgs, today: NaiveDate) -> Result<(), Failure> {
    use std::io::IsTerminal;
    // the day counted to, and the files' date: each defaults to the other
    let as_of = match &a.as_of {
        Some(s) => super::parse_date("--as-of", s)?,
        None => a.output.date(today)?,
    };
    let date = if a.output.date.is_some() { a.output.date(today)? } else { as_of };
    let settings = super::settings(&a.output.fonts, date);
    let report = pipeline::build_status(
        &CaseDir::Disk(a.dir.clone()),
        as_of,
        a.reply_days,
        a.first_number,
        &a.output.out,
        &settings,
    )
    .map_err(Failure::Problems)?;
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint =
        |code: &str, s: String| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s };
    outln!("截至 {}（{} 个单位）", crate::deadline::cn_date(as_of), report.units.len());
    let width =
        report.units.iter().map(|u| display_width(&u.unit)).max().unwrap_or(4).max(4);
    outln!("{}  已完成  未完成  逾期  7日内到期", pad("单位", width));
    for u in &report.units {
        let overdue = format!("{:>4}", u.overdue.len());
        let soon = format!("{:>9}", u.due_soon.len());
        outln!(
            "{}  {:>6}  {:>6}  {}  {}",
            pad(&u.unit, width),
            u.done,
            u.open,
            if u.overdue.is_empty() { overdue } else { paint("1;31", overdue) },
            if u.due_soon.is_empty() { soon } else { paint("33", soon) },
        );
        for (n, d) in &u.overdue {
            outln!("    {}", paint("31", format!("第 {n} 项逾期 {d} 天")));
        }
    }
    super::print_warnings(&report.warnings);
    for p in &report.written {
        outln!("已写出 {}", p.display());
    }
    Ok(())
}

/// Terminal columns a text takes (CJK characters take two).
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// A text padded with spaces to `width` terminal columns.
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}
