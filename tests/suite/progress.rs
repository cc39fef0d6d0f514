//! Deadlines and progress: done, open, overdue and due-soon as of a fixed date,
//! the 进度通报 and the 督办通知, dates from Excel cells, year-less dates.

use std::path::Path;

use gongwen::case::CaseDir;
use gongwen::pipeline;
use gongwen::progress::{State, by_unit, task_states};

use crate::common::*;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progress")
}

fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn states_as_of_a_fixed_date() {
    let case = gongwen::case::load_case(&CaseDir::Disk(fixture())).unwrap();
    let states = task_states(&case, day(2024, 4, 10)).unwrap();
    let by_seq =
        |n: u32| states.iter().find(|s| s.indicator.seq == n).unwrap().state.clone();
    assert_eq!(by_seq(1), State::Done);
    assert_eq!(by_seq(2), State::Overdue { days: 26 });
    assert_eq!(by_seq(3), State::Open { days_left: Some(10) }); // 中旬: by the 20th
    assert_eq!(by_seq(4), State::Open { days_left: Some(5) });
    assert_eq!(by_seq(5), State::Open { days_left: None }); // 按照市部署时间: never late
    assert_eq!(by_seq(6), State::Overdue { days: 9 }); // "4月1日" takes the case's year
    assert_eq!(by_seq(7), State::Done); // a completion date
    let units = by_unit(&case, &states);
    let sfj = units.iter().find(|u| u.unit == "县司法局").unwrap();
    assert_eq!(
        (sfj.done, sfj.open, sfj.overdue.clone(), sfj.due_soon.clone()),
        (1, 2, vec![("6".into(), 9)], vec![("4".into(), 5)])
    );
    let zfb = units.iter().find(|u| u.unit == "县政府办公室").unwrap();
    assert_eq!((zfb.done, zfb.open, zfb.overdue.clone()), (1, 2, vec![("2".into(), 26)]));
}

#[test]
fn report_and_urge_notices() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings();
    s.date = day(2024, 4, 10);
    let report = pipeline::build_status(
        &CaseDir::Disk(fixture()),
        day(2024, 4, 10),
        5,
        Some(20),
        dir.path(),
        &s,
    )
    .unwrap();
    let names: Vec<String> = report
        .written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"创建任务进度通报.pdf".into()));
    assert!(names.contains(&"督办通知-县司法局.docx".into()));
    assert!(names.contains(&"督办通知-县政府办公室.pdf".into()));
    let docx = std::fs::read(dir.path().join("督办通知-县司法局.docx")).unwrap();
    let p = docx_paragraphs(&docx);
    assert!(p.contains(&"某政发〔2024〕20号".to_string()), "{p:?}");
    assert!(p.contains(&"县司法局：".to_string()));
    assert!(p.iter().any(|x| {
        normalize(x)
            .contains("截至2024年4月10日，你单位承担的下列1项创建任务已超过完成时限")
    }));
    assert!(p.iter().any(|x| normalize(x).contains("于2024年4月15日前办结")));
    assert!(p.contains(&"开展规范性文件清理。".to_string()));
    // the 完成时限 as the user wrote it (no year added)
    assert!(p.contains(&"4月1日".to_string()));
    assert!(p.contains(&"9".to_string()));
    let other = docx_paragraphs(
        &std::fs::read(dir.path().join("督办通知-县政府办公室.docx")).unwrap(),
    );
    assert!(other.contains(&"某政发〔2024〕21号".to_string()));
}

#[test]
fn year_less_dates_before_the_notice_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["case.toml", "单位.toml"] {
        std::fs::copy(fixture().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("指标.toml"),
        "[[\"指标\"]]\n\"序号\" = 1\n\"三级指标\" = \"甲\"\n\"责任单位\" = \"县司法局\"\n\"完成时限\" = \"1月15日\"\n",
    )
    .unwrap();
    let case =
        gongwen::case::load_case(&CaseDir::Disk(dir.path().to_path_buf())).unwrap();
    let errs: Vec<String> = task_states(&case, day(2024, 4, 10))
        .unwrap_err()
        .iter()
        .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
        .collect();
    assert_eq!(
        errs,
        [
            "DIR/指标.toml:5:10: 错误：时限\"1月15日\"按当年算早于成文日期，是否指次年？\n  提示：写明年份，如 2025年1月15日"
        ]
    );
}

#[test]
fn excel_dates_are_read_as_dates() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("进度.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in
        ["序号", "三级指标", "责任单位", "完成时限", "完成情况"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_number(1, 0, 1.0).unwrap();
    ws.write_string(1, 1, "甲。").unwrap();
    ws.write_string(1, 2, "县司法局").unwrap();
    ws.write_datetime_with_format(
        1,
        3,
        ExcelDateTime::from_ymd(2024, 9, 30).unwrap(),
        &date_fmt,
    )
    .unwrap();
    ws.write_datetime_with_format(
        1,
        4,
        ExcelDateTime::from_ymd(2024, 9, 20).unwrap(),
        &date_fmt,
    )
    .unwrap();
    ws.write_number(2, 0, 2.0).unwrap();
    ws.write_string(2, 1, "乙。").unwrap();
    ws.write_string(2, 3, "2024年10月底前").unwrap();
    ws.write_string(2, 4, "进行中").unwrap();
    wb.save(&path).unwrap();
    let sheet = gongwen::case::workbook::read_sheet(&path, "进度.xlsx", None).unwrap();
    let inds = gongwen::case::workbook::read_indicators(&sheet).unwrap().0;
    assert_eq!(inds[0].deadline.as_ref().unwrap().value, "2024年9月30日");
    assert_eq!(inds[0].status.as_ref().unwrap().value, "2024年9月20日");
    assert_eq!(inds[1].deadline.as_ref().unwrap().value, "2024年10月底前");
}

#[test]
fn task_deadlines_are_read_and_checked_against_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture().join("单位.toml"), dir.path().join("单位.toml")).unwrap();
    let case = std::fs::read_to_string(fixture().join("case.toml"))
        .unwrap()
        .replace("按照市部署时间", "2024年4月底前");
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    std::fs::write(
        dir.path().join("指标.toml"),
        "[[\"指标\"]]\n\"序号\" = 1\n\"三级指标\" = \"甲\"\n\"完成时限\" = \"2024年5月底前\"\n[[\"指标\"]]\n\"序号\" = 2\n\"三级指标\" = \"乙\"\n\"完成时限\" = \"2024年13月\"\n",
    )
    .unwrap();
    let Err(errs) = gongwen::case::load_case(&CaseDir::Disk(dir.path().to_path_buf()))
    else {
        panic!("accepted")
    };
    let errs: Vec<String> = errs
        .iter()
        .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
        .collect();
    assert!(errs.contains(&"DIR/指标.toml:4:10: 错误：完成时限（2024年5月底前）晚于最后一个创建步骤\"集中申报\"（2024年4月底前）".to_string()), "{errs:?}");
    assert!(
        errs.iter().any(|e| e.starts_with(
            "DIR/指标.toml:8:10: 错误：时限\"2024年13月\"中的月份 13 不存在"
        )),
        "{errs:?}"
    );
}

#[test]
fn deadlines_and_statuses_are_typed_once_at_load() {
    use chrono::NaiveDate;
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progress");
    let case = gongwen::case::load_case(&gongwen::case::CaseDir::Disk(fixture)).unwrap();
    let by_text = |t: &str| {
        case.indicators
            .iter()
            .find(|i| i.deadline.as_ref().is_some_and(|d| d.value == t))
            .unwrap_or_else(|| panic!("{t}"))
    };
    let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d);
    // a year-less date took the year of the notice (2024-03-05), as the loader's
    // stage check and `status` both read it: one parser, one year rule
    let yearless = by_text("4月1日");
    let due = yearless.due.as_ref().unwrap();
    assert!(!due.names_year);
    assert_eq!(due.deadline.latest_day(), day(4, 1));
    assert!(!yearless.done, "未开始");
    let named = by_text("2024年4月中旬");
    assert!(named.due.as_ref().unwrap().names_year);
    assert_eq!(named.due.as_ref().unwrap().deadline.latest_day(), day(4, 20));
    // an open deadline is read, without a last day
    assert_eq!(
        by_text("按照市部署时间").due.as_ref().unwrap().deadline.latest_day(),
        None
    );
    // 完成情况: 已完成, or a date of completion, means done; 进行中 does not
    assert!(by_text("2024年3月底前").done);
    assert!(by_text("2024年4月5日").done);
    assert!(!by_text("2024年3月15日").done);
    // the states read the typed values
    let states = gongwen::progress::task_states(
        &case,
        NaiveDate::from_ymd_opt(2024, 4, 10).unwrap(),
    )
    .unwrap();
    let state = |t: &str| {
        states
            .iter()
            .find(|s| s.indicator.deadline.as_ref().is_some_and(|d| d.value == t))
            .unwrap()
            .state
            .clone()
    };
    assert_eq!(state("4月1日"), gongwen::progress::State::Overdue { days: 9 });
    assert_eq!(state("2024年4月5日"), gongwen::progress::State::Done);
}
