//! The built-in example and the small fixture: same text in PDF and DOCX,
//! numbering and dates as printed, merges, reproducible bytes, literal text.

use gongwen::case::CaseDir;
use gongwen::doc::{Align, Block, Cell, Column, Document, Table, Width};

use crate::common::*;

#[test]
fn example_pdf_and_docx_carry_the_same_text() {
    let (composed, rendered) = build(&CaseDir::Builtin);
    let paragraphs = composed.doc.paragraphs();
    assert!(paragraphs.len() > 400, "{}", paragraphs.len());
    assert_in_order(&paragraphs, &pdf_text(&rendered), "PDF");
    let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
    let docx_text: String = docx.iter().map(|p| normalize(p)).collect();
    assert_in_order(&paragraphs, &docx_text, "DOCX");
    // and nothing else: the DOCX holds exactly the document's paragraphs (one
    // table, its header row written once and repeated by the client)
    let doc_text: String = paragraphs.iter().map(|p| normalize(p)).collect();
    assert_eq!(docx_text, doc_text);
    // no character the document does not hold: no joiners, no layout breaks
    let raw: String = docx.concat();
    assert_no_format_characters(&raw, "DOCX");
    assert_no_format_characters(&rendered.page_texts.concat(), "PDF");
    // the 版记 closes an even page
    assert_eq!(rendered.pages % 2, 0, "{} pages", rendered.pages);
}

#[test]
fn example_prints_numbering_dates_and_all_indicators() {
    let (composed, rendered) = build(&CaseDir::Builtin);
    let p = composed.doc.paragraphs();
    let has = |s: &str| p.iter().any(|x| x == s);
    let starts = |s: &str| p.iter().any(|x| x.starts_with(s));
    assert!(has("夏法政办〔2023〕12号"));
    assert!(has("关于印发《夏邑县创建全省法治政府建设示范县工作推进方案》的通知"));
    assert!(has("各乡（镇）党委政府，县直各有关单位："));
    assert!(has("2023年8月31日"));
    assert!(has("一、指导思想"));
    assert!(has("四、创建步骤"));
    assert!(starts("（二）全面自查（2023年9月底前）。各乡（镇）"));
    assert!(starts("（三）限期整改（2023年10月初）。"));
    assert!(starts("（六）集中申报（按照市部署时间）。"));
    assert!(starts(
        "（二）创建目标。经委托第三方机构评估认定，《河南省法治政府建设示范指标体系（2023年版）》完成度达90％以上，2024年第二季度前成功申创全省"
    ));
    assert!(has("附件：夏邑县争创河南省法治政府建设示范县填报材料责任清单"));
    assert!(has("附件"));
    assert!(has(
        "抄送：县委办公室，县人大常委会办公室，县政协办公室，县人民法院，县人民检察院。"
    ));
    assert!(has("2023年8月31日印发"));
    // 100 numbered indicators, then 加分项 and 否决项 with their own numbering
    let table = composed.doc.blocks.iter().find_map(|b| match b {
        Block::Landscape(inner) => inner.iter().find_map(|b| match b {
            Block::Table(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    });
    let table = table.expect("the 责任清单 table");
    let numbers: Vec<&str> =
        table.rows.iter().filter(|r| r.len() == 4).map(|r| r[0].text.as_str()).collect();
    assert_eq!(numbers.len(), 104);
    assert_eq!(
        numbers[..100],
        (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..]
    );
    assert_eq!(numbers[100..], ["1", "2", "1", "2"]);
    assert!(table.rows.iter().all(|r| r.iter().all(|c| c.rowspan >= 1)));
    // the PDF shows the last indicator's text
    assert!(pdf_text(&rendered).contains(&normalize(
        "创建周期内，政府领导班子成员没有因严重违法犯罪受到追究。"
    )));
}

#[test]
fn same_input_same_bytes() {
    let (_, a) = build(&CaseDir::Builtin);
    let (_, b) = build(&CaseDir::Builtin);
    assert!(a.pdf == b.pdf, "PDF bytes differ between two runs");
    assert!(a.docx == b.docx, "DOCX bytes differ between two runs");
}

#[test]
fn small_fixture_snapshots() {
    let (composed, rendered) = build(&fixture("small"));
    insta::assert_snapshot!("small_typst", rendered.typst);
    let xml = document_xml(rendered.docx.as_ref().unwrap())
        .replace("<w:p ", "\n<w:p ")
        .replace("<w:tbl>", "\n<w:tbl>");
    insta::assert_snapshot!("small_document_xml", xml);
    let p = composed.doc.paragraphs();
    for expected in [
        "000123",
        "机密★1年",
        "特急",
        "某县人民政府",
        "某县司法局",
        "文件",
        // 上行文: the 发文字号 and the 签发人 share a line
        "某政发〔2024〕5号签发人：张三李四",
        "一、主要任务",
        "（一）依法履职",
        "1.权责清单",
        "二、创建步骤",
        "三、指标任务",
        // a cell's lines joined for running text; the 附加项 follow the 100
        "（一）编制并公布权责清单。（责任单位：县司法局、县政府办）",
        "（三）获得省级以上表彰。（责任单位：各乡镇）",
        "（此件公开发布）",
        "附件：某县责任清单",
        "附加项：加分项",
    ] {
        assert!(p.iter().any(|x| x == expected), "missing {expected:?} in {p:#?}");
    }
    assert!(
        p.iter()
            .any(|x| x
                .starts_with("（1）公开。各乡镇各部门按时在政府门户网站公开权责清单"))
    );
    assert!(p.iter().any(|x| x.starts_with(
        "（一）动员部署（2024年3月底前）。召开全县法治政府建设示范创建动员会议"
    )));
    assert_in_order(&p, &pdf_text(&rendered), "PDF");
}

#[test]
fn docx_merges_are_vmerge_and_gridspan() {
    let mut lead = Cell::new("一、依法履职");
    lead.rowspan = 2;
    let mut wide = Cell::new("附加项：加分项");
    wide.colspan = 3;
    let table = Table {
        columns: vec![
            Column { width: Width::Mm(30.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
            Column { width: Width::Mm(30.0), align: Align::Center },
        ],
        header: vec!["一级指标".into(), "三级指标".into(), "责任单位".into()],
        rows: vec![
            vec![lead, Cell::new("甲"), Cell::new("司法局")],
            vec![Cell::new("乙"), Cell::new("政府办")],
            vec![wide],
        ],
        size_pt: 12.0,
    };
    let doc =
        Document { title: "表".into(), blocks: vec![Block::Table(table)], banji: None };
    let bytes = gongwen::render::docx::write_docx(
        &doc,
        chrono::NaiveDate::from_ymd_opt(2023, 8, 31).unwrap(),
        gongwen::layout::BanjiPlacement::SamePage,
        &Default::default(),
    )
    .unwrap();
    let xml = document_xml(&bytes);
    let count =
        |tag: &str, val: &str| xml.matches(&format!("<{tag} w:val=\"{val}\"")).count();
    assert_eq!(count("w:vMerge", "restart"), 1, "{xml}");
    assert_eq!(count("w:vMerge", "continue"), 1);
    assert_eq!(count("w:gridSpan", "3"), 1);
    assert_eq!(xml.matches("<w:tblHeader").count(), 1);
    // every cell holds a paragraph, even a covered one
    for tc in xml.split("<w:tc>").skip(1) {
        assert!(tc.contains("<w:p "), "{tc}");
    }
    assert_eq!(
        docx_paragraphs(&bytes),
        [
            "一级指标",
            "三级指标",
            "责任单位",
            "一、依法履职",
            "甲",
            "司法局",
            "乙",
            "政府办",
            "附加项：加分项"
        ]
    );
}

#[test]
fn markup_characters_are_printed_literally() {
    let dir = tempfile::tempdir().unwrap();
    write_example(dir.path());
    let case = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    let nasty =
        r##"#set text(red) *粗* _斜_ @ref $x$ [链] <标> \\ \" `代码` ~ = - + / 《》"##;
    let case = case.replace(
        "现印发给你们，请结合工作实际，认真贯彻落实。",
        &format!("现印发给你们，请结合工作实际，认真贯彻落实。{nasty}"),
    );
    let case = case
        .replace("\"县委办公室\", ", &format!("\"县委{}办公室\", ", r#"#[x]<w:t>&amp;"#));
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    let (_, rendered) = build(&CaseDir::Disk(dir.path().to_path_buf()));
    let printed =
        r##"#set text(red) *粗* _斜_ @ref $x$ [链] <标> \ " `代码` ~ = - + / 《》"##;
    assert!(
        pdf_text(&rendered).contains(&normalize(printed)),
        "PDF lost the literal text"
    );
    let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
    assert!(docx.iter().any(|p| p.ends_with(printed)), "DOCX lost the literal text");
    assert!(docx.iter().any(|p| p.contains("县委#[x]<w:t>&amp;办公室")));
    assert!(pdf_text(&rendered).contains("县委#[x]<w:t>&amp;办公室"));
}

#[test]
fn breakdown_annex_roster_and_merged_levels() {
    let (composed, rendered) = build(&fixture("lingchuan"));
    let p = composed.doc.paragraphs();
    // roster: labels and colons aligned, two-character names spaced, posts after one 字
    for line in [
        "组\u{3000}长：王\u{3000}丽\u{3000}县委副书记、县长",
        "副组长：原红芳\u{3000}县委常委、县委宣传部部长",
        "\u{3000}\u{3000}\u{3000}\u{3000}张勇力\u{3000}县委常委、县委政法委书记",
    ] {
        assert!(p.iter().any(|x| x == line), "missing {line:?}");
    }
    assert!(p.iter().any(|x| x.starts_with("成\u{3000}员：县纪委监委机关、县委办公室")));
    // 附件说明 lists the annexes that follow, in order, with their titles
    assert!(
        p.contains(&"附件：1.市县法治政府建设指标体系（2021年版）任务分解".to_string())
    );
    assert!(p.contains(&"2.陵川县创建法治政府建设示范县领导小组成员名单".to_string()));
    assert!(p.contains(&"附件1".to_string()) && p.contains(&"附件2".to_string()));
    // 一级 cells are merged over their rows in the model
    let table = composed
        .doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Landscape(inner) => inner.iter().find_map(|b| match b {
                Block::Table(t) => Some(t.clone()),
                _ => None,
            }),
            _ => None,
        })
        .unwrap();
    assert_eq!(table.rows[0][0].text, "一、政府职能依法全面履行");
    assert_eq!(table.rows[0][0].rowspan, 20);
    assert_eq!(table.rows[0][1].rowspan, 5);
    // the PDF prints the 一级 label again where a page cuts its group; the DOCX
    // is one flowing table whose merge covers the whole group, the label once
    let docx: String = docx_paragraphs(rendered.docx.as_ref().unwrap())
        .iter()
        .map(|p| normalize(p))
        .collect();
    assert_eq!(docx.matches("一、政府职能依法全面履行").count(), 1);
    assert!(pdf_text(&rendered).matches("一、政府职能依法全面履行").count() >= 2);
    let xml = document_xml(rendered.docx.as_ref().unwrap());
    let mut doc = composed.doc.clone();
    let tables = doc.tables_mut().len();
    assert_eq!(xml.matches("<w:tblHeader").count(), tables, "one w:tbl per table");
    assert_eq!(rendered.pages % 2, 0);
    // the DOCX, written while Typst laid the document out and finished with
    // the 版记's placement, is the DOCX of the last round's plan
    assert_eq!(rendered.timings.rounds, 2, "the labels cut by a page printed again");
    let s = settings();
    let mut doc = composed.doc.clone();
    gongwen::layout::place_signatures(&mut doc, s.fonts.as_ref());
    let last =
        gongwen::render::docx::write_docx(&doc, s.date, rendered.banji, &composed.images)
            .unwrap();
    assert!(rendered.docx.as_deref() == Some(&last[..]), "DOCX of another plan");
}

/// A later layout round starts from the last round's introspection (page
/// numbers, the 版记's page) and settles in fewer passes; what it settles on is
/// what a cold compile of the same source gives: the same pages, the same PDF.
#[test]
fn seeded_layout_rounds_give_the_cold_compile() {
    let (composed, rendered) = build(&fixture("lingchuan"));
    assert_eq!(rendered.timings.rounds, 2, "a second round, seeded with the first");
    let s = settings();
    let mut cold = gongwen::pipeline::typst_engine(&composed, &s).unwrap();
    assert_eq!(cold.compile_source(&rendered.typst).unwrap(), rendered.pages);
    let pdf = cold.export_pdf(&composed.name, s.date).unwrap();
    assert!(rendered.pdf.as_deref() == Some(&pdf[..]), "another PDF");
}

/// The merged cells a page break cuts are stated in lines before the first
/// block (or, where a label fits, repeated by the layout itself), the rows are
/// written as before their cuts: a round that only cuts merges leaves every
/// row's source text (and Typst's layout of every cell it did not cut) as it
/// was.
#[test]
fn a_round_that_cuts_merges_changes_only_the_lines_of_the_cuts() {
    let (composed, rendered) = build(&fixture("lingchuan"));
    assert_eq!(rendered.timings.rounds, 2);
    let mut doc = composed.doc.clone();
    gongwen::layout::place_signatures(&mut doc, settings().fonts.as_ref());
    let first = gongwen::render::typst::typst_source_repeating(&doc);
    assert_eq!(first.lines().count(), rendered.typst.lines().count());
    let changed: Vec<(&str, &str)> =
        first.lines().zip(rendered.typst.lines()).filter(|(a, b)| a != b).collect();
    assert!(!changed.is_empty());
    for (before, after) in &changed {
        assert!(
            before.starts_with("#let gongwen-cut = ")
                && after.starts_with("#let gongwen-cut = ")
                || before.starts_with("#let gongwen-again = ")
                    && after.starts_with("#let gongwen-again = "),
            "{before:.80} → {after:.80}"
        );
    }
    // lingchuan's table has a row taller than a page: the merged cells over it
    // are cut cell by cell, the others repeat their labels by themselves
    assert!(rendered.typst.contains("<gongwen-repeat>"));
    assert!(rendered.typst.contains("#let gongwen-again = (\"0-"));
}

/// The first build of a process lays a small document out with the style
/// library while the case is read and composed (Typst's caches and loaded
/// fonts are the process's): that document must stay one the style library
/// lays out without a warning; with a style library that lacks its functions
/// the warm-up only fails (the build reports the library's own errors).
#[test]
fn the_warm_up_document_lays_out_with_the_style_library() {
    use gongwen::render::typst::warm_up;
    let s = settings();
    let style = gongwen::pipeline::style_library(&s).unwrap();
    assert!(warm_up(s.library.clone(), s.fonts.clone(), &style, s.date));
    assert!(!warm_up(s.library.clone(), s.fonts.clone(), "#let x = 1", s.date));
}

/// The DOCX is written while Typst lays the document out and finished with the
/// 版记's placement: the same bytes as written for that placement at once. The
/// 版记 has the body's last section to itself: continuous at the foot of the
/// last content page, else starting on an even page (after landscape pages
/// always), its footers unnumbered after a blank page.
#[test]
fn docx_banji_section_follows_the_placement() {
    use gongwen::layout::BanjiPlacement as P;
    use gongwen::render::docx::{prepare_docx, write_docx};
    let s = settings();
    let mut after = std::collections::BTreeSet::new();
    for dir in [CaseDir::Builtin, fixture("foot-1"), fixture("lingchuan")] {
        let composed = gongwen::pipeline::compose_dir(&dir, &s).unwrap();
        let mut doc = composed.doc.clone();
        gongwen::layout::place_signatures(&mut doc, s.fonts.as_ref());
        for p in [P::SamePage, P::NextPage, P::AfterBlank] {
            let direct = write_docx(&doc, s.date, p, &composed.images).unwrap();
            let prepared =
                prepare_docx(&doc, s.date, &composed.images).unwrap().finish(p).unwrap();
            assert!(direct == prepared, "{}: {p:?}", doc.title);
            let xml = document_xml(&direct);
            let starts: Vec<usize> =
                xml.match_indices("<w:sectPr").map(|m| m.0).collect();
            let (before, last) = (starts[starts.len() - 2], starts[starts.len() - 1]);
            assert_eq!(xml.matches("<w:tblpPr").count(), 1, "one floating table");
            let banji = xml.find("<w:tblpPr").unwrap();
            assert!(before < banji && banji < last, "the 版记 in the last section");
            let landscape = xml[before..banji].contains(r#"w:orient="landscape""#);
            after.insert(landscape);
            let kind =
                if p == P::SamePage && !landscape { "continuous" } else { "evenPage" };
            let sect = &xml[last..];
            assert!(
                sect.contains(&format!(r#"<w:type w:val="{kind}""#)),
                "{p:?}: {sect}"
            );
            let blank = sect.matches(r#"r:id="rIdGwFooterBlank""#).count();
            let numbered = sect.contains(r#"r:id="rIdGwFooterOdd""#)
                && sect.contains(r#"r:id="rIdGwFooterEven""#);
            assert_eq!(
                (blank, numbered),
                if p == P::AfterBlank { (2, false) } else { (0, true) }
            );
        }
    }
    assert_eq!(after.len(), 2, "content ending on portrait and on landscape pages");
}

/// Read from the pages Typst laid out: no page of the 任务分解 table ends with
/// a row that opens a merged group and is to keep with the next (its label
/// would stand alone at the foot), unless that row is alone on its page; and
/// the table is not cut into several tables for it.
#[test]
fn no_group_starts_alone_at_a_page_foot() {
    let (mut composed, rendered) = build(&fixture("lingchuan"));
    let tables = composed.doc.tables_mut();
    assert_eq!(tables.len(), rendered.table_breaks.len(), "one table per annex table");
    let (mut checked, mut kept) = (0, 0);
    for ((t, _), breaks) in tables.into_iter().zip(&rendered.table_breaks) {
        let keep =
            t.keep_with_next(gongwen::doc::TABLE_WIDTH_MM, gongwen::doc::TABLE_BLOCK_MM);
        kept += keep.iter().filter(|k| **k).count();
        let mut page_start = 0;
        for &b in breaks {
            assert!(
                b - 1 == page_start || !keep[b - 1],
                "row {} opens a group at the foot of a page (breaks {breaks:?})",
                b - 1
            );
            page_start = b;
            checked += 1;
        }
    }
    assert!(checked > 10, "the table runs over many pages");
    assert!(kept > 20, "most groups' first rows keep with the next: {kept}");
    let pdf = pdf_text(&rendered);
    assert!(pdf.contains(&normalize("编制并对外公布本级政府工作部门的权责清单")));
}

/// No output of the example or of any fixture holds a format character (word
/// joiner, zero-width space, bidi mark …) that its input does not hold.
#[test]
fn no_invisible_characters_in_any_output() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<CaseDir> = vec![CaseDir::Builtin];
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("case.toml").is_file())
        .map(|e| e.path())
        .collect();
    names.sort();
    dirs.extend(names.into_iter().map(CaseDir::Disk));
    assert!(dirs.len() >= 10, "{} cases", dirs.len());
    for dir in &dirs {
        let (_, rendered) = build(dir);
        let what = format!("{dir:?}");
        assert_no_format_characters(
            &rendered.page_texts.concat(),
            &format!("PDF of {what}"),
        );
        let docx = docx_paragraphs(rendered.docx.as_ref().unwrap());
        assert_no_format_characters(&docx.concat(), &format!("DOCX of {what}"));
    }
}
