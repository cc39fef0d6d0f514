//! Robustness: arbitrary text in every kind of field, arbitrary bytes as input
//! files, and builds killed halfway.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use gongwen::case::CaseDir;
use gongwen::diag::Location;
use gongwen::pipeline;

use crate::common::*;

/// Text that mixes Typst markup, XML specials, control characters, bidi marks,
/// emoji, rare CJK and ordinary Chinese.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("#set page(width: 1cm)".to_string()),
        Just(
            "*粗* _斜_ `代码` $x^2$ @引用 <标签> [方括号] \\ \" ' ~ = - + /".to_string()
        ),
        Just("<w:t>&amp;</w:t>]]><![CDATA[".to_string()),
        Just("\u{202E}倒序\u{202C}\u{200F}\u{2066}".to_string()),
        Just("😀🎉".to_string()),
        Just("𠀀𪚥".to_string()),
        Just("{{ 县名 }}{% if %}".to_string()),
        Just("\u{7}\u{1b}[31m".to_string()),
        "[\u{4e00}-\u{9fa5}，。、：；（）《》“”]{0,40}",
        "[ -~]{0,20}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(pieces, 1..5).prop_map(|v| v.concat())
}

/// Puts `text` into the example's body paragraph, an addressee, a 抄送 unit and
/// an indicator cell, and builds it.
fn build_with(text: &str) -> Result<(String, String), Vec<gongwen::diag::Diagnostic>> {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let lit = toml::Value::String(text.to_string()).to_string();
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    let case = case
        .replacen("\"正文\" = [", &format!("\"正文\" = [{lit}, "), 1)
        .replacen("\"主送\" = [", &format!("\"主送\" = [{lit}, "), 1)
        .replacen("\"抄送\" = [", &format!("\"抄送\" = [{lit}, "), 1);
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let data = std::fs::read_to_string(dir.path().join("指标.toml")).unwrap();
    std::fs::write(
        dir.path().join("指标.toml"),
        data.replacen("\"责任单位\" = \"已完成\"", &format!("\"责任单位\" = {lit}"), 1),
    )
    .unwrap();
    let s = settings();
    let c = pipeline::compose_dir(&CaseDir::Disk(dir.path().to_path_buf()), &s)?;
    let r = pipeline::render(&c, &s)?;
    let docx: String =
        docx_paragraphs(r.docx.as_ref().unwrap()).iter().map(|p| normalize(p)).collect();
    Ok((pdf_text(&r), docx))
}

#[test]
fn arbitrary_text_prints_literally_or_gives_a_located_error() {
    let cases = 48;
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let printed = std::cell::Cell::new(0);
    let refused = std::cell::Cell::new(0);
    let result = runner.run(&nasty_text(), |text| {
        match build_with(&text) {
            Ok((pdf, docx)) => {
                printed.set(printed.get() + 1);
                // what reaches the page is the text itself, in both formats
                let want = normalize(&text);
                prop_assert!(pdf.contains(&want), "PDF lacks {:?}", text);
                prop_assert!(docx.contains(&want), "DOCX lacks {:?}", text);
            }
            Err(diags) => {
                refused.set(refused.get() + 1);
                prop_assert!(!diags.is_empty());
                for d in &diags {
                    prop_assert!(d.location != Location::None, "unlocated: {d}");
                }
            }
        }
        Ok(())
    });
    result.unwrap();
    // both outcomes occur: plain text prints, emoji and control characters are refused
    let (printed, refused) = (printed.get(), refused.get());
    eprintln!(
        "arbitrary text: {cases} cases, {printed} printed, {refused} refused with located errors"
    );
    assert!(printed > 0 && refused > 0, "{printed} printed, {refused} refused");
}

#[test]
fn arbitrary_bytes_as_case_file_and_workbook_never_panic() {
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..2000), |bytes| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("case.toml"), &bytes).unwrap();
            let r = pipeline::compose_dir(
                &CaseDir::Disk(dir.path().to_path_buf()),
                &settings(),
            );
            prop_assert!(r.is_err());
            let wb = dir.path().join("表.xlsx");
            // a zip header makes the bytes look like a workbook for longer
            let mut z = b"PK\x03\x04".to_vec();
            z.extend(&bytes);
            std::fs::write(&wb, &z).unwrap();
            prop_assert!(
                gongwen::case::workbook::read_sheet(&wb, "表.xlsx", None).is_err()
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn huge_cells_and_deep_nesting_are_refused_with_messages() {
    let long = "很".repeat(25_000);
    let errs = build_with(&long).unwrap_err();
    assert!(
        errs.iter().any(|d| d.message.contains("文字过长（25000 字，上限 20000 字）")),
        "{errs:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    let deep = "\n[[\"方案\".\"章\"]]\n\"标题\" = \"甲\"\n[[\"方案\".\"章\".\"节\"]]\n\"标题\" = \"乙\"\n[[\"方案\".\"章\".\"节\".\"条\"]]\n\"标题\" = \"丙\"\n[[\"方案\".\"章\".\"节\".\"条\".\"款\"]]\n\"标题\" = \"丁\"\n[[\"方案\".\"章\".\"节\".\"条\".\"款\".\"款\"]]\n\"标题\" = \"戊\"\n";
    let case =
        case.replacen("\n[[\"创建步骤\"]]", &format!("{deep}\n[[\"创建步骤\"]]"), 1);
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let Err(errs) =
        pipeline::compose_dir(&CaseDir::Disk(dir.path().to_path_buf()), &settings())
    else {
        panic!("five heading levels were accepted")
    };
    assert!(errs.iter().any(|d| d.message.contains("章节层级过深")), "{errs:?}");
}

#[test]
fn killed_build_keeps_previous_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("案卷");
    gongwen::bench::write_case(&case, Some(600), 0).unwrap();
    let build = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gongwen"));
        c.args(["build"])
            .arg(&case)
            .args(["--out", "out", "--ignore-system-fonts", "--date", "2023-08-31"])
            .current_dir(dir.path());
        c
    };
    assert!(build().output().unwrap().status.success());
    let pdf = dir.path().join("out/夏邑县创建示范县工作推进方案.pdf");
    let docx = dir.path().join("out/夏邑县创建示范县工作推进方案.docx");
    let (pdf0, docx0) = (std::fs::read(&pdf).unwrap(), std::fs::read(&docx).unwrap());
    for delay_ms in [20, 80, 200, 400, 600, 800] {
        let mut child = build().stdout(std::process::Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // same input: whatever was written is whole and identical to before
        assert_eq!(
            std::fs::read(&pdf).unwrap(),
            pdf0,
            "PDF changed after a kill at {delay_ms} ms"
        );
        assert_eq!(
            std::fs::read(&docx).unwrap(),
            docx0,
            "DOCX changed after a kill at {delay_ms} ms"
        );
    }
    // the next build clears temporaries a killed run may have left
    assert!(build().output().unwrap().status.success());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    assert!(Path::new(&pdf).exists());
}

/// One random cell: (row, column, kind, text or number).
fn cell() -> impl Strategy<Value = (u32, u16, u8, String, f64)> {
    (0u32..40, 0u16..12, 0u8..5, "[一-龥0-9加分项注：（）、\n ]{0,12}", -1.0e6f64..1.0e6)
}

/// Workbooks with random cells of every type, random merges (vertical,
/// horizontal, overlapping the header, spanning the whole width) and a random
/// far cell that stretches the sheet's dimensions: reading them never panics
/// and never hangs; it gives indicators or located errors.
#[test]
fn random_workbooks_with_merges_and_dimensions_never_panic() {
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(cell(), 0..60),
        proptest::collection::vec((0u32..40, 0u16..12, 0u32..6, 0u16..8), 0..8),
        proptest::option::of((0u32..20_000, 0u16..400)),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(cells, merges, far, header)| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("表.xlsx");
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            if header {
                for (c, h) in
                    ["序号", "三级指标", "责任单位", "填报材料"].iter().enumerate()
                {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
            }
            for (r, c, kind, text, num) in &cells {
                let r = r + u32::from(header);
                let _ = match kind {
                    0 => ws.write_string(r, *c, text).map(|_| ()),
                    1 => ws.write_number(r, *c, *num).map(|_| ()),
                    2 => ws.write_boolean(r, *c, *num > 0.0).map(|_| ()),
                    3 => ws.write_formula(r, *c, "=1+1").map(|_| ()),
                    _ => ws
                        .write_string(
                            r,
                            *c,
                            format!("加分项{}", (*num as i64).rem_euclid(5)),
                        )
                        .map(|_| ()),
                };
            }
            let fmt = rust_xlsxwriter::Format::new();
            let mut covered = std::collections::HashSet::new();
            for (r, c, h, w) in &merges {
                // the writer refuses overlapping and one-cell merges (and leaves
                // itself broken after a refusal): only clean ones are written
                let cells: Vec<(u32, u16)> = (*r..=r + h)
                    .flat_map(|rr| (*c..=c + w).map(move |cc| (rr, cc)))
                    .collect();
                if cells.len() < 2 || cells.iter().any(|x| covered.contains(x)) {
                    continue;
                }
                if ws.merge_range(*r, *c, r + h, c + w, "合并", &fmt).is_ok() {
                    covered.extend(cells);
                }
            }
            if let Some((r, c)) = far {
                let _ = ws.write_string(r, c, "远");
            }
            if wb.save(&path).is_err() {
                return Ok(());
            }
            let read = gongwen::case::workbook::read_sheet(&path, "表.xlsx", None)
                .map_err(|d| vec![d])
                .and_then(|s| gongwen::case::workbook::read_indicators(&s));
            // errors, or the warnings of rows left out: each located
            let ds = match read {
                Err(ds) => {
                    prop_assert!(!ds.is_empty());
                    ds
                }
                Ok((_, warnings)) => warnings,
            };
            for d in &ds {
                prop_assert!(!d.message.is_empty());
                prop_assert!(d.location != Location::None, "{d}");
            }
            Ok(())
        })
        .unwrap();
}
