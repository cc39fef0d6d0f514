//! Fixtures shaped like real office data: a plan generated from the office's own
//! 任务分解 workbook (one section per indicator, task lists a paragraph per task,
//! 附加项 after the main indicators, 注 rows skipped, 一级 merged over two 附加项
//! groups, every 时限 as written), and notices whose body ends 1, 2 or 3 lines
//! above the foot of the first page (the 署名 and 成文日期 never on a page
//! without body text, GB/T 9704 7.3.5). Expected text is read from the inputs
//! themselves (the workbook cell by cell, the case file), never from the tool.

use std::path::Path;

use calamine::{Reader, open_workbook_auto};
use rust_xlsxwriter::{Format, Workbook};

use gongwen::case::CaseDir;
use gongwen::doc::{Block, Table};
use gongwen::pipeline;

use crate::common::*;

/// The lines of a cell as the office typed them (line breaks in the cell).
fn cell_lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// One data row of the workbook, read cell by cell (merged 一级 / 二级 values
/// carried down from the first row of the merge).
#[derive(Debug, Clone)]
struct Row {
    /// 一级指标 (checked as merged cells in the breakdown table).
    level1: String,
    level2: String,
    /// The 序号 cell as written: `3`, `加分项1`.
    seq: String,
    text: String,
    units: String,
    tasks: String,
    deadline: String,
}

impl Row {
    /// A 附加项 (加分项1, 减分项1 …).
    fn is_extra(&self) -> bool {
        self.seq.parse::<u32>().is_err()
    }

    /// The label line the fixture's template writes.
    fn label(&self) -> String {
        if self.is_extra() {
            format!("{}：{}", self.seq, self.text)
        } else {
            format!("第{}项指标：{}", self.seq, self.text)
        }
    }

    /// Every paragraph the template gives for this indicator, in order.
    fn paragraphs(&self) -> Vec<String> {
        let mut p = vec![self.label(), "工作任务：".to_string()];
        p.extend(cell_lines(&self.tasks));
        p.push(format!("责任单位：{}", cell_lines(&self.units).join("、")));
        p.push(format!("完成时限：{}", self.deadline));
        p
    }
}

/// The rows and the 注 rows of the plan-from-workbook sheet, straight from the
/// cells.
fn workbook_rows() -> (Vec<Row>, Vec<String>) {
    let path = fixture_path("plan-from-workbook").join("指标.xlsx");
    let mut wb = open_workbook_auto(&path).unwrap();
    let range = wb.worksheet_range("任务分解").unwrap();
    assert_eq!(range.start(), Some((0, 0)));
    let rows: Vec<Vec<String>> =
        range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let header = rows.iter().position(|r| r.iter().any(|c| c == "三级指标")).unwrap();
    let col = |name: &str| rows[header].iter().position(|c| c == name).unwrap();
    let (c1, c2, cs, ct, cu, cw, cd) = (
        col("一级指标"),
        col("二级指标"),
        col("序号"),
        col("三级指标"),
        col("责任单位"),
        col("工作任务"),
        col("完成时限"),
    );
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let (mut l1, mut l2) = (String::new(), String::new());
    for r in &rows[header + 1..] {
        let get = |c: usize| r.get(c).cloned().unwrap_or_default();
        if get(cs).is_empty() {
            if get(0).starts_with("注：") {
                notes.push(get(0));
            }
            continue;
        }
        if !get(c1).is_empty() {
            l1 = get(c1);
        }
        if !get(c2).is_empty() {
            l2 = get(c2);
        }
        out.push(Row {
            level1: l1.clone(),
            level2: l2.clone(),
            seq: get(cs),
            text: get(ct),
            units: get(cu),
            tasks: get(cw),
            deadline: get(cd),
        });
    }
    (out, notes)
}

/// The rows in the order the plan prints them: main indicators, then 附加项.
fn plan_order(rows: &[Row]) -> Vec<Row> {
    let main = rows.iter().filter(|r| !r.is_extra());
    let extra = rows.iter().filter(|r| r.is_extra());
    main.chain(extra).cloned().collect()
}

/// The first table on the landscape pages of a document.
fn landscape_table(blocks: &[Block]) -> Table {
    blocks
        .iter()
        .find_map(|b| match b {
            Block::Landscape(inner) => inner.iter().find_map(|b| match b {
                Block::Table(t) => Some(t.clone()),
                _ => None,
            }),
            _ => None,
        })
        .expect("a table on landscape pages")
}

/// The case file as TOML (for what the stages say).
fn case_toml(name: &str) -> toml::Table {
    let text = std::fs::read_to_string(fixture_path(name).join("case.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

fn cn_number(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[n - 10]),
        _ => unreachable!("the fixture has fewer than 20 stages"),
    }
}

#[test]
fn plan_from_workbook_prints_every_indicator_and_task_line() {
    let (rows, notes) = workbook_rows();
    assert_eq!(rows.len(), 15, "12 main indicators and 3 附加项 in the fixture");
    assert_eq!(notes.len(), 2, "a 注 row in the middle and one at the end");
    let (composed, rendered) = build(&fixture("plan-from-workbook"));
    let p = composed.doc.paragraphs();
    let ordered = plan_order(&rows);
    let expected: Vec<String> = ordered.iter().flat_map(Row::paragraphs).collect();
    // the chapter holds exactly the template's lines, each its own paragraph, no
    // numbering added (编号 = 无), and its closing paragraph right after
    let start =
        p.iter().position(|x| x == "三、重点任务").expect("the chapter heading") + 1;
    assert_eq!(
        p[start..start + expected.len()],
        expected[..],
        "the indicator sections, paragraph by paragraph"
    );
    assert_eq!(
        p[start + expected.len()],
        "以上任务由各责任单位按照分工抓好落实，牵头单位负责组织协调。",
        "the chapter's 结尾段落 follows the generated sections"
    );
    assert_eq!(p[start + expected.len() + 1], "四、保障措施");
    // the 附加项 follow all main indicators
    let at = |s: &str| p.iter().position(|x| x.starts_with(s)).unwrap();
    assert!(at("第12项指标：") < at("加分项1："));
    assert!(at("加分项2：") < at("减分项1："));
    // a task list cell gives one paragraph per task
    assert!(p.contains(&"（3）建立权责清单动态调整机制，及时调整并公布。".to_string()));
    // both formats print the same, in order
    let pdf = pdf_text(&rendered);
    assert_in_order(&expected, &pdf, "PDF");
    let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
    let docx_text: String = docx.iter().map(|x| normalize(x)).collect();
    assert_in_order(&expected, &docx_text, "DOCX");
    // each template line is an indented paragraph of its own, in the DOCX too
    let indented: Vec<String> = composed
        .doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Para { runs, indent: true } => {
                Some(runs.iter().map(|r| r.text.as_str()).collect())
            }
            _ => None,
        })
        .collect();
    for line in &expected {
        assert!(indented.contains(line), "not an indented paragraph: {line}");
        assert!(docx.contains(line), "not a DOCX paragraph: {line}");
    }
    // the 注 rows are neither indicators nor printed anywhere
    for n in &notes {
        assert!(!p.iter().any(|x| x.contains(n.as_str())), "note printed: {n}");
        assert!(!pdf.contains(&normalize(n)), "PDF prints the note {n}");
        assert!(!docx_text.contains(&normalize(n)), "DOCX prints the note {n}");
    }
    assert_eq!(
        p.iter().filter(|x| x.starts_with('第') && x.contains("项指标：")).count(),
        12
    );
}

#[test]
fn plan_from_workbook_breakdown_annex_merges_the_extras() {
    let (rows, _) = workbook_rows();
    let (composed, rendered) = build(&fixture("plan-from-workbook"));
    let table = landscape_table(&composed.doc.blocks);
    assert_eq!(
        table.header,
        ["一级指标", "二级指标", "序号", "三级指标", "责任单位", "具体资料报送"]
    );
    // one table row per indicator, in the workbook's order, each cell as written
    // (the cell's lines kept); no row for the 注 rows
    assert_eq!(table.rows.len(), rows.len());
    for (r, row) in table.rows.iter().zip(&rows) {
        let n = r.len();
        let tail: Vec<&str> = r[n - 4..].iter().map(|c| c.text.as_str()).collect();
        // the 序号 as written (加分项1 stays 加分项1)
        let number = row.seq.trim();
        assert_eq!(
            tail,
            [number, row.text.as_str(), row.units.as_str(), row.tasks.as_str()],
            "row {}",
            row.seq
        );
    }
    // merged 一级 / 二级 cells: one cell per group, spanning its rows
    let cells: Vec<&gongwen::doc::Cell> = table.rows.iter().flatten().collect();
    let find = |text: &str| -> Vec<u32> {
        cells.iter().filter(|c| c.text == text).map(|c| c.rowspan).collect()
    };
    assert_eq!(find("九、附加项"), [3], "one 一级 cell over 加分项 and 减分项");
    assert_eq!(find("加分项"), [2]);
    assert_eq!(find("减分项"), [1]);
    for l1 in [
        "一、政府职能依法全面履行",
        "二、依法行政制度体系完善",
        "三、行政执法严格规范公正文明",
    ] {
        assert_eq!(find(l1), [4], "{l1}");
    }
    for row in &rows {
        let count = rows.iter().filter(|r| r.level1 == row.level1).count() as u32;
        assert_eq!(find(&row.level1), [count], "{}", row.level1);
        let count = rows.iter().filter(|r| r.level2 == row.level2).count() as u32;
        assert_eq!(find(&row.level2), [count], "{}", row.level2);
    }
    // the DOCX is one flowing table: the merged label once
    let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
    let docx_text: String = docx.iter().map(|x| normalize(x)).collect();
    assert_eq!(docx_text.matches("九、附加项").count(), 1);
    // the PDF's table pages carry every cell line of every row, in order
    let table_pages: String = rendered
        .page_texts
        .iter()
        .filter(|t| normalize(t).contains("一级指标二级指标"))
        .map(|t| normalize(t))
        .collect();
    let cell_text: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            let mut v = vec![r.text.clone()];
            v.extend(cell_lines(&r.units));
            v.extend(cell_lines(&r.tasks));
            v
        })
        .collect();
    assert_in_order(&cell_text, &table_pages, "PDF table");
    assert!(table_pages.contains("九、附加项"));
    // the annex's 说明 as written: no 说明： line added
    let p = composed.doc.paragraphs();
    let note = "表中责任单位有两个以上的，排在第一位的为牵头单位。";
    let i = p.iter().position(|x| x == note).expect("the annex's 说明");
    assert_eq!(p[i - 1], "某县法治政府建设示范创建任务分解表", "title, then the 说明");
    assert!(!p.iter().any(|x| x.starts_with("说明")), "a 说明 line was added");
}

#[test]
fn plan_from_workbook_prints_every_deadline_as_written() {
    let case = case_toml("plan-from-workbook");
    let stages = case["创建步骤"].as_array().unwrap();
    assert!(stages.len() >= 11);
    let (composed, rendered) = build(&fixture("plan-from-workbook"));
    let p = composed.doc.paragraphs();
    let pdf = pdf_text(&rendered);
    let mut headings = Vec::new();
    for (i, s) in stages.iter().enumerate() {
        let name = s["名称"].as_str().unwrap();
        let deadline = s["时限"].as_str().unwrap();
        let text = s["内容"].as_str().unwrap();
        let para = format!("（{}）{name}（{deadline}）。{text}", cn_number(i + 1));
        assert!(p.contains(&para), "missing {para:?}");
        headings.push(para);
    }
    assert_in_order(&headings, &pdf, "PDF");
    // the forms the README lists, each one present exactly as written
    for form in [
        "（一）动员部署（2021年3月20日）。",
        "（二）细化任务（2021年3月31日前）。",
        "（三）业务培训（2021年4月初）。",
        "（四）全面自查（2021年4月上旬）。",
        "（五）限期整改（2021年4月中旬前）。",
        "（六）中期督导（2021年5月中旬）。",
        "（七）补齐短板（2021年5月下旬）。",
        "（八）巩固提升（2021年6月底前）。",
        "（九）材料报送（2021年8月1日至8月10日）。",
        "（十）迎接评估（2021年第四季度前）。",
        "（十一）集中申报（按照市部署时间）。",
    ] {
        assert!(p.iter().any(|x| x.starts_with(form)), "missing {form}");
    }
    // the 完成时限 column, as written in the cells
    let (rows, _) = workbook_rows();
    for r in &rows {
        let line = format!("完成时限：{}", r.deadline);
        assert!(p.contains(&line), "missing {line}");
    }
    assert!(p.contains(&"完成时限：2021年4月中旬前".to_string()));
    assert!(p.contains(&"完成时限：2021年8月1日至8月10日".to_string()));
}

#[test]
fn plan_from_workbook_sections_then_closing_paragraphs() {
    let (composed, _) = build(&fixture("plan-from-workbook"));
    let p = composed.doc.paragraphs();
    let i = p.iter().position(|x| x == "四、保障措施").unwrap();
    assert!(p[i + 1].starts_with("（一）加强组织领导。"));
    assert!(p[i + 2].starts_with("（二）强化督导考核。"));
    assert_eq!(
        p[i + 3],
        "各乡镇、各单位要把示范创建工作摆上重要议事日程，确保各项任务按期完成。"
    );
    assert!(
        p[i + 4]
            .starts_with("创建工作中遇到的问题，请及时报县法治政府建设领导小组办公室，")
    );
    assert_eq!(p[i + 5], "附件：某县法治政府建设示范创建任务分解表");
}

/// The document's paragraphs in the PDF's reading order: a merged 一级 / 二级
/// cell is laid out after the cells of its first row (and again after a page
/// break), so the level columns are left out here and checked on their own.
fn pdf_order_paragraphs(doc: &gongwen::doc::Document) -> Vec<String> {
    let mut doc = doc.clone();
    for (t, _) in doc.tables_mut() {
        let levels = t.header.iter().take_while(|h| h.contains("级指标")).count();
        let keep = t.header.len() - levels;
        for row in &mut t.rows {
            let n = row.len();
            if n > keep {
                row.drain(..n - keep);
            }
        }
    }
    doc.paragraphs()
}

/// GONGWEN_KEEP=DIR keeps a fixture's PDF and DOCX for a look or a layout check
/// (`check_gbt9704.py --strict`).
fn keep(name: &str, r: &pipeline::Rendered) {
    let Some(dir) = std::env::var_os("GONGWEN_KEEP") else { return };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{name}.pdf")), r.pdf.as_ref().unwrap()).unwrap();
    std::fs::write(dir.join(format!("{name}.docx")), r.docx.as_ref().unwrap()).unwrap();
}

/// Same text in both formats, nothing added, no format characters.
fn assert_same_text_in_both_formats(name: &str) {
    let (composed, rendered) = build(&fixture(name));
    keep(name, &rendered);
    let paragraphs = composed.doc.paragraphs();
    assert_in_order(
        &pdf_order_paragraphs(&composed.doc),
        &pdf_text(&rendered),
        &format!("{name}: PDF"),
    );
    let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
    let docx_text: String = docx.iter().map(|p| normalize(p)).collect();
    assert_in_order(&paragraphs, &docx_text, &format!("{name}: DOCX"));
    let doc_text: String = paragraphs.iter().map(|p| normalize(p)).collect();
    assert_eq!(docx_text, doc_text, "{name}: the DOCX holds exactly the document's text");
    assert_no_format_characters(&docx.concat(), &format!("{name}: DOCX"));
    assert_no_format_characters(&rendered.page_texts.concat(), &format!("{name}: PDF"));
    assert_eq!(rendered.pages % 2, 0, "{name}: the 版记 closes an even page");
}

#[test]
fn plan_from_workbook_same_text_in_pdf_and_docx() {
    assert_same_text_in_both_formats("plan-from-workbook");
}

const FOOT_CASES: [&str; 6] =
    ["foot-1", "foot-2", "foot-3", "foot-1-sealed", "foot-2-sealed", "foot-3-sealed"];

#[test]
fn signature_and_date_never_stand_without_body_text() {
    let mut failures = Vec::new();
    for name in FOOT_CASES {
        let case = case_toml(name);
        let notice = case["通知"].as_table().unwrap();
        let body: Vec<&str> = notice["正文"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let signer = notice["署名"].as_array().unwrap()[0].as_str().unwrap();
        let (composed, rendered) = build(&fixture(name));
        let p = composed.doc.paragraphs();
        let date = "2024年3月5日";
        assert!(p.contains(&date.to_string()));
        // the 版记 prints the same date with 印发 and the same office: leave it out
        let texts: Vec<String> = rendered
            .page_texts
            .iter()
            .map(|t| normalize(t).replace(&format!("{date}印发"), ""))
            .collect();
        let date_pages: Vec<usize> =
            (0..texts.len()).filter(|&i| texts[i].contains(date)).collect();
        assert_eq!(date_pages.len(), 1, "{name}: the 成文日期 on one page");
        let page = &texts[date_pages[0]];
        // the 署名 stands with its date, and the last body paragraph's end with both
        let last = normalize(body.last().unwrap());
        let tail: String =
            last.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        if !page.contains(signer) || !page.contains(&tail) {
            failures.push(format!(
                "{name}: page {} holds the 成文日期 but {}{}",
                date_pages[0] + 1,
                if page.contains(signer) { "" } else { "not the 署名; " },
                if page.contains(&tail) { "" } else { "no body text" },
            ));
        }
    }
    assert!(failures.is_empty(), "GB/T 9704 7.3.5:\n{}", failures.join("\n"));
}

#[test]
fn foot_cases_same_text_in_pdf_and_docx() {
    for name in FOOT_CASES {
        assert_same_text_in_both_formats(name);
    }
}

/// Diagnostics of a case folder, with the folder shown as DIR.
fn diagnostics(dir: &Path) -> Vec<String> {
    match pipeline::compose_dir(&CaseDir::Disk(dir.to_path_buf()), &settings()) {
        Ok(_) => panic!("a bad case was accepted"),
        Err(ds) => ds
            .iter()
            .map(|d| d.to_string().replace(&dir.display().to_string(), "DIR"))
            .collect(),
    }
}

#[test]
fn empty_list_entries_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let case = r#"["版头"]
"发文机关" = ["某县人民政府办公室"]
"机关代字" = "某政办"
"年份" = 2024
"序号" = 3
["通知"]
"标题" = "关于开展自查的通知"
"主送" = ["各乡镇", "", "县直各单位"]
"正文" = ["请自查。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2024-03-05
["版记"]
"抄送" = ["县委办公室", "  "]
"印发机关" = "某县人民政府办公室"
"印发日期" = 2024-03-05
"#;
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let ds = diagnostics(dir.path());
    assert_eq!(
        ds,
        [
            "DIR/case.toml:8:16: 错误：\"通知.主送\"中有空的一项",
            "DIR/case.toml:13:18: 错误：\"版记.抄送\"中有空的一项",
        ]
    );
}

#[test]
fn horizontal_merge_in_an_indicator_row_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("指标").unwrap();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 4, "某县任务分解表", &f).unwrap();
    for (c, h) in
        ["一级指标", "序号", "三级指标", "责任单位", "具体资料报送"].iter().enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    ws.merge_range(2, 0, 4, 0, "一、依法履职", &f).unwrap();
    for (r, seq) in [(2u32, "1"), (3, "2"), (4, "3")] {
        ws.write_string(r, 1, seq).unwrap();
        if r != 3 {
            ws.write_string(r, 2, format!("第{seq}项指标内容。")).unwrap();
            ws.write_string(r, 3, "县司法局").unwrap();
        }
        ws.write_string(r, 4, "提供材料。").unwrap();
    }
    // row 4: 三级指标 typed across the 责任单位 column
    ws.merge_range(3, 2, 3, 3, "第2项指标内容，写进了责任单位列。", &f).unwrap();
    // a 注 row across the whole width is fine
    ws.merge_range(5, 0, 5, 4, "注：本表由县司法局汇总。", &f).unwrap();
    wb.save(dir.path().join("指标.xlsx")).unwrap();
    let case = r#"["版头"]
"发文机关" = ["某县人民政府办公室"]
"机关代字" = "某政办"
"年份" = 2024
"序号" = 3
["通知"]
"标题" = "关于开展自查的通知"
"正文" = ["请自查。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2024-03-05
["数据"]
"指标" = "指标.xlsx"
"#;
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let ds = diagnostics(dir.path());
    assert_eq!(
        ds,
        [
            "DIR/指标.xlsx › 指标!C4: 错误：单元格 C4:D4 横向合并，跨越了\"三级指标\"\"责任单位\"等列\n  提示：指标行中每列应分别填写：请取消合并后把内容填入各自的列",
            // the note row under the table is left out, and said so
            "DIR/指标.xlsx › 指标!A6: 警告：说明行，未作为指标读入：\"注：本表由县司法局汇总。\"",
        ]
    );
}
