//! `gongwen bench`: fixed workloads, warm-up, medians; the figures in
//! BENCHMARKS.md come from here.
//!
//! Workloads: (a) the built-in example, PDF and DOCX; (b) the example with a
//! 1,000-row indicator annex; (c) a batch of 200 case folders made from the
//! example with other units and dates.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::batch;
use crate::case::{CaseDir, EXAMPLE_FILES};
use crate::diag::{Diagnostic, Location};
use crate::pipeline::{self, Settings, Timings};

/// A problem of a benchmark run, without a location.
fn problem(message: impl Into<String>) -> Vec<Diagnostic> {
    vec![Diagnostic::error(Location::None, message)]
}

/// Peak resident memory of this process so far, in MiB (Linux; 0 elsewhere).
pub fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Writes the example case into `dir`, with `rows` indicators (the example's
/// rows repeated and renumbered) when given, and another county and date.
pub fn write_case(
    dir: &Path,
    rows: Option<usize>,
    variant: usize,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in EXAMPLE_FILES {
        let text = match *name {
            "case.toml" if variant > 0 => {
                let counties =
                    ["夏邑县", "永城市", "虞城县", "柘城县", "宁陵县", "睢县", "民权县"];
                let county = counties[variant % counties.len()];
                text.replace("\"县名\" = \"夏邑县\"", &format!("\"县名\" = \"{county}\""))
                    .replace("\"序号\" = 12", &format!("\"序号\" = {}", 12 + variant))
                    .replace("2023-08-31", &format!("2023-08-{:02}", 1 + variant % 28))
                    .replace(
                        "\"输出名\" = \"夏邑县创建示范县工作推进方案\"",
                        &format!(
                            "\"输出名\" = \"{county}创建示范县工作推进方案{variant}\""
                        ),
                    )
            }
            "指标.toml" => match rows {
                Some(n) => many_rows(text, n, variant),
                None if variant > 0 => many_rows(text, 100, variant),
                None => text.to_string(),
            },
            _ => text.to_string(),
        };
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The example's 100 main indicators repeated to `n` rows, renumbered, with the
/// units rotated by `variant`.
fn many_rows(example: &str, n: usize, variant: usize) -> String {
    let rows: Vec<&str> = example
        .split("[[\"指标\"]]")
        .skip(1)
        .filter(|r| !r.contains("\"类别\""))
        .collect();
    let units = ["县司法局", "县政府办公室", "县市场监督管理局", "各乡镇", "县财政局"];
    let mut out = String::new();
    for i in 0..n {
        let row = rows[i % rows.len()];
        let mut kept = String::new();
        for line in row.lines() {
            if line.starts_with("\"序号\"") {
                kept.push_str(&format!("\"序号\" = {}\n", i + 1));
            } else if line.starts_with("\"责任单位\"") && variant > 0 {
                kept.push_str(&format!(
                    "\"责任单位\" = \"{}\"\n",
                    units[(i + variant) % units.len()]
                ));
            } else {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        out.push_str("[[\"指标\"]]");
        out.push_str(&kept);
    }
    out
}

/// Figures of one workload.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Workload name.
    pub name: String,
    /// Wall times of the measured runs, seconds.
    pub walls: Vec<f64>,
    /// Median stage timings (one case; for the batch, summed over cases of the median run).
    pub stages: Timings,
    /// Pages produced per run.
    pub pages: usize,
    /// Peak memory after the workload, MiB.
    pub peak_mib: f64,
}

impl Figures {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.walls.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Median wall time.
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }

    /// Fastest run.
    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(0.0)
    }

    /// Slowest run.
    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(0.0)
    }
}

fn median_timings(mut runs: Vec<Timings>) -> Timings {
    runs.sort_by(|a, b| a.total().total_cmp(&b.total()));
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

/// Runs one single-case workload `runs` times after one warm-up.
pub fn bench_case(
    name: &str,
    dir: &CaseDir,
    out: &Path,
    settings: &Settings,
    runs: usize,
) -> Result<Figures, Vec<Diagnostic>> {
    let mut f = Figures { name: name.into(), ..Default::default() };
    let mut stages = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        let pipeline::Built { pages, timings, .. } =
            pipeline::build_case(dir, out, settings)?;
        if i > 0 {
            f.walls.push(t.elapsed().as_secs_f64());
            stages.push(timings);
        }
        f.pages = pages;
    }
    f.stages = median_timings(stages);
    f.peak_mib = peak_memory_mib();
    Ok(f)
}

/// Runs the batch workload (200 generated case folders built in parallel).
pub fn bench_batch(
    root: &Path,
    cases: usize,
    out: &Path,
    settings: &Settings,
    runs: usize,
) -> Result<Figures, Vec<Diagnostic>> {
    let dirs: Vec<PathBuf> =
        (0..cases).map(|i| root.join(format!("案卷{:03}", i + 1))).collect();
    for (i, d) in dirs.iter().enumerate() {
        write_case(d, None, i + 1).map_err(|e| {
            problem(format!(
                "无法写出测试案卷 {}（{}）",
                d.display(),
                crate::case::io_reason(&e)
            ))
        })?;
    }
    let jobs = batch::plan(&dirs, Some(root), out);
    let mut f =
        Figures { name: format!("批量 {cases} 个案卷"), ..Default::default() };
    for i in 0..=runs {
        let t = Instant::now();
        let results = batch::build_batch(&jobs, settings, &|_, _| {});
        let wall = t.elapsed().as_secs_f64();
        let mut pages = 0;
        let mut sum = Timings::default();
        for r in &results {
            let pipeline::Built { pages: p, timings: tm, .. } =
                r.result.as_ref().map_err(Clone::clone)?;
            pages += p;
            sum.compose += tm.compose;
            sum.layout += tm.layout;
            sum.pdf += tm.pdf;
            sum.docx += tm.docx;
            sum.write += tm.write;
        }
        if i > 0 || runs == 0 {
            f.walls.push(wall);
            f.stages = sum;
        }
        f.pages = pages;
    }
    f.peak_mib = peak_memory_mib();
    Ok(f)
}

/// Runs a single-case build in a fresh process `runs` times (one warm-up for the
/// file cache): the figures a user sees for one `gongwen build`.
pub fn bench_cold(
    name: &str,
    dir: Option<&Path>,
    out: &Path,
    runs: usize,
) -> Result<Figures, Vec<Diagnostic>> {
    let exe = std::env::current_exe().map_err(|e| {
        problem(format!("找不到 gongwen 程序（{}）", crate::case::io_reason(&e)))
    })?;
    let mut f = Figures { name: name.into(), ..Default::default() };
    let mut stages = Vec::new();
    let mut peak: f64 = 0.0;
    for i in 0..=runs {
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("build");
        if let Some(d) = dir {
            cmd.arg(d);
        }
        cmd.args(["--out"]).arg(out).args([
            "--ignore-system-fonts",
            "--date",
            "2023-08-31",
            "--timings",
        ]);
        let t = Instant::now();
        let o = cmd.output().map_err(|e| {
            problem(format!("无法运行 gongwen（{}）", crate::case::io_reason(&e)))
        })?;
        let wall = t.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&o.stdout);
        let line =
            text.lines().find(|l| l.starts_with("GONGWEN_TIMINGS")).ok_or_else(|| {
                problem(format!(
                    "冷启动测试失败（{}）",
                    String::from_utf8_lossy(&o.stderr).trim_end()
                ))
            })?;
        let v: Vec<f64> =
            line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
        if v.len() < 7 {
            return Err(problem(format!("无法读取计时：{line}")));
        }
        if i > 0 {
            f.walls.push(wall);
            stages.push(Timings {
                compose: v[0],
                layout: v[1],
                pdf: v[2],
                docx: v[3],
                write: v[4],
            });
        }
        f.pages = v[5] as usize;
        peak = peak.max(v[6]);
    }
    f.stages = median_timings(stages);
    f.peak_mib = peak;
    Ok(f)
}
