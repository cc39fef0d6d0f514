//! `gongwen units`: a task list per unit, and the summary of all units.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, OutputArgs, report};
use crate::case::CaseDir;
use crate::pipeline;

/// units 的选项
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.default_value("out/单位任务")))]
pub struct UnitsArgs {
    /// 案卷文件夹
    pub dir: PathBuf,
    /// 输出位置、日期、字体
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `gongwen units`.
pub fn execute(a: &UnitsArgs, today: NaiveDate) -> Result<(), Failure> {
    let settings = a.output.settings(today)?;
    report(pipeline::build_units(&CaseDir::Disk(a.dir.clone()), &a.output.out, &settings))
}
