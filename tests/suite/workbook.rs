//! Indicator workbooks: header found by names under title rows, synonyms, merged
//! cells, repeated headers, note rows, located errors; the printed table carries
//! the workbook's text row by row, merges are merges in the DOCX, and a merged
//! 一级 label cut by a page break is printed again.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use gongwen::case::CaseDir;
use gongwen::pipeline;

use crate::common::*;

/// Which body rows of the (only) table are taller than a page.
fn r_tall_rows(c: &pipeline::Composed) -> Vec<bool> {
    let mut doc = c.doc.clone();
    let (t, _) = doc.tables_mut().into_iter().next().unwrap();
    t.tall_rows(222.0, 150.0)
}

/// One row of a test sheet: 一级, 二级, 序号, 三级指标, 责任单位, 具体资料报送.
struct Row {
    l1: String,
    l2: String,
    seq: String,
    text: String,
    units: String,
    materials: String,
}

/// The 2021 national catalogue (built in), with units assigned round-robin.
fn national_rows() -> Vec<Row> {
    let (_, text) =
        gongwen::case::CATALOGS.iter().find(|(n, _)| *n == "全国2021").unwrap();
    let value: toml::Table = toml::from_str(text).unwrap();
    let units = [
        "县司法局",
        "县政府办公室\n县司法局",
        "各乡镇",
        "县市场监督管理局",
        "县司法局、县法院",
    ];
    value["指标"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| Row {
            l1: v["一级指标"].as_str().unwrap().to_string(),
            l2: v["二级指标"].as_str().unwrap().to_string(),
            seq: v["序号"].as_integer().unwrap().to_string(),
            text: v["三级指标"].as_str().unwrap().to_string(),
            units: units[i % units.len()].to_string(),
            materials: v["填报材料"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Writes a 任务分解 sheet the way offices keep it: a title row, a blank row, a
/// header with spaces and line breaks, 一级/二级 merged over their rows, the
/// 三级指标 header merged over the number and text columns, a repeated header row,
/// a note row at the end.
fn write_breakdown(path: &Path, rows: &[Row]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("任务分解").unwrap();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 5, "市县法治政府建设示范指标体系任务分解", &f).unwrap();
    let header_row = 2;
    ws.write_string(header_row, 0, "一级\n指标").unwrap();
    ws.write_string(header_row, 1, "二级 指标").unwrap();
    ws.merge_range(header_row, 2, header_row, 3, "三级指标", &f).unwrap();
    ws.write_string(header_row, 4, "责任单位").unwrap();
    ws.write_string(header_row, 5, "具体资料报送").unwrap();
    let mut r = header_row + 1;
    let mut i = 0;
    let mut repeated_at = None;
    while i < rows.len() {
        // one 二级 group at a time, 一级 merged over its whole group
        let j = (i..rows.len())
            .find(|&k| rows[k].l2 != rows[i].l2 || rows[k].l1 != rows[i].l1)
            .unwrap_or(rows.len());
        for (k, row) in rows[i..j].iter().enumerate() {
            let rr = r + k as u32;
            if k == 0 {
                ws.write_string(rr, 1, &row.l2).unwrap();
            }
            ws.write_string(rr, 2, &row.seq).unwrap(); // numbers stored as text
            ws.write_string(rr, 3, format!("{} ", row.text)).unwrap(); // trailing space
            ws.write_string(rr, 4, &row.units).unwrap();
            ws.write_string(rr, 5, &row.materials).unwrap();
        }
        if j - i > 1 {
            ws.merge_range(r, 1, r + (j - i) as u32 - 1, 1, &rows[i].l2, &f).unwrap();
        }
        r += (j - i) as u32;
        i = j;
        // a header row printed again (retyped from paper) after the 20th row
        if i >= 20 && repeated_at.is_none() {
            repeated_at = Some(i);
            for (c, h) in
                ["一级指标", "二级指标", "三级指标", "", "责任单位", "具体资料报送"]
                    .iter()
                    .enumerate()
            {
                ws.write_string(r, c as u16, *h).unwrap();
            }
            r += 1;
        }
    }
    // 一级 merged over its rows (written afterwards: positions are known now)
    let mut rr = header_row + 1;
    let mut i = 0;
    while i < rows.len() {
        let j = (i..rows.len()).find(|&k| rows[k].l1 != rows[i].l1).unwrap_or(rows.len());
        // count sheet rows of this group, including a repeated header inside it
        if repeated_at == Some(i) {
            rr += 1; // the repeated header opens this group
        }
        let extra = u32::from(repeated_at.is_some_and(|h| i < h && h < j));
        let n = (j - i) as u32 + extra;
        if n > 1 && extra == 0 {
            ws.merge_range(rr, 0, rr + n - 1, 0, &rows[i].l1, &f).unwrap();
        } else {
            for k in 0..n {
                ws.write_string(rr + k, 0, &rows[i].l1).unwrap();
            }
        }
        rr += n;
        i = j;
    }
    ws.write_string(rr + 1, 0, "说明：本表由县司法局汇总。").unwrap();
    wb.save(path).unwrap();
}

fn temp_breakdown() -> (tempfile::TempDir, PathBuf, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("任务分解.xlsx");
    let rows = national_rows();
    write_breakdown(&path, &rows);
    (dir, path, rows)
}

#[test]
fn breakdown_workbook_reads_every_row_with_merges_filled() {
    let (_dir, path, rows) = temp_breakdown();
    let sheet =
        gongwen::case::workbook::read_sheet(&path, "任务分解.xlsx", None).unwrap();
    let inds = gongwen::case::workbook::read_indicators(&sheet).unwrap().0;
    assert_eq!(inds.len(), 104);
    for (ind, row) in inds.iter().zip(&rows) {
        assert_eq!(ind.seq.to_string(), row.seq);
        assert_eq!(ind.text.value, row.text, "trailing spaces are trimmed");
        assert_eq!(ind.level1.as_deref(), Some(row.l1.as_str()));
        assert_eq!(ind.level2.as_deref(), Some(row.l2.as_str()));
        assert_eq!(ind.units.value, row.units);
    }
    // 附加项 keep their own numbering and kind
    assert_eq!(inds[100].kind, gongwen::model::IndicatorKind::Extra("加分项".into()));
    assert_eq!(inds[103].kind, gongwen::model::IndicatorKind::Extra("否决项".into()));
    assert_eq!(inds[103].seq, 2);
    // locations name the cell
    assert_eq!(inds[0].text.loc.to_string(), "任务分解.xlsx › 任务分解!D4");
}

#[test]
fn table_command_prints_the_workbook_row_by_row_in_both_formats() {
    let (dir, path, rows) = temp_breakdown();
    let out = dir.path().join("out");
    let s = settings();
    let written =
        pipeline::build_table(&path, None, Some("任务分解表"), &out, &s).unwrap();
    assert_eq!(written.files.len(), 2);
    // GONGWEN_KEEP=DIR keeps the outputs for a look (or a layout check)
    if let Some(keep) = std::env::var_os("GONGWEN_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        for f in &written.files {
            std::fs::copy(f, Path::new(&keep).join(f.file_name().unwrap())).unwrap();
        }
        std::fs::copy(&path, Path::new(&keep).join("任务分解.xlsx")).unwrap();
    }
    let docx = std::fs::read(out.join("任务分解.docx")).unwrap();
    let xml = document_xml(&docx);
    // 一级 groups are vertical merges, header rows repeat
    assert!(xml.matches(r#"<w:vMerge w:val="restart" />"#).count() >= 30, "few merges");
    assert!(xml.contains("<w:tblHeader"));
    let docx_text: String = docx_paragraphs(&docx).iter().map(|p| normalize(p)).collect();
    // render again for the PDF's page texts
    let sheet =
        gongwen::case::workbook::read_sheet(&path, "任务分解.xlsx", None).unwrap();
    let inds = gongwen::case::workbook::read_indicators(&sheet).unwrap().0;
    let cols = gongwen::case::default_columns("任务分解");
    let doc =
        gongwen::compose::compose_table("任务分解表", &inds, &cols, s.fonts.as_ref())
            .unwrap();
    let composed = pipeline::Composed {
        record: None,
        name: "t".into(),
        doc,
        images: Default::default(),
        warnings: Vec::new(),
    };
    let r = pipeline::render(&composed, &s).unwrap();
    let pdf = pdf_text(&r);
    let tall = r_tall_rows(&composed);
    for (i, row) in rows.iter().enumerate() {
        if tall[i] {
            // a row taller than a page is cut between pages, each cell in two
            // pieces; its text is checked piecewise by the DOCX comparison below
            continue;
        }
        for text in [&row.text, &row.units, &row.materials] {
            assert!(pdf.contains(&normalize(text)), "PDF lacks {text}");
            assert!(docx_text.contains(&normalize(text)), "DOCX lacks {text}");
        }
    }
    // every page of the table repeats the header and shows the 一级 and 二级
    // labels of the first row on it (printed again after a break)
    let table_pages: Vec<String> = r
        .page_texts
        .iter()
        .filter(|t| t.contains("一级指标"))
        .map(|t| normalize(t))
        .collect();
    assert!(table_pages.len() >= 10, "{} pages", table_pages.len());
    for t in &table_pages {
        let Some(first) = rows.iter().find(|row| t.contains(&normalize(&row.text)))
        else {
            // a page that holds only the rest of a row taller than a page: its
            // merged labels stand on the page where the row starts (a cell's
            // content is not repeated within a row, in Typst as in Word)
            let rest = rows.iter().zip(&tall).any(|(row, &is_tall)| {
                let m: Vec<char> = normalize(&row.materials).chars().collect();
                let tail: String = m[m.len().saturating_sub(8)..].iter().collect();
                is_tall && t.contains(&tail)
            });
            assert!(rest, "a table page with no row on it:\n{t}");
            continue;
        };
        assert!(t.contains(&normalize(&first.l1)), "page lacks {}", first.l1);
        assert!(t.contains(&normalize(&first.l2)), "page lacks {}", first.l2);
    }
}

#[test]
fn synonyms_column_order_and_broken_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("清单.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("任务表").unwrap();
    ws.write_string(0, 0, "某县填报材料责任清单").unwrap();
    for (c, h) in
        ["牵头单位", "指标内容", "佐证材料", "序 号", "完成时限"].iter().enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let data: [[&str; 5]; 5] = [
        ["司法局", "编制权责清单。", "清单网址。", "1", "2023年9月底前"],
        ["", "", "", "", ""],
        ["政府办", "落实负面清单。", "不需提供。", "三", ""],
        ["法院", "", "", "3", ""],
        ["加分项", "", "", "", ""],
    ];
    for (r, row) in data.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(2 + r as u32, c as u16, *v).unwrap();
            }
        }
    }
    ws.write_number(7, 3, 1.0).unwrap();
    ws.write_string(7, 1, "获得表彰。").unwrap();
    wb.save(&path).unwrap();
    let sheet = gongwen::case::workbook::read_sheet(&path, "清单.xlsx", None).unwrap();
    let errs: Vec<String> = gongwen::case::workbook::read_indicators(&sheet)
        .unwrap_err()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        errs,
        [
            "清单.xlsx › 任务表!D5: 错误：无法识别的序号\"三\"",
            "清单.xlsx › 任务表!B6: 错误：三级指标为空",
        ]
    );
}

#[test]
fn units_are_checked_against_the_registry_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let rows = national_rows();
    let mut rows: Vec<Row> = rows.into_iter().take(10).collect();
    rows[3].units = "县司发局".into();
    rows[5].units = "县法院牵头，县直各单位配合".into();
    write_breakdown(&dir.path().join("任务分解.xlsx"), &rows);
    std::fs::write(
        dir.path().join("单位.toml"),
        "[[\"单位\"]]\n\"名称\" = \"县司法局\"\n\"简称\" = [\"司法局\"]\n[[\"单位\"]]\n\"名称\" = \"县政府办公室\"\n\"简称\" = [\"政府办\"]\n[[\"单位\"]]\n\"名称\" = \"县市场监督管理局\"\n[[\"单位\"]]\n\"名称\" = \"县法院\"\n",
    )
    .unwrap();
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap().replace(
        "\"指标\" = \"指标.toml\"",
        "\"指标\" = \"任务分解.xlsx\"\n\"单位\" = \"单位.toml\"",
    );
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let errs: Vec<String> = match pipeline::compose_dir(
        &CaseDir::Disk(dir.path().to_path_buf()),
        &settings(),
    ) {
        Ok(_) => panic!("accepted an unknown unit"),
        Err(ds) => ds
            .iter()
            .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
            .collect(),
    };
    assert_eq!(
        errs,
        [
            // the note row under the table is left out, and said so
            "DIR/任务分解.xlsx › 任务分解!A15: 警告：说明行，未作为指标读入：\"说明：本表由县司法局汇总。\"",
            "DIR/任务分解.xlsx › 任务分解!E7: 错误：未登记的单位\"县司发局\"（是否为\"县司法局\"？）",
        ]
    );
}

#[test]
fn unit_task_lists_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lingchuan");
    let written =
        pipeline::build_units(&CaseDir::Disk(fixture.clone()), dir.path(), &settings())
            .unwrap();
    let names: Vec<String> = written
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"县司法局.pdf".to_string()), "{names:?}");
    assert!(names.contains(&"各单位任务汇总表.docx".to_string()));
    // the 司法局's list holds exactly the indicators that name it
    let case = gongwen::case::load_case(&CaseDir::Disk(fixture)).unwrap();
    let expected: Vec<&str> = case
        .indicators
        .iter()
        .filter(|i| {
            gongwen::registry::split_units(&i.units.value)
                .iter()
                .any(|(n, _)| n == "县司法局")
        })
        .map(|i| i.text.value.as_str())
        .collect();
    assert!(expected.len() > 10);
    let text: String =
        docx_paragraphs(&std::fs::read(dir.path().join("县司法局.docx")).unwrap())
            .iter()
            .map(|p| normalize(p))
            .collect();
    for t in &expected {
        assert!(text.contains(&normalize(t)), "missing {t}");
    }
    assert!(
        text.contains(&format!(
            "县司法局承担法治政府建设示范创建任务{}项",
            expected.len()
        ))
    );
}

#[test]
fn diff_reports_gained_and_lost_units() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = national_rows().into_iter().take(12).collect();
    write_breakdown(&dir.path().join("旧.xlsx"), &rows);
    let mut changed = national_rows().into_iter().take(12).collect::<Vec<_>>();
    changed[2].units = "县司法局\n县市场监督管理局".into(); // was 各乡镇
    changed[4].units = "县法院".into(); // was 县司法局、县法院
    write_breakdown(&dir.path().join("新.xlsx"), &changed);
    let (changes, written) = pipeline::build_diff(
        &dir.path().join("旧.xlsx"),
        &dir.path().join("新.xlsx"),
        None,
        dir.path(),
        &settings(),
    )
    .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].number, "3");
    assert_eq!(changes[0].gained, ["县司法局", "县市场监督管理局"]);
    assert_eq!(changes[0].lost, ["各乡镇"]);
    assert_eq!(changes[1].number, "5");
    assert!(changes[1].gained.is_empty());
    assert_eq!(changes[1].lost, ["县司法局"]);
    let docx = std::fs::read(
        written.files.iter().find(|p| p.extension().unwrap() == "docx").unwrap(),
    )
    .unwrap();
    let text: String = docx_paragraphs(&docx).iter().map(|p| normalize(p)).collect();
    assert!(text.contains("调整前") && text.contains("县市场监督管理局"));
}

#[test]
fn roster_and_task_forces_from_workbooks() {
    use rust_xlsxwriter::Format;
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "领导小组成员名单").unwrap();
    for (c, h) in ["组别", "姓名", "职务"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    ws.write_string(2, 0, "组长").unwrap();
    ws.write_string(2, 1, "王丽").unwrap();
    ws.write_string(2, 2, "县委副书记、县长").unwrap();
    ws.merge_range(3, 0, 4, 0, "副组长", &Format::new()).unwrap();
    ws.write_string(3, 1, "原红芳").unwrap();
    ws.write_string(3, 2, "县委常委、县委宣传部部长").unwrap();
    ws.write_string(4, 1, "张勇力").unwrap();
    ws.write_string(4, 2, "县委常委、县委政法委书记").unwrap();
    wb.save(dir.path().join("名单.xlsx")).unwrap();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["工作专班", "牵头单位", "成员单位", "工作任务"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "执法监督专班",
        "县司法局",
        "县公安局、县市场监督管理局",
        "推进行政执法“三项制度”。",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    wb.save(dir.path().join("专班.xlsx")).unwrap();
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    let case = case.replacen(
        "\n[\"版记\"]",
        "\n[[\"附件\"]]\n\"标题\" = \"领导小组成员名单\"\n\"类型\" = \"名单\"\n\"数据\" = \"名单.xlsx\"\n\n[[\"附件\"]]\n\"标题\" = \"工作专班\"\n\"类型\" = \"专班\"\n\"数据\" = \"专班.xlsx\"\n\n[\"版记\"]",
        1,
    );
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let (composed, rendered) = build(&CaseDir::Disk(dir.path().to_path_buf()));
    let p = composed.doc.paragraphs();
    assert!(
        p.contains(&"组\u{3000}长：王\u{3000}丽\u{3000}县委副书记、县长".to_string()),
        "{p:?}"
    );
    assert!(p.contains(&"副组长：原红芳\u{3000}县委常委、县委宣传部部长".to_string()));
    assert!(
        p.contains(
            &"\u{3000}\u{3000}\u{3000}\u{3000}张勇力\u{3000}县委常委、县委政法委书记"
                .to_string()
        )
    );
    assert!(
        p.contains(&"执法监督专班".to_string()) && p.contains(&"县司法局".to_string())
    );
    assert!(p.contains(
        &"附件：1.夏邑县争创河南省法治政府建设示范县填报材料责任清单".to_string()
    ));
    assert!(p.contains(&"3.工作专班".to_string()));
    assert_eq!(rendered.pages % 2, 0);
}

#[test]
fn rows_left_out_are_warned_not_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("清单.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("任务表").unwrap();
    for (c, h) in ["序号", "三级指标", "填报材料", "责任单位"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "1").unwrap();
    ws.write_string(1, 1, "编制权责清单。").unwrap();
    ws.write_string(1, 3, "司法局").unwrap();
    // a note over the table's width, a section row, a signature line
    let plain = rust_xlsxwriter::Format::new();
    ws.merge_range(2, 0, 2, 3, "注：本表由县司法局负责解释，自印发之日起施行", &plain)
        .unwrap();
    ws.merge_range(3, 0, 3, 3, "加分项", &plain).unwrap();
    ws.write_string(4, 0, "1").unwrap();
    ws.write_string(4, 1, "获得表彰。").unwrap();
    ws.write_string(5, 0, "制表人：张三").unwrap();
    wb.save(&path).unwrap();
    let sheet = gongwen::case::workbook::read_sheet(&path, "清单.xlsx", None).unwrap();
    let (inds, warnings) = gongwen::case::workbook::read_indicators(&sheet).unwrap();
    assert_eq!(inds.len(), 2);
    let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "清单.xlsx › 任务表!A3: 警告：说明行，未作为指标读入：\"注：本表由县司法局负责解释，自印发之日起…\"",
            "清单.xlsx › 任务表!A6: 警告：此行没有三级指标，未作为指标读入：\"制表人：张三\"",
        ]
    );
}

#[test]
fn header_synonyms_are_shared_by_indicator_roster_and_score_workbooks() {
    use gongwen::case::columns::{
        Field, INDICATOR_FIELDS, ROSTER_FIELDS, SCORE_FIELDS, TASK_FORCE_FIELDS, field_of,
    };
    // 责任单位, 牵头单位 and 落实单位 name one column in every kind of table,
    // written with spaces or not
    for name in ["责任单位", "牵头 单位", "落实单位"] {
        for fields in [INDICATOR_FIELDS, TASK_FORCE_FIELDS, SCORE_FIELDS] {
            assert_eq!(field_of(name, fields), Some(Field::Units), "{name}");
        }
    }
    // a score sheet's header may say 考核内容 for 工作任务, and a points column
    // may carry its unit
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("打分表.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("打分表").unwrap();
    ws.write_string(0, 0, "责任人：张三").unwrap();
    for (c, h) in ["考核类别", "考 核 内 容", "分值（分）", "牵头单位", "评分标准"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (c, v) in
        ["依法行政", "编制权责清单", "100", "司法局", "未编制不得分"].iter().enumerate()
    {
        ws.write_string(2, c as u16, *v).unwrap();
    }
    wb.save(&path).unwrap();
    let scores = gongwen::scores::load_scores(&path).unwrap();
    assert_eq!(scores.sheets.len(), 1);
    let tasks: Vec<_> = scores.sheets[0].tasks().collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].2.text.value, "编制权责清单");
    // a roster's columns by their other names
    assert_eq!(field_of("身份", ROSTER_FIELDS), Some(Field::Group));
    assert_eq!(field_of("现任 职务", ROSTER_FIELDS), Some(Field::Post));
    assert_eq!(field_of("成员", ROSTER_FIELDS), Some(Field::Name));
}
