//! Score sheets: the seed's two sheets as data, every validation rule, the blank
//! sheets and entry workbook, and totals with ranks from a filled workbook.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::Workbook;

use gongwen::pipeline;
use gongwen::scores::{Points, load_scores, read_filled};

use crate::common::*;

fn seed_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/scores/打分表.toml")
}

#[test]
fn seed_sheets_add_up_to_their_full_score() {
    let s = load_scores(&seed_file()).unwrap();
    assert_eq!(s.sheets.len(), 2);
    assert_eq!(s.sheets[0].person, "县（区）党委主要负责人");
    assert_eq!(s.sheets[0].tasks().count(), 27);
    assert_eq!(s.sheets[1].tasks().count(), 30);
    for sheet in &s.sheets {
        let sum: Points = sheet.tasks().map(|(_, _, t)| t.points).sum();
        assert_eq!(sum, Points(1000), "{}", sheet.person);
        assert_eq!(sheet.full, Points(1000));
    }
    let first = s.sheets[0].tasks().next().unwrap().2;
    assert!(first.text.value.ends_with("（6分）"));
    assert_eq!(first.points, Points(60));
}

fn diagnostics(toml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("打分表.toml");
    std::fs::write(&p, toml).unwrap();
    load_scores(&p)
        .unwrap_err()
        .iter()
        .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
        .collect()
}

#[test]
fn every_validation_rule_names_sheet_row_and_numbers() {
    let ds = diagnostics(
        r#"[["打分表"]]
"标题" = "打分表"
"责任人" = "县政府主要负责人"
"满分" = "10"
[["打分表"."职责"]]
"名称" = "履职"
[["打分表"."职责"."任务"]]
"内容" = "听取汇报。（6分）"
"分值" = "5"
[["打分表"."职责"."任务"]]
"内容" = "研究问题。"
"分值" = "1.25"
[["打分表"."职责"."任务"]]
"内容" = "没有分值。"
[["打分表"."职责"]]
"名称" = "空职责"
"#,
    );
    let expected = [
        "DIR/打分表.toml:9:8: 错误：任务\"听取汇报。（6分）\"文中写 6 分，分值栏为 5 分",
        "DIR/打分表.toml:12:8: 错误：无法识别的分值\"1.25\"（应为 0.5 分的整数倍）",
        "DIR/打分表.toml:13:1: 错误：任务\"没有分值。\"没有分值",
        "DIR/打分表.toml:15:1: 错误：主要职责\"空职责\"下没有任务",
        "DIR/打分表.toml:1:1: 错误：打分表\"县政府主要负责人\"各项分值合计 5 分，与满分 10 分不符",
    ];
    for e in expected {
        assert!(ds.iter().any(|d| d == e), "missing\n{e}\nin\n{}", ds.join("\n"));
    }
}

#[test]
fn blank_sheets_and_entry_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let written =
        pipeline::build_scores(&seed_file(), None, &[], dir.path(), &settings()).unwrap();
    assert_eq!(written.files.len(), 3);
    let docx = std::fs::read(dir.path().join("督察情况打分表.docx")).unwrap();
    let xml = document_xml(&docx);
    assert!(
        xml.contains(r#"<w:vMerge w:val="restart" />"#),
        "主要职责 is merged over its tasks"
    );
    let text: String = docx_paragraphs(&docx).iter().map(|p| normalize(p)).collect();
    assert!(text.contains("责任人：县（区）党委主要负责人"));
    assert!(text.contains("合计100"));
    assert!(text.contains(&normalize("督察人员签字：")));
    // the entry workbook: one row per task, one column per unit, totals by formula
    let sheet = gongwen::case::workbook::read_sheet_raw(
        &dir.path().join("打分录入.xlsx"),
        "打分录入.xlsx",
        Some("打分录入"),
    )
    .unwrap();
    assert_eq!(&sheet.cells[0][..5], ["打分表", "序号", "工作任务", "满分", "华龙区"]);
    assert_eq!(sheet.cells[1][3], "6");
    let task_rows = sheet.cells.iter().filter(|r| r[1].parse::<u32>().is_ok()).count();
    assert_eq!(task_rows, 57);
    let xlsx = std::fs::read(dir.path().join("打分录入.xlsx")).unwrap();
    let ws = zip_part(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(ws.contains("<f>SUM(E2:E28)</f>"), "total formula for the first sheet");
    // dated the run's date, not the clock's: the same input gives the same bytes
    let core = zip_part(&xlsx, "docProps/core.xml");
    assert!(core.contains(">2023-08-31T00:00:00Z</dcterms:created>"), "{core}");
}

/// Writes a filled entry workbook for the seed's sheets: `score(unit, sheet, task)`.
fn write_filled(
    path: &Path,
    units: &[&str],
    score: impl Fn(usize, usize, usize, f64) -> Option<String>,
    skip_row: Option<(usize, usize)>,
) {
    let s = load_scores(&seed_file()).unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("打分录入").unwrap();
    for (c, h) in ["打分表", "序号", "工作任务", "满分"].iter().chain(units).enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let mut r = 1;
    for (si, sheet) in s.sheets.iter().enumerate() {
        for (n, _, task) in sheet.tasks() {
            if skip_row == Some((si, n)) {
                continue;
            }
            let max = f64::from(task.points.0) / 10.0;
            ws.write_string(r, 0, &sheet.person).unwrap();
            ws.write_number(r, 1, n as f64).unwrap();
            ws.write_string(r, 2, &task.text.value).unwrap();
            ws.write_number(r, 3, max).unwrap();
            for (u, _) in units.iter().enumerate() {
                match score(u, si, n, max) {
                    Some(v) => match v.parse::<f64>() {
                        Ok(x) => ws.write_number(r, 4 + u as u16, x).unwrap(),
                        Err(_) => ws.write_string(r, 4 + u as u16, &v).unwrap(),
                    },
                    None => ws,
                };
            }
            r += 1;
        }
        r += 1;
    }
    wb.save(path).unwrap();
}

#[test]
fn totals_ranks_ties_and_blanks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("打分录入.xlsx");
    // 华龙区 loses 1.5 points, 清丰县 the same (a tie), 南乐县 leaves two tasks blank
    write_filled(
        &path,
        &["华龙区", "清丰县", "南乐县"],
        |u, s, n, max| match (u, s, n) {
            (0 | 1, 0, 1) => Some(format!("{}", max - 1.5)),
            (2, 1, 3 | 4) => None,
            _ => Some(format!("{max}")),
        },
        None,
    );
    let s = load_scores(&seed_file()).unwrap();
    let filled = read_filled(&path, &s).unwrap();
    let totals: Vec<(Points, bool)> = filled
        .iter()
        .map(|u| {
            let (a, ca) = u.total(0);
            let (b, cb) = u.total(1);
            (Points(a.0 + b.0), ca && cb)
        })
        .collect();
    assert_eq!(totals[0], (Points(1985), true));
    assert_eq!(totals[1], (Points(1985), true));
    let (blank_total, complete) = totals[2];
    assert!(!complete);
    let lost: u32 = s.sheets[1]
        .tasks()
        .filter(|(n, _, _)| *n == 3 || *n == 4)
        .map(|(_, _, t)| t.points.0)
        .sum();
    assert_eq!(
        blank_total,
        Points(2000 - lost),
        "blanks are not read as zero… nor as full marks"
    );
    assert_eq!(
        gongwen::scores::rank(&[totals[0].0, totals[1].0, totals[2].0]),
        [1, 1, 3]
    );
    // the report prints ranks, totals and 未评分
    let written =
        pipeline::build_scores(&seed_file(), Some(&path), &[], dir.path(), &settings())
            .unwrap();
    let docx = std::fs::read(
        written.files.iter().find(|p| p.extension().unwrap() == "docx").unwrap(),
    )
    .unwrap();
    let text: String = docx_paragraphs(&docx).iter().map(|p| normalize(p)).collect();
    assert!(text.contains("1华龙区198.5"), "{}", &text[..300.min(text.len())]);
    assert!(text.contains("1清丰县198.5"));
    assert!(text.contains("3南乐县"));
    assert!(text.contains("（未评完）"));
    assert!(text.contains("未评分"));
    assert!(text.contains("2项未评分"));
}

#[test]
fn bad_scores_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("打分录入.xlsx");
    write_filled(
        &path,
        &["华龙区", "清丰具"],
        |u, s, n, max| match (u, s, n) {
            (0, 0, 1) => Some(format!("{}", max + 1.0)),
            (0, 0, 2) => Some("-1".into()),
            (0, 0, 3) => Some("优".into()),
            _ => Some(format!("{max}")),
        },
        Some((1, 5)),
    );
    let s = load_scores(&seed_file()).unwrap();
    let errs: Vec<String> =
        read_filled(&path, &s).unwrap_err().iter().map(|d| d.to_string()).collect();
    let shown = path.display().to_string();
    let expected = [
        format!(
            "{shown} › 打分录入!F1: 错误：未登记的被督察单位\"清丰具\"\n  提示：是否为\"清丰县\"？"
        ),
        format!("{shown} › 打分录入!E2: 错误：华龙区第 1 项得分 7 超过该项分值 6"),
        format!("{shown} › 打分录入!E3: 错误：华龙区第 2 项得分为负数（-1）"),
        format!("{shown} › 打分录入!E4: 错误：华龙区第 3 项得分\"优\"不是数字"),
        format!(
            "{shown}: 错误：打分录入表中缺少\"县（区）政府主要负责人\"第 5 项（每年定期组织召开县（区）法治政府…）"
        ),
    ];
    for e in &expected {
        assert!(errs.contains(e), "missing\n{e}\nin\n{}", errs.join("\n"));
    }
}

#[test]
fn sheets_from_a_workbook() {
    use rust_xlsxwriter::Format;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("打分表.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("党委").unwrap();
    ws.write_string(0, 0, "党政主要负责人督察情况打分表").unwrap();
    ws.write_string(1, 0, "责任人：县（区）党委主要负责人").unwrap();
    for (c, h) in ["主要职责", "工作任务", "落实单位", "检查标准", "得分 (分)", "备注"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    ws.merge_range(3, 0, 4, 0, "1.发挥党委领导核心作用。", &Format::new()).unwrap();
    ws.write_string(3, 1, "1 听取法治建设工作汇报。（60分）").unwrap();
    ws.write_string(4, 1, "2 研究解决重大问题。(30分)").unwrap();
    ws.write_string(5, 0, "2.依法决策。").unwrap();
    ws.write_string(5, 1, "3 落实法律顾问制度。（10分）").unwrap();
    ws.write_string(5, 2, "县（区）委办公室").unwrap();
    wb.save(&path).unwrap();
    let s = load_scores(&path).unwrap();
    assert_eq!(s.sheets.len(), 1);
    let sheet = &s.sheets[0];
    assert_eq!(sheet.person, "县（区）党委主要负责人");
    assert_eq!(sheet.groups.len(), 2);
    assert_eq!(sheet.groups[0].tasks.len(), 2, "the merged 主要职责 covers both tasks");
    assert_eq!(sheet.groups[0].tasks[0].text.value, "听取法治建设工作汇报。（60分）");
    assert_eq!(sheet.groups[1].tasks[0].units, "县（区）委办公室");
    let written = pipeline::build_scores(
        &path,
        None,
        &["华龙区".into(), "清丰县".into()],
        dir.path(),
        &settings(),
    )
    .unwrap();
    assert_eq!(written.files.len(), 3);
}
