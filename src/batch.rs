//! Batches: many cases built in parallel (one worker thread per core), each into
//! its own folder and each isolated, so that a case that fails, or a bug that
//! panics on one case, costs that case only.
//!
//! The workers are plain threads, not rayon tasks: Typst uses rayon's pool for
//! its own parallel work (PDF export), and a case built as a rayon task would,
//! while waiting there, steal and run other cases on the same stack — nesting
//! case upon case (measured: memory over 1 GiB at 150 cases, and the template
//! parser's stack guard tripping at 200).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::case::{self, CaseDir};
use crate::diag::{Diagnostic, Location};
use crate::pipeline::{self, Built, Settings};

/// What a case of a batch produced: the files, the pages, the time per stage and
/// the warnings.
pub type CaseResult = Result<Built, Vec<Diagnostic>>;

/// One case of a batch and the folder its files go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The case folder, as given.
    pub dir: PathBuf,
    /// Its output folder.
    pub out: PathBuf,
}

/// The outcome of one case of a batch.
pub struct BatchResult {
    /// The case folder, as given.
    pub dir: PathBuf,
    /// Its output folder.
    pub out: PathBuf,
    /// Files, pages, timings and warnings, or the problems.
    pub result: CaseResult,
}

/// The case folders below `root` (every folder holding a case.toml), sorted.
pub fn find_cases(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join(case::CASE_FILE).is_file() {
            out.push(d);
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                }
            }
        }
    }
    out.sort();
    out
}

/// Gives every case its own folder under `out`: its path below the folder that
/// all cases (and `root`, for `--all ROOT`) share, so `甲/某县` and `乙/某县` go
/// to `out/甲/某县` and `out/乙/某县` and never overwrite each other. A folder
/// given twice is built once.
pub fn plan(dirs: &[PathBuf], root: Option<&Path>, out: &Path) -> Vec<Job> {
    let mut seen = std::collections::HashSet::new();
    let cases: Vec<(PathBuf, PathBuf)> = dirs
        .iter()
        .map(|d| (d.clone(), full_path(d)))
        .filter(|(_, full)| seen.insert(full.clone()))
        .collect();
    let mut common: Option<PathBuf> = root.map(full_path);
    for (_, full) in &cases {
        common = Some(match common {
            None => full.clone(),
            Some(c) => c
                .components()
                .zip(full.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let common = common.unwrap_or_default();
    cases
        .into_iter()
        .map(|(dir, full)| {
            let below = full.strip_prefix(&common).unwrap_or(&full);
            // only names below the shared folder: never a root or `..` that would
            // lead out of `out`
            let rel: PathBuf = below
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .collect();
            Job { dir, out: out.join(rel) }
        })
        .collect()
}

/// A folder as an absolute path without `.`, `..` or symbolic links, so that two
/// spellings of one folder compare equal (lexically when it cannot be resolved).
fn full_path(dir: &Path) -> PathBuf {
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

/// Builds the cases of a batch in parallel; `progress` is called as each case
/// finishes (from the worker that built it). The results keep the order of `jobs`.
pub fn build_batch(
    jobs: &[Job],
    settings: &Settings,
    progress: &(dyn Fn(usize, &BatchResult) + Sync),
) -> Vec<BatchResult> {
    run_isolated(jobs, progress, |job| {
        pipeline::build_case(&CaseDir::Disk(job.dir.clone()), &job.out, settings)
    })
}

/// Runs `build` for every job on one worker thread per core, each behind
/// `catch_unwind`: a panic becomes an error of its case, and the other cases go
/// on. Results come back in the order of `jobs`.
fn run_isolated(
    jobs: &[Job],
    progress: &(dyn Fn(usize, &BatchResult) + Sync),
    build: impl Fn(&Job) -> CaseResult + Sync,
) -> Vec<BatchResult> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(usize, BatchResult)>> =
        std::sync::Mutex::new(Vec::with_capacity(jobs.len()));
    let workers = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .min(jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    // the settings and the font set are only read while building,
                    // so a panic cannot leave them half-changed for the others
                    let result = catch_unwind(AssertUnwindSafe(|| build(job)))
                        .unwrap_or_else(|panic| {
                            Err(vec![internal_error(&job.dir, panic.as_ref())])
                        });
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    // Typst remembers layouts for reuse; across different cases
                    // that only costs memory, so old entries go every few cases
                    if n.is_multiple_of(10) {
                        typst::comemo::evict(1);
                    }
                    let r = BatchResult {
                        dir: job.dir.clone(),
                        out: job.out.clone(),
                        result,
                    };
                    progress(n, &r);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, r));
                }
            });
        }
    });
    let mut results =
        results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The diagnostic of a case whose build panicked (a bug of ours, never the
/// user's data).
fn internal_error(dir: &Path, panic: &(dyn std::any::Any + Send)) -> Diagnostic {
    let reason = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "原因不明".into());
    Diagnostic::error(
        Location::File(case::display_path(dir)),
        format!("案卷处理时发生内部错误：{reason}"),
    )
    .with_hint("这是 gongwen 的缺陷，请连同此案卷报告；其余案卷照常生成")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_folder_names_in_different_parents_get_different_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for d in ["甲/某县", "乙/某县", "丙"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let dirs = vec![root.join("甲/某县"), root.join("乙/某县"), root.join("丙")];
        let outs: Vec<PathBuf> =
            plan(&dirs, None, Path::new("out")).into_iter().map(|j| j.out).collect();
        assert_eq!(
            outs,
            [PathBuf::from("out/甲/某县"), "out/乙/某县".into(), "out/丙".into()]
        );
        // below an --all root, the path below the root
        let jobs = plan(&dirs[..1], Some(root), Path::new("out"));
        assert_eq!(jobs[0].out, PathBuf::from("out/甲/某县"));
        // one folder given twice (two spellings) is built once
        let twice = [root.join("丙"), root.join("甲/../丙")];
        assert_eq!(plan(&twice, None, Path::new("o")).len(), 1);
    }

    #[test]
    fn a_panicking_case_is_reported_and_the_others_finish() {
        let jobs: Vec<Job> = ["好", "坏", "也好"]
            .iter()
            .map(|n| Job { dir: PathBuf::from(n), out: PathBuf::from("out").join(n) })
            .collect();
        let seen = AtomicUsize::new(0);
        let results = run_isolated(
            &jobs,
            &|_, _| {
                seen.fetch_add(1, Ordering::SeqCst);
            },
            |job| {
                assert!(job.dir != Path::new("坏"), "表格行数为负");
                Ok(Built {
                    files: vec![job.out.join("a.pdf")],
                    pages: 3,
                    timings: crate::pipeline::Timings::default(),
                    warnings: Vec::new(),
                })
            },
        );
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        let dirs: Vec<&Path> = results.iter().map(|r| r.dir.as_path()).collect();
        assert_eq!(dirs, [Path::new("好"), Path::new("坏"), Path::new("也好")]);
        assert!(results[0].result.is_ok() && results[2].result.is_ok());
        let Err(d) = &results[1].result else { panic!("the panic was lost") };
        assert_eq!(d[0].message, "案卷处理时发生内部错误：表格行数为负");
        assert_eq!(d[0].location, Location::File("坏".into()));
    }
}
