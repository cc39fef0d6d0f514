//! `gongwen diff`: which indicators gained or lost which units between two
//! versions of an indicator table (or a case and its last build).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, OutputArgs, report};
use crate::case::CaseDir;
use crate::diag::{Diagnostic, Location};
use crate::pipeline;

/// diff 的选项
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// 调整前的指标表（工作簿或 指标.toml）；或一个案卷文件夹，与它上次生成时的指标比较
    pub old: PathBuf,
    /// 调整后的指标表；不给时 OLD 须为案卷文件夹
    pub new: Option<PathBuf>,
    /// 工作表名称
    #[arg(long)]
    pub sheet: Option<String>,
    /// 输出位置、日期、字体
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `gongwen diff`.
pub fn execute(a: &DiffArgs, today: NaiveDate) -> Result<(), Failure> {
    let settings = a.output.settings(today)?;
    let out = &a.output.out;
    // one folder: the case against what its last build printed
    let (old, new) = match &a.new {
        Some(new) => (a.old.clone(), new.clone()),
        None => {
            let case = crate::case::load_case(&CaseDir::Disk(a.old.clone()))
                .map_err(Failure::Problems)?;
            let recorded = pipeline::recorded_indicators(out, &case.name);
            if !recorded.is_file() {
                return Err(Failure::Problems(vec![
                    Diagnostic::error(
                        Location::None,
                        format!("{} 中没有上次生成的记录", out.display()),
                    )
                    .with_hint(format!(
                        "先运行 gongwen build {} --out {}",
                        a.old.display(),
                        out.display()
                    )),
                ]));
            }
            (recorded, a.old.clone())
        }
    };
    let (changes, written) =
        pipeline::build_diff(&old, &new, a.sheet.as_deref(), out, &settings)
            .map_err(Failure::Problems)?;
    for c in &changes {
        let mut parts = Vec::new();
        if !c.gained.is_empty() {
            parts.push(format!("增加 {}", c.gained.join("、")));
        }
        if !c.lost.is_empty() {
            parts.push(format!("减少 {}", c.lost.join("、")));
        }
        outln!("第 {} 项：{}", c.number, parts.join("；"));
    }
    outln!("共 {} 项指标的责任单位有调整", changes.len());
    report(Ok(written))
}
