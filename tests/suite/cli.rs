//! The binary: exit codes, messages, files written (or not).

use std::path::Path;
use std::process::Command;

use crate::common::{docx_paragraphs, write_example};

fn gongwen(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gongwen"))
        .args(args)
        .args(if args[0] == "init" { &[][..] } else { &["--ignore-system-fonts"][..] })
        .current_dir(cwd)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap()
}

#[test]
fn build_without_input_writes_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = gongwen(&["build", "--date", "2023-08-31"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for ext in ["pdf", "docx"] {
        let p =
            dir.path().join("out").join(format!("夏邑县创建示范县工作推进方案.{ext}"));
        assert!(std::fs::metadata(&p).unwrap().len() > 10_000, "{p:?}");
    }
    let pdf =
        std::fs::read(dir.path().join("out/夏邑县创建示范县工作推进方案.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // no temporary files left behind
    let names: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().starts_with(".gongwen"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn init_then_build_a_case_folder_with_emitted_typst() {
    let dir = tempfile::tempdir().unwrap();
    let out = gongwen(&["init", "案卷"], dir.path());
    assert!(out.status.success());
    let out = gongwen(
        &[
            "build",
            "案卷",
            "--out",
            "成品",
            "--format",
            "pdf",
            "--date",
            "2023-08-31",
            "--emit-typst",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("成品/夏邑县创建示范县工作推进方案.pdf").exists());
    assert!(!dir.path().join("成品/夏邑县创建示范县工作推进方案.docx").exists());
    let main = std::fs::read_to_string(
        dir.path().join("成品/夏邑县创建示范县工作推进方案.typ.d/main.typ"),
    )
    .unwrap();
    assert!(main.starts_with("// 由 gongwen 生成"));
    assert!(main.contains("#import \"/gongwen.typ\": *"));
    // init refuses to overwrite
    let again = gongwen(&["init", "案卷"], dir.path());
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("已有 case.toml、指标.toml，不覆盖任何文件"), "{stderr}");
}

#[test]
fn bad_case_exits_1_and_keeps_previous_outputs() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let ok = gongwen(&["build", ".", "--date", "2023-08-31"], dir.path());
    assert!(ok.status.success());
    let pdf_path = dir.path().join("out/夏邑县创建示范县工作推进方案.pdf");
    let before = std::fs::read(&pdf_path).unwrap();
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    std::fs::write(
        dir.path().join("case.toml"),
        case.replace("\"年份\" = 2023", "\"年份\" = \"2023\"")
            .replace("\"盖章\" = false", "\"盖章\" = \"否\""),
    )
    .unwrap();
    let bad = gongwen(&["build", ".", "--date", "2023-08-31"], dir.path());
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert!(
        stderr.contains("case.toml:20:8: 错误：\"版头.年份\"应为整数，而不是文本"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "case.toml:29:8: 错误：\"通知.盖章\"应为布尔值（true 或 false），而不是文本"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("共 2 个错误，未写出任何文件"), "{stderr}");
    assert_eq!(std::fs::read(&pdf_path).unwrap(), before);
}

#[test]
fn check_reports_without_writing_and_fonts_lists_roles() {
    let dir = tempfile::tempdir().unwrap();
    let out = gongwen(&["check"], dir.path());
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("检查通过：夏邑县创建示范县工作推进方案")
    );
    assert!(!dir.path().join("out").exists());
    let fonts = gongwen(&["fonts"], dir.path());
    let text = String::from_utf8(fonts.stdout).unwrap();
    assert!(
        text.contains("仿宋：FandolFang R（免费替代字体；DOCX 中写作 仿宋_GB2312）"),
        "{text}"
    );
    assert!(text.contains("小标宋：FandolSong（粗）"), "{text}");
}

#[test]
fn source_date_epoch_fixes_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let run = |sub: &str| {
        Command::new(env!("CARGO_BIN_EXE_gongwen"))
            .args(["build", "--ignore-system-fonts", "--out", sub])
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", "1693440000")
            .output()
            .unwrap()
    };
    assert!(run("a").status.success());
    assert!(run("b").status.success());
    for ext in ["pdf", "docx"] {
        let name = format!("夏邑县创建示范县工作推进方案.{ext}");
        assert_eq!(
            std::fs::read(dir.path().join("a").join(&name)).unwrap(),
            std::fs::read(dir.path().join("b").join(&name)).unwrap()
        );
    }
}

#[test]
fn init_from_catalogues() {
    for (name, annex) in [("全国2021", "一级指标"), ("河南2023", "填报材料")]
    {
        let dir = tempfile::tempdir().unwrap();
        let out = gongwen(&["init", "案卷", "--catalog", name], dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let case = gongwen::case::load_case(&gongwen::case::CaseDir::Disk(
            dir.path().join("案卷"),
        ))
        .unwrap();
        // 100 numbered indicators, none empty, then the 附加项
        let main: Vec<_> = case
            .indicators
            .iter()
            .filter(|i| i.kind == gongwen::model::IndicatorKind::Main)
            .collect();
        assert_eq!(main.len(), 100, "{name}");
        assert!(main.iter().enumerate().all(
            |(i, ind)| ind.seq as usize == i + 1 && !ind.text.value.trim().is_empty()
        ));
        assert_eq!(case.indicators.len(), 104);
        assert!(
            case.indicators.iter().all(|i| i.units.value.is_empty()),
            "units are left to assign"
        );
        let toml = std::fs::read_to_string(dir.path().join("案卷/case.toml")).unwrap();
        let cols = if name == "全国2021" { "任务分解" } else { "责任清单" };
        assert!(toml.contains(&format!("\"类型\" = \"{cols}\"")), "{name}");
        let _ = annex;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = gongwen(&["init", "x", "--catalog", "火星2030"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("可用：全国2021、河南2023"));
}

/// Kills the watched child however the test ends, so no process outlives it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `gongwen build --watch` run: every line it prints comes on standard error
/// (one stream, so the order is the order printed), read by one thread.
struct Watch {
    child: KillOnDrop,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watch {
    fn start(dir: &Path, extra: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_gongwen"))
                .args(["build", ".", "--watch", "--ignore-system-fonts"])
                .args(["--date", "2023-08-31", "--format", "docx"])
                .args(extra)
                .current_dir(dir)
                .env_remove("SOURCE_DATE_EPOCH")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stderr = child.0.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line containing `needle`; every line passed over must not
    /// contain any of `unwanted`. A generous watchdog: a busy machine may take
    /// long over a build, and only a hang should fail the test.
    fn wait_for(&self, needle: &str, unwanted: &[&str]) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => {
                    for u in unwanted {
                        assert!(
                            !line.contains(u),
                            "unexpected {u:?} before {needle:?}: {line}"
                        );
                    }
                }
                Err(e) => panic!("no line with {needle:?} from the watch ({e})"),
            }
        }
    }

    /// Lines printed within `wait` (to show that nothing happens).
    fn lines_within(&self, wait: std::time::Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + wait;
        let mut lines = Vec::new();
        while let Ok(l) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            lines.push(l);
        }
        lines
    }

    /// Ctrl-C: the watch ends cleanly.
    fn stop(mut self) {
        let pid = self.child.0.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        self.wait_for("已停止监视", &["panicked"]);
        assert!(self.child.0.wait().unwrap().success());
    }
}

/// Replaces a file with a new text of another size and a later modification
/// time, so that any way of noticing a change notices it.
fn edit(path: &Path, text: &str) {
    let old = std::fs::metadata(path).unwrap();
    assert_ne!(old.len(), text.len() as u64, "the edit must change the size");
    std::fs::write(path, text).unwrap();
    let later = old.modified().unwrap() + std::time::Duration::from_secs(5);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(later).unwrap();
}

#[test]
fn watch_rebuilds_when_an_input_changes_and_keeps_the_last_good_output() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let watch = Watch::start(dir.path(), &[]);
    // the first build is written before the watch says it is ready
    watch.wait_for("已写出", &["错误"]);
    watch.wait_for("正在监视", &["错误"]);
    let docx = dir.path().join("out/夏邑县创建示范县工作推进方案.docx");
    let first = std::fs::read(&docx).unwrap();
    // a changed 责任单位 shows in the output
    let data = std::fs::read_to_string(dir.path().join("指标.toml")).unwrap();
    let changed =
        data.replacen("\"责任单位\" = \"已完成\"", "\"责任单位\" = \"县委办公室\"", 1);
    edit(&dir.path().join("指标.toml"), &changed);
    let line = watch.wait_for("有改动", &[]);
    assert!(line.contains("指标.toml"), "{line}");
    let done = watch.wait_for("完成", &["错误"]);
    assert!(done.contains("用时"), "{done}");
    let second = std::fs::read(&docx).unwrap();
    assert_ne!(first, second);
    assert!(docx_paragraphs(&second).iter().any(|p| p == "县委办公室"));
    // a half-saved file: errors, and the last good output stays
    edit(&dir.path().join("case.toml"), "[\"版头\"\n");
    watch.wait_for("有改动", &[]);
    watch.wait_for("未写出任何文件", &["完成"]);
    assert_eq!(std::fs::read(&docx).unwrap(), second);
    watch.stop();
}

#[test]
fn watch_with_the_case_folder_as_output_rebuilds_on_edits_only() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let watch = Watch::start(dir.path(), &["--out", ".", "--emit-typst"]);
    watch.wait_for("正在监视", &["错误"]);
    let docx = dir.path().join("夏邑县创建示范县工作推进方案.docx");
    assert!(docx.is_file());
    // its own files are not edits: no rebuild, no loop
    let quiet = watch.lines_within(std::time::Duration::from_secs(2));
    assert!(quiet.is_empty(), "{quiet:?}");
    let data = std::fs::read_to_string(dir.path().join("指标.toml")).unwrap();
    edit(
        &dir.path().join("指标.toml"),
        &data.replacen("\"责任单位\" = \"已完成\"", "\"责任单位\" = \"县委办公室\"", 1),
    );
    let line = watch.wait_for("有改动", &[]);
    assert!(!line.contains(".docx") && !line.contains(".typ"), "{line}");
    watch.wait_for("完成", &["错误"]);
    assert!(
        docx_paragraphs(&std::fs::read(&docx).unwrap()).iter().any(|p| p == "县委办公室")
    );
    let quiet = watch.lines_within(std::time::Duration::from_secs(2));
    assert!(quiet.is_empty(), "{quiet:?}");
    watch.stop();
}

#[test]
fn batch_builds_every_case_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        gongwen::bench::write_case(&dir.path().join(format!("县{i}")), None, i + 1)
            .unwrap();
    }
    // one broken case: the others are still written, the exit code says so
    std::fs::write(dir.path().join("县1/case.toml"), "[\"版头\"\n").unwrap();
    let out = gongwen(
        &["build", "--all", ".", "--out", "成品", "--date", "2023-08-31"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("共 3 个案卷：成功 2，失败 1"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("个错误"), "{stderr}");
    for ok in ["县0", "县2"] {
        let files: Vec<_> = std::fs::read_dir(dir.path().join("成品").join(ok))
            .unwrap()
            .filter(|e| {
                !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')
            })
            .collect();
        assert_eq!(files.len(), 2, "{ok}");
    }
    assert!(!dir.path().join("成品/县1").exists());
}

#[test]
fn diff_a_case_against_its_last_build() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let ok =
        gongwen(&["build", ".", "--date", "2023-08-31", "--format", "docx"], dir.path());
    assert!(ok.status.success());
    assert!(
        dir.path().join("out/.gongwen/夏邑县创建示范县工作推进方案.指标.toml").is_file()
    );
    // reassign one indicator, then ask what changed since the build
    let data = std::fs::read_to_string(dir.path().join("指标.toml")).unwrap();
    std::fs::write(
        dir.path().join("指标.toml"),
        data.replacen("\"责任单位\" = \"已完成\"", "\"责任单位\" = \"县司法局\"", 1),
    )
    .unwrap();
    let out = gongwen(&["diff", ".", "--date", "2023-09-15"], dir.path());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("第 1 项：增加 县司法局"), "{stdout}");
    assert!(stdout.contains("共 1 项指标的责任单位有调整"));
    assert!(dir.path().join("out/责任调整对照表.docx").is_file());
}

#[test]
fn same_folder_names_in_different_parents_are_written_apart() {
    let dir = tempfile::tempdir().unwrap();
    for (i, parent) in ["甲", "乙"].iter().enumerate() {
        gongwen::bench::write_case(&dir.path().join(parent).join("某县"), None, i + 1)
            .unwrap();
    }
    let outputs = |out: &str| -> Vec<String> {
        let mut names = Vec::new();
        for parent in ["甲", "乙"] {
            let d = dir.path().join(out).join(parent).join("某县");
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{d:?}: {e}")) {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    names.push(format!("{parent}/{name}"));
                }
            }
        }
        names.sort();
        names
    };
    let all = gongwen(
        &[
            "build",
            "--all",
            ".",
            "--out",
            "全部",
            "--date",
            "2023-08-31",
            "--format",
            "docx",
        ],
        dir.path(),
    );
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(stdout.contains("共 2 个案卷：成功 2，失败 0"), "{stdout}");
    assert_eq!(outputs("全部").len(), 2, "{:?}", outputs("全部"));
    let listed = gongwen(
        &["build", "甲/某县", "乙/某县", "--out", "列出", "--date", "2023-08-31"],
        dir.path(),
    );
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert_eq!(outputs("列出").len(), 4, "{:?}", outputs("列出"));
}

#[test]
fn exit_codes_say_success_bad_data_or_bad_command_line() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let ok = gongwen(&["check", "."], dir.path());
    assert_eq!(ok.status.code(), Some(0));
    std::fs::write(dir.path().join("case.toml"), "[\"版头\"\n").unwrap();
    let bad_data = gongwen(&["check", "."], dir.path());
    assert_eq!(bad_data.status.code(), Some(1));
    for args in [
        &["build", "--format", "pdf,odt"][..],
        &["build", "--date", "2023/08/31"],
        &["build", "--no-such-flag"],
        &["status", ".", "--as-of", "明天"],
        &["build", "--watch"],
        &["init", "x", "--catalog", "火星2030"],
    ] {
        let out = gongwen(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let out = gongwen(&["build", "--date", "2023/08/31"], dir.path());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("错误：无法识别 --date 2023/08/31（应写作 YYYY-MM-DD）")
    );
}

#[test]
fn dates_out_of_range_are_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let assert_refused = |out: std::process::Output, what: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("超出范围（年份应在 1900 至 9999 之间）"),
            "{what}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    };
    for date in ["+10000-01-01", "1899-12-31"] {
        assert_refused(gongwen(&["build", "--date", date], dir.path()), date);
    }
    assert_refused(
        gongwen(&["status", ".", "--as-of", "+10000-01-01"], dir.path()),
        "--as-of",
    );
    for epoch in ["253402300800", "-9223372036854775808"] {
        let out = Command::new(env!("CARGO_BIN_EXE_gongwen"))
            .args(["build", "--ignore-system-fonts"])
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", epoch)
            .output()
            .unwrap();
        assert_refused(out, epoch);
    }
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn numbers_out_of_range_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for arg in [
        "--reply-days=0",
        "--reply-days=-3",
        "--reply-days=366",
        "--reply-days=100000000",
        "--reply-days=9223372036854775807",
        "--first-number=0",
        "--first-number=100000",
        "--first-number=9223372036854775807",
    ] {
        let out = gongwen(&["status", ".", arg], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {stderr}");
        let flag = arg.split('=').next().unwrap();
        assert!(stderr.contains(flag), "{arg}: {stderr}");
        assert!(!stderr.contains("panicked"), "{arg}: {stderr}");
    }
    // the bounds themselves are taken
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progress");
    let out = gongwen(
        &[
            "status",
            fixture.to_str().unwrap(),
            "--as-of",
            "2024-04-10",
            "--reply-days",
            "365",
            "--first-number",
            "99999",
            "--out",
            "进度",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("已写出"));
}

#[test]
fn a_reader_that_goes_away_ends_the_printing_not_the_command() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // a reader that takes one line and closes (`gongwen fonts | head -1`)
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongwen"))
        .args(["fonts", "--ignore-system-fonts"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "各用途选用的字体：\n");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // a pipe closed before the first line: every write fails, and the commands
    // still end well (build still writes its files)
    for args in [&["fonts"][..], &["check"], &["build", "--format", "docx"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_gongwen"))
            .args(args)
            .args(["--ignore-system-fonts"])
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", "1693440000")
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    assert!(dir.path().join("out/夏邑县创建示范县工作推进方案.docx").is_file());
}

#[test]
fn init_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("案卷");
    std::fs::create_dir(&case).unwrap();
    std::fs::write(case.join("指标.toml"), "# 我的指标\n").unwrap();
    let out = gongwen(&["init", "案卷"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("已有 指标.toml，不覆盖任何文件"), "{stderr}");
    assert_eq!(std::fs::read_to_string(case.join("指标.toml")).unwrap(), "# 我的指标\n");
    assert!(!case.join("case.toml").exists());
}

#[test]
fn command_line_errors_are_chinese_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (&["build", "--no-such-flag"][..], "错误：没有选项 --no-such-flag"),
        (&["build", "--ouy", "x"], "  提示：是否要用 --out？"),
        (&["build", "--out"], "错误：--out 缺少值"),
        (
            &["status", ".", "--reply-days", "0"],
            "错误：--reply-days 的值\"0\"无效：超出范围，应为 1 至 365 之间的整数",
        ),
        (
            &["status", ".", "--first-number", "第一"],
            "错误：--first-number 的值\"第一\"无效：不是整数，应为 1 至 99999 之间的整数",
        ),
        (
            &["bench", "--runs", "99999999999999999999"],
            "错误：--runs 的值\"99999999999999999999\"无效：数值过大，应为 1 至 1000 之间的整数",
        ),
        (
            &["build", "--format", "pdf,odt"],
            "错误：--format 不接受值\"odt\"\n  提示：可选的值：pdf、docx",
        ),
        (&["biuld"], "错误：没有子命令 biuld\n  提示：是否要用 build？"),
        (&["status"], "错误：缺少必需的参数 <DIR>\n  提示：用法：gongwen status"),
        (&["init", "a", "b"], "错误：多余的参数 b"),
        (&["build", "--all", "x", "--watch"], "错误：--all 不能与 --watch 同时使用"),
        (&["build", "-o", "a", "-o", "b"], "错误：--out 只能给出一次"),
        (
            &["serve", "--listen", "本机"],
            "错误：--listen 的值\"本机\"无效：不是有效的监听地址，应写作 IP:端口，如 127.0.0.1:8080",
        ),
    ] {
        let out = gongwen(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stderr.contains("--help 查看全部选项"), "{args:?}: {stderr}");
        for english in
            ["error:", "tip:", "Usage:", "For more information", "invalid", "found"]
        {
            assert!(!stderr.contains(english), "{args:?}: {stderr}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // the hint names the subcommand whose options are wrong
    let out = gongwen(&["status", ".", "--reply-days", "0"], dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("运行 gongwen status --help"));
    // help and version are clap's, on standard output, exit code 0
    for args in [&["--help"][..], &["build", "--help"], &["-V"]] {
        let out =
            Command::new(env!("CARGO_BIN_EXE_gongwen")).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("gongwen"), "{args:?}: {stdout}");
        assert!(out.stderr.is_empty(), "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gongwen")).arg("--help").output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("生成公文：不给案卷文件夹时生成内置示例")
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn warnings_are_printed_and_the_build_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan-from-workbook");
    let fixture = fixture.to_str().unwrap();
    let note = "指标.xlsx › 任务分解!A11: 警告：说明行，未作为指标读入：\"注：第5至8项指标所称行政规范性文件";
    for args in [
        &["build", fixture, "--format", "pdf", "--date", "2024-03-05"][..],
        &["check", fixture],
    ] {
        let out = gongwen(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.contains(note), "{args:?}: {stderr}");
        assert!(stderr.contains("任务分解!A19: 警告：说明行"), "{args:?}: {stderr}");
        assert!(!stderr.contains("错误"), "{args:?}: {stderr}");
    }
    let check = gongwen(&["check", fixture], dir.path());
    assert!(String::from_utf8_lossy(&check.stdout).contains("2 个警告"));
    assert!(dir.path().join("out").read_dir().unwrap().count() > 0);
}
