//! `gongwen build --watch`: rebuild whenever an input of the case changes.
//!
//! File events come from the system (inotify through the `notify` crate; a
//! poller when the system's notification cannot be had), a burst of them is
//! taken together once 200 ms pass quietly, and the files the build itself writes
//! are never taken for changed inputs, wherever `--out` points. Every line goes
//! to standard error, so one stream tells the whole story in order.

use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use super::Failure;
use crate::case::{self, CaseDir};
use crate::pipeline::{self, Settings};

/// How long the files must stay quiet before a rebuild: an editor's save is a
/// burst of events (truncate, write, rename, attributes).
const QUIET: Duration = Duration::from_millis(200);

/// What the watch loop hears.
enum Message {
    /// A file system event.
    Fs(notify::Result<notify::Event>),
    /// Ctrl-C.
    Stop,
}

/// Builds `dir`, then rebuilds whenever an input changes. Fonts and Typst's
/// caches stay loaded, so a changed cell shows in the PDF quickly; a half-saved
/// or invalid file prints its errors and keeps the last good output. Ctrl-C ends
/// the watch after the build under way (outputs are only ever replaced whole).
pub fn run(dir: &Path, out: &Path, settings: &Settings) -> Result<(), Failure> {
    let root = dir.canonicalize().map_err(|e| {
        Failure::problem(format!(
            "无法读取案卷文件夹 {}（{}）",
            dir.display(),
            case::io_reason(&e)
        ))
    })?;
    let mut watched = vec![root.clone()];
    if let Some(t) = &settings.templates {
        watched.push(t.canonicalize().map_err(|e| {
            Failure::problem(format!(
                "无法读取模板文件夹 {}（{}）",
                t.display(),
                case::io_reason(&e)
            ))
        })?);
    }
    let (tx, rx) = mpsc::channel();
    let stop = tx.clone();
    // without a handler Ctrl-C still ends the process, just less politely
    let _ = ctrlc::set_handler(move || {
        let _ = stop.send(Message::Stop);
    });
    // watching starts before the first build, so an edit made while it runs (or
    // right after it) is never missed
    let _watcher = start(&watched, &tx)?;
    let mut inputs = Inputs {
        watched,
        out: out.to_path_buf(),
        out_full: resolve(out),
        written: Vec::new(),
    };
    let case = CaseDir::Disk(dir.to_path_buf());
    inputs.build(&case, settings);
    errln!("正在监视 {}（按 Ctrl-C 退出）", dir.display());
    loop {
        let Some(changed) = next_change(&rx, &inputs) else {
            errln!("已停止监视");
            return Ok(());
        };
        let shown: Vec<String> = changed
            .iter()
            .map(|p| {
                let name = inputs.shown(p, dir);
                if p.exists() { name } else { format!("{name}（已删除）") }
            })
            .collect();
        errln!("有改动：{}", shown.join("、"));
        inputs.build(&case, settings);
    }
}

/// Starts watching the folders: the system's notification, else a poller.
fn start(paths: &[PathBuf], tx: &Sender<Message>) -> Result<Box<dyn Watcher>, Failure> {
    let handler = |tx: Sender<Message>| {
        move |event| {
            let _ = tx.send(Message::Fs(event));
        }
    };
    let native = notify::recommended_watcher(handler(tx.clone())).and_then(|mut w| {
        for p in paths {
            w.watch(p, RecursiveMode::Recursive)?;
        }
        Ok(w)
    });
    let error = match native {
        Ok(w) => return Ok(Box::new(w)),
        Err(e) => e,
    };
    // e.g. the system's limit of watched folders is reached
    errln!("警告：无法使用系统的文件通知（{}），改为每秒检查一次", notify_reason(&error));
    let config = notify::Config::default().with_poll_interval(Duration::from_secs(1));
    let mut w = notify::PollWatcher::new(handler(tx.clone()), config).map_err(|e| {
        Failure::problem(format!("无法监视案卷文件夹（{}）", notify_reason(&e)))
    })?;
    for p in paths {
        w.watch(p, RecursiveMode::Recursive).map_err(|e| {
            Failure::problem(format!("无法监视 {}（{}）", p.display(), notify_reason(&e)))
        })?;
    }
    Ok(Box::new(w))
}

/// Why watching failed, in Chinese (notify words its errors in English).
fn notify_reason(e: &notify::Error) -> String {
    use notify::ErrorKind as K;
    match &e.kind {
        K::Io(io) => case::io_reason(io),
        K::PathNotFound => "文件夹不存在".to_owned(),
        K::WatchNotFound => "没有在监视此文件夹".to_owned(),
        K::InvalidConfig(_) => "监视设置无效".to_owned(),
        K::MaxFilesWatch => "已达到系统可监视文件数的上限".to_owned(),
        K::Generic(_) => "系统的文件通知出错".to_owned(),
    }
}

/// Waits for a change of an input and the quiet after it; `None` on Ctrl-C.
fn next_change(rx: &Receiver<Message>, inputs: &Inputs) -> Option<Vec<PathBuf>> {
    let mut changed: Vec<PathBuf> = Vec::new();
    loop {
        let message = if changed.is_empty() {
            // the sender in the Ctrl-C handler lives as long as the process
            rx.recv().ok()?
        } else {
            match rx.recv_timeout(QUIET) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return Some(changed);
                }
            }
        };
        match message {
            Message::Stop => return None,
            Message::Fs(Err(e)) => errln!("警告：监视出错（{}）", notify_reason(&e)),
            // opening and reading a file (the build does) changes nothing
            Message::Fs(Ok(event)) if matches!(event.kind, EventKind::Access(_)) => {}
            Message::Fs(Ok(event)) => {
                for p in event.paths {
                    if inputs.is_input(&p) && !changed.contains(&p) {
                        changed.push(p);
                    }
                }
            }
        }
    }
}

/// What the watch reads and what it writes.
struct Inputs {
    /// The case folder and the templates folder, resolved.
    watched: Vec<PathBuf>,
    /// `--out`, as given.
    out: PathBuf,
    /// `--out`, resolved (again after each build: the first one may create it).
    out_full: PathBuf,
    /// The files the last good build wrote, resolved.
    written: Vec<PathBuf>,
}

impl Inputs {
    /// Builds the case (all lines to standard error) and remembers its files.
    fn build(&mut self, case: &CaseDir, settings: &Settings) {
        let start = std::time::Instant::now();
        match pipeline::build_case(case, &self.out, settings) {
            Ok(built) => {
                super::print_warnings(&built.warnings);
                for p in &built.files {
                    errln!("已写出 {}", p.display());
                }
                errln!(
                    "完成：{} 页，用时 {:.2} 秒",
                    built.pages,
                    start.elapsed().as_secs_f64()
                );
                self.written = built.files.iter().map(|p| resolve(p)).collect();
            }
            Err(diags) => super::print_diags(&diags),
        }
        self.out_full = resolve(&self.out);
    }

    /// Whether a changed path is an input of the build.
    fn is_input(&self, path: &Path) -> bool {
        let Some(base) = self.watched.iter().find(|w| path.starts_with(w)) else {
            return false;
        };
        let below = path.strip_prefix(base).unwrap_or(path);
        // our temporaries and records (.gongwen-*.tmp, .gongwen/), editors' swap
        // and backup files
        let hidden = below.components().any(|c| match c {
            Component::Normal(n) => {
                let n = n.to_string_lossy();
                n.starts_with('.') || n.ends_with('~')
            }
            _ => false,
        });
        if hidden || below.as_os_str().is_empty() {
            return false;
        }
        // a file the build wrote, or a folder it made for one
        if self.written.iter().any(|w| w.starts_with(path)) {
            return false;
        }
        // everything under the output folder, unless that folder holds the case
        // (`--out .`): then only the files written above are not inputs
        let out_holds_case = self.watched[0].starts_with(&self.out_full);
        out_holds_case || !path.starts_with(&self.out_full)
    }

    /// A changed path as the user would write it: below the case folder as given.
    fn shown(&self, path: &Path, dir: &Path) -> String {
        match path.strip_prefix(&self.watched[0]) {
            Ok(below) => case::display_path(&dir.join(below)),
            Err(_) => path.display().to_string(),
        }
    }
}

/// A path as events name it: absolute, each existing part resolved (links,
/// `..`), the rest as written (the output folder may not exist before the first
/// build).
fn resolve(path: &Path) -> PathBuf {
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for c in full.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                }
            }
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(case: &Path, out: &Path, written: &[&str]) -> Inputs {
        Inputs {
            watched: vec![case.canonicalize().unwrap()],
            out: out.to_path_buf(),
            out_full: resolve(out),
            written: written.iter().map(|w| resolve(&out.join(w))).collect(),
        }
    }

    #[test]
    fn outputs_temporaries_and_records_are_not_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let case = tmp.path().canonicalize().unwrap();
        // the output folder inside the case folder
        let i = inputs(&case, &case.join("out"), &["a.pdf"]);
        assert!(i.is_input(&case.join("指标.toml")));
        assert!(i.is_input(&case.join("子目录/表.xlsx")));
        assert!(!i.is_input(&case.join("out/a.pdf")));
        assert!(!i.is_input(&case.join("out/b.docx")));
        assert!(!i.is_input(&case.join(".gongwen-x.tmp")));
        assert!(!i.is_input(&case.join("out/.gongwen/a.指标.toml")));
        assert!(!i.is_input(&case.join("case.toml~")));
        assert!(!i.is_input(&case));
        // --out equal to the case folder: only what the build wrote is ignored,
        // so an edit still rebuilds and the build's own files do not loop
        let i = inputs(&case, &case, &["a.pdf", "a.typ.d/main.typ"]);
        assert!(i.is_input(&case.join("case.toml")));
        assert!(!i.is_input(&case.join("a.pdf")));
        assert!(!i.is_input(&case.join("a.typ.d")));
        assert!(!i.is_input(&case.join("a.typ.d/main.typ")));
        // a relative --out spelled through `..` resolves to the same folder
        let i = inputs(&case, &case.join("x/../out"), &[]);
        assert!(!i.is_input(&case.join("out/a.pdf")));
    }
}
