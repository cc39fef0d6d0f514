//! Confined, bounded access to the files a case folder names.
//!
//! A case folder may come from someone else, so every path in it is hostile until
//! checked: [`resolve`] keeps a name inside the folder (no absolute paths, no `..`,
//! no symbolic link that leaves the folder) and accepts only regular files, looking
//! at metadata without opening anything (opening a FIFO blocks). [`read_limited`]
//! then reads at most a given number of bytes, opening without blocking where the
//! platform allows, and checks again that what it opened is a regular file.
//!
//! Messages are in Chinese and never tell the content or the size of a file outside
//! the folder.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// A refused or failed file or workbook access, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardError {
    /// What went wrong, in Chinese.
    pub message: String,
    /// What the user can do about it, if anything useful can be said.
    pub hint: Option<String>,
}

impl GuardError {
    /// An error with a message and no hint.
    pub fn new(message: impl Into<String>) -> Self {
        GuardError { message: message.into(), hint: None }
    }

    /// The same error with a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GuardError {}

/// Writes a byte count the way the messages show limits: `20 MB`, `512 KB`.
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB && bytes.is_multiple_of(KB) {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} 字节")
    }
}

const HINT_INSIDE: &str =
    "案卷中引用的文件须放在案卷文件夹内，并写成相对路径，如 \"数据/指标.xlsx\"";

fn not_found() -> GuardError {
    GuardError::new("文件不存在").with_hint("请检查文件名和所在的子文件夹是否写对")
}

fn link_outside() -> GuardError {
    GuardError::new("符号链接指向案卷文件夹之外")
        .with_hint("请把文件本身复制到案卷文件夹内，不要用指向别处的链接（快捷方式）")
}

fn link_unresolved() -> GuardError {
    GuardError::new("符号链接指向的文件不存在或在案卷文件夹之外")
        .with_hint("请把文件本身复制到案卷文件夹内，不要用指向别处的链接（快捷方式）")
}

fn not_regular() -> GuardError {
    GuardError::new("不是普通文件（可能是管道或设备）")
        .with_hint("请换成一个普通的数据文件")
}

fn unreadable(e: &io::Error) -> GuardError {
    match e.kind() {
        io::ErrorKind::NotFound => not_found(),
        io::ErrorKind::PermissionDenied => GuardError::new("没有读取该文件的权限"),
        _ => GuardError::new("无法读取文件"),
    }
}

/// Names that Windows maps to devices whatever the folder or extension.
#[cfg(windows)]
fn is_windows_device_name(part: &str) -> bool {
    let stem = part.split('.').next().unwrap_or("").trim_end().to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

/// Checks the written form of a name: relative, no `..`, no drive, not empty.
/// Returns its parts, split on `/` and on `\` alike so a case behaves the same
/// on every system.
fn lexical_parts(name: &str) -> Result<Vec<&str>, GuardError> {
    if name.trim().is_empty() {
        return Err(GuardError::new("文件路径为空").with_hint(HINT_INSIDE));
    }
    if name.contains('\0') {
        return Err(GuardError::new("文件路径含有非法字符"));
    }
    let b = name.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    if name.starts_with('/') || name.starts_with('\\') || drive {
        return Err(GuardError::new("文件路径不能是绝对路径").with_hint(HINT_INSIDE));
    }
    // The platform's own view as well (catches prefixes this check does not know).
    if Path::new(name)
        .components()
        .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
    {
        return Err(GuardError::new("文件路径不能是绝对路径").with_hint(HINT_INSIDE));
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(GuardError::new(
                    "文件路径不能含 ..，只能指向案卷文件夹内的文件",
                )
                .with_hint(HINT_INSIDE));
            }
            _ => {
                #[cfg(windows)]
                if is_windows_device_name(part) || part.contains(':') {
                    return Err(not_regular());
                }
                parts.push(part);
            }
        }
    }
    if parts.is_empty() {
        return Err(GuardError::new("文件路径为空").with_hint(HINT_INSIDE));
    }
    Ok(parts)
}

/// Whether the path, or any folder on the way to it below `root`, is a link.
/// Used only to word the message when the target cannot be resolved, so that a
/// dangling link out of the folder reads as a link, not as a missing file.
fn has_link_on_the_way(root: &Path, parts: &[&str]) -> bool {
    let mut p = root.to_path_buf();
    for part in parts {
        p.push(part);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Refuses anything but a regular file, from metadata alone.
fn require_regular(meta: &Metadata) -> Result<(), GuardError> {
    if meta.is_file() {
        Ok(())
    } else if meta.is_dir() {
        Err(GuardError::new("这是一个文件夹，不是文件")
            .with_hint("请写出文件夹中具体的文件名"))
    } else {
        Err(not_regular())
    }
}

/// Resolves a file named in a case to a real path inside the case folder.
///
/// `name` must be a relative path (`/` or `\` as separators) without `..`.
/// The folder and the target are both canonicalized and the target must stay
/// inside the folder, so a symbolic link that leaves the folder is refused while
/// one that stays inside is followed. The target must be a regular file: a
/// directory, FIFO, socket or device is refused, and this is decided from
/// metadata without opening the file. Returns the canonical path.
pub fn resolve(root: &Path, name: &str) -> Result<PathBuf, GuardError> {
    let parts = lexical_parts(name)?;
    let root = std::fs::canonicalize(root)
        .map_err(|_| GuardError::new("案卷文件夹不存在或无法访问"))?;
    let mut joined = root.clone();
    joined.extend(&parts);
    let target = match std::fs::canonicalize(&joined) {
        Ok(t) => t,
        Err(e) => {
            if has_link_on_the_way(&root, &parts) {
                return Err(link_unresolved());
            }
            return Err(unreadable(&e));
        }
    };
    if !target.starts_with(&root) {
        return Err(link_outside());
    }
    let meta = std::fs::metadata(&target).map_err(|e| unreadable(&e))?;
    require_regular(&meta)?;
    Ok(target)
}

/// Opens for reading without blocking on a FIFO (Unix).
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    opts.open(path)
}

/// Reads a regular file of at most `limit` bytes.
///
/// The size is checked from metadata first, then the file is opened (without
/// blocking on Unix, so a FIFO swapped in after the check cannot hang the
/// program), the opened handle is checked again to be a regular file, and at
/// most `limit + 1` bytes are read, so a file that grows meanwhile is refused
/// rather than read without end.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, GuardError> {
    let too_big = || {
        GuardError::new(format!("文件超过 {}", human_size(limit)))
            .with_hint("请确认选对了文件；数据文件通常不会这么大")
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(&e))?;
    require_regular(&meta)?;
    if meta.len() > limit {
        return Err(too_big());
    }
    let file = open_nonblocking(path).map_err(|e| unreadable(&e))?;
    let meta = file.metadata().map_err(|e| unreadable(&e))?;
    require_regular(&meta)?;
    if meta.len() > limit {
        return Err(too_big());
    }
    let expected = usize::try_from(meta.len()).unwrap_or(0);
    let mut buf = Vec::with_capacity(expected.saturating_add(1));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| unreadable(&e))?;
    if buf.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::{Duration, Instant};

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("指标.toml"), "a = 1\n").expect("write");
        fs::create_dir(dir.path().join("数据")).expect("mkdir");
        fs::write(dir.path().join("数据").join("表.xlsx"), b"PK").expect("write");
        dir
    }

    #[test]
    fn good_files_resolve_and_read() {
        let dir = folder();
        let p = resolve(dir.path(), "指标.toml").expect("resolves");
        assert_eq!(read_limited(&p, 100).expect("reads"), b"a = 1\n");
        let p = resolve(dir.path(), "数据/表.xlsx").expect("resolves");
        assert!(p.ends_with("表.xlsx"));
        let p = resolve(dir.path(), "./数据\\表.xlsx").expect("backslash too");
        assert!(p.ends_with("表.xlsx"));
    }

    #[test]
    fn absolute_paths_are_refused() {
        let dir = folder();
        for name in ["/etc/passwd", "\\etc\\passwd", "C:\\Windows\\win.ini", "c:x"] {
            let e = resolve(dir.path(), name).expect_err(name);
            assert_eq!(e.message, "文件路径不能是绝对路径", "{name}");
        }
        let inside = dir.path().join("指标.toml");
        let e = resolve(dir.path(), inside.to_str().expect("utf-8")).expect_err("abs");
        assert_eq!(e.message, "文件路径不能是绝对路径");
    }

    #[test]
    fn dot_dot_and_empty_names_are_refused() {
        let dir = folder();
        for name in ["../x", "数据/../../x", "..\\x", "数据/.."] {
            let e = resolve(dir.path(), name).expect_err(name);
            assert!(e.message.contains(".."), "{name}: {}", e.message);
        }
        for name in ["", "  ", ".", "./"] {
            let e = resolve(dir.path(), name).expect_err(name);
            assert_eq!(e.message, "文件路径为空", "{name:?}");
        }
    }

    #[test]
    fn missing_files_and_folders() {
        let dir = folder();
        assert_eq!(
            resolve(dir.path(), "无.toml").expect_err("missing").message,
            "文件不存在"
        );
        let e = resolve(dir.path(), "数据").expect_err("dir");
        assert!(e.message.contains("文件夹"), "{}", e.message);
    }

    #[test]
    fn size_limit() {
        let dir = folder();
        let p = dir.path().join("大.toml");
        fs::write(&p, vec![b'x'; 2048]).expect("write");
        let e = read_limited(&p, 1024).expect_err("too big");
        assert_eq!(e.message, "文件超过 1 KB");
        assert_eq!(read_limited(&p, 2048).expect("exactly at limit").len(), 2048);
        let e = read_limited(&p, 20 * 1024 * 1024 - 1).map(|v| v.len());
        assert_eq!(e, Ok(2048));
        assert_eq!(human_size(20 * 1024 * 1024), "20 MB");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_folder_are_refused() {
        use std::os::unix::fs::symlink;
        let dir = folder();
        let outside = tempfile::tempdir().expect("temp dir");
        fs::write(outside.path().join("secret.txt"), "line 1\nline 2\n").expect("write");
        symlink(outside.path().join("secret.txt"), dir.path().join("指标2.toml"))
            .expect("symlink");
        symlink(outside.path(), dir.path().join("外")).expect("symlink");
        symlink("/nonexistent/gongwen-test", dir.path().join("悬空.toml")).expect("link");
        for name in ["指标2.toml", "外/secret.txt"] {
            let e = resolve(dir.path(), name).expect_err(name);
            assert_eq!(e.message, "符号链接指向案卷文件夹之外", "{name}");
            assert!(!e.message.contains("line"), "no content disclosed");
        }
        let e = resolve(dir.path(), "悬空.toml").expect_err("dangling");
        assert_eq!(e.message, "符号链接指向的文件不存在或在案卷文件夹之外");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_folder_are_followed() {
        use std::os::unix::fs::symlink;
        let dir = folder();
        symlink("数据/表.xlsx", dir.path().join("别名.xlsx")).expect("symlink");
        let p = resolve(dir.path(), "别名.xlsx").expect("inside link");
        assert!(p.ends_with("数据/表.xlsx"));
        // A root that is itself reached through a link works too.
        let outer = tempfile::tempdir().expect("temp dir");
        symlink(dir.path(), outer.path().join("案卷")).expect("symlink");
        resolve(&outer.path().join("案卷"), "指标.toml").expect("linked root");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_refused_without_blocking() {
        let dir = folder();
        let fifo = dir.path().join("印章.png");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !matches!(ok, Ok(s) if s.success()) {
            eprintln!("mkfifo unavailable; skipped");
            return;
        }
        let start = Instant::now();
        let e = resolve(dir.path(), "印章.png").expect_err("fifo");
        assert_eq!(e.message, "不是普通文件（可能是管道或设备）");
        // read_limited on the FIFO itself must not block either.
        let e = read_limited(&fifo, 1024).expect_err("fifo");
        assert_eq!(e.message, "不是普通文件（可能是管道或设备）");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused() {
        use std::os::unix::fs::symlink;
        let dev = Path::new("/dev/zero");
        if !dev.exists() {
            return;
        }
        let dir = folder();
        symlink(dev, dir.path().join("指标.toml.dev")).expect("symlink");
        let e = resolve(dir.path(), "指标.toml.dev").expect_err("device link");
        assert_eq!(e.message, "符号链接指向案卷文件夹之外");
        let start = Instant::now();
        let e = read_limited(dev, 1024).expect_err("char device");
        assert_eq!(e.message, "不是普通文件（可能是管道或设备）");
        let e = read_limited(&dir.path().join("指标.toml.dev"), 1024).expect_err("dev");
        assert_eq!(e.message, "不是普通文件（可能是管道或设备）");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
