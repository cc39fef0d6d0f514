//! `gongwen build --watch`: rebuild whenever an input of the case changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::Failure;
use super::build::build_one;
use crate::case::CaseDir;
use crate::pipeline::Settings;

/// Modification times and sizes of the files a build reads (the case folder,
/// templates).
fn snapshot(dirs: &[&Path], exclude: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    let exclude = exclude.canonicalize().unwrap_or_else(|_| exclude.to_path_buf());
    let mut out = BTreeMap::new();
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

/// Builds `dir`, then rebuilds whenever an input changes. Fonts and Typst's
/// caches stay loaded, so a changed cell shows in the PDF quickly; a half-saved
/// or invalid file prints its errors and keeps the last good output. Ctrl-C ends
/// the watch after the build under way (outputs are only ever replaced whole).
pub fn run(dir: &Path, out: &Path, settings: &Settings) -> Result<(), Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // without a handler Ctrl-C still ends the process, just less politely
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let watched: Vec<&Path> =
        std::iter::once(dir).chain(settings.templates.as_deref()).collect();
    // the baseline is taken before building, so an edit made while the first
    // build runs (or right after it) is never missed
    let mut last = snapshot(&watched, out);
    let case = CaseDir::Disk(dir.to_path_buf());
    build_one(&case, out, settings);
    outln!("正在监视 {}（按 Ctrl-C 退出）", dir.display());
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if stop.load(Ordering::SeqCst) {
            outln!("已停止监视");
            return Ok(());
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
        outln!("有改动：{}", changed.join("、"));
        last = now;
        build_one(&case, out, settings);
    }
}
