//! The attack suite of the hardening issue: hostile case folders, workbooks,
//! images, templates and command lines, run through the binary.
//!
//! Each test asserts the exit code (1 for data, 2 for usage), the Chinese message
//! and its location, that the process ended before a watchdog (60 s) killed it,
//! and that nothing appeared or changed outside the output folder. A test that is
//! `#[ignore]`d asserts what the issue requires and the tool does not (yet) do.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::write_example;

/// A run that has not ended by then is killed and the test fails.
const WATCHDOG: Duration = Duration::from_secs(60);

/// How a run of the binary ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Starts the binary in `cwd` (bundled fonts only; dated 2023-08-31 unless `envs`
/// says otherwise). Kill it with [`Watched::finish`].
fn spawn(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Watched {
    let fonts = matches!(args[0], "build" | "check" | "units" | "status" | "table");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gongwen"));
    cmd.args(args)
        .args(if fonts { &["--ignore-system-fonts"][..] } else { &[][..] })
        .current_dir(cwd)
        .env("SOURCE_DATE_EPOCH", "1693440000")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start gongwen");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    Watched {
        what: args.join(" "),
        child,
        started: Instant::now(),
        stdout: read(Box::new(out)),
        stderr: read(Box::new(err)),
    }
}

/// A started run under the watchdog.
struct Watched {
    what: String,
    child: std::process::Child,
    started: Instant,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Watched {
    /// Waits for the end; a run still going after [`WATCHDOG`] is killed and the
    /// test fails.
    fn finish(mut self) -> Run {
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Run {
                    code: status.code(),
                    stdout: self.stdout.join().unwrap(),
                    stderr: self.stderr.join().unwrap(),
                };
            }
            if self.started.elapsed() > WATCHDOG {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("gongwen {} still running after {WATCHDOG:?}: killed", self.what);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs the binary under the watchdog.
fn gongwen(cwd: &Path, args: &[&str]) -> Run {
    spawn(cwd, args, &[]).finish()
}

/// What a file-system entry is, without opening anything that could block.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
    Other(String),
}

/// Every entry under `root` except those under `skip` (the output folders).
fn snapshot(root: &Path, skip: &[&Path]) -> BTreeMap<PathBuf, Entry> {
    fn walk(dir: &Path, skip: &[&Path], into: &mut BTreeMap<PathBuf, Entry>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if skip.iter().any(|s| path.starts_with(s)) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let t = meta.file_type();
            let entry = if t.is_symlink() {
                Entry::Link(std::fs::read_link(&path).unwrap())
            } else if t.is_dir() {
                walk(&path, skip, into);
                Entry::Dir
            } else if t.is_file() {
                Entry::File(std::fs::read(&path).unwrap())
            } else {
                Entry::Other(format!("{t:?}"))
            };
            into.insert(path, entry);
        }
    }
    let mut all = BTreeMap::new();
    walk(root, skip, &mut all);
    all
}

/// Asserts that nothing appeared, vanished or changed (outside `skip`).
fn assert_untouched(before: &BTreeMap<PathBuf, Entry>, root: &Path, skip: &[&Path]) {
    let after = snapshot(root, skip);
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "changed outside the output folder: {changed:?}");
}

/// A temporary folder holding the example case in `案卷/`, with files beside it
/// (outside the case).
struct Sandbox {
    tmp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let s = Sandbox { tmp };
        std::fs::create_dir(s.case()).unwrap();
        write_example(&s.case());
        s
    }

    /// The folder holding the case folder (and the files "outside" it).
    fn root(&self) -> PathBuf {
        self.tmp.path().to_path_buf()
    }

    fn case(&self) -> PathBuf {
        self.tmp.path().join("案卷")
    }

    /// The default output folder of a run in the case folder.
    fn out(&self) -> PathBuf {
        self.case().join("out")
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.case().join(name)).unwrap()
    }

    /// Replaces the first `old` in a file of the case.
    fn edit(&self, name: &str, old: &str, new: &str) {
        let text = self.read(name);
        assert!(text.contains(old), "{old:?} not in {name}");
        std::fs::write(self.case().join(name), text.replacen(old, new, 1)).unwrap();
    }

    /// `line:column` where `needle` starts in a file of the case (columns count
    /// characters, as the messages do).
    fn loc(&self, name: &str, needle: &str) -> String {
        let text = self.read(name);
        let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {name}"));
        let line = text[..at].matches('\n').count() + 1;
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        format!("{name}:{line}:{}", text[start..at].chars().count() + 1)
    }

    /// Seals the notice with the image `path` (as written in case.toml).
    fn seal(&self, path: &str) {
        let lit = toml::Value::String(path.to_string()).to_string();
        self.edit(
            "case.toml",
            "\"盖章\" = false",
            &format!("\"盖章\" = true\n\"印章\" = {lit}"),
        );
    }

    /// Puts `template` (a TOML literal string) first in the notice's body.
    fn body_template(&self, template: &str) -> String {
        let lit = format!("'{template}'");
        self.edit("case.toml", "\"正文\" = [", &format!("\"正文\" = [{lit}, "));
        self.loc("case.toml", &lit)
    }

    /// Names another indicator file.
    fn indicators(&self, name: &str) -> String {
        let lit = toml::Value::String(name.to_string()).to_string();
        self.edit("case.toml", "\"指标\" = \"指标.toml\"", &format!("\"指标\" = {lit}"));
        self.loc("case.toml", &lit)
    }

    /// `gongwen ARGS` in the case folder: asserts that nothing changed outside
    /// `out/` and returns the run.
    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let out = self.out();
        let before = snapshot(&self.root(), &[&out]);
        let run = spawn(&self.case(), args, envs).finish();
        assert_untouched(&before, &self.root(), &[&out]);
        run
    }
}

/// Asserts the exit code and that each of `needles` is in the messages.
fn assert_refused(run: &Run, code: i32, needles: &[&str]) {
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected {n:?} in:\n{stderr}");
    }
    if code == 1 {
        assert!(stderr.contains("错误："), "{stderr}");
    }
}

/// Asserts a data error at `loc` (`case.toml:14:3`) saying `message`, and that no
/// output was written.
fn assert_located(run: &Run, loc: &str, message: &str, s: &Sandbox) {
    assert_refused(run, 1, &[&format!("{loc}: 错误："), message]);
    assert!(!s.out().exists(), "an output folder was made: {}", run.stderr);
}

/// Asserts that the messages tell nothing of the file `outside`: none of its
/// lines, no location inside it, neither its line count nor its size.
fn assert_discloses_nothing(stderr: &str, outside: &Path) {
    let bytes = std::fs::read(outside).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for line in text.lines().map(str::trim).filter(|l| l.chars().count() >= 4) {
        assert!(!stderr.contains(line), "discloses {line:?}:\n{stderr}");
    }
    let name = outside.file_name().unwrap().to_string_lossy();
    assert!(!stderr.contains(&format!("{name}:")), "a location inside it:\n{stderr}");
    // the numbers in the messages, less the location in case.toml, the count and
    // the temporary folder's name
    let folder = outside.parent().unwrap().display().to_string();
    let stderr = stderr.replace(&folder, "");
    let mut numbers = Vec::new();
    for line in stderr.lines() {
        let line = line.split_once(": 错误：").map_or(line, |(_, m)| m);
        if line.starts_with("共 ") {
            continue;
        }
        numbers.extend(
            line.split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .map(|n| n.parse::<u64>().unwrap_or(u64::MAX)),
        );
    }
    let lines = text.lines().count() as u64;
    let size = bytes.len() as u64;
    // (a count under 10 could be any number of a message)
    assert!(
        !(numbers.contains(&size) || lines >= 10 && numbers.contains(&lines)),
        "tells the line count {lines} or the size {size}:\n{stderr}"
    );
}

/// `mkfifo PATH`.
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo").success();
    assert!(ok, "mkfifo {path:?}");
}

// --- PNG ---------------------------------------------------------------------

/// CRC-32 (ISO-HDLC, as PNG uses), table-driven.
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, slot) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    !data
        .iter()
        .fold(!0u32, |c, b| table[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8))
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG of `w` × `h` RGBA pixels (the pixel data only as long as `rows` rows).
fn png(w: u32, h: u32, rows: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut raw = Vec::new();
    for _ in 0..rows {
        // the filter byte of the row, then its pixels
        raw.extend_from_slice(&[0]);
        for _ in 0..w.min(64) {
            raw.extend_from_slice(&[0xFF, 0, 0, 0xFF]);
        }
    }
    // stored deflate blocks inside a zlib stream: no compressor needed
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        z.extend_from_slice(&(c.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(c.len() as u16)).to_le_bytes());
        z.extend_from_slice(c);
    }
    let adler = {
        let (mut a, mut b) = (1u32, 0u32);
        for x in &raw {
            a = (a + u32::from(*x)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    };
    z.extend_from_slice(&adler.to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &z));
    out.extend(png_chunk(b"IEND", b""));
    out
}

fn small_png() -> Vec<u8> {
    png(8, 8, 8)
}

// --- 1. paths that leave the case folder --------------------------------------

#[test]
fn indicators_outside_the_case_are_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("x.toml");
    std::fs::write(&outside, s.read("指标.toml")).unwrap();
    let loc = s.indicators("../x.toml");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "文件路径不能含 ..，只能指向案卷文件夹内的文件", &s);
    assert_discloses_nothing(&run.stderr, &outside);
}

#[test]
fn indicators_at_etc_passwd_are_refused() {
    let s = Sandbox::new();
    let loc = s.indicators("/etc/passwd");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "文件路径不能是绝对路径", &s);
    assert!(!run.stderr.contains("root:"), "{}", run.stderr);
    if Path::new("/etc/passwd").is_file() {
        assert_discloses_nothing(&run.stderr, Path::new("/etc/passwd"));
    }
}

#[test]
fn a_symlink_out_of_the_case_is_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("x.toml");
    std::fs::write(&outside, s.read("指标.toml")).unwrap();
    let loc = s.loc("case.toml", "\"指标.toml\"");
    std::fs::remove_file(s.case().join("指标.toml")).unwrap();
    std::os::unix::fs::symlink("../x.toml", s.case().join("指标.toml")).unwrap();
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "符号链接指向案卷文件夹之外", &s);
    assert_discloses_nothing(&run.stderr, &outside);
}

#[test]
fn a_unit_registry_outside_the_case_is_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("u.toml");
    std::fs::write(
        &outside,
        "[[\"单位\"]]\n\"名称\" = \"县司法局\"\n\"类别\" = \"县直单位\"\n",
    )
    .unwrap();
    s.edit(
        "case.toml",
        "\"指标\" = \"指标.toml\"",
        "\"指标\" = \"指标.toml\"\n\"单位\" = \"../u.toml\"",
    );
    let loc = s.loc("case.toml", "\"../u.toml\"");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "文件路径不能含 ..，只能指向案卷文件夹内的文件", &s);
    assert_discloses_nothing(&run.stderr, &outside);
}

#[test]
fn a_roster_outside_the_case_is_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("名单.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, v) in ["组别", "姓名", "职务"].into_iter().enumerate() {
        ws.write_string(0, c as u16, v).unwrap();
    }
    for (c, v) in ["组长", "张三", "县长"].into_iter().enumerate() {
        ws.write_string(1, c as u16, v).unwrap();
    }
    wb.save(&outside).unwrap();
    let mut case = s.read("case.toml");
    case.push_str(
        "\n[[\"附件\"]]\n\"标题\" = \"领导小组成员名单\"\n\"类型\" = \"名单\"\n\"数据\" = \"../名单.xlsx\"\n",
    );
    std::fs::write(s.case().join("case.toml"), case).unwrap();
    let loc = s.loc("case.toml", "\"../名单.xlsx\"");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "文件路径不能含 ..，只能指向案卷文件夹内的文件", &s);
    assert!(run.stderr.contains("名单.xlsx"), "{}", run.stderr);
    assert!(!run.stderr.contains("张三"), "{}", run.stderr);
}

#[test]
fn a_seal_linked_out_of_the_case_is_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("seal.png");
    std::fs::write(&outside, small_png()).unwrap();
    std::os::unix::fs::symlink("../seal.png", s.case().join("印章.png")).unwrap();
    s.seal("印章.png");
    let loc = s.loc("case.toml", "\"印章.png\"");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "印章图片：\"印章.png\"：符号链接指向案卷文件夹之外", &s);
    assert_discloses_nothing(&run.stderr, &outside);
}

#[test]
fn a_seal_at_an_absolute_path_is_refused() {
    let s = Sandbox::new();
    let outside = s.root().join("seal.png");
    std::fs::write(&outside, small_png()).unwrap();
    s.seal(outside.to_str().unwrap());
    let loc = s.loc("case.toml", &format!("\"{}\"", outside.display()));
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "文件路径不能是绝对路径", &s);
    assert!(run.stderr.contains("印章图片"), "{}", run.stderr);
    assert_discloses_nothing(&run.stderr, &outside);
}

// --- 2. FIFOs ------------------------------------------------------------------

#[test]
fn a_fifo_as_indicator_file_does_not_hang() {
    let s = Sandbox::new();
    let loc = s.loc("case.toml", "\"指标.toml\"");
    std::fs::remove_file(s.case().join("指标.toml")).unwrap();
    mkfifo(&s.case().join("指标.toml"));
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "不是普通文件（可能是管道或设备）", &s);
}

#[test]
fn a_fifo_as_seal_does_not_hang() {
    let s = Sandbox::new();
    mkfifo(&s.case().join("印章.png"));
    s.seal("印章.png");
    let loc = s.loc("case.toml", "\"印章.png\"");
    let run = s.run(&["build", "."]);
    assert_located(
        &run,
        &loc,
        "印章图片：\"印章.png\"：不是普通文件（可能是管道或设备）",
        &s,
    );
}

#[test]
fn a_fifo_as_case_toml_does_not_hang() {
    let s = Sandbox::new();
    std::fs::remove_file(s.case().join("case.toml")).unwrap();
    mkfifo(&s.case().join("case.toml"));
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["case.toml: 错误：不是普通文件（可能是管道或设备）"]);
    assert!(!s.out().exists());
}

// --- 3. hostile workbooks and images --------------------------------------------

/// An indicator workbook: a header row and one data row on sheet 任务表.
fn indicator_workbook() -> rust_xlsxwriter::Workbook {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("任务表").unwrap();
    for (c, v) in ["序号", "三级指标", "填报材料", "责任单位"].into_iter().enumerate()
    {
        ws.write_string(0, c as u16, v).unwrap();
    }
    ws.write_number(1, 0, 1.0).unwrap();
    ws.write_string(1, 1, "指标一").unwrap();
    ws.write_string(1, 2, "材料一").unwrap();
    ws.write_string(1, 3, "——").unwrap();
    wb
}

#[test]
fn a_workbook_reaching_xfd1048576_is_refused_quickly() {
    let s = Sandbox::new();
    let mut wb = indicator_workbook();
    wb.worksheet_from_index(0).unwrap().write_number(1_048_575, 16_383, 1.0).unwrap();
    wb.save(s.case().join("指标.xlsx")).unwrap();
    s.indicators("指标.xlsx");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.xlsx", "任务表", "过大"]);
    assert!(
        run.stderr.contains("1048576") || run.stderr.contains("XFD"),
        "{}",
        run.stderr
    );
    assert!(!s.out().exists());
}

/// A minimal xlsx written by hand (deflate): sheet 任务表 with `rows`, and
/// `strings` as the shared strings.
fn hand_xlsx(path: &Path, rows: &str, strings: &[&str]) {
    let ns = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let parts: Vec<(&str, String)> = vec![
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/></Types>".to_string(),
        ),
        (
            "_rels/.rels",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"),
        ),
        (
            "xl/workbook.xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook {ns} xmlns:r=\"{rel}\"><sheets><sheet name=\"任务表\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"{rel}/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>"),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet {ns}><sheetData>{rows}</sheetData></worksheet>"),
        ),
        (
            "xl/sharedStrings.xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst {ns} count=\"{n}\" uniqueCount=\"{n}\">{}</sst>",
                strings.iter().map(|s| format!("<si><t>{s}</t></si>")).collect::<String>(),
                n = strings.len()
            ),
        ),
    ];
    write_zip(
        path,
        &parts.iter().map(|(n, t)| (*n, t.as_bytes())).collect::<Vec<_>>(),
        true,
    );
}

/// Writes a zip of `(name, bytes)`, deflated or stored.
fn write_zip(path: &Path, parts: &[(&str, &[u8])], deflate: bool) {
    use zip::write::SimpleFileOptions;
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in parts {
        let method =
            if *name == "mimetype" { zip::CompressionMethod::Stored } else { method };
        z.start_file(*name, SimpleFileOptions::default().compression_method(method))
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

fn inline(r: &str, s: &str) -> String {
    format!("<c r=\"{r}\" t=\"inlineStr\"><is><t>{s}</t></is></c>")
}

#[test]
fn a_30_mb_shared_string_is_refused() {
    let s = Sandbox::new();
    let big = "x".repeat(30 * 1024 * 1024);
    let rows = format!(
        "<row r=\"1\">{}{}{}</row><row r=\"2\">{}<c r=\"B2\" t=\"s\"><v>0</v></c>{}</row>",
        inline("A1", "序号"),
        inline("B1", "三级指标"),
        inline("C1", "责任单位"),
        inline("A2", "1"),
        inline("C2", "——"),
    );
    let path = s.case().join("指标.xlsx");
    hand_xlsx(&path, &rows, &[&big]);
    assert!(std::fs::metadata(&path).unwrap().len() < 1024 * 1024, "deflated");
    s.indicators("指标.xlsx");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.xlsx: 错误：", "共享字符串", "超过"]);
    assert!(run.stderr.len() < 10_000, "the string is not echoed");
    assert!(!s.out().exists());
}

/// The score sheets' workbook is read as carefully as an indicator workbook:
/// a 30 MB shared string in a small file is refused before the parser runs.
#[test]
fn a_score_workbook_with_a_30_mb_shared_string_is_refused() {
    let s = Sandbox::new();
    let big = "x".repeat(30 * 1024 * 1024);
    let rows = format!(
        "<row r=\"1\">{}{}</row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c></row>",
        inline("A1", "工作任务"),
        inline("B1", "分值"),
    );
    let path = s.case().join("打分.xlsx");
    hand_xlsx(&path, &rows, &[&big]);
    assert!(std::fs::metadata(&path).unwrap().len() < 1024 * 1024, "deflated");
    let run = s.run(&["scores", "打分.xlsx", "--out", "out"]);
    assert_refused(&run, 1, &["打分.xlsx: 错误：", "共享字符串", "超过"]);
    assert!(run.stderr.len() < 10_000, "the string is not echoed");
    assert!(!s.out().exists());
}

/// An .ods whose sheet `sheet` has one header row of `headers` and then a
/// corrupted end tag (`</table:tabl8>`), on which the parser once spun forever.
fn broken_ods(path: &Path, sheet: &str, headers: &[&str]) {
    let cells: String = headers
        .iter()
        .map(|h| {
            format!(
                "<table:table-cell office:value-type=\"string\"><text:p>{h}</text:p></table:table-cell>"
            )
        })
        .collect();
    let content = format!(
        "{}{}{}{}<office:body><office:spreadsheet><table:table table:name=\"{sheet}\">\
         <table:table-row>{cells}</table:table-row>\
         </table:tabl8></office:spreadsheet></office:body></office:document-content>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content ",
        "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" ",
        "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" ",
        "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">",
    );
    write_zip(
        path,
        &[
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", content.as_bytes()),
        ],
        true,
    );
}

#[test]
fn an_ods_with_a_broken_end_tag_is_refused() {
    let s = Sandbox::new();
    broken_ods(&s.case().join("指标.ods"), "任务表", &["序号", "三级指标"]);
    s.indicators("指标.ods");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.ods: 错误：", "已损坏"]);
    assert!(!s.out().exists());
}

/// The same broken .ods as the score sheets' workbook: refused, not a spin (the
/// sheet names were once read by an unguarded parser).
#[test]
fn a_score_workbook_ods_with_a_broken_end_tag_is_refused() {
    let s = Sandbox::new();
    broken_ods(&s.case().join("打分.ods"), "打分", &["工作任务", "分值"]);
    let run = s.run(&["scores", "打分.ods", "--out", "out"]);
    assert_refused(&run, 1, &["打分.ods: 错误：", "已损坏"]);
    assert!(!s.out().exists());
}

#[test]
fn a_truncated_xls_is_refused() {
    let s = Sandbox::new();
    // a real .xls (BIFF8 in a compound file) is not at hand: its header, cut short
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[0x3E, 0, 3, 0, 0xFE, 0xFF, 9, 0, 6, 0]);
    bytes.extend_from_slice(&[0; 10]);
    bytes.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    bytes
        .extend_from_slice(&[2, 0, 0, 0, 1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    bytes.resize(600, 0xFF);
    std::fs::write(s.case().join("指标.xls"), bytes).unwrap();
    s.indicators("指标.xls");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.xls: 错误："]);
    assert!(
        run.stderr.contains("已损坏") || run.stderr.contains("无法识别"),
        "{}",
        run.stderr
    );
    assert!(!s.out().exists());
}

#[test]
fn random_bytes_named_xls_are_refused() {
    let s = Sandbox::new();
    // deterministic noise (xorshift)
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..65_536)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(s.case().join("指标.xls"), bytes).unwrap();
    s.indicators("指标.xls");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.xls: 错误："]);
    assert!(
        run.stderr.contains("已损坏") || run.stderr.contains("无法识别"),
        "{}",
        run.stderr
    );
    assert!(!s.out().exists());
}

#[test]
fn a_20000_by_20000_png_seal_is_refused() {
    let s = Sandbox::new();
    let bytes = png(20_000, 20_000, 4);
    // the header is valid: PNG signature, IHDR with the right CRC
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(crc32(b"IEND"), 0xAE42_6082, "CRC-32 as PNG computes it");
    std::fs::write(s.case().join("印章.png"), bytes).unwrap();
    s.seal("印章.png");
    let loc = s.loc("case.toml", "\"印章.png\"");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "20000 × 20000", &s);
    assert!(run.stderr.contains("过大"), "{}", run.stderr);
}

#[test]
fn a_truncated_png_seal_is_refused() {
    let s = Sandbox::new();
    let mut bytes = small_png();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(s.case().join("印章.png"), bytes).unwrap();
    s.seal("印章.png");
    let loc = s.loc("case.toml", "\"印章.png\"");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "PNG 图片已损坏", &s);
}

// --- 4. templates ------------------------------------------------------------------

#[test]
fn get_env_in_a_template_is_refused() {
    let s = Sandbox::new();
    let loc = s.body_template("{{ get_env(name=\"HOME\") }}");
    let secret = "/home/不应出现的目录-4711";
    let run = s.run_env(&["build", "."], &[("HOME", secret)]);
    assert_located(&run, &loc, "模板中不能读取环境变量", &s);
    assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret));
}

#[test]
fn a_two_billion_range_is_refused() {
    let s = Sandbox::new();
    let loc = s.body_template("{% for i in range(end=2000000000) %}x{% endfor %}");
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "range 最多 1000 项", &s);
}

#[test]
fn a_self_recursive_macro_is_refused() {
    let s = Sandbox::new();
    let loc = s.body_template(
        "{% macro f(n) %}{{ self::f(n=n) }}{% endmacro f %}{{ self::f(n=1) }}",
    );
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "案卷的文字模板中不能使用 {% macro %}", &s);
}

#[test]
fn three_nested_for_loops_are_refused() {
    let s = Sandbox::new();
    let loc = s.body_template(
        "{% for a in range(end=1000) %}{% for b in range(end=1000) %}{% for c in range(end=1000) %}x{% endfor %}{% endfor %}{% endfor %}",
    );
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, "模板中的 for 循环嵌套超过 2 层", &s);
}

// --- 5. command-line values ---------------------------------------------------------

#[test]
fn a_date_in_year_10000_is_refused() {
    let s = Sandbox::new();
    let run = s.run(&["build", ".", "--date", "+10000-01-01"]);
    assert_refused(
        &run,
        1,
        &["--date +10000-01-01 超出范围（年份应在 1900 至 9999 之间）"],
    );
    assert!(!s.out().exists());
}

#[test]
fn a_source_date_epoch_in_year_10000_is_refused() {
    let s = Sandbox::new();
    let run = s.run_env(&["build", "."], &[("SOURCE_DATE_EPOCH", "253402300800")]);
    assert_refused(
        &run,
        1,
        &["SOURCE_DATE_EPOCH=253402300800 超出范围（年份应在 1900 至 9999 之间）"],
    );
    assert!(!s.out().exists());
}

/// `gongwen status` with one bad value: a usage error naming the option and the
/// range its help gives (clap's own message).
fn status_usage_error(args: &[&str], option: &str, range: &str) {
    let s = Sandbox::new();
    let mut all = vec!["status", "."];
    all.extend_from_slice(args);
    let run = s.run(&all);
    assert_refused(&run, 2, &[option, range]);
    assert!(!s.out().exists());
}

#[test]
fn reply_days_of_a_hundred_million_is_a_usage_error() {
    status_usage_error(
        &["--reply-days", "100000000"],
        "--reply-days",
        "应为 1 至 365 之间的整数",
    );
}

#[test]
fn negative_reply_days_is_a_usage_error() {
    status_usage_error(&["--reply-days=-3"], "--reply-days", "应为 1 至 365 之间的整数");
}

#[test]
fn first_number_i64_max_is_a_usage_error() {
    status_usage_error(
        &["--first-number", "9223372036854775807"],
        "--first-number",
        "应为 1 至 99999 之间的整数",
    );
}

// --- 6. output names that collide -----------------------------------------------------

/// Asserts that a PDF and a DOCX are whole.
fn assert_whole(pdf: &Path, docx: &Path) {
    let bytes = std::fs::read(pdf).unwrap_or_else(|e| panic!("{pdf:?}: {e}"));
    assert!(bytes.starts_with(b"%PDF-"), "{pdf:?}");
    assert!(bytes.trim_ascii_end().ends_with(b"%%EOF"), "{pdf:?} is cut short");
    let bytes = std::fs::read(docx).unwrap_or_else(|e| panic!("{docx:?}: {e}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .unwrap_or_else(|e| panic!("{docx:?} is not a zip: {e}"));
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.trim_end().ends_with("</w:document>"), "{docx:?}");
}

const NAME: &str = "夏邑县创建示范县工作推进方案";

#[test]
fn build_all_keeps_same_named_cases_apart() {
    let tmp = tempfile::tempdir().unwrap();
    for group in ["甲", "乙"] {
        let dir = tmp.path().join("总").join(group).join("某县");
        std::fs::create_dir_all(&dir).unwrap();
        write_example(&dir);
    }
    let out = tmp.path().join("成品");
    let before = snapshot(tmp.path(), &[&out]);
    let run = gongwen(tmp.path(), &["build", "--all", "总", "--out", "成品"]);
    assert_untouched(&before, tmp.path(), &[&out]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for group in ["甲", "乙"] {
        let dir = out.join(group).join("某县");
        assert_whole(&dir.join(format!("{NAME}.pdf")), &dir.join(format!("{NAME}.docx")));
    }
    let docs = documents(&out);
    assert_eq!(docs.len(), 4, "{docs:?}");
}

/// The PDF and DOCX files under `dir`, relative to it.
fn documents(dir: &Path) -> Vec<String> {
    walk_files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".pdf") || f.ends_with(".docx"))
        .collect()
}

fn walk_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// A case whose unit registry holds `a` and `b`, its indicators assigned to them
/// in turn.
fn units_case(a: &str, b: &str) -> Sandbox {
    let s = Sandbox::new();
    let lit = |n: &str| toml::Value::String(n.to_string()).to_string();
    std::fs::write(
        s.case().join("单位.toml"),
        format!(
            "[[\"单位\"]]\n\"名称\" = {}\n\"类别\" = \"县直单位\"\n\n[[\"单位\"]]\n\"名称\" = {}\n\"类别\" = \"县直单位\"\n",
            lit(a),
            lit(b)
        ),
    )
    .unwrap();
    let mut turn = 0;
    let data: String = s
        .read("指标.toml")
        .lines()
        .map(|l| {
            if l.starts_with("\"责任单位\"") {
                turn += 1;
                format!("\"责任单位\" = {}\n", lit(if turn % 2 == 1 { a } else { b }))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(s.case().join("指标.toml"), data).unwrap();
    s.edit(
        "case.toml",
        "\"指标\" = \"指标.toml\"",
        "\"指标\" = \"指标.toml\"\n\"单位\" = \"单位.toml\"",
    );
    s
}

#[test]
fn units_whose_file_names_collide_are_an_error() {
    // '/' separates units in a cell, so two characters a file name cannot hold
    let s = units_case("县委*办", "县委:办");
    let run = s.run(&["units", "."]);
    assert_refused(&run, 1, &["县委_办.pdf: 错误：两个输出文件同名，后一个会覆盖前一个"]);
    let written = documents(&s.out());
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn a_unit_named_like_the_summary_is_an_error() {
    let s = units_case("各单位任务汇总表", "县司法局");
    let run = s.run(&["units", "."]);
    assert_refused(
        &run,
        1,
        &["各单位任务汇总表.pdf: 错误：两个输出文件同名，后一个会覆盖前一个"],
    );
    let written = documents(&s.out());
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn concurrent_builds_into_one_folder_leave_whole_files() {
    let s = Sandbox::new();
    let out = s.out();
    let before = snapshot(&s.root(), &[&out]);
    for round in 0..10 {
        let a = spawn(&s.case(), &["build", "."], &[]);
        let b = spawn(&s.case(), &["build", "."], &[]);
        let (a, b) = (a.finish(), b.finish());
        assert_eq!(a.code, Some(0), "round {round}: {}", a.stderr);
        assert_eq!(b.code, Some(0), "round {round}: {}", b.stderr);
        assert_whole(&out.join(format!("{NAME}.pdf")), &out.join(format!("{NAME}.docx")));
        let visible: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(visible.len(), 2, "round {round}: {visible:?}");
    }
    assert_untouched(&before, &s.root(), &[&out]);
}

// --- 7. hostile output names ------------------------------------------------------------

fn output_name_refused(name: &str, message: &str) {
    let s = Sandbox::new();
    let lit = toml::Value::String(name.to_string()).to_string();
    s.edit(
        "case.toml",
        &format!("\"输出名\" = \"{NAME}\""),
        &format!("\"输出名\" = {lit}"),
    );
    let loc = s.loc("case.toml", &lit);
    let run = s.run(&["build", "."]);
    assert_located(&run, &loc, message, &s);
    assert!(run.stderr.contains("输出名"), "{}", run.stderr);
}

#[test]
fn an_empty_output_name_is_refused() {
    output_name_refused("", "输出名\"\"为空");
}

#[test]
fn a_dot_output_name_is_refused() {
    output_name_refused(".", "不能以点或空格结尾");
}

#[test]
fn a_dot_dot_output_name_is_refused() {
    output_name_refused("..", "不能以点或空格结尾");
}

#[test]
fn a_windows_device_output_name_is_refused() {
    output_name_refused("CON", "是 Windows 保留的设备名");
}

#[test]
fn a_bidi_override_in_the_output_name_is_refused() {
    output_name_refused("方案\u{202E}fdp.exe", "含有不能用于文件名的字符 U+202E");
}

#[test]
fn a_251_character_output_name_is_refused() {
    output_name_refused(&"长".repeat(251), "过长（753 字节，最多 200）");
}

// --- 8. init, check -----------------------------------------------------------------------

#[test]
fn init_does_not_overwrite_indicators() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("案卷");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("指标.toml"), "# 我的数据\n").unwrap();
    let before = snapshot(tmp.path(), &[]);
    let run = gongwen(tmp.path(), &["init", "案卷"]);
    assert_untouched(&before, tmp.path(), &[]);
    assert_refused(&run, 1, &["案卷: 错误：", "已有 指标.toml，不覆盖任何文件"]);
}

#[test]
fn check_rejects_a_truncated_seal() {
    let s = Sandbox::new();
    let mut bytes = small_png();
    bytes.truncate(40);
    std::fs::write(s.case().join("印章.png"), bytes).unwrap();
    s.seal("印章.png");
    let loc = s.loc("case.toml", "\"印章.png\"");
    let run = s.run(&["check", "."]);
    assert_located(&run, &loc, "PNG 图片已损坏", &s);
}

#[test]
fn check_rejects_a_seal_at_an_absolute_path() {
    let s = Sandbox::new();
    let outside = s.root().join("seal.png");
    std::fs::write(&outside, small_png()).unwrap();
    s.seal(outside.to_str().unwrap());
    let loc = s.loc("case.toml", &format!("\"{}\"", outside.display()));
    let run = s.run(&["check", "."]);
    assert_located(&run, &loc, "文件路径不能是绝对路径", &s);
}

#[test]
fn check_rejects_an_overlong_output_name() {
    let s = Sandbox::new();
    let lit = format!("\"{}\"", "长".repeat(251));
    s.edit(
        "case.toml",
        &format!("\"输出名\" = \"{NAME}\""),
        &format!("\"输出名\" = {lit}"),
    );
    let loc = s.loc("case.toml", &lit);
    let run = s.run(&["check", "."]);
    assert_located(&run, &loc, "过长（753 字节，最多 200）", &s);
}

// --- 9. tables ----------------------------------------------------------------------------

#[test]
fn column_widths_wider_than_the_page_are_an_error() {
    let s = Sandbox::new();
    s.edit(
        "case.toml",
        "\"横排\" = true",
        "\"横排\" = true\n\"列\" = [\"序号\", \"三级指标\", \"填报材料\", \"责任单位\"]\n\"列宽\" = [\"100\", \"100\", \"100\", \"100\"]",
    );
    let loc = s.loc("case.toml", "[\"100\"");
    let line = loc.rsplit_once(':').unwrap().0.to_string();
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &[&format!("{line}:"), "列宽"]);
    assert!(!s.out().exists());
}

#[test]
fn a_horizontal_merge_in_a_data_row_is_located() {
    let s = Sandbox::new();
    let mut wb = indicator_workbook();
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_number(2, 0, 2.0).unwrap();
    ws.write_string(2, 1, "指标二").unwrap();
    ws.merge_range(2, 2, 2, 3, "材料二", &rust_xlsxwriter::Format::new()).unwrap();
    wb.save(s.case().join("指标.xlsx")).unwrap();
    s.indicators("指标.xlsx");
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["指标.xlsx › 任务表!C3: 错误：", "C3:D3", "横向合并"]);
    assert!(!s.out().exists());
}

/// A workbook of `rows` indicators on sheet 任务表, each with `text` as its
/// 三级指标 (one shared string, so the file stays small).
fn long_workbook(path: &Path, rows: usize, text: &str) {
    let mut xml = format!(
        "<row r=\"1\">{}{}{}{}</row>",
        inline("A1", "序号"),
        inline("B1", "三级指标"),
        inline("C1", "填报材料"),
        inline("D1", "责任单位")
    );
    for r in 2..rows + 2 {
        xml.push_str(&format!(
            "<row r=\"{r}\"><c r=\"A{r}\"><v>{}</v></c><c r=\"B{r}\" t=\"s\"><v>0</v></c>{}{}</row>",
            r - 1,
            inline(&format!("C{r}"), "材料"),
            inline(&format!("D{r}"), "——"),
        ));
    }
    hand_xlsx(path, &xml, &[text]);
}

#[test]
fn a_document_over_2000_pages_is_refused_before_layout() {
    let s = Sandbox::new();
    // 9,999 rows (and the header: the loader's bound) of 2,000 characters each
    let path = s.case().join("指标.xlsx");
    long_workbook(&path, 9_999, &"长".repeat(2_000));
    assert!(std::fs::metadata(&path).unwrap().len() < 1024 * 1024, "deflated");
    s.indicators("指标.xlsx");
    let started = Instant::now();
    let run = s.run(&["build", "."]);
    assert_refused(&run, 1, &["页，超过 2000 页的上限", "共 9999 行", "拆分"]);
    assert!(run.stderr.contains("至少有"), "refused before layout: {}", run.stderr);
    assert!(!s.out().exists());
    // check refuses it as build does
    let check = s.run(&["check", "."]);
    assert_refused(&check, 1, &["至少有", "页，超过 2000 页的上限"]);
    assert!(started.elapsed() < WATCHDOG);
}
