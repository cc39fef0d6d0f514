//! Score sheets on the page: blank sheets for inspectors, filled sheets per unit,
//! and the 督察情况通报 summary with ranks.

use crate::doc::{self, Align, Block, Cell, Column, Document, FontRole, Run, Width};
use crate::scores::{Points, Scores, Sheet, UnitScores, rank};

use super::title::balance_title;

fn para(text: impl Into<String>) -> Block {
    Block::Para { runs: vec![Run::new(FontRole::Fang, text)], indent: false }
}

/// The sheet's table; `scores` fills the 得分 column (`None`: blank sheet).
fn sheet_table(sheet: &Sheet, scores: Option<&[Option<Points>]>) -> doc::Table {
    let mut rows = Vec::new();
    let mut n = 0;
    for g in &sheet.groups {
        let mut subtotal = Points(0);
        for (i, t) in g.tasks.iter().enumerate() {
            let score = scores.map(|s| s[n]);
            n += 1;
            let mut row = Vec::new();
            if i == 0 {
                let mut duty = Cell::new(g.duty.clone());
                duty.rowspan = g.tasks.len() as u32;
                row.push(duty);
            }
            let got = match score {
                None => String::new(),
                Some(None) => "未评分".to_string(),
                Some(Some(p)) => {
                    subtotal.0 += p.0;
                    p.to_string()
                }
            };
            row.extend([
                Cell::new(n.to_string()),
                Cell::new(t.text.value.clone()),
                Cell::new(t.points.to_string()),
                Cell::new(t.units.clone()),
                Cell::new(t.rule.clone()),
                Cell::new(got),
                Cell::new(String::new()),
            ]);
            rows.push(row);
        }
        if scores.is_some() {
            let max: Points = g.tasks.iter().map(|t| t.points).sum();
            rows.push(vec![
                Cell {
                    text: "小计".into(),
                    rowspan: 1,
                    colspan: 4,
                    align: Some(Align::Center),
                    again: false,
                },
                Cell::new(max.to_string()),
                Cell::new(String::new()),
                Cell::new(subtotal.to_string()),
                Cell::new(String::new()),
            ]);
        }
    }
    let total = scores.map(|s| {
        let sum: Points = s.iter().flatten().copied().sum();
        if s.iter().all(Option::is_some) {
            sum.to_string()
        } else {
            format!("{sum}（未评完）")
        }
    });
    rows.push(vec![
        Cell {
            text: "合计".into(),
            rowspan: 1,
            colspan: 4,
            align: Some(Align::Center),
            again: false,
        },
        Cell::new(sheet.full.to_string()),
        Cell::new(String::new()),
        Cell::new(total.unwrap_or_default()),
        Cell::new(String::new()),
    ]);
    doc::Table {
        columns: vec![
            Column { width: Width::Mm(36.0), align: Align::Left },
            Column { width: Width::Mm(10.0), align: Align::Center },
            Column { width: Width::Fr(3), align: Align::Left },
            Column { width: Width::Mm(12.0), align: Align::Center },
            Column { width: Width::Mm(28.0), align: Align::Center },
            Column { width: Width::Fr(3), align: Align::Left },
            Column { width: Width::Mm(16.0), align: Align::Center },
            Column { width: Width::Mm(14.0), align: Align::Center },
        ],
        header: [
            "主要职责",
            "序号",
            "工作任务",
            "分值",
            "落实单位",
            "检查标准",
            "得分",
            "备注",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        size_pt: 10.5,
    }
}

fn sheet_blocks(
    sheet: &Sheet,
    label: Option<&str>,
    unit: Option<&str>,
    scores: Option<&[Option<Points>]>,
) -> Vec<Block> {
    let mut b = Vec::new();
    if let Some(l) = label {
        b.push(Block::AnnexLabel(l.to_string()));
        b.push(Block::Blank(1));
    }
    b.push(Block::Title(balance_title(&sheet.title)));
    b.push(Block::Blank(1));
    let mut head = String::new();
    if !sheet.person.is_empty() {
        head.push_str(&format!("责任人：{}", sheet.person));
    }
    if let Some(u) = unit {
        head.push_str(&format!("\u{3000}\u{3000}被督察单位：{u}"));
    }
    if !head.is_empty() {
        b.push(para(head));
    }
    b.push(Block::Table(sheet_table(sheet, scores)));
    b.push(Block::Blank(1));
    b.push(para(
        "督察组：\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}督察人员签字：\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}日期：\u{3000}\u{3000}\u{3000}\u{3000}年\u{3000}\u{3000}月\u{3000}\u{3000}日",
    ));
    b
}

/// Blank sheets for the inspectors: 得分 and 备注 empty, a 合计 row and a line
/// for the inspectors' signatures.
pub fn blank_sheets(scores: &Scores) -> Document {
    let n = scores.sheets.len();
    let body =
        |t: String| Block::Para { runs: vec![Run::new(FontRole::Fang, t)], indent: true };
    let full: Vec<String> =
        scores.sheets.iter().map(|s| format!("{}（{} 分）", s.person, s.full)).collect();
    // a portrait page of instructions for the inspectors opens the set
    let mut blocks = vec![
        Block::Title(balance_title("督察情况打分说明")),
        Block::Blank(1),
        body(format!("1.本次督察共用打分表{n}张：{}。", full.join("、"))),
        body("2.督察组按“检查标准”逐项打分，得分为 0.5 分的整数倍，不得超过该项分值；未能检查的项目得分栏留空，并在备注栏注明原因，汇总时按“未评分”处理，不按零分计算。".to_string()),
        body("3.打分结果录入《打分录入.xlsx》：每个被督察单位一列，每项任务一行，“满分”列为该项分值，合计行自动求和。请勿增删行列或改动序号。".to_string()),
        body("4.打分表由督察组成员签字并注明日期后，连同打分录入表一并报送。".to_string()),
    ];
    if !scores.units.is_empty() {
        blocks.push(body(format!("5.被督察单位：{}。", scores.units.join("、"))));
    }
    blocks.extend(scores.sheets.iter().enumerate().map(|(i, s)| {
        let label = if n > 1 { format!("附件{}", i + 1) } else { "附件".to_string() };
        Block::Landscape(sheet_blocks(s, Some(&label), None, None))
    }));
    Document { title: "督察情况打分表".into(), blocks, banji: None }
}

/// One unit's result: its rank, total, whether every task was scored, and the
/// points lost per 主要职责 (most first).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    /// Index into the filled scores.
    pub index: usize,
    /// Rank (equal totals share one).
    pub rank: usize,
    /// The unit.
    pub unit: String,
    /// Total over all sheets.
    pub total: Points,
    /// Tasks nobody scored.
    pub unscored: usize,
    /// Points lost per 主要职责: (duty, points), most first.
    pub lost: Vec<(String, Points)>,
}

/// Every unit's result, best first (ties in input order).
pub fn results(scores: &Scores, filled: &[UnitScores]) -> Vec<UnitResult> {
    let totals: Vec<Points> = filled
        .iter()
        .map(|u| (0..scores.sheets.len()).map(|s| u.total(s).0).sum())
        .collect();
    let ranks = rank(&totals);
    let mut order: Vec<usize> = (0..filled.len()).collect();
    order.sort_by_key(|&i| (ranks[i], i));
    order
        .into_iter()
        .map(|i| {
            let u = &filled[i];
            let mut lost: Vec<(String, Points)> = Vec::new();
            let mut unscored = 0;
            for (s, sheet) in scores.sheets.iter().enumerate() {
                let mut n = 0;
                for g in &sheet.groups {
                    let mut l = 0;
                    for t in &g.tasks {
                        match u.sheets[s][n] {
                            Some(p) => l += t.points.0 - p.0,
                            None => unscored += 1,
                        }
                        n += 1;
                    }
                    if l > 0 {
                        lost.push((g.duty.clone(), Points(l)));
                    }
                }
            }
            lost.sort_by_key(|l| std::cmp::Reverse(l.1));
            UnitResult {
                index: i,
                rank: ranks[i],
                unit: u.unit.clone(),
                total: totals[i],
                unscored,
                lost,
            }
        })
        .collect()
}

/// The 督察情况通报 table and every unit's filled sheets.
pub fn report(scores: &Scores, filled: &[UnitScores]) -> Document {
    let results = results(scores, filled);
    let rows = results
        .iter()
        .map(|r| {
            let complete = r.unscored == 0;
            vec![
                Cell::new(r.rank.to_string()),
                Cell::new(r.unit.clone()),
                Cell::new(if complete {
                    r.total.to_string()
                } else {
                    format!("{}（未评完）", r.total)
                }),
                Cell::new(
                    r.lost
                        .iter()
                        .map(|(duty, l)| {
                            let name: String = duty.chars().take(12).collect();
                            format!("{name}…失{l}分")
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                Cell::new(if complete {
                    String::new()
                } else {
                    format!("{} 项未评分", r.unscored)
                }),
            ]
        })
        .collect();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(14.0), align: Align::Center },
            Column { width: Width::Mm(40.0), align: Align::Center },
            Column { width: Width::Mm(30.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
            Column { width: Width::Mm(30.0), align: Align::Center },
        ],
        header: ["名次", "被督察单位", "得分", "失分情况", "备注"]
            .map(String::from)
            .to_vec(),
        rows,
        size_pt: 12.0,
    };
    let mut blocks = vec![Block::Landscape(vec![
        Block::AnnexLabel("附件1".into()),
        Block::Blank(1),
        Block::Title(balance_title("督察情况通报")),
        Block::Blank(1),
        para(format!(
            "本次督察{}个单位，满分{}分。得分相同者名次并列；未评分的项目不计分，并注明未评完。",
            filled.len(),
            scores.sheets.iter().map(|s| s.full).sum::<Points>()
        )),
        Block::Table(table),
    ])];
    let mut k = 2;
    for r in &results {
        for (s, sheet) in scores.sheets.iter().enumerate() {
            blocks.push(Block::Landscape(sheet_blocks(
                sheet,
                Some(&format!("附件{k}")),
                Some(&filled[r.index].unit),
                Some(&filled[r.index].sheets[s]),
            )));
            k += 1;
        }
    }
    Document { title: "督察情况通报".into(), blocks, banji: None }
}

/// One unit's filled score sheets, on their own.
pub fn unit_sheets(scores: &Scores, filled: &UnitScores) -> Document {
    let n = scores.sheets.len();
    let blocks = scores
        .sheets
        .iter()
        .enumerate()
        .map(|(s, sheet)| {
            let label =
                if n > 1 { format!("附件{}", s + 1) } else { "附件".to_string() };
            Block::Landscape(sheet_blocks(
                sheet,
                Some(&label),
                Some(&filled.unit),
                Some(&filled.sheets[s]),
            ))
        })
        .collect();
    Document {
        title: format!("{}督察情况打分表", filled.unit), blocks, banji: None
    }
}
