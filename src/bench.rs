//! `gongwen bench`: fixed workloads, warm-up, medians; the figures in
//! BENCHMARKS.md come from here.
//!
//! Workloads: (a) the built-in example, PDF and DOCX; (b) the example with a
//! 1,000- or 5,000-row indicator annex, plain or as a 任务分解 table with merged
//! 一级/二级 cells; (c) a batch of 200 case folders made from the example with
//! other units and dates.

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

/// Starts a new in-process workload: drops what Typst cached for the last one
/// and restarts the peak-memory count at the present size (Linux: writing 5
/// to `/proc/self/clear_refs` resets VmHWM), so a workload's peak is its own
/// and not that of a larger one measured before it in the same process.
fn fresh_workload() {
    typst::comemo::evict(0);
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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

/// The annex of a rows workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annex {
    /// The example's 责任清单 (序号, 三级指标, 填报材料, 责任单位).
    Plain,
    /// A 任务分解 table whose 一级指标 cells merge over 12 rows and 二级指标
    /// cells over 3 (as a real 任务分解 annex does).
    Merged,
    /// The same 任务分解 columns with labels of the same length, different in
    /// every two neighbouring rows: nothing merges. Set against [`Annex::Merged`]
    /// it tells the cost of merging from the cost of more columns.
    Unmerged,
}

impl Annex {
    /// The workload's name in the figures.
    pub fn name(self) -> &'static str {
        match self {
            Annex::Plain => "附件",
            Annex::Merged => "合并单元格",
            Annex::Unmerged => "任务分解不合并",
        }
    }
}

/// Writes the example case with `rows` indicators and an `annex` of that kind
/// into `dir`.
pub fn write_rows_case(dir: &Path, rows: usize, annex: Annex) -> std::io::Result<()> {
    write_case(dir, Some(rows), 0)?;
    if annex == Annex::Plain {
        return Ok(());
    }
    let case = dir.join("case.toml");
    let text = std::fs::read_to_string(&case)?;
    std::fs::write(
        &case,
        text.replace("\"类型\" = \"责任清单\"", "\"类型\" = \"任务分解\""),
    )?;
    let data = dir.join("指标.toml");
    let text = std::fs::read_to_string(&data)?;
    let mut out = String::with_capacity(text.len() + rows * 80);
    let mut i = 0;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("[[\"指标\"]]") {
            // (一级 number, 二级 number within it, 二级 group)
            let (one, two, group) = match annex {
                Annex::Merged => (i / 12 + 1, i / 3 % 4 + 1, i / 3 + 1),
                _ => (i % 2 + 1, i % 4 + 1, i % 2 + 1),
            };
            out.push_str(&format!(
                "\"一级指标\" = \"{one}、第{one}组一级指标\"\n\"二级指标\" = \"{two}.第{group}组二级指标。\"\n",
            ));
            i += 1;
        }
    }
    std::fs::write(&data, out)
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
        median_of(self.walls.clone())
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
    fresh_workload();
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
    fresh_workload();
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
            sum.first_round += tm.first_round;
            sum.rounds += tm.rounds;
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

/// The marker a batch run alone (`bench --only batch`) prints for a parent
/// that runs it apart ([`bench_batch_apart`]).
const BATCH_MARKER: &str = "GONGWEN_BATCH";

impl Figures {
    /// The batch's figures as the line [`bench_batch_apart`] reads back:
    /// median, fastest, slowest, pages, peak, then the stages.
    pub fn batch_marker(&self) -> String {
        let s = &self.stages;
        format!(
            "{BATCH_MARKER} {} {} {} {} {} {} {} {} {} {} {} {}",
            self.median(),
            self.min(),
            self.max(),
            self.pages,
            self.peak_mib,
            s.compose,
            s.layout,
            s.first_round,
            s.rounds,
            s.pdf,
            s.docx,
            s.write
        )
    }
}

/// The batch workload of `cases` cases in a process of its own (`bench --only
/// batch`, with the font options `fonts`), read back from its
/// [`Figures::batch_marker`] line: measured after other workloads in one
/// process, the memory the allocator keeps from them would count as its peak.
pub fn bench_batch_apart(
    cases: usize,
    runs: usize,
    fonts: &[std::ffi::OsString],
) -> Result<Figures, Vec<Diagnostic>> {
    let mut cmd = std::process::Command::new(current_exe()?);
    cmd.args(["bench", "--only", "batch", "--runs"])
        .arg(runs.to_string())
        .arg("--cases")
        .arg(cases.to_string())
        .args(fonts);
    let (_, v) = timed_run(&mut cmd, BATCH_MARKER, 12, "批量测试")?;
    Ok(Figures {
        name: format!("批量 {cases} 个案卷（单独一个进程）"),
        // median, fastest and slowest: the three figures a table row shows
        walls: vec![v[1], v[0], v[2]],
        pages: v[3] as usize,
        peak_mib: v[4],
        stages: Timings {
            compose: v[5],
            layout: v[6],
            first_round: v[7],
            rounds: v[8] as usize,
            pdf: v[9],
            docx: v[10],
            write: v[11],
        },
    })
}

/// This program, to run again in a fresh process.
fn current_exe() -> Result<std::path::PathBuf, Vec<Diagnostic>> {
    std::env::current_exe().map_err(|e| {
        problem(format!("找不到 gongwen 程序（{}）", crate::case::io_reason(&e)))
    })
}

/// Runs `cmd`, timing it, and reads the numbers of the stdout line that starts
/// with `marker` (at least `fields` of them); `what` names the run in errors.
fn timed_run(
    cmd: &mut std::process::Command,
    marker: &str,
    fields: usize,
    what: &str,
) -> Result<(f64, Vec<f64>), Vec<Diagnostic>> {
    let t = Instant::now();
    let o = cmd.output().map_err(|e| {
        problem(format!("无法运行 gongwen（{}）", crate::case::io_reason(&e)))
    })?;
    let wall = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().find(|l| l.starts_with(marker)).ok_or_else(|| {
        problem(format!(
            "{what}失败（{}）",
            String::from_utf8_lossy(&o.stderr).trim_end()
        ))
    })?;
    let v: Vec<f64> =
        line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    if v.len() < fields {
        return Err(problem(format!("无法读取计时：{line}")));
    }
    Ok((wall, v))
}

/// Runs a single-case build in a fresh process `runs` times (one warm-up for the
/// file cache): the figures a user sees for one `gongwen build`.
pub fn bench_cold(
    name: &str,
    dir: Option<&Path>,
    out: &Path,
    runs: usize,
) -> Result<Figures, Vec<Diagnostic>> {
    let exe = current_exe()?;
    let mut f = Figures { name: name.into(), ..Default::default() };
    let mut stages = Vec::new();
    for i in 0..=runs {
        cold_once(&exe, dir, out, &mut f, &mut stages, i > 0)?;
    }
    f.stages = median_timings(stages);
    Ok(f)
}

/// One `gongwen build` in a fresh process, added to `f` (and its stages to
/// `stages`) when `counted` (not the warm-up).
fn cold_once(
    exe: &Path,
    dir: Option<&Path>,
    out: &Path,
    f: &mut Figures,
    stages: &mut Vec<Timings>,
    counted: bool,
) -> Result<(), Vec<Diagnostic>> {
    let mut cmd = std::process::Command::new(exe);
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
    let (wall, v) = timed_run(&mut cmd, "GONGWEN_TIMINGS", 9, "冷启动测试")?;
    if counted {
        f.walls.push(wall);
        stages.push(Timings {
            compose: v[0],
            layout: v[1],
            pdf: v[2],
            docx: v[3],
            write: v[4],
            first_round: v[7],
            rounds: v[8] as usize,
        });
    }
    f.pages = v[5] as usize;
    f.peak_mib = f.peak_mib.max(v[6]);
    Ok(())
}

/// One bare Typst compile of `typ_dir` in a fresh process (`gongwen bench
/// --typst-only DIR`), added to `f` when `counted`.
fn bare_once(
    exe: &Path,
    typ_dir: &Path,
    f: &mut Figures,
    counted: bool,
) -> Result<(), Vec<Diagnostic>> {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["bench", "--ignore-system-fonts", "--typst-only"]).arg(typ_dir);
    let (wall, v) = timed_run(&mut cmd, "GONGWEN_BARE", 2, "单独编译 Typst 源文件")?;
    if counted {
        f.walls.push(wall);
    }
    f.pages = v[0] as usize;
    f.peak_mib = f.peak_mib.max(v[1]);
    Ok(())
}

/// A workload of the cold-process rounds: its case folder, where its builds
/// write, and the folder of its emitted Typst sources.
pub struct ColdWorkload {
    /// The build's figures.
    pub build: Figures,
    /// The bare Typst compile's figures.
    pub bare: Figures,
    /// The case folder.
    pub dir: PathBuf,
    /// Where the builds write.
    pub out: PathBuf,
    /// The emitted Typst sources.
    pub typ: PathBuf,
}

/// Runs, round by round (one warm-up round), a fresh-process build and a bare
/// Typst compile of its emitted source for every workload in turn. This
/// machine's speed drifts by 20–30 % within a minute; in turn, the drift
/// falls on every workload of a round alike, and the ratios the targets are
/// stated in are taken round by round ([`pairwise_ratio`]).
pub fn bench_cold_rounds(
    workloads: &mut [ColdWorkload],
    runs: usize,
) -> Result<(), Vec<Diagnostic>> {
    let exe = current_exe()?;
    let mut stages: Vec<Vec<Timings>> = vec![Vec::new(); workloads.len()];
    for i in 0..=runs {
        for (w, st) in workloads.iter_mut().zip(&mut stages) {
            cold_once(&exe, Some(&w.dir), &w.out, &mut w.build, st, i > 0)?;
            bare_once(&exe, &w.typ, &mut w.bare, i > 0)?;
        }
    }
    for (w, st) in workloads.iter_mut().zip(stages) {
        w.build.stages = median_timings(st);
    }
    Ok(())
}

/// The median of the round-by-round ratios of two series of wall times
/// measured in the same rounds.
pub fn pairwise_ratio(a: &[f64], b: &[f64]) -> f64 {
    median_of(a.iter().zip(b).map(|(x, y)| x / y).collect())
}

/// The middle value (of an even count, the upper middle one); 0 for none.
fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The bare Typst compile of a build's emitted sources (`build --emit-typst`:
/// `main.typ` and `gongwen.typ` in `dir`): one compile, the PDF export and its
/// file (`dir/main.pdf`, as `typst compile` writes it), no layout rounds, no
/// DOCX. Returns the pages.
pub fn bare_compile(dir: &Path, settings: &Settings) -> Result<usize, Vec<Diagnostic>> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| {
            problem(format!(
                "无法读取 {}（{}）",
                dir.join(name).display(),
                crate::case::io_reason(&e)
            ))
        })
    };
    let (main, style) = (read("main.typ")?, read("gongwen.typ")?);
    let mut engine = crate::render::typst::TypstEngine::new(
        settings.library.clone(),
        settings.fonts.clone(),
        &style,
        std::sync::Arc::new(std::collections::BTreeMap::new()),
        settings.date,
    )?;
    let pages = engine.compile_source(&main)?;
    let pdf = engine.export_pdf("bare", settings.date).map_err(|d| vec![d])?;
    std::fs::write(dir.join("main.pdf"), pdf).map_err(|e| {
        problem(format!(
            "无法写入 {}（{}）",
            dir.join("main.pdf").display(),
            crate::case::io_reason(&e)
        ))
    })?;
    Ok(pages)
}

/// Writes the Typst sources of a build of `dir` (PDF only) into `out` and
/// returns the folder that holds them.
pub fn emit_typst(dir: &Path, out: &Path) -> Result<PathBuf, Vec<Diagnostic>> {
    let exe = current_exe()?;
    let o = std::process::Command::new(&exe)
        .arg("build")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args([
            "--ignore-system-fonts",
            "--date",
            "2023-08-31",
            "--emit-typst",
            "--format",
            "pdf",
        ])
        .output()
        .map_err(|e| {
            problem(format!("无法运行 gongwen（{}）", crate::case::io_reason(&e)))
        })?;
    if !o.status.success() {
        return Err(problem(format!(
            "无法写出 Typst 源文件（{}）",
            String::from_utf8_lossy(&o.stderr).trim()
        )));
    }
    std::fs::read_dir(out)
        .ok()
        .and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "d"))
        })
        .ok_or_else(|| problem("找不到写出的 Typst 源文件"))
}

/// What `gongwen bench --only serve` measured against a running server.
#[derive(Debug, Clone, Default)]
pub struct ServeFigures {
    /// One field changed in the form, then the preview, warm: seconds per run.
    pub refresh: Vec<f64>,
    /// Pages drawn again in each of those previews (the others unchanged).
    pub drawn: Vec<usize>,
    /// Pages in each of those previews.
    pub preview_pages: usize,
    /// Simultaneous users, each building the example (PDF and DOCX).
    pub users: usize,
    /// Their builds that succeeded.
    pub succeeded: usize,
    /// Each user's wait, seconds, sorted.
    pub waits: Vec<f64>,
    /// Wall time until the last user was served.
    pub wall: f64,
    /// Server memory (VmRSS, MiB) when the simultaneous users were served.
    pub rss_start: f64,
    /// After the first 20 builds of different documents.
    pub rss_early: f64,
    /// After all builds.
    pub rss_late: f64,
    /// Builds of different documents for the memory figure.
    pub builds: usize,
}

impl ServeFigures {
    /// The `p`-th percentile of the users' waits (nearest rank).
    pub fn wait_percentile(&self, p: f64) -> f64 {
        if self.waits.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.waits.len() as f64).ceil() as usize;
        self.waits[rank.clamp(1, self.waits.len()) - 1]
    }
}

/// One HTTP/1.1 request on a fresh connection: the status and the body.
fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(300)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split =
        raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("服务器的回答不完整")?;
    let status = String::from_utf8_lossy(&raw[..split])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, raw[split + 4..].to_vec()))
}

/// Resident memory of a process, MiB (Linux; 0 elsewhere).
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The server of `bench_serve`, stopped when dropped.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Drives a `gongwen serve` process over HTTP the way the page does: (1) one
/// form field changed then the preview, `runs` times after a warm-up; (2)
/// `users` users at once, each with its own workspace of the example,
/// downloading PDF and DOCX; (3) the server's memory after 20 builds and after
/// `builds`.
pub fn bench_serve(
    data: &Path,
    runs: usize,
    users: usize,
    builds: usize,
) -> Result<ServeFigures, Vec<Diagnostic>> {
    let exe = current_exe()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| {
            problem(format!("找不到空闲端口（{}）", crate::case::io_reason(&e)))
        })?
        .port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let child = std::process::Command::new(&exe)
        .args(["serve", "--listen", &addr.to_string(), "--ignore-system-fonts", "--data"])
        .arg(data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            problem(format!("无法启动 gongwen serve（{}）", crate::case::io_reason(&e)))
        })?;
    let server = ServerProcess(child);
    let t = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        if t.elapsed().as_secs() > 30 {
            return Err(problem("gongwen serve 30 秒内没有开始监听"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let call =
        |method: &str, path: &str, body: &str| -> Result<Vec<u8>, Vec<Diagnostic>> {
            let (status, body) =
                http(addr, method, path, "application/json", body.as_bytes())
                    .map_err(|e| problem(format!("请求 {path} 失败（{e}）")))?;
            if status != 200 {
                return Err(problem(format!(
                    "请求 {path} 返回 {status}：{}",
                    String::from_utf8_lossy(&body)
                )));
            }
            Ok(body)
        };
    let create = || -> Result<String, Vec<Diagnostic>> {
        let body = call("POST", "/api/workspaces", "{\"from\":\"example\"}")?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| problem(format!("无法读取回答（{e}）")))?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    };
    let mut f = ServeFigures { users, builds, ..Default::default() };

    // (1) the preview after one field, warm
    // (as the page does: it names the pages it shows, and gets only the
    // changed ones drawn)
    let id = create()?;
    let mut have = serde_json::Value::Array(Vec::new());
    for i in 0..=runs {
        let fields = serde_json::json!({"fields": {"通知.标题": format!("关于印发《夏邑县工作推进方案（第{i}稿）》的通知")}});
        let t = Instant::now();
        call("PUT", &format!("/api/workspaces/{id}/form"), &fields.to_string())?;
        let body = call(
            "POST",
            &format!("/api/workspaces/{id}/preview"),
            &serde_json::json!({ "have": have }).to_string(),
        )?;
        let elapsed = t.elapsed().as_secs_f64();
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| problem(format!("无法读取预览（{e}）")))?;
        let svg = answer["svg"].as_array().map_or(&[][..], Vec::as_slice);
        if svg.is_empty() {
            return Err(problem("预览没有页"));
        }
        if i > 0 {
            f.refresh.push(elapsed);
            f.drawn.push(svg.iter().filter(|s| s.is_string()).count());
            f.preview_pages = svg.len();
        }
        have = answer["keys"].clone();
    }

    // (2) simultaneous users
    let ids: Vec<String> = (0..users).map(|_| create()).collect::<Result<_, _>>()?;
    let t = Instant::now();
    let waits: Vec<Result<f64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| {
                scope.spawn(move || {
                    let t = Instant::now();
                    let path = format!("/api/workspaces/{id}/download?format=zip");
                    match http(addr, "GET", &path, "application/json", b"") {
                        Ok((200, body)) if body.starts_with(b"PK") => {
                            Ok(t.elapsed().as_secs_f64())
                        }
                        Ok((status, body)) => Err(format!(
                            "{status} {}",
                            String::from_utf8_lossy(&body)
                                .chars()
                                .take(200)
                                .collect::<String>()
                        )),
                        Err(e) => Err(e),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("客户端线程出错".into())))
            .collect()
    });
    f.wall = t.elapsed().as_secs_f64();
    f.succeeded = waits.iter().filter(|w| w.is_ok()).count();
    f.waits = waits.into_iter().filter_map(Result::ok).collect();
    f.waits.sort_by(f64::total_cmp);

    // (3) memory over many builds, each of a different document (every user
    // edits its title between builds): after the first 20 of them (the
    // server warm, its caches filled) and after all, the same work each
    let pid = server.0.id();
    f.rss_start = rss_mib(pid);
    let early = 20.min(builds);
    for n in 0..builds.max(early) {
        let id = &ids[n % ids.len()];
        let fields = serde_json::json!({"fields": {"通知.标题": format!("关于印发《夏邑县工作推进方案（第{n}版）》的通知")}});
        call("PUT", &format!("/api/workspaces/{id}/form"), &fields.to_string())?;
        call("GET", &format!("/api/workspaces/{id}/download?format=zip"), "")?;
        if n + 1 == early {
            f.rss_early = rss_mib(pid);
        }
    }
    f.rss_late = rss_mib(pid);
    drop(server);
    Ok(f)
}
