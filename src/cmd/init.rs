//! `gongwen init`: the built-in example (or a built-in indicator catalogue) as an
//! editable case folder. It never overwrites a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Failure;
use crate::case::{self, CATALOGS, EXAMPLE_FILES};
use crate::diag::{Diagnostic, Location};

/// init 的选项
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 要创建的案卷文件夹
    pub dir: PathBuf,
    /// 从内置指标体系开始（全国2021 或 河南2023），责任单位留空待分配
    #[arg(long)]
    pub catalog: Option<String>,
}

/// Runs `gongwen init`.
pub fn execute(a: &InitArgs) -> Result<(), Failure> {
    let dir = &a.dir;
    let catalog = match a.catalog.as_deref() {
        None => None,
        Some(name) => {
            Some(CATALOGS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                let names: Vec<&str> = CATALOGS.iter().map(|(n, _)| *n).collect();
                Failure::usage(format!(
                    "没有名为 {name} 的指标体系（可用：{}）",
                    names.join("、")
                ))
            })?)
        }
    };
    let existing: Vec<&str> = EXAMPLE_FILES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        return Err(Failure::Problems(vec![
            Diagnostic::error(
                Location::File(case::display_path(dir)),
                format!("文件夹中已有 {}，不覆盖任何文件", existing.join("、")),
            )
            .with_hint("换一个文件夹，或先移走这些文件"),
        ]));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::Problems(vec![Diagnostic::error(
            Location::File(case::display_path(dir)),
            format!("无法创建文件夹（{}）", case::io_reason(&e)),
        )])
    })?;
    for (name, text) in example_files(catalog) {
        let path = dir.join(name);
        create_new(&path, text.as_bytes()).map_err(|e| {
            Failure::Problems(vec![Diagnostic::error(
                Location::File(case::display_path(&path)),
                format!("无法写入文件（{}）", case::io_reason(&e)),
            )])
        })?;
    }
    outln!(
        "已在 {} 写出示例案卷；编辑 case.toml{} 后运行 gongwen build {}",
        dir.display(),
        if catalog.is_some() { " 并在 指标.toml 中填写责任单位" } else { "" },
        dir.display()
    );
    Ok(())
}

/// The files of a new case folder: the built-in example, or the example with a
/// built-in catalogue (name, 指标.toml) as its indicators.
pub fn example_files(catalog: Option<&(&str, &str)>) -> Vec<(&'static str, String)> {
    EXAMPLE_FILES
        .iter()
        .map(|(name, text)| {
            let text = match (catalog, *name) {
                (Some((_, cat)), "指标.toml") => (*cat).to_string(),
                (Some((cat_name, _)), "case.toml") if cat_name.starts_with("全国") => {
                    text.replace("\"类型\" = \"责任清单\"", "\"类型\" = \"任务分解\"")
                        .replace("填报材料责任清单", "任务分解表")
                }
                _ => (*text).to_string(),
            };
            (*name, text)
        })
        .collect()
}

/// Writes a whole new file under a temporary name and links it into place only
/// if no file of that name has appeared meanwhile.
fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir =
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::Builder::new().prefix(".gongwen-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}
