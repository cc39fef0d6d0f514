//! `gongwen bench`: fixed workloads, warm-up, medians (see BENCHMARKS.md; the
//! workloads themselves are in `crate::bench`).

use clap::{Args, ValueEnum};

use super::{Failure, FontArgs};
use crate::bench;
use crate::case::CaseDir;

/// bench 的选项
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// 每项测量的次数（另有一次预热）
    #[arg(long, default_value_t = 5, value_parser = super::usage::number_in::<u16>(1..=1000))]
    pub runs: u16,
    /// 批量测试的案卷数
    #[arg(long, default_value_t = 200, value_parser = super::usage::number_in::<u16>(1..=10_000))]
    pub cases: u16,
    /// 网页服务测试中同时生成的用户数
    #[arg(long, default_value_t = 20, value_parser = super::usage::number_in::<u16>(1..=1000))]
    pub users: u16,
    /// 网页服务测试中测内存所用的生成次数（每次生成一份不同的文档）
    #[arg(long, default_value_t = 200, value_parser = super::usage::number_in::<u16>(1..=10_000))]
    pub builds: u16,
    /// 只测这些项目，逗号分隔
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "example,rows1000,unmerged1000,merged1000,rows5000,merged5000,batch"
    )]
    pub only: Vec<Workload>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
    /// 只编译这个文件夹里 `build --emit-typst` 写出的 Typst 源文件（供对照，内部使用）
    #[arg(long, hide = true, value_name = "DIR")]
    pub typst_only: Option<std::path::PathBuf>,
}

/// A workload of `gongwen bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// 内置示例
    Example,
    /// 1000 行附件
    Rows1000,
    /// 5000 行附件
    Rows5000,
    /// 1000 行任务分解，列与合并单元格的相同而不合并（对照）
    Unmerged1000,
    /// 1000 行任务分解（一级、二级指标合并单元格）
    Merged1000,
    /// 5000 行任务分解（一级、二级指标合并单元格）
    Merged5000,
    /// 批量案卷
    Batch,
    /// 网页服务（gongwen serve）：预览刷新、多人同时生成、内存
    Serve,
}

/// Runs `gongwen bench`.
pub fn execute(a: &BenchArgs) -> Result<(), Failure> {
    let t = std::time::Instant::now();
    let date = chrono::NaiveDate::from_ymd_opt(2023, 8, 31).expect("a valid date");
    let settings = super::settings(&a.fonts, date);
    let fonts_secs = t.elapsed().as_secs_f64();
    if let Some(dir) = &a.typst_only {
        let pages = bench::bare_compile(dir, &settings).map_err(Failure::Problems)?;
        outln!("GONGWEN_BARE {pages} {}", bench::peak_memory_mib());
        return Ok(());
    }
    let tmp = tempfile::tempdir().map_err(|e| {
        Failure::problem(format!("无法创建临时文件夹（{}）", crate::case::io_reason(&e)))
    })?;
    let runs = usize::from(a.runs);
    let mut all = Vec::new();
    // the row workloads' fresh-process builds and bare compiles, all measured
    // first, in turn, round by round
    let rows: Vec<Workload> =
        a.only.iter().copied().filter(|w| row_workload(*w).is_some()).collect();
    let mut cold = Vec::new();
    for w in &rows {
        let (n, annex) = row_workload(*w).expect("a row workload");
        let name = format!("{n} 行{}", annex.name());
        let dir = tmp.path().join(&name);
        bench::write_rows_case(&dir, n, annex).map_err(|e| {
            Failure::problem(format!(
                "无法写出测试案卷（{}）",
                crate::case::io_reason(&e)
            ))
        })?;
        // the same emitted source compiled bare, for comparison
        let typ = bench::emit_typst(&dir, &tmp.path().join(format!("{name}-typ")))
            .map_err(Failure::Problems)?;
        cold.push(bench::ColdWorkload {
            build: bench::Figures {
                name: format!("{name}，冷启动进程"),
                ..Default::default()
            },
            bare: bench::Figures {
                name: format!("{name}，单独编译其 Typst 源文件（冷启动进程，仅 PDF）"),
                ..Default::default()
            },
            out: tmp.path().join(format!("{name}-cold")),
            dir,
            typ,
        });
    }
    bench::bench_cold_rounds(&mut cold, runs).map_err(Failure::Problems)?;
    let mut serve = None;
    for w in &a.only {
        let f = match w {
            Workload::Example => {
                all.push(
                    bench::bench_cold(
                        "内置示例，冷启动进程",
                        None,
                        &tmp.path().join("a0"),
                        runs,
                    )
                    .map_err(Failure::Problems)?,
                );
                bench::bench_case(
                    "内置示例，进程内重复",
                    &CaseDir::Builtin,
                    &tmp.path().join("a"),
                    &settings,
                    runs,
                )
                .map_err(Failure::Problems)?
            }
            Workload::Rows1000
            | Workload::Rows5000
            | Workload::Unmerged1000
            | Workload::Merged1000
            | Workload::Merged5000 => {
                let k = rows.iter().position(|r| r == w).expect("measured above");
                let c = &cold[k];
                all.push(c.build.clone());
                all.push(c.bare.clone());
                let name = c.build.name.trim_end_matches("，冷启动进程").to_string();
                bench::bench_case(
                    &format!("{name}，进程内重复"),
                    &CaseDir::Disk(c.dir.clone()),
                    &tmp.path().join(format!("{name}-warm")),
                    &settings,
                    runs,
                )
                .map_err(Failure::Problems)?
            }
            Workload::Serve => {
                serve = Some(
                    bench::bench_serve(
                        &tmp.path().join("serve"),
                        runs,
                        usize::from(a.users),
                        usize::from(a.builds),
                    )
                    .map_err(Failure::Problems)?,
                );
                continue;
            }
            // after other workloads, in a process of its own: memory this
            // process's allocator keeps from them would count as the batch's peak
            Workload::Batch if a.only.len() > 1 => {
                let mut fonts: Vec<std::ffi::OsString> = Vec::new();
                if a.fonts.ignore_system_fonts {
                    fonts.push("--ignore-system-fonts".into());
                }
                for p in &a.fonts.font_paths {
                    fonts.extend(["--font-path".into(), p.clone().into_os_string()]);
                }
                bench::bench_batch_apart(usize::from(a.cases), runs.min(3), &fonts)
                    .map_err(Failure::Problems)?
            }
            Workload::Batch => {
                let f = bench::bench_batch(
                    &tmp.path().join("batch"),
                    usize::from(a.cases),
                    &tmp.path().join("c"),
                    &settings,
                    runs.min(3),
                )
                .map_err(Failure::Problems)?;
                outln!("{}", f.batch_marker());
                f
            }
        };
        all.push(f);
    }
    outln!(
        "字体加载 {fonts_secs:.2} 秒；{} 核",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    if !all.is_empty() {
        outln!(
            "| 项目 | 页数 | 中位数 | 最快 | 最慢 | 读取与措辞 | Typst 排版 | 其中第一轮（轮数） | PDF 导出 | DOCX | 写文件 | 峰值内存 |"
        );
        outln!(
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
    }
    for f in &all {
        let s = &f.stages;
        if s.rounds == 0 {
            // a bare Typst compile: no stages of ours
            outln!(
                "| {} | {} | {:.3} 秒 | {:.3} | {:.3} | | | | | | | {:.0} MiB |",
                f.name,
                f.pages,
                f.median(),
                f.min(),
                f.max(),
                f.peak_mib
            );
            continue;
        }
        outln!(
            "| {} | {} | {:.3} 秒 | {:.3} | {:.3} | {:.3} | {:.3} | {:.3}（{}） | {:.3} | {:.3} | {:.3} | {:.0} MiB |",
            f.name,
            f.pages,
            f.median(),
            f.min(),
            f.max(),
            s.compose,
            s.layout,
            s.first_round,
            s.rounds,
            s.pdf,
            s.docx,
            s.write,
            f.peak_mib
        );
    }
    let walls: Vec<(Workload, &[f64], &[f64])> = rows
        .iter()
        .zip(&cold)
        .map(|(w, c)| (*w, c.build.walls.as_slice(), c.bare.walls.as_slice()))
        .collect();
    comparisons(&walls);
    if let Some(s) = serve {
        let mut r = s.refresh.clone();
        r.sort_by(f64::total_cmp);
        let at = |i: usize| r.get(i).copied().unwrap_or(0.0) * 1000.0;
        outln!("");
        outln!("| 网页服务（gongwen serve，另一进程，经 HTTP） | 结果 |");
        outln!("| --- | ---: |");
        let most_drawn = s.drawn.iter().copied().max().unwrap_or(0);
        outln!(
            "| 改一栏后刷新预览（保存表单 + 排版预览，预热后 {} 次） | 中位数 {:.0} 毫秒，最快 {:.0}，最慢 {:.0}；每次重画至多 {} 页（共 {} 页） |",
            r.len(),
            at(r.len() / 2),
            at(0),
            at(r.len().saturating_sub(1)),
            most_drawn,
            s.preview_pages
        );
        outln!(
            "| {} 人同时生成内置示例（PDF + DOCX） | 成功 {}，中位数 {:.2} 秒，p95 {:.2} 秒，最慢 {:.2} 秒，全部完成 {:.2} 秒 |",
            s.users,
            s.succeeded,
            s.wait_percentile(50.0),
            s.wait_percentile(95.0),
            s.waits.last().copied().unwrap_or(0.0),
            s.wall
        );
        outln!(
            "| 服务进程内存（VmRSS；之后每次生成一份不同的文档） | 多人同时生成后 {:.0} MiB；再生成 {} 次后 {:.0} MiB，{} 次后 {:.0} MiB（{:+.1}%） |",
            s.rss_start,
            20.min(s.builds),
            s.rss_early,
            s.builds.max(20.min(s.builds)),
            s.rss_late,
            (s.rss_late / s.rss_early.max(1.0) - 1.0) * 100.0
        );
        if s.succeeded < s.users {
            return Err(Failure::problem(format!(
                "{} 个用户中只有 {} 个生成成功",
                s.users, s.succeeded
            )));
        }
    }
    Ok(())
}

/// The rows and annex of a workload of many rows.
fn row_workload(w: Workload) -> Option<(usize, bench::Annex)> {
    match w {
        Workload::Rows1000 => Some((1000, bench::Annex::Plain)),
        Workload::Rows5000 => Some((5000, bench::Annex::Plain)),
        Workload::Unmerged1000 => Some((1000, bench::Annex::Unmerged)),
        Workload::Merged1000 => Some((1000, bench::Annex::Merged)),
        Workload::Merged5000 => Some((5000, bench::Annex::Merged)),
        _ => None,
    }
}

/// The ratios the speed targets are stated in (BENCHMARKS.md), each the median
/// of the round-by-round ratios of this run's fresh-process wall times
/// (`walls`: per row workload, the builds' and the bare compiles'): a build
/// against the bare Typst compile of its own source, merged against unmerged
/// and plain, 5000 rows against 1000.
fn comparisons(walls: &[(Workload, &[f64], &[f64])]) {
    let of = |w: Workload| walls.iter().find(|c| c.0 == w).map(|c| (c.1, c.2));
    let mut lines = Vec::new();
    for (w, name) in [
        (Workload::Rows1000, "1000 行附件"),
        (Workload::Unmerged1000, "1000 行任务分解不合并"),
        (Workload::Merged1000, "1000 行合并单元格"),
        (Workload::Rows5000, "5000 行附件"),
        (Workload::Merged5000, "5000 行合并单元格"),
    ] {
        if let Some((build, bare)) = of(w) {
            let target = if w == Workload::Rows1000 { "≤ 1.1" } else { "" };
            lines.push(format!(
                "| {name}：生成（PDF + DOCX）÷ 单独编译其 Typst 源文件（仅 PDF） | {:.2} | {target} |",
                bench::pairwise_ratio(build, bare)
            ));
        }
    }
    let pairs = [
        (
            Workload::Merged1000,
            Workload::Unmerged1000,
            "1000 行合并单元格 ÷ 同样六列不合并",
            "≤ 1.3",
        ),
        (Workload::Merged1000, Workload::Rows1000, "1000 行合并单元格 ÷ 1000 行附件", ""),
        (Workload::Rows5000, Workload::Rows1000, "5000 行附件 ÷ 1000 行附件", "≤ 5.5"),
        (
            Workload::Merged5000,
            Workload::Merged1000,
            "5000 行合并单元格 ÷ 1000 行合并单元格",
            "",
        ),
    ];
    for (a, b, name, target) in pairs {
        if let (Some((x, _)), Some((y, _))) = (of(a), of(b)) {
            lines.push(format!(
                "| {name} | {:.2} | {target} |",
                bench::pairwise_ratio(x, y)
            ));
        }
    }
    if !lines.is_empty() {
        outln!("");
        outln!("| 冷启动进程的比值（本次测量：各轮之比的中位数） | 比值 | 目标 |");
        outln!("| --- | ---: | :--- |");
        for l in lines {
            outln!("{l}");
        }
    }
}
