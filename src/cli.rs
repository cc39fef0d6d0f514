//! Command-line interface (clap derive; the doc comments are the help text).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::case::{CaseDir, EXAMPLE_FILES};
use crate::diag::Diagnostic;
use crate::doc::FontRole;
use crate::pipeline::{self, Formats, Settings};
use crate::render::typst::fonts::{FontOptions, FontSet};

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
    Build(BuildArgs),
    /// 只检查案卷数据，不写任何文件
    Check(CheckArgs),
    /// 把内置示例写成可编辑的案卷文件夹
    Init(InitArgs),
    /// 把一个指标工作簿（责任清单、任务分解）单独印成附件表格
    Table(TableArgs),
    /// 按单位印出各自的任务清单，并附各单位任务汇总表
    Units(UnitsArgs),
    /// 比较两版指标表的责任单位，印出责任调整对照表
    Diff(DiffArgs),
    /// 按单位统计已完成、未完成、逾期和 7 日内到期的任务，印出进度通报和督办通知
    Status(StatusArgs),
    /// 印出督察情况打分表和打分录入表；给出 --filled 时汇总得分、排名并印出督察情况通报
    Scores(ScoresArgs),
    /// 列出找到的字体，以及每种用途选用哪一种
    Fonts(FontArgs),
    /// 性能测试：内置示例、1000 行附件、200 个案卷批量（预热后取中位数）
    Bench(BenchArgs),
}

/// 字体选项
#[derive(Debug, Clone, Args)]
pub struct FontArgs {
    /// 额外的字体文件夹（可多次给出）
    #[arg(long = "font-path", env = "GONGWEN_FONT_PATHS", value_delimiter = ':')]
    pub font_paths: Vec<PathBuf>,
    /// 不使用系统字体（只用内置 Fandol 字体和 --font-path）
    #[arg(long)]
    pub ignore_system_fonts: bool,
}

/// build 的选项
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// 案卷文件夹（含 case.toml）；不给时生成内置示例；给多个时并行生成
    pub dirs: Vec<PathBuf>,
    /// 生成此文件夹下的全部案卷（每个含 case.toml 的子文件夹），输出到 --out 下同名子文件夹
    #[arg(long, value_name = "ROOT")]
    pub all: Option<PathBuf>,
    /// 输出文件夹
    #[arg(long, short, default_value = "out")]
    pub out: PathBuf,
    /// 输出格式，逗号分隔：pdf,docx
    #[arg(long, default_value = "pdf,docx", value_delimiter = ',')]
    pub format: Vec<String>,
    /// 文件元数据使用的日期（YYYY-MM-DD）；默认取 SOURCE_DATE_EPOCH，再默认今天
    #[arg(long)]
    pub date: Option<String>,
    /// 覆盖内置模板的文件夹（prose/*.tera、typst/gongwen.typ）
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// 在 PDF 旁写出生成的 Typst 源文件（<名称>.typ.d/）
    #[arg(long)]
    pub emit_typst: bool,
    /// 监视案卷文件夹，文件一改就重新生成（按 Ctrl-C 退出）
    #[arg(long)]
    pub watch: bool,
    /// 打印各阶段用时（供 gongwen bench 使用）
    #[arg(long, hide = true)]
    pub timings: bool,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// check 的选项
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// 案卷文件夹；不给时检查内置示例
    pub dir: Option<PathBuf>,
    /// 覆盖内置模板的文件夹
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// init 的选项
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 要创建的案卷文件夹
    pub dir: PathBuf,
    /// 从内置指标体系开始（全国2021 或 河南2023），责任单位留空待分配
    #[arg(long)]
    pub catalog: Option<String>,
}

/// bench 的选项
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// 每项测量的次数（另有一次预热）
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// 批量测试的案卷数
    #[arg(long, default_value_t = 200)]
    pub cases: usize,
    /// 只测这些项目，逗号分隔：example,rows1000,batch
    #[arg(long, value_delimiter = ',', default_value = "example,rows1000,batch")]
    pub only: Vec<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// units 的选项
#[derive(Debug, Args)]
pub struct UnitsArgs {
    /// 案卷文件夹
    pub dir: PathBuf,
    /// 输出文件夹
    #[arg(long, short, default_value = "out/单位任务")]
    pub out: PathBuf,
    /// 文件元数据使用的日期（YYYY-MM-DD）
    #[arg(long)]
    pub date: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

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
    /// 输出文件夹
    #[arg(long, short, default_value = "out")]
    pub out: PathBuf,
    /// 文件元数据使用的日期（YYYY-MM-DD）
    #[arg(long)]
    pub date: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// status 的选项
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// 案卷文件夹
    pub dir: PathBuf,
    /// 统计截止日期（YYYY-MM-DD）；默认今天
    #[arg(long)]
    pub as_of: Option<String>,
    /// 督办通知要求回复的期限（天）
    #[arg(long, default_value_t = 5)]
    pub reply_days: i64,
    /// 第一份督办通知的发文序号；默认为案卷发文字号的序号加一
    #[arg(long)]
    pub first_number: Option<i64>,
    /// 输出文件夹
    #[arg(long, short, default_value = "out/进度")]
    pub out: PathBuf,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

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
    /// 输出文件夹
    #[arg(long, short, default_value = "out")]
    pub out: PathBuf,
    /// 文件元数据使用的日期（YYYY-MM-DD）
    #[arg(long)]
    pub date: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

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
    /// 输出文件夹
    #[arg(long, short, default_value = "out")]
    pub out: PathBuf,
    /// 输出格式，逗号分隔：pdf,docx
    #[arg(long, default_value = "pdf,docx", value_delimiter = ',')]
    pub format: Vec<String>,
    /// 文件元数据使用的日期（YYYY-MM-DD）
    #[arg(long)]
    pub date: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

fn font_options(f: &FontArgs) -> FontOptions {
    FontOptions { paths: f.font_paths.clone(), ignore_system: f.ignore_system_fonts }
}

/// The run date: `--date`, else `SOURCE_DATE_EPOCH`, else today.
pub fn resolve_date(
    arg: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, String> {
    if let Some(s) = arg {
        return chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("无法识别 --date {s}（应写作 YYYY-MM-DD）"));
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = epoch
            .trim()
            .parse()
            .map_err(|_| format!("无法识别 SOURCE_DATE_EPOCH={epoch}"))?;
        return chrono::DateTime::from_timestamp(secs, 0)
            .map(|d| d.date_naive())
            .ok_or_else(|| format!("SOURCE_DATE_EPOCH={epoch} 超出范围"));
    }
    Ok(today)
}

fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprintln!("共 {errors} 个错误，未写出任何文件");
    }
}

/// Runs a command; `Ok(false)` means problems were reported (exit code 1).
pub fn dispatch(cli: Cli, today: chrono::NaiveDate) -> Result<bool, String> {
    match cli.command {
        Command::Build(a) => build(a, today),
        Command::Check(a) => check(a, today),
        Command::Init(a) => init(&a.dir, a.catalog.as_deref()),
        Command::Table(a) => table(a, today),
        Command::Units(a) => {
            let settings = plain_settings(&a.fonts, a.date.as_deref(), today)?;
            report(pipeline::build_units(
                &CaseDir::Disk(a.dir.clone()),
                &a.out,
                &settings,
            ))
        }
        Command::Scores(a) => {
            let settings = plain_settings(&a.fonts, a.date.as_deref(), today)?;
            report(pipeline::build_scores(
                &a.path,
                a.filled.as_deref(),
                &a.units,
                &a.out,
                &settings,
            ))
        }
        Command::Status(a) => status(a, today),
        Command::Diff(a) => {
            let settings = plain_settings(&a.fonts, a.date.as_deref(), today)?;
            // one folder: the case against what its last build printed
            let (old, new) = match &a.new {
                Some(new) => (a.old.clone(), new.clone()),
                None => {
                    let case = match crate::case::load_case(&CaseDir::Disk(a.old.clone()))
                    {
                        Ok(c) => c,
                        Err(d) => {
                            print_diags(&d);
                            return Ok(false);
                        }
                    };
                    let recorded = pipeline::recorded_indicators(&a.out, &case.name);
                    if !recorded.is_file() {
                        return Err(format!(
                            "{} 中没有上次生成的记录（先运行 gongwen build {} --out {}）",
                            a.out.display(),
                            a.old.display(),
                            a.out.display()
                        ));
                    }
                    (recorded, a.old.clone())
                }
            };
            match pipeline::build_diff(&old, &new, a.sheet.as_deref(), &a.out, &settings)
            {
                Ok((changes, written)) => {
                    for c in &changes {
                        let mut parts = Vec::new();
                        if !c.gained.is_empty() {
                            parts.push(format!("增加 {}", c.gained.join("、")));
                        }
                        if !c.lost.is_empty() {
                            parts.push(format!("减少 {}", c.lost.join("、")));
                        }
                        println!("第 {} 项：{}", c.number, parts.join("；"));
                    }
                    println!("共 {} 项指标的责任单位有调整", changes.len());
                    report(Ok(written))
                }
                Err(d) => report(Err(d)),
            }
        }
        Command::Bench(a) => bench(a, today),
        Command::Fonts(a) => {
            fonts(&a);
            Ok(true)
        }
    }
}

fn formats(list: &[String]) -> Result<Formats, String> {
    let mut f = Formats { pdf: false, docx: false };
    for x in list {
        match x.trim().to_lowercase().as_str() {
            "pdf" => f.pdf = true,
            "docx" => f.docx = true,
            other => return Err(format!("未知的输出格式 {other}（可用：pdf、docx）")),
        }
    }
    Ok(f)
}

fn build(a: BuildArgs, today: chrono::NaiveDate) -> Result<bool, String> {
    let settings = Settings {
        fonts: FontSet::load(&font_options(&a.fonts)),
        library: crate::render::typst::world::library(),
        templates: a.templates.clone(),
        date: resolve_date(a.date.as_deref(), today)?,
        formats: formats(&a.format)?,
        emit_typst: a.emit_typst,
    };
    let mut batch = a.dirs.clone();
    if let Some(root) = &a.all {
        let found = crate::batch::find_cases(root);
        if found.is_empty() {
            return Err(format!(
                "{} 下没有案卷（含 case.toml 的文件夹）",
                root.display()
            ));
        }
        batch.extend(found);
        if !a.watch {
            let jobs = crate::batch::plan(&batch, Some(root), &a.out);
            return Ok(build_many(&jobs, &settings));
        }
    }
    if batch.len() > 1 && !a.watch {
        return Ok(build_many(&crate::batch::plan(&batch, None, &a.out), &settings));
    }
    let dirs: Vec<CaseDir> = if batch.is_empty() {
        vec![CaseDir::Builtin]
    } else {
        batch.iter().map(|d| CaseDir::Disk(d.clone())).collect()
    };
    if a.watch {
        let [CaseDir::Disk(dir)] = dirs.as_slice() else {
            return Err("--watch 需要且只需要一个案卷文件夹".into());
        };
        watch(dir, &a.out, &settings, a.templates.as_deref());
    }
    if a.timings {
        let [dir] = dirs.as_slice() else {
            return Err("--timings 只用于一个案卷".into());
        };
        let (_, pages, t) =
            pipeline::build_case(dir, &a.out, &settings).map_err(|d| {
                d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
            })?;
        println!(
            "GONGWEN_TIMINGS {} {} {} {} {} {} {}",
            t.compose,
            t.layout,
            t.pdf,
            t.docx,
            t.write,
            pages,
            crate::bench::peak_memory_mib()
        );
        return Ok(true);
    }
    let mut ok = true;
    for dir in dirs {
        ok &= build_one(&dir, &a.out, &settings);
    }
    Ok(ok)
}

/// Builds many cases in parallel with a line per finished case and a summary.
fn build_many(jobs: &[crate::batch::Job], settings: &Settings) -> bool {
    use std::io::IsTerminal;
    let total = jobs.len();
    let start = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let progress = |n: usize, r: &crate::batch::BatchResult| {
        if r.result.is_err() {
            failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if tty {
            // one bar, redrawn in place
            let width = 30;
            let filled = n * width / total;
            let bad = failures.load(std::sync::atomic::Ordering::SeqCst);
            eprint!(
                "\r[{}{}] {n}/{total}  失败 {bad}  {:.1} 秒",
                "█".repeat(filled),
                "░".repeat(width - filled),
                start.elapsed().as_secs_f64()
            );
            if n == total {
                eprintln!();
            }
            return;
        }
        let name = r.dir.display();
        match &r.result {
            Ok((_, pages, t)) => {
                eprintln!("[{n}/{total}] {name}：{pages} 页，{:.2} 秒", t.total())
            }
            Err(d) => {
                let errors = d.iter().filter(|d| d.is_error()).count();
                eprintln!("[{n}/{total}] {name}：{errors} 个错误");
            }
        }
    };
    let results = crate::batch::build_batch(jobs, settings, &progress);
    let failed: Vec<&crate::batch::BatchResult> =
        results.iter().filter(|r| r.result.is_err()).collect();
    for r in &failed {
        eprintln!("\n{}：", r.dir.display());
        if let Err(d) = &r.result {
            print_diags(d);
        }
    }
    let pages: usize =
        results.iter().filter_map(|r| r.result.as_ref().ok()).map(|(_, p, _)| p).sum();
    println!(
        "共 {total} 个案卷：成功 {}，失败 {}；{pages} 页，用时 {:.2} 秒",
        total - failed.len(),
        failed.len(),
        start.elapsed().as_secs_f64()
    );
    failed.is_empty()
}

/// Modification times of the files a build reads (the case folder, templates).
fn snapshot(
    dirs: &[&Path],
    exclude: &Path,
) -> std::collections::BTreeMap<PathBuf, (std::time::SystemTime, u64)> {
    let exclude = exclude.canonicalize().unwrap_or_else(|_| exclude.to_path_buf());
    let mut out = std::collections::BTreeMap::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            // our own temporaries and hidden files are not inputs
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            // the output folder may sit inside the case folder
            if p.canonicalize().is_ok_and(|c| c.starts_with(&exclude)) {
                continue;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) => {
                    out.insert(
                        p,
                        (m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len()),
                    );
                }
                Err(_) => {}
            }
        }
    }
    out
}

/// Rebuilds whenever an input changes. Fonts and Typst's caches stay loaded, so a
/// changed cell shows in the PDF quickly; a half-saved or invalid file prints its
/// errors and keeps the last good output. Ctrl-C ends the watch after the build
/// under way (outputs are only ever replaced whole).
fn watch(dir: &Path, out: &Path, settings: &Settings, templates: Option<&Path>) -> ! {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    // without a handler Ctrl-C still ends the process, just less politely
    let _ =
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    let watched: Vec<&Path> = std::iter::once(dir).chain(templates).collect();
    // the baseline is taken before building, so an edit made while the first
    // build runs (or right after it) is never missed
    let mut last = snapshot(&watched, out);
    build_one(&CaseDir::Disk(dir.to_path_buf()), out, settings);
    println!("正在监视 {}（按 Ctrl-C 退出）", dir.display());
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            println!("已停止监视");
            std::process::exit(0);
        }
        let now = snapshot(&watched, out);
        if now == last {
            continue;
        }
        let changed: Vec<String> = now
            .iter()
            .filter(|(p, t)| last.get(*p) != Some(t))
            .map(|(p, _)| p.display().to_string())
            .chain(
                last.keys()
                    .filter(|p| !now.contains_key(*p))
                    .map(|p| format!("{}（已删除）", p.display())),
            )
            .collect();
        println!("有改动：{}", changed.join("、"));
        last = now;
        build_one(&CaseDir::Disk(dir.to_path_buf()), out, settings);
    }
}

/// Builds one case and reports; `false` when it failed (other cases still run).
pub fn build_one(dir: &CaseDir, out: &Path, settings: &Settings) -> bool {
    let start = std::time::Instant::now();
    match pipeline::build_case(dir, out, settings) {
        Ok((written, pages, _)) => {
            for p in &written {
                println!("已写出 {}", p.display());
            }
            println!("完成：{} 页，用时 {:.2} 秒", pages, start.elapsed().as_secs_f64());
            true
        }
        Err(diags) => {
            print_diags(&diags);
            false
        }
    }
}

fn check(a: CheckArgs, today: chrono::NaiveDate) -> Result<bool, String> {
    let settings = Settings {
        fonts: FontSet::load(&font_options(&a.fonts)),
        library: crate::render::typst::world::library(),
        templates: a.templates,
        date: today,
        formats: Formats { pdf: false, docx: false },
        emit_typst: false,
    };
    let dir = a.dir.map_or(CaseDir::Builtin, CaseDir::Disk);
    match pipeline::compose_dir(&dir, &settings) {
        Ok(c) => {
            println!("检查通过：{}（{} 个段落）", c.name, c.doc.paragraphs().len());
            Ok(true)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("共 {} 个错误", diags.iter().filter(|d| d.is_error()).count());
            Ok(false)
        }
    }
}

fn init(dir: &Path, catalog: Option<&str>) -> Result<bool, String> {
    if dir.join(crate::case::CASE_FILE).exists() {
        return Err(format!("{} 中已有 case.toml，不覆盖", dir.display()));
    }
    let catalog = match catalog {
        None => None,
        Some(name) => Some(
            crate::case::CATALOGS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                let names: Vec<&str> =
                    crate::case::CATALOGS.iter().map(|(n, _)| *n).collect();
                format!("没有名为 {name} 的指标体系（可用：{}）", names.join("、"))
            })?,
        ),
    };
    for (name, text) in EXAMPLE_FILES {
        let text = match (catalog, *name) {
            (Some((_, cat)), "指标.toml") => cat.to_string(),
            (Some((cat_name, _)), "case.toml") if cat_name.starts_with("全国") => text
                .replace("\"类型\" = \"责任清单\"", "\"类型\" = \"任务分解\"")
                .replace("填报材料责任清单", "任务分解表"),
            _ => text.to_string(),
        };
        crate::output::write_atomic(&dir.join(name), text.as_bytes())
            .map_err(|e| format!("无法写入 {}（{e}）", dir.join(name).display()))?;
    }
    println!(
        "已在 {} 写出示例案卷；编辑 case.toml{} 后运行 gongwen build {}",
        dir.display(),
        if catalog.is_some() { " 并在 指标.toml 中填写责任单位" } else { "" },
        dir.display()
    );
    Ok(true)
}

fn status(a: StatusArgs, today: chrono::NaiveDate) -> Result<bool, String> {
    use std::io::IsTerminal;
    let as_of = match a.as_of.as_deref() {
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("无法识别 --as-of {s}（应写作 YYYY-MM-DD）"))?,
        None => today,
    };
    let settings =
        plain_settings(&a.fonts, Some(&as_of.format("%Y-%m-%d").to_string()), today)?;
    let report = match pipeline::build_status(
        &CaseDir::Disk(a.dir.clone()),
        as_of,
        a.reply_days,
        a.first_number,
        &a.out,
        &settings,
    ) {
        Ok(r) => r,
        Err(d) => {
            print_diags(&d);
            return Ok(false);
        }
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint =
        |code: &str, s: String| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s };
    println!("截至 {}（{} 个单位）", crate::deadline::cn_date(as_of), report.units.len());
    let width =
        report.units.iter().map(|u| display_width(&u.unit)).max().unwrap_or(4).max(4);
    println!("{}  已完成  未完成  逾期  7日内到期", pad("单位", width));
    for u in &report.units {
        let overdue = format!("{:>4}", u.overdue.len());
        let soon = format!("{:>9}", u.due_soon.len());
        println!(
            "{}  {:>6}  {:>6}  {}  {}",
            pad(&u.unit, width),
            u.done,
            u.open,
            if u.overdue.is_empty() { overdue } else { paint("1;31", overdue) },
            if u.due_soon.is_empty() { soon } else { paint("33", soon) },
        );
        for (n, d) in &u.overdue {
            println!("    {}", paint("31", format!("第 {n} 项逾期 {d} 天")));
        }
    }
    for p in &report.written {
        println!("已写出 {}", p.display());
    }
    Ok(true)
}

/// Terminal columns a text takes (CJK characters take two).
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

fn bench(a: BenchArgs, today: chrono::NaiveDate) -> Result<bool, String> {
    let t = std::time::Instant::now();
    let settings = plain_settings(&a.fonts, Some("2023-08-31"), today)?;
    let fonts_secs = t.elapsed().as_secs_f64();
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    let rows_dir = tmp.path().join("rows1000");
    for w in &a.only {
        let f = match w.as_str() {
            "example" => {
                all.push(crate::bench::bench_cold(
                    "内置示例，冷启动进程",
                    None,
                    &tmp.path().join("a0"),
                    a.runs,
                )?);
                crate::bench::bench_case(
                    "内置示例，进程内重复",
                    &CaseDir::Builtin,
                    &tmp.path().join("a"),
                    &settings,
                    a.runs,
                )?
            }
            "rows1000" => {
                crate::bench::write_case(&rows_dir, Some(1000), 0)
                    .map_err(|e| e.to_string())?;
                all.push(crate::bench::bench_cold(
                    "1000 行附件，冷启动进程",
                    Some(&rows_dir),
                    &tmp.path().join("b0"),
                    a.runs,
                )?);
                crate::bench::bench_case(
                    "1000 行附件，进程内重复",
                    &CaseDir::Disk(rows_dir.clone()),
                    &tmp.path().join("b"),
                    &settings,
                    a.runs,
                )?
            }
            "batch" => crate::bench::bench_batch(
                &tmp.path().join("batch"),
                a.cases,
                &tmp.path().join("c"),
                &settings,
                a.runs.min(3),
            )?,
            other => {
                return Err(format!(
                    "未知的测试项目 {other}（可用：example、rows1000、batch）"
                ));
            }
        };
        all.push(f);
    }
    println!(
        "字体加载 {fonts_secs:.2} 秒；{} 核",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| 项目 | 页数 | 中位数 | 最快 | 最慢 | 读取与措辞 | Typst 排版 | PDF 导出 | DOCX | 写文件 | 峰值内存 |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for f in &all {
        let s = &f.stages;
        println!(
            "| {} | {} | {:.3} 秒 | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} MiB |",
            f.name,
            f.pages,
            f.median(),
            f.min(),
            f.max(),
            s.compose,
            s.layout,
            s.pdf,
            s.docx,
            s.write,
            f.peak_mib
        );
    }
    Ok(true)
}

/// Settings of a command that writes stand-alone documents (PDF and DOCX).
fn plain_settings(
    fonts: &FontArgs,
    date: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<Settings, String> {
    Ok(Settings {
        fonts: FontSet::load(&font_options(fonts)),
        library: crate::render::typst::world::library(),
        templates: None,
        date: resolve_date(date, today)?,
        formats: Formats { pdf: true, docx: true },
        emit_typst: false,
    })
}

/// Prints the files written, or the problems.
fn report(result: Result<Vec<PathBuf>, Vec<Diagnostic>>) -> Result<bool, String> {
    match result {
        Ok(written) => {
            for p in &written {
                println!("已写出 {}", p.display());
            }
            Ok(true)
        }
        Err(diags) => {
            print_diags(&diags);
            Ok(false)
        }
    }
}

fn table(a: TableArgs, today: chrono::NaiveDate) -> Result<bool, String> {
    let settings = Settings {
        fonts: FontSet::load(&font_options(&a.fonts)),
        library: crate::render::typst::world::library(),
        templates: None,
        date: resolve_date(a.date.as_deref(), today)?,
        formats: formats(&a.format)?,
        emit_typst: false,
    };
    match pipeline::build_table(
        &a.workbook,
        a.sheet.as_deref(),
        a.title.as_deref(),
        &a.out,
        &settings,
    ) {
        Ok(written) => {
            for p in &written {
                println!("已写出 {}", p.display());
            }
            Ok(true)
        }
        Err(diags) => {
            print_diags(&diags);
            Ok(false)
        }
    }
}

fn fonts(a: &FontArgs) {
    let set: Arc<FontSet> = FontSet::load(&font_options(a));
    println!("各用途选用的字体：");
    for role in FontRole::ALL {
        let f = set.face(role);
        let kind = if f.official { "正式字体" } else { "免费替代字体" };
        let weight = if f.bold { "（粗）" } else { "" };
        println!(
            "  {}：{}{}（{}；DOCX 中写作 {}）",
            role.label(),
            f.family,
            weight,
            kind,
            role.official_name()
        );
    }
    println!("找到的字体族：");
    for (family, origin) in set.families() {
        println!("  {family}  —  {origin}");
    }
}
