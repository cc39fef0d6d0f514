//! The 进度通报 table and the 督办通知 for units with overdue tasks.

use chrono::NaiveDate;

use crate::deadline::cn_date;
use crate::doc::{
    self, Align, Block, Cell, Column, Document, FontRole, Head, Run, Width,
};
use crate::model::Case;
use crate::progress::{State, TaskState, UnitProgress};

use super::assign::{indicator_number, table_document};
use super::title::balance_title;

fn body(t: String) -> Block {
    Block::Para { runs: vec![Run::new(FontRole::Fang, t)], indent: true }
}

/// 进度通报: every unit's done, open, overdue and due-soon counts.
pub fn progress_report(units: &[UnitProgress], as_of: NaiveDate) -> Document {
    let rows = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let late: Vec<String> =
                u.overdue.iter().map(|(n, d)| format!("第{n}项逾期{d}天")).collect();
            vec![
                Cell::new((i + 1).to_string()),
                Cell::new(u.unit.clone()),
                Cell::new(u.done.to_string()),
                Cell::new(u.open.to_string()),
                Cell::new(u.overdue.len().to_string()),
                Cell::new(u.due_soon.len().to_string()),
                Cell::new(late.join("；")),
            ]
        })
        .collect();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(10.0), align: Align::Center },
            Column { width: Width::Mm(36.0), align: Align::Left },
            Column { width: Width::Mm(14.0), align: Align::Center },
            Column { width: Width::Mm(14.0), align: Align::Center },
            Column { width: Width::Mm(14.0), align: Align::Center },
            Column { width: Width::Mm(16.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
        ],
        header: ["序号", "单位", "已完成", "未完成", "逾期", "7日内到期", "逾期事项"]
            .map(String::from)
            .to_vec(),
        rows,
        size_pt: 10.5,
    };
    let overdue: usize = units.iter().map(|u| u.overdue.len()).sum();
    let late_units = units.iter().filter(|u| !u.overdue.is_empty()).count();
    let note = format!(
        "截至{}，{}个单位承担的创建任务中，{late_units}个单位有逾期未完成事项共{overdue}项次。“按照市部署时间”等未定时限的任务不计逾期。",
        cn_date(as_of),
        units.len()
    );
    table_document("创建任务进度通报", &[note], table, false)
}

/// A short 督办通知 to one unit: its overdue tasks as a table, a reply deadline.
pub fn urge_notice(
    case: &Case,
    unit: &str,
    states: &[TaskState<'_>],
    numbers: &[String],
    as_of: NaiveDate,
    reply: NaiveDate,
    seq: i64,
) -> Document {
    let h = &case.header;
    let printer = case.banji.as_ref().map_or_else(
        || case.notice.signature.first().map(|s| s.value.clone()).unwrap_or_default(),
        |b| b.printer.value.clone(),
    );
    let rows: Vec<Vec<Cell>> = states
        .iter()
        .filter(|s| numbers.contains(&indicator_number(s.indicator)))
        .map(|s| {
            let days = match s.state {
                State::Overdue { days } => days.to_string(),
                _ => String::new(),
            };
            vec![
                Cell::new(indicator_number(s.indicator)),
                Cell::new(s.indicator.text.value.clone()),
                // the 完成时限 as the user wrote it, not the parsed form
                Cell::new(
                    s.indicator
                        .deadline
                        .as_ref()
                        .map(|d| d.value.clone())
                        .unwrap_or_default(),
                ),
                Cell::new(days),
            ]
        })
        .collect();
    let n = rows.len();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(14.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
            Column { width: Width::Mm(34.0), align: Align::Center },
            Column { width: Width::Mm(20.0), align: Align::Center },
        ],
        header: ["序号", "三级指标", "完成时限", "逾期天数"].map(String::from).to_vec(),
        rows,
        size_pt: 12.0,
    };
    let number =
        format!("{}〔{}〕{}号", h.number.code.value, chrono::Datelike::year(&as_of), seq);
    let title = "关于督促办理逾期创建任务的通知";
    let blocks = vec![
        Block::Head(Head::new(
            Vec::new(),
            h.organs.iter().map(|o| o.value.clone()).collect(),
            h.wenjian,
            number,
            Vec::new(),
        )),
        Block::Title(balance_title(title)),
        Block::Blank(1),
        Block::Para {
            runs: vec![Run::new(FontRole::Fang, format!("{unit}："))],
            indent: false,
        },
        body(format!(
            "截至{}，你单位承担的下列{n}项创建任务已超过完成时限，尚未办结。请高度重视，逐项落实，于{}前办结，并将办理情况书面报送{printer}。",
            cn_date(as_of),
            cn_date(reply)
        )),
        Block::Table(table),
        Block::Signature {
            names: case.notice.signature.iter().map(|s| s.value.clone()).collect(),
            date: cn_date(as_of),
            sealed: false,
            seal: None,
            place: doc::SignaturePlace::default(),
        },
    ];
    Document {
        title: title.to_string(),
        blocks,
        banji: Some(doc::Banji {
            cc_label: "抄送：".to_string(),
            cc: None,
            printer,
            date: format!("{}印发", cn_date(as_of)),
        }),
    }
}
