//! Crash-safe output: every file of a run is first written in full under a
//! temporary name in its folder, and only when all of them are written are they
//! renamed into place, so a failed or killed build leaves the previous files and
//! never a new PDF beside an old DOCX (but for the instant of the renames).
//!
//! Temporaries are named after the process that writes them
//! (`.gongwen-<pid>-<n>.tmp`), so two builds into the same folder never remove each
//! other's; a later run removes only those whose process has gone.
//! Files get the permissions of a newly created file (0666 less the umask), as any
//! program's output would.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The prefix of our temporaries.
const PREFIX: &str = ".gongwen-";
/// The suffix of our temporaries.
const SUFFIX: &str = ".tmp";

/// Files being written together: staged as temporaries, then renamed at once.
#[derive(Debug, Default)]
pub struct Outputs {
    /// (temporary, final path) pairs, in the order they were added.
    staged: Vec<(PathBuf, PathBuf)>,
}

/// A failure while committing: what had already been renamed into place.
#[derive(Debug)]
pub struct CommitError {
    /// The file that could not be put in place.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
    /// Files already in place when it failed.
    pub written: Vec<PathBuf>,
}

impl Outputs {
    /// No files yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `bytes` under a temporary name beside `path` (creating the folder).
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if self.staged.iter().any(|(_, p)| p == path) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                crate::case::IoReason("同一次生成中两个输出文件同名".to_owned()),
            ));
        }
        let dir = folder_of(path);
        std::fs::create_dir_all(dir)?;
        let (tmp, mut file) = create_temporary(dir)?;
        // registered before writing, so a failed write is cleaned up on drop
        self.staged.push((tmp, path.to_path_buf()));
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(())
    }

    /// The final paths of the staged files.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.staged.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Renames every staged file into place; returns the files written.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, CommitError> {
        let staged = std::mem::take(&mut self.staged);
        let mut written = Vec::new();
        let mut rest = staged.into_iter();
        for (tmp, path) in rest.by_ref() {
            if let Err(error) = std::fs::rename(&tmp, &path) {
                let _ = std::fs::remove_file(&tmp);
                for (t, _) in rest {
                    let _ = std::fs::remove_file(t);
                }
                return Err(CommitError { path, error, written });
            }
            written.push(path);
        }
        Ok(written)
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        // not committed: nothing of this run appears
        for (tmp, _) in &self.staged {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Creates a new temporary file of this process in `dir`.
fn create_temporary(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{PREFIX}{pid}-{n}{SUFFIX}"));
        // create_new: never reuse a name; the mode is 0666 less the umask
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes one file atomically (a set of one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut out = Outputs::new();
    out.add(path, bytes)?;
    out.commit().map(|_| ()).map_err(|e| e.error)
}

/// Removes temporaries that a killed earlier run left in `dir`: only ours, and
/// only those whose process is no longer running.
pub fn clean_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_suffix(SUFFIX))
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        // temporaries of the old naming (no pid) are stale by definition
        let alive = pid.parse::<u32>().is_ok_and(process_alive);
        if !alive && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Whether a process is running (on Linux from /proc; elsewhere assumed so, which
/// only leaves a stale temporary in place).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pdf");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_set_lands_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pdf");
        let b = dir.path().join("a.docx");
        {
            let mut out = Outputs::new();
            out.add(&a, b"pdf").unwrap();
            out.add(&b, b"docx").unwrap();
            // dropped without commit: nothing appears
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut out = Outputs::new();
        out.add(&a, b"pdf").unwrap();
        out.add(&b, b"docx").unwrap();
        assert_eq!(out.commit().unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(std::fs::read(&b).unwrap(), b"docx");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn the_same_name_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.pdf");
        let mut out = Outputs::new();
        out.add(&a, b"1").unwrap();
        assert!(out.add(&a, b"2").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn files_get_the_usual_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pdf");
        write_atomic(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        // 0666 less whatever umask the test runs under: at least owner read/write,
        // and never the 0600 of a private temporary file unless the umask says so
        assert_eq!(mode & 0o600, 0o600);
        let probe = dir.path().join("probe");
        std::fs::write(&probe, b"").unwrap();
        let usual = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, usual);
    }

    #[test]
    fn only_dead_processes_temporaries_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join(format!("{PREFIX}{}-7{SUFFIX}", std::process::id()));
        let dead = dir.path().join(format!("{PREFIX}4000000000-1{SUFFIX}"));
        let other = dir.path().join("keep.tmp");
        for p in [&mine, &dead, &other] {
            std::fs::write(p, b"").unwrap();
        }
        clean_stale_temporaries(dir.path());
        assert!(mine.exists());
        assert!(!dead.exists());
        assert!(other.exists());
    }
}
