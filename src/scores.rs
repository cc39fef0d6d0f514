//! Supervision score sheets (督察情况打分表): definition, validation, the
//! score-entry workbook, and reading the filled workbook back.
//!
//! Points are exact tenths (`Points(65)` is 6.5 分), never floats.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::case::tree::{self, Ctx, TableReader};
use crate::diag::{Diagnostic, Location, SourceText};
use crate::model::Located;

/// Points in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Points(pub u32);

impl Points {
    /// Parses `6`, `6.0`, `0.5`, `6分`; at most one decimal.
    pub fn parse(s: &str) -> Option<Points> {
        let t = s.trim().trim_end_matches('分').trim();
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) || int.len() > 5 {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 1 || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let tenths: u32 = frac.parse().unwrap_or(0);
        Some(Points(int.parse::<u32>().ok()? * 10 + tenths))
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(10) {
            write!(f, "{}", self.0 / 10)
        } else {
            write!(f, "{}.{}", self.0 / 10, self.0 % 10)
        }
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        Points(iter.map(|p| p.0).sum())
    }
}

/// One task with its points.
#[derive(Debug, Clone)]
pub struct Task {
    /// 工作任务 (may contain its points, "(6分)").
    pub text: Located<String>,
    /// 分值.
    pub points: Points,
    /// 落实单位.
    pub units: String,
    /// 检查标准.
    pub rule: String,
}

/// A 主要职责 with its tasks.
#[derive(Debug, Clone)]
pub struct Group {
    /// 主要职责.
    pub duty: String,
    /// Tasks.
    pub tasks: Vec<Task>,
}

/// One score sheet (one 责任人).
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Title.
    pub title: String,
    /// 责任人 line.
    pub person: String,
    /// Full score.
    pub full: Points,
    /// Groups.
    pub groups: Vec<Group>,
    /// Where the sheet is defined.
    pub loc: Location,
}

impl Sheet {
    /// All tasks in order, numbered from 1.
    pub fn tasks(&self) -> impl Iterator<Item = (usize, &Group, &Task)> {
        self.groups
            .iter()
            .flat_map(|g| g.tasks.iter().map(move |t| (g, t)))
            .enumerate()
            .map(|(i, (g, t))| (i + 1, g, t))
    }
}

/// A score-sheet file: the sheets and the units inspected.
#[derive(Debug, Clone)]
pub struct Scores {
    /// Sheets.
    pub sheets: Vec<Sheet>,
    /// 被督察单位.
    pub units: Vec<String>,
}

/// The points a task's text states, "(6分)" / "（0.5分）".
pub fn stated_points(text: &str) -> Option<Points> {
    let open = text.rfind(['(', '（'])?;
    let inner = &text[open..];
    let inner = inner.trim_start_matches(['(', '（']);
    let end = inner.find(['）', ')'])?;
    let body = &inner[..end];
    if !body.ends_with('分') {
        return None;
    }
    Points::parse(body)
}

/// Reads and checks score sheets: a workbook (one worksheet per 责任人) or a
/// `打分表.toml`.
pub fn load_scores(path: &Path) -> Result<Scores, Vec<Diagnostic>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods") {
        return load_scores_workbook(path);
    }
    load_scores_toml(path)
}

/// Score sheets from a workbook: every worksheet with a header naming 工作任务
/// (and 主要职责, 分值, 落实单位, 检查标准 in any order) is one sheet; a
/// "责任人：…" row above the header names the person, the first row the title;
/// 主要职责 merged over its tasks; points from the 分值 column, else from the
/// task's "(6分)".
fn load_scores_workbook(path: &Path) -> Result<Scores, Vec<Diagnostic>> {
    let shown = crate::case::display_path(path);
    // bounded and isolated like every workbook read (a hostile file is an error)
    let names = crate::case::workbook::sheet_names(path, &shown).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let mut sheets = Vec::new();
    for name in names {
        let ws = crate::case::workbook::read_sheet_raw(path, &shown, Some(&name))
            .map_err(|d| vec![d])?;
        use crate::case::columns::{self, Field, SCORE_FIELDS};
        let Some(header) =
            columns::find_header(&ws.cells, SCORE_FIELDS, &[Field::Tasks], 1)
        else {
            continue;
        };
        let hr = header.row;
        let (c_duty, c_pts, c_units, c_rule) = (
            header.col(Field::Duty),
            header.col(Field::Points),
            header.col(Field::Units),
            header.col(Field::Rule),
        );
        let c_task = header.col(Field::Tasks).unwrap_or(0);
        let mut person = String::new();
        let mut title = String::new();
        for row in &ws.cells[..hr] {
            for c in row.iter().filter(|c| !c.is_empty()) {
                if let Some(p) =
                    c.strip_prefix("责任人：").or_else(|| c.strip_prefix("责任人:"))
                {
                    person = p.trim().to_string();
                } else if title.is_empty() {
                    title = c.clone();
                }
            }
        }
        let mut groups: Vec<Group> = Vec::new();
        for (r, row) in ws.cells.iter().enumerate().skip(hr + 1) {
            let get = |c: Option<usize>| {
                c.and_then(|c| row.get(c)).cloned().unwrap_or_default()
            };
            let text = get(Some(c_task));
            if text.is_empty() || columns::field_of(&text, &[Field::Tasks]).is_some() {
                continue;
            }
            // "1 县（区）常委会…": the task's number typed into its text
            let text = match text.split_once([' ', '\u{3000}']) {
                Some((n, rest))
                    if n.chars().all(|c| c.is_ascii_digit())
                        && !rest.trim().is_empty() =>
                {
                    rest.trim().to_string()
                }
                _ => text,
            };
            let loc = ws.loc(r, c_task);
            let stated = stated_points(&text);
            let points =
                match (c_pts.map(|c| get(Some(c))).filter(|s| !s.is_empty()), stated) {
                    (Some(p), _) => match Points::parse(&p) {
                        Some(v) => {
                            if stated.is_some_and(|s| s != v) {
                                diags.push(Diagnostic::error(
                                    ws.loc(r, c_pts.unwrap_or(0)),
                                    format!(
                                        "任务\"{}\"文中写 {} 分，分值栏为 {v} 分",
                                        short(&text),
                                        stated.unwrap_or_default()
                                    ),
                                ));
                            }
                            v
                        }
                        None => {
                            diags.push(Diagnostic::error(
                                ws.loc(r, c_pts.unwrap_or(0)),
                                format!("无法识别的分值\"{p}\""),
                            ));
                            continue;
                        }
                    },
                    (None, Some(s)) => s,
                    (None, None) => {
                        diags.push(Diagnostic::error(
                            loc.clone(),
                            format!("任务\"{}\"没有分值", short(&text)),
                        ));
                        continue;
                    }
                };
            let duty = get(c_duty);
            if groups.is_empty()
                || (!duty.is_empty() && groups.last().is_some_and(|g| g.duty != duty))
            {
                groups.push(Group { duty: duty.clone(), tasks: Vec::new() });
            }
            if let Some(g) = groups.last_mut() {
                g.tasks.push(Task {
                    text: Located::new(text, loc),
                    points,
                    units: get(c_units),
                    rule: get(c_rule),
                });
            }
        }
        let sheet = Sheet {
            title: if title.is_empty() { name.clone() } else { title },
            person,
            full: Points(1000),
            groups,
            loc: Location::Cell {
                file: shown.clone(),
                sheet: name.clone(),
                cell: crate::case::workbook::cell_name(ws.origin.0, ws.origin.1),
            },
        };
        diags.extend(check_full(&sheet));
        sheets.push(sheet);
    }
    if sheets.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::error(
            Location::File(shown),
            "工作簿中没有含\"工作任务\"列的打分表",
        ));
    }
    if diags.is_empty() { Ok(Scores { sheets, units: Vec::new() }) } else { Err(diags) }
}

/// Reads and checks a `打分表.toml`.
fn load_scores_toml(path: &Path) -> Result<Scores, Vec<Diagnostic>> {
    let shown = crate::case::display_path(path);
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            Location::File(shown.clone()),
            format!("无法读取文件（{}）", crate::case::io_reason(&e)),
        )]
    })?;
    let src = SourceText::new(shown, text);
    let root = tree::parse(&src)?;
    let ctx = Ctx::new(&src);
    let mut sheets = Vec::new();
    let mut units = Vec::new();
    if let Some(t) = TableReader::new(&ctx, &root, "") {
        units = t.str_list("被督察单位").into_iter().map(|u| u.value).collect();
        for s in t.tables("打分表") {
            let title = s.req_str("标题");
            let person = s.opt_str("责任人");
            let full = s.opt_str("满分");
            let loc = ctx.loc(s.span());
            let full = match full {
                None => Some(Points(1000)),
                Some(f) => {
                    let p = Points::parse(&f.value);
                    if p.is_none() {
                        ctx.push(Diagnostic::error(
                            f.loc,
                            format!("无法识别的满分\"{}\"", f.value),
                        ));
                    }
                    p
                }
            };
            let mut groups = Vec::new();
            for g in s.tables("职责") {
                let duty = g.req_str("名称");
                let mut tasks = Vec::new();
                for k in g.tables("任务") {
                    let text = k.req_str("内容");
                    let points = k.opt_str("分值");
                    let units =
                        k.opt_str("落实单位").map(|s| s.value).unwrap_or_default();
                    let rule = k.opt_str("检查标准").map(|s| s.value).unwrap_or_default();
                    let kloc = ctx.loc(k.span());
                    k.finish();
                    let Some(text) = text else { continue };
                    let parsed = match &points {
                        None => {
                            ctx.push(Diagnostic::error(
                                kloc,
                                format!("任务\"{}\"没有分值", short(&text.value)),
                            ));
                            continue;
                        }
                        Some(p) => match Points::parse(&p.value) {
                            Some(v) => v,
                            None => {
                                ctx.push(Diagnostic::error(
                                    p.loc.clone(),
                                    format!(
                                        "无法识别的分值\"{}\"（应为 0.5 分的整数倍）",
                                        p.value
                                    ),
                                ));
                                continue;
                            }
                        },
                    };
                    if parsed.0 % 5 != 0 {
                        ctx.push(Diagnostic::error(
                            points.as_ref().map_or(kloc.clone(), |p| p.loc.clone()),
                            format!("分值 {parsed} 不是 0.5 分的整数倍"),
                        ));
                    }
                    if let Some(stated) = stated_points(&text.value)
                        && stated != parsed
                    {
                        ctx.push(Diagnostic::error(
                            points.as_ref().map_or(kloc.clone(), |p| p.loc.clone()),
                            format!(
                                "任务\"{}\"文中写 {stated} 分，分值栏为 {parsed} 分",
                                short(&text.value)
                            ),
                        ));
                    }
                    tasks.push(Task { text, points: parsed, units, rule });
                }
                let gloc = ctx.loc(g.span());
                g.finish();
                let Some(duty) = duty else { continue };
                if tasks.is_empty() {
                    ctx.push(Diagnostic::error(
                        gloc,
                        format!("主要职责\"{}\"下没有任务", short(&duty.value)),
                    ));
                }
                groups.push(Group { duty: duty.value, tasks });
            }
            s.finish();
            let (Some(title), Some(full)) = (title, full) else { continue };
            let sheet = Sheet {
                title: title.value,
                person: person.map(|p| p.value).unwrap_or_default(),
                full,
                groups,
                loc,
            };
            if let Some(d) = check_full(&sheet) {
                ctx.push(d);
            }
            sheets.push(sheet);
        }
        t.finish();
    }
    let diags = ctx.diags.into_inner();
    if diags.has_errors() { Err(diags.into_vec()) } else { Ok(Scores { sheets, units }) }
}

/// The points of a sheet must add up to its full score.
fn check_full(sheet: &Sheet) -> Option<Diagnostic> {
    let sum: Points = sheet.tasks().map(|(_, _, t)| t.points).sum();
    (sum != sheet.full).then(|| {
        Diagnostic::error(
            sheet.loc.clone(),
            format!(
                "打分表\"{}\"各项分值合计 {sum} 分，与满分 {} 分不符",
                sheet.person, sheet.full
            ),
        )
    })
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(16).collect();
    if s.chars().count() > 16 { format!("{t}…") } else { t }
}

/// The header of the score-entry workbook: sheet, number, task, maximum, then units.
const ENTRY_FIXED: [&str; 4] = ["打分表", "序号", "工作任务", "满分"];

/// Writes the score-entry workbook: one row per task, one column per unit, the
/// maximum per task, and total formulas per sheet and unit. `created` is the
/// run's date (its metadata; same input, same bytes).
pub fn write_entry_workbook(
    scores: &Scores,
    created: chrono::NaiveDate,
) -> Result<Vec<u8>, String> {
    use chrono::Datelike;
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook};
    let mut wb = Workbook::new();
    let year =
        u16::try_from(created.year()).map_err(|_| format!("日期 {created} 超出范围"))?;
    let day = ExcelDateTime::from_ymd(year, created.month() as u8, created.day() as u8)
        .map_err(|e| xlsx_reason(&e))?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&day));
    let ws = wb.add_worksheet();
    ws.set_name("打分录入").map_err(|e| xlsx_reason(&e))?;
    let bold = Format::new().set_bold();
    let units: Vec<String> = if scores.units.is_empty() {
        vec!["被督察单位".into()]
    } else {
        scores.units.clone()
    };
    for (c, h) in
        ENTRY_FIXED.iter().map(|s| s.to_string()).chain(units.iter().cloned()).enumerate()
    {
        let c = u16::try_from(c)
            .map_err(|_| "被督察单位过多，超出工作表的列数".to_owned())?;
        ws.write_string_with_format(0, c, &h, &bold).map_err(|e| xlsx_reason(&e))?;
    }
    let mut row = 1u32;
    for sheet in &scores.sheets {
        let first = row;
        for (n, _, task) in sheet.tasks() {
            ws.write_string(row, 0, &sheet.person).map_err(|e| xlsx_reason(&e))?;
            ws.write_number(row, 1, n as f64).map_err(|e| xlsx_reason(&e))?;
            ws.write_string(row, 2, &task.text.value).map_err(|e| xlsx_reason(&e))?;
            ws.write_number(row, 3, f64::from(task.points.0) / 10.0)
                .map_err(|e| xlsx_reason(&e))?;
            row += 1;
        }
        ws.write_string_with_format(row, 0, &sheet.person, &bold)
            .map_err(|e| xlsx_reason(&e))?;
        ws.write_string_with_format(row, 2, "合计", &bold)
            .map_err(|e| xlsx_reason(&e))?;
        let last = u16::try_from(4 + units.len())
            .map_err(|_| "被督察单位过多，超出工作表的列数".to_owned())?;
        for c in 3..last {
            let col = crate::case::workbook::cell_name(0, c as u32);
            let col = col.trim_end_matches('1');
            let f = format!("=SUM({col}{}:{col}{})", first + 1, row);
            ws.write_formula_with_format(row, c, Formula::new(f), &bold)
                .map_err(|e| xlsx_reason(&e))?;
        }
        row += 2;
    }
    ws.set_column_width(2, 60).map_err(|e| xlsx_reason(&e))?;
    ws.set_freeze_panes(1, 4).map_err(|e| xlsx_reason(&e))?;
    wb.save_to_buffer().map_err(|e| xlsx_reason(&e))
}

/// Why the score-entry workbook could not be written, in Chinese
/// (rust_xlsxwriter words its errors in English).
fn xlsx_reason(e: &rust_xlsxwriter::XlsxError) -> String {
    use rust_xlsxwriter::XlsxError as E;
    match e {
        E::MaxStringLengthExceeded => "有单元格的文字超过 32767 个字符".to_owned(),
        E::RowColumnLimitError => "超出工作表的行数或列数".to_owned(),
        E::IoError(io) | E::TempFileError(_, io) => crate::case::io_reason(io),
        _ => "程序内部错误（写出工作簿失败）".to_owned(),
    }
}

/// A unit's scores on one sheet: per task, `None` where nobody scored.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScores {
    /// The unit.
    pub unit: String,
    /// Per sheet (same order), per task.
    pub sheets: Vec<Vec<Option<Points>>>,
}

impl UnitScores {
    /// Total of the scored tasks of a sheet, and whether every task was scored.
    pub fn total(&self, sheet: usize) -> (Points, bool) {
        let s = &self.sheets[sheet];
        (s.iter().flatten().copied().sum(), s.iter().all(Option::is_some))
    }
}

/// Reads a filled score-entry workbook back, checking every cell.
pub fn read_filled(
    path: &Path,
    scores: &Scores,
) -> Result<Vec<UnitScores>, Vec<Diagnostic>> {
    let shown = crate::case::display_path(path);
    let sheet = crate::case::workbook::read_sheet_raw(path, &shown, Some("打分录入"))
        .map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let header = sheet.cells.first().cloned().unwrap_or_default();
    for (i, h) in ENTRY_FIXED.iter().enumerate() {
        if header.get(i).map(String::as_str) != Some(*h) {
            return Err(vec![
                Diagnostic::error(
                    sheet.loc(0, i),
                    format!("打分录入表的第 {} 列应为\"{h}\"", i + 1),
                )
                .with_hint("请用 gongwen scores 生成的 打分录入.xlsx 填写"),
            ]);
        }
    }
    let unit_cols: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .skip(ENTRY_FIXED.len())
        .filter(|(_, h)| !h.is_empty())
        .map(|(c, h)| (c, h.clone()))
        .collect();
    for (c, u) in &unit_cols {
        if !scores.units.is_empty() && !scores.units.contains(u) {
            let mut d =
                Diagnostic::error(sheet.loc(0, *c), format!("未登记的被督察单位\"{u}\""));
            if let Some(n) = scores.units.iter().max_by(|a, b| {
                strsim::normalized_levenshtein(a, u)
                    .total_cmp(&strsim::normalized_levenshtein(b, u))
            }) {
                d = d.with_hint(format!("是否为\"{n}\"？"));
            }
            diags.push(d);
        }
    }
    // rows by (sheet person, number)
    let mut rows: BTreeMap<(String, usize), usize> = BTreeMap::new();
    for (r, row) in sheet.cells.iter().enumerate().skip(1) {
        let (person, num) = (
            row.first().cloned().unwrap_or_default(),
            row.get(1).cloned().unwrap_or_default(),
        );
        if let Ok(n) = num.parse::<usize>() {
            rows.insert((person, n), r);
        }
    }
    let mut out: Vec<UnitScores> = unit_cols
        .iter()
        .map(|(_, u)| UnitScores { unit: u.clone(), sheets: Vec::new() })
        .collect();
    for s in &scores.sheets {
        let mut per_unit: Vec<Vec<Option<Points>>> = vec![Vec::new(); unit_cols.len()];
        for (n, _, task) in s.tasks() {
            let Some(&r) = rows.get(&(s.person.clone(), n)) else {
                diags.push(Diagnostic::error(
                    Location::File(sheet.file.clone()),
                    format!(
                        "打分录入表中缺少\"{}\"第 {n} 项（{}）",
                        s.person,
                        short(&task.text.value)
                    ),
                ));
                continue;
            };
            for (k, (c, unit)) in unit_cols.iter().enumerate() {
                let cell = sheet.cells[r].get(*c).cloned().unwrap_or_default();
                let v = if cell.trim().is_empty() {
                    None
                } else {
                    match Points::parse(&cell) {
                        Some(p) if p > task.points => {
                            diags.push(Diagnostic::error(
                                sheet.loc(r, *c),
                                format!(
                                    "{unit}第 {n} 项得分 {p} 超过该项分值 {}",
                                    task.points
                                ),
                            ));
                            None
                        }
                        Some(p) => Some(p),
                        None if cell.trim().starts_with('-') => {
                            diags.push(Diagnostic::error(
                                sheet.loc(r, *c),
                                format!("{unit}第 {n} 项得分为负数（{cell}）"),
                            ));
                            None
                        }
                        None => {
                            diags.push(Diagnostic::error(
                                sheet.loc(r, *c),
                                format!("{unit}第 {n} 项得分\"{cell}\"不是数字"),
                            ));
                            None
                        }
                    }
                };
                per_unit[k].push(v);
            }
        }
        for (k, v) in per_unit.into_iter().enumerate() {
            out[k].sheets.push(v);
        }
    }
    if diags.is_empty() { Ok(out) } else { Err(diags) }
}

/// Ranks by total, highest first; equal totals share a rank (1, 2, 2, 4).
pub fn rank(totals: &[Points]) -> Vec<usize> {
    totals.iter().map(|t| 1 + totals.iter().filter(|o| *o > t).count()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_exact_tenths() {
        assert_eq!(Points::parse("6"), Some(Points(60)));
        assert_eq!(Points::parse("0.5"), Some(Points(5)));
        assert_eq!(Points::parse("6.0"), Some(Points(60)));
        assert_eq!(Points::parse("3分"), Some(Points(30)));
        assert_eq!(Points::parse("1.25"), None);
        assert_eq!(Points::parse("-1"), None);
        assert_eq!(Points::parse("六"), None);
        let sum: Points =
            ["0.1", "0.2", "0.3"].iter().map(|s| Points::parse(s).unwrap()).sum();
        assert_eq!(sum.to_string(), "0.6");
        assert_eq!(Points(899).to_string(), "89.9");
    }

    #[test]
    fn stated_points_in_text() {
        assert_eq!(stated_points("听取汇报。（6分）"), Some(Points(60)));
        assert_eq!(stated_points("听取汇报。(0.5分)"), Some(Points(5)));
        assert_eq!(stated_points("听取汇报（两次）。"), None);
    }

    #[test]
    fn ties_share_a_rank() {
        assert_eq!(
            rank(&[Points(900), Points(950), Points(900), Points(800)]),
            vec![2, 1, 2, 4]
        );
    }
}
