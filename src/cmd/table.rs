//! `gongwen table`: one indicator workbook printed as a stand-alone table.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, FormatArgs, OutputArgs, report};
use crate::pipeline::{self, Settings};

/// table 的选项
#[derive(Debug, Args)]
pub struct TableArgs {
    /// 工作簿（.xlsx、.xlsm、.xls、.ods）
    pub workbook: PathBuf,
    /// 工作表名称；不给时用第一个有指标表头的工作表
    #[arg(long)]
    pub sheet: Option<String>,
    /// 表格标题；不给时用文件名
    #[arg(long)]
    pub title: Option<String>,
    /// 输出位置、日期、字体
    #[command(flatten)]
    pub output: OutputArgs,
    /// 输出格式
    #[command(flatten)]
    pub format: FormatArgs,
}

/// Runs `gongwen table`.
pub fn execute(a: &TableArgs, today: NaiveDate) -> Result<(), Failure> {
    let settings = Settings { formats: a.format.formats(), ..a.output.settings(today)? };
    report(pipeline::build_table(
        &a.workbook,
        a.sheet.as_deref(),
        a.title.as_deref(),
        &a.output.out,
        &settings,
    ))
}
