//! `gongwen build`: one case, the built-in example, a batch, or a watched case.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Args;

use super::{Failure, print_diags};
use super::{FormatArgs, OutputArgs, TemplateArgs};
use crate::batch::{self, BatchResult};
use crate::case::CaseDir;
use crate::pipeline::{self, Settings};

/// build 的选项
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// 案卷文件夹（含 case.toml）；不给时生成内置示例；给多个时并行生成
    pub dirs: Vec<PathBuf>,
    /// 生成此文件夹下的全部案卷（每个含 case.toml 的子文件夹），各输出到 --out 下与其相对路径相同的子文件夹
    #[arg(long, value_name = "ROOT")]
    pub all: Option<PathBuf>,
    /// 输出位置、日期、字体
    #[command(flatten)]
    pub output: OutputArgs,
    /// 输出格式
    #[command(flatten)]
    pub format: FormatArgs,
    /// 模板
    #[command(flatten)]
    pub templates: TemplateArgs,
    /// 在 PDF 旁写出生成的 Typst 源文件（<名称>.typ.d/）
    #[arg(long)]
    pub emit_typst: bool,
    /// 监视案卷文件夹，文件一改就重新生成（按 Ctrl-C 退出）
    #[arg(long, conflicts_with = "all")]
    pub watch: bool,
    /// 打印各阶段用时（供 gongwen bench 使用）
    #[arg(long, hide = true, conflicts_with_all = ["all", "watch"])]
    pub timings: bool,
}

/// Runs `gongwen build`.
pub fn execute(a: BuildArgs, today: NaiveDate) -> Result<(), Failure> {
    if a.watch && a.dirs.len() != 1 {
        return Err(Failure::usage("--watch 需要且只需要一个案卷文件夹"));
    }
    if a.timings && a.dirs.len() > 1 {
        return Err(Failure::usage("--timings 只用于一个案卷"));
    }
    let settings = Settings {
        templates: a.templates.templates.clone(),
        formats: a.format.formats(),
        emit_typst: a.emit_typst,
        ..a.output.settings(today)?
    };
    let out = &a.output.out;
    if let Some(root) = &a.all {
        let found = batch::find_cases(root);
        if found.is_empty() {
            return Err(Failure::usage(format!(
                "{} 下没有案卷（含 case.toml 的文件夹）",
                root.display()
            )));
        }
        let mut dirs = a.dirs.clone();
        dirs.extend(found);
        return build_many(&batch::plan(&dirs, Some(root), out), &settings);
    }
    if a.dirs.len() > 1 {
        return build_many(&batch::plan(&a.dirs, None, out), &settings);
    }
    let dir = a.dirs.first().map_or(CaseDir::Builtin, |d| CaseDir::Disk(d.clone()));
    if a.watch {
        return super::watch::run(&a.dirs[0], out, &settings);
    }
    if a.timings {
        let pipeline::Built { pages, timings: t, .. } =
            pipeline::build_case(&dir, out, &settings).map_err(Failure::Problems)?;
        outln!(
            "GONGWEN_TIMINGS {} {} {} {} {} {} {} {} {}",
            t.compose,
            t.layout,
            t.pdf,
            t.docx,
            t.write,
            pages,
            crate::bench::peak_memory_mib(),
            t.first_round,
            t.rounds
        );
        return Ok(());
    }
    if build_one(&dir, out, &settings) { Ok(()) } else { Err(Failure::Reported) }
}

/// Builds one case and reports; `false` when it failed.
pub fn build_one(dir: &CaseDir, out: &Path, settings: &Settings) -> bool {
    let start = std::time::Instant::now();
    match pipeline::build_case(dir, out, settings) {
        Ok(built) => {
            super::print_warnings(&built.warnings);
            for p in &built.files {
                outln!("已写出 {}", p.display());
            }
            outln!(
                "完成：{} 页，用时 {:.2} 秒",
                built.pages,
                start.elapsed().as_secs_f64()
            );
            true
        }
        Err(diags) => {
            print_diags(&diags);
            false
        }
    }
}

/// Builds a batch in parallel with a line per finished case (a bar on a
/// terminal), the problems of the failed cases, and a summary that always prints.
fn build_many(jobs: &[batch::Job], settings: &Settings) -> Result<(), Failure> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = jobs.len();
    let start = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let failures = AtomicUsize::new(0);
    let progress = |n: usize, r: &BatchResult| {
        if r.result.is_err() {
            failures.fetch_add(1, Ordering::SeqCst);
        }
        if tty {
            // one bar, redrawn in place
            let width = 30;
            let filled = n * width / total;
            let bad = failures.load(Ordering::SeqCst);
            super::write_stderr(format_args!(
                "\r[{}{}] {n}/{total}  失败 {bad}  {:.1} 秒{}",
                "█".repeat(filled),
                "░".repeat(width - filled),
                start.elapsed().as_secs_f64(),
                if n == total { "\n" } else { "" }
            ));
            return;
        }
        let name = r.dir.display();
        match &r.result {
            Ok(b) => {
                let warned = match b.warnings.len() {
                    0 => String::new(),
                    w => format!("，{w} 个警告"),
                };
                errln!(
                    "[{n}/{total}] {name}：{} 页，{:.2} 秒{warned}",
                    b.pages,
                    b.timings.total()
                );
            }
            Err(d) => {
                let errors = d.iter().filter(|d| d.is_error()).count();
                errln!("[{n}/{total}] {name}：{errors} 个错误");
            }
        }
    };
    let results = batch::build_batch(jobs, settings, &progress);
    let failed: Vec<&BatchResult> =
        results.iter().filter(|r| r.result.is_err()).collect();
    for r in &results {
        match &r.result {
            Err(d) => {
                errln!("\n{}：", r.dir.display());
                print_diags(d);
            }
            Ok(b) if !b.warnings.is_empty() => {
                errln!("\n{}：", r.dir.display());
                super::print_warnings(&b.warnings);
            }
            Ok(_) => {}
        }
    }
    let pages: usize =
        results.iter().filter_map(|r| r.result.as_ref().ok()).map(|b| b.pages).sum();
    outln!(
        "共 {total} 个案卷：成功 {}，失败 {}；{pages} 页，用时 {:.2} 秒",
        total - failed.len(),
        failed.len(),
        start.elapsed().as_secs_f64()
    );
    if failed.is_empty() { Ok(()) } else { Err(Failure::Reported) }
}
