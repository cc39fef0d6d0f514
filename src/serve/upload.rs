//! Uploads into a workspace: a zipped case folder (every entry checked before
//! anything is written), or a workbook saved as the case's indicator file.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use crate::case;
use crate::diag::{Diagnostic, Location};

/// Extensions of workbooks.
pub const WORKBOOKS: &[&str] = &["xlsx", "xlsm", "xls", "ods"];
/// Extensions of the files a case folder may hold.
const CASE_FILES: &[&str] = &["toml", "xlsx", "xlsm", "xls", "ods", "png", "txt"];
/// Most entries in an uploaded zip.
pub const ZIP_ENTRIES: usize = 200;
/// Most bytes an uploaded zip may unpack to.
const UNPACKED_LIMIT: u64 = 100 * 1024 * 1024;

/// The lowercase extension of a file name.
pub fn extension(name: &str) -> String {
    name.rsplit_once('.').map_or(String::new(), |(_, e)| e.to_ascii_lowercase())
}

/// An error about the upload.
fn problem(message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Location::None, message)
}

/// Why an entry of a zip cannot be unpacked, or its path parts.
fn check_entry(
    name: &str,
    mode: Option<u32>,
    is_dir: bool,
) -> Result<Vec<String>, String> {
    if mode.is_some_and(|m| m & 0o170_000 == 0o120_000) {
        return Err("是符号链接".into());
    }
    let bytes = name.as_bytes();
    if name.starts_with('/')
        || name.starts_with('\\')
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
    {
        return Err("是绝对路径".into());
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err("含有 ..（指向案卷文件夹之外）".into()),
            p => {
                if let Some(why) = case::file_name_problem(p) {
                    return Err(format!("的名称{why}"));
                }
                parts.push(p.to_string());
            }
        }
    }
    if parts.is_empty() {
        return Err("没有名称".into());
    }
    if !is_dir && !CASE_FILES.contains(&extension(&parts[parts.len() - 1]).as_str()) {
        return Err("不是案卷文件（只接受 .toml .xlsx .xlsm .xls .ods .png .txt）".into());
    }
    Ok(parts)
}

/// Files an archiver adds that are no part of a case.
fn is_junk(parts: &[String]) -> bool {
    parts.first().is_some_and(|p| p == "__MACOSX")
        || parts.last().is_some_and(|p| p == ".DS_Store" || p == "Thumbs.db")
}

/// One entry to unpack.
struct Entry {
    index: usize,
    parts: Vec<String>,
    is_dir: bool,
}

/// Unpacks a zipped case folder into `folder`, replacing what it held; the
/// temporary folder is made in `data`. Every entry is checked first; nothing is
/// written when one is refused. Returns the files unpacked.
pub fn unpack(
    bytes: &[u8],
    folder: &Path,
    data: &Path,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| vec![problem(format!("无法读取压缩包（{e}）"))])?;
    if archive.len() > ZIP_ENTRIES {
        return Err(vec![problem(format!(
            "压缩包有 {} 个条目，最多 {ZIP_ENTRIES} 个",
            archive.len()
        ))]);
    }
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for index in 0..archive.len() {
        let f = archive
            .by_index_raw(index)
            .map_err(|e| vec![problem(format!("无法读取压缩包（{e}）"))])?;
        let Ok(name) = f.name().map(|n| n.to_string()) else {
            bad.push(problem(format!("压缩包中第 {} 个条目的名称无法识别", index + 1)));
            continue;
        };
        match check_entry(&name, f.unix_mode(), f.is_dir()) {
            Ok(parts) if is_junk(&parts) => {}
            Ok(parts) => entries.push(Entry { index, parts, is_dir: f.is_dir() }),
            Err(why) => bad.push(
                problem(format!("压缩包中的条目 \"{name}\" {why}，不能解压"))
                    .with_hint("压缩包只能含案卷文件夹中的普通文件和文件夹"),
            ),
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    // a zip of the folder itself (我的案卷/case.toml): unpack its contents
    let at_root = |e: &Entry| !e.is_dir && e.parts == [case::CASE_FILE];
    if !entries.iter().any(at_root) {
        let first = entries.iter().find(|e| !e.is_dir).map(|e| e.parts[0].clone());
        let one_folder = first.as_ref().is_some_and(|top| {
            entries.iter().all(|e| e.parts[0] == *top && (e.is_dir || e.parts.len() > 1))
        });
        if one_folder {
            entries.retain(|e| e.parts.len() > 1);
            for e in &mut entries {
                e.parts.remove(0);
            }
        }
    }
    if !entries.iter().any(at_root) {
        return Err(vec![
            problem("压缩包中没有 case.toml")
                .with_hint("把案卷文件夹（含 case.toml）整个压缩后上传"),
        ]);
    }
    let tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempdir_in(data)
        .map_err(|e| vec![io_problem("无法创建临时文件夹", &e)])?;
    let mut total = 0u64;
    let mut written = Vec::new();
    for e in &entries {
        let mut path = tmp.path().to_path_buf();
        path.extend(&e.parts);
        let shown = e.parts.join("/");
        if e.is_dir {
            std::fs::create_dir_all(&path)
                .map_err(|err| vec![io_problem(&shown, &err)])?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| vec![io_problem(&shown, &err)])?;
        }
        let mut f = archive
            .by_index(e.index)
            .map_err(|err| vec![problem(format!("无法解压 {shown}（{err}）"))])?;
        let mut content = Vec::new();
        (&mut f)
            .take(UNPACKED_LIMIT - total + 1)
            .read_to_end(&mut content)
            .map_err(|err| vec![problem(format!("无法解压 {shown}（{err}）"))])?;
        total += content.len() as u64;
        if total > UNPACKED_LIMIT {
            return Err(vec![problem("压缩包解压后超过 100 MB")]);
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut out| out.write_all(&content))
            .map_err(|err| {
                if err.kind() == std::io::ErrorKind::AlreadyExists {
                    vec![problem(format!("压缩包中的条目 \"{shown}\" 出现了两次"))]
                } else {
                    vec![io_problem(&shown, &err)]
                }
            })?;
        written.push(shown);
    }
    replace_folder(tmp.keep(), folder, data)?;
    Ok(written)
}

/// Puts the unpacked folder in the workspace's place.
fn replace_folder(
    new: PathBuf,
    folder: &Path,
    data: &Path,
) -> Result<(), Vec<Diagnostic>> {
    let old = tempfile::Builder::new()
        .prefix(".old-")
        .tempdir_in(data)
        .map_err(|e| vec![io_problem("无法创建临时文件夹", &e)])?
        .keep();
    let old = old.join("workspace");
    let fail = |e: &std::io::Error| vec![io_problem("无法替换工作区", e)];
    std::fs::rename(folder, &old).map_err(|e| fail(&e))?;
    if let Err(e) = std::fs::rename(&new, folder) {
        let _ = std::fs::rename(&old, folder);
        let _ = std::fs::remove_dir_all(&new);
        return Err(fail(&e));
    }
    if let Some(parent) = old.parent() {
        let _ = std::fs::remove_dir_all(parent);
    }
    Ok(())
}

fn io_problem(what: &str, e: &std::io::Error) -> Diagnostic {
    problem(format!("{what}（{}）", case::io_reason(e)))
}

/// Saves an uploaded workbook as the case's indicator file: the workbook
/// case.toml names (`"数据"."指标"`) when it is one of this kind at the top of
/// the folder, else `指标.<ext>`, pointing case.toml at it. Returns a note for
/// the page.
pub fn save_workbook(
    folder: &Path,
    bytes: &[u8],
    ext: &str,
) -> Result<String, Diagnostic> {
    let case_path = folder.join(case::CASE_FILE);
    let text = crate::fsguard::resolve(folder, case::CASE_FILE)
        .and_then(|p| crate::fsguard::read_limited(&p, case::TEXT_FILE_LIMIT))
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let named = text.as_deref().and_then(|t| {
        let table: toml::Table = toml::from_str(t).ok()?;
        table.get("数据")?.get("指标")?.as_str().map(str::to_string)
    });
    let fits = |n: &str| {
        extension(n) == ext
            && check_entry(n, None, false).is_ok_and(|parts| parts.len() == 1)
    };
    let target = match &named {
        Some(n) if fits(n) => {
            check_entry(n, None, false).map(|p| p[0].clone()).unwrap_or_default()
        }
        _ => format!("指标.{ext}"),
    };
    crate::output::write_atomic(&folder.join(&target), bytes)
        .map_err(|e| io_problem(&format!("无法保存 {target}"), &e))?;
    let Some(text) = text else {
        return Ok(format!("已保存为 {target}"));
    };
    match named {
        Some(n) if n == target => Ok(format!("已保存为 {target}（替换原工作簿）")),
        Some(n) => {
            let old = format!("\"指标\" = \"{n}\"");
            if text.matches(&old).count() == 1 {
                let new = text.replace(&old, &format!("\"指标\" = \"{target}\""));
                crate::output::write_atomic(&case_path, new.as_bytes())
                    .map_err(|e| io_problem("无法保存 case.toml", &e))?;
                Ok(format!(
                    "已保存为 {target}，并把 case.toml 的 \"指标\" 改为 \"{target}\""
                ))
            } else {
                Ok(format!(
                    "已保存为 {target}；请把 case.toml 中 [\"数据\"] 的 \"指标\" 改为 \"{target}\""
                ))
            }
        }
        None => Ok(format!(
            "已保存为 {target}；请在 case.toml 的 [\"数据\"] 中写 \"指标\" = \"{target}\""
        )),
    }
}

/// Files packed into one zip, in memory.
pub fn zip_files(files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), opts)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked() {
        assert_eq!(check_entry("a/case.toml", None, false).unwrap(), ["a", "case.toml"]);
        assert!(check_entry("a/", None, true).is_ok());
        assert!(check_entry("../evil.toml", None, false).unwrap_err().contains(".."));
        assert!(check_entry("a/../../x.toml", None, false).is_err());
        assert!(
            check_entry("/etc/passwd.toml", None, false).unwrap_err().contains("绝对")
        );
        assert!(check_entry("C:\\x.toml", None, false).is_err());
        assert!(check_entry("x.exe", None, false).is_err());
        assert!(
            check_entry("link.toml", Some(0o120_777), false)
                .unwrap_err()
                .contains("链接")
        );
        assert!(check_entry("ok.png", Some(0o100_644), false).is_ok());
    }
}
