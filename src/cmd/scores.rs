//! `gongwen scores`: blank score sheets and the entry workbook, or the report
//! from a filled workbook.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, OutputArgs, report};
use crate::pipeline;

/// scores 的选项
#[derive(Debug, Args)]
pub struct ScoresArgs {
    /// 打分表文件（打分表.toml）或含有它的文件夹
    pub path: PathBuf,
    /// 填好的打分录入表（打分录入.xlsx）
    #[arg(long)]
    pub filled: Option<PathBuf>,
    /// 被督察单位，逗号分隔（覆盖打分表文件中的名单）
    #[arg(long, value_delimiter = ',')]
    pub units: Vec<String>,
    /// 输出位置、日期、字体
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `gongwen scores`.
pub fn execute(a: &ScoresArgs, today: NaiveDate) -> Result<(), Failure> {
    let units: Vec<String> =
        a.units.iter().map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
    if units.is_empty() && !a.units.is_empty() {
        return Err(Failure::usage("--units 中没有单位名称"));
    }
    let settings = a.output.settings(today)?;
    report(pipeline::build_scores(
        &a.path,
        a.filled.as_deref(),
        &units,
        &a.output.out,
        &settings,
    ))
}
