//! `gongwen check`: load and check a case, write nothing (as `cargo check`).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;

use super::Failure;
use super::{FontArgs, TemplateArgs};
use crate::case::CaseDir;
use crate::pipeline::{self, Formats, Settings};

/// check 的选项
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// 案卷文件夹；不给时检查内置示例
    pub dir: Option<PathBuf>,
    /// 模板
    #[command(flatten)]
    pub templates: TemplateArgs,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// Runs `gongwen check`.
pub fn execute(a: CheckArgs, today: NaiveDate) -> Result<(), Failure> {
    let settings = Settings {
        templates: a.templates.templates,
        formats: Formats { pdf: false, docx: false },
        ..super::settings(&a.fonts, today)
    };
    let dir = a.dir.map_or(CaseDir::Builtin, CaseDir::Disk);
    match pipeline::compose_dir(&dir, &settings) {
        Ok(c) => {
            super::print_warnings(&c.warnings);
            let warned = match c.warnings.len() {
                0 => String::new(),
                n => format!("，{n} 个警告"),
            };
            outln!("检查通过：{}（{} 个段落{warned}）", c.name, c.doc.paragraphs().len());
            Ok(())
        }
        Err(diags) => {
            for d in &diags {
                errln!("{}", d.render(&super::source_of));
            }
            errln!("共 {} 个错误", diags.iter().filter(|d| d.is_error()).count());
            Err(Failure::Reported)
        }
    }
}
