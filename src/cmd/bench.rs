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
    /// 只测这些项目，逗号分隔
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "example,rows1000,batch"
    )]
    pub only: Vec<Workload>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// A workload of `gongwen bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// 内置示例
    Example,
    /// 1000 行附件
    Rows1000,
    /// 批量案卷
    Batch,
}

/// Runs `gongwen bench`.
pub fn execute(a: &BenchArgs) -> Result<(), Failure> {
    let t = std::time::Instant::now();
    let date = chrono::NaiveDate::from_ymd_opt(2023, 8, 31).expect("a valid date");
    let settings = super::settings(&a.fonts, date);
    let fonts_secs = t.elapsed().as_secs_f64();
    let tmp = tempfile::tempdir().map_err(|e| {
        Failure::problem(format!("无法创建临时文件夹（{}）", crate::case::io_reason(&e)))
    })?;
    let runs = usize::from(a.runs);
    let mut all = Vec::new();
    let rows_dir = tmp.path().join("rows1000");
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
            Workload::Rows1000 => {
                bench::write_case(&rows_dir, Some(1000), 0).map_err(|e| {
                    Failure::problem(format!(
                        "无法写出测试案卷（{}）",
                        crate::case::io_reason(&e)
                    ))
                })?;
                all.push(
                    bench::bench_cold(
                        "1000 行附件，冷启动进程",
                        Some(&rows_dir),
                        &tmp.path().join("b0"),
                        runs,
                    )
                    .map_err(Failure::Problems)?,
                );
                bench::bench_case(
                    "1000 行附件，进程内重复",
                    &CaseDir::Disk(rows_dir.clone()),
                    &tmp.path().join("b"),
                    &settings,
                    runs,
                )
                .map_err(Failure::Problems)?
            }
            Workload::Batch => bench::bench_batch(
                &tmp.path().join("batch"),
                usize::from(a.cases),
                &tmp.path().join("c"),
                &settings,
                runs.min(3),
            )
            .map_err(Failure::Problems)?,
        };
        all.push(f);
    }
    outln!(
        "字体加载 {fonts_secs:.2} 秒；{} 核",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    outln!(
        "| 项目 | 页数 | 中位数 | 最快 | 最慢 | 读取与措辞 | Typst 排版 | PDF 导出 | DOCX | 写文件 | 峰值内存 |"
    );
    outln!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for f in &all {
        let s = &f.stages;
        outln!(
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
    Ok(())
}
