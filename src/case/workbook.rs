//! Indicator tables from the office's own workbooks (calamine: .xlsx, .xlsm, .xls,
//! .ods).
//!
//! The header row is found by its names wherever it is (title rows above it are
//! common), with the synonyms real sheets use; column order never matters. Merged
//! cells are read as their value on every covered row; empty rows, note rows and
//! repeated header rows are skipped; numbers stored as text, line breaks,
//! full-width and trailing spaces are normal input. Every problem names its cell:
//! `任务分解.xlsx › 指标!E37`.

use std::collections::BTreeMap;
use std::path::Path;

use calamine::{Data, Reader, Sheets};

use crate::diag::{Diagnostic, Location};
use crate::model::{Indicator, IndicatorKind, Located};

pub use super::columns::Field;
use super::columns::{self, INDICATOR_FIELDS};

/// The field of an indicator table a header cell names.
pub fn header_field(text: &str) -> Option<Field> {
    columns::field_of(text, INDICATOR_FIELDS)
}

/// A1-style name of a cell (0-based absolute row and column).
pub fn cell_name(row: u32, col: u32) -> String {
    let mut letters = String::new();
    let mut c = col + 1;
    while c > 0 {
        let r = (c - 1) % 26;
        letters.insert(0, (b'A' + r as u8) as char);
        c = (c - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

/// Normalises a cell's text: CRLF to LF, each line trimmed of (full-width) spaces,
/// empty lines dropped.
pub fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(|l| {
            l.trim_matches(|c: char| {
                c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}'
            })
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// One sheet as text, merged regions filled in.
pub struct Sheet {
    /// File name as shown in messages.
    pub file: String,
    /// Sheet name.
    pub name: String,
    /// Absolute position of `cells[0][0]`.
    pub origin: (u32, u32),
    /// Cell texts (a merged region's value in every cell it covers).
    pub cells: Vec<Vec<String>>,
    /// Merged regions in grid indices: (first row, first column, last row, last
    /// column).
    pub merges: Vec<(usize, usize, usize, usize)>,
}

impl Sheet {
    /// The location of a cell given by grid indices.
    pub fn loc(&self, r: usize, c: usize) -> Location {
        Location::Cell {
            file: self.file.clone(),
            sheet: self.name.clone(),
            cell: cell_name(self.origin.0 + r as u32, self.origin.1 + c as u32),
        }
    }
}

fn data_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => clean(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) => crate::deadline::cn_date(t.date()),
            None => dt.to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Opens a workbook and reads the named sheet as text, whatever it holds.
pub fn read_sheet_raw(
    path: &Path,
    shown: &str,
    wanted: Option<&str>,
) -> Result<Sheet, Diagnostic> {
    open_sheet(path, shown, wanted, false)
}

/// Opens a workbook and reads one sheet (or the first that has an indicator header).
pub fn read_sheet(
    path: &Path,
    shown: &str,
    wanted: Option<&str>,
) -> Result<Sheet, Diagnostic> {
    open_sheet(path, shown, wanted, true)
}

fn open_sheet(
    path: &Path,
    shown: &str,
    wanted: Option<&str>,
    indicators: bool,
) -> Result<Sheet, Diagnostic> {
    let wanted = wanted.map(str::to_string);
    checked_workbook(path, shown, move |bytes, shown| {
        read_workbook(bytes, &shown, wanted.as_deref(), indicators)
    })
}

/// The names of a workbook's sheets, read as a sheet is (see [`checked_workbook`]).
pub fn sheet_names(path: &Path, shown: &str) -> Result<Vec<String>, Diagnostic> {
    checked_workbook(path, shown, |bytes, shown| {
        use calamine::Reader;
        Ok(open_workbook(bytes, &shown)?.sheet_names().to_vec())
    })
}

/// Runs `read` on a workbook's bytes, bounded before any parsing: size,
/// dimensions, cells and strings are checked on the bytes first, and the parser
/// runs isolated with a time limit (a panic or a hang in it is an error at this
/// file, not a crash).
fn checked_workbook<T: Send + 'static>(
    path: &Path,
    shown: &str,
    read: impl FnOnce(std::sync::Arc<[u8]>, String) -> Result<T, Diagnostic> + Send + 'static,
) -> Result<T, Diagnostic> {
    use crate::case::preflight;
    let at = || Location::File(shown.to_string());
    let limits = preflight::Limits::default();
    let bytes = crate::fsguard::read_limited(path, limits.max_bytes)
        .map_err(|e| crate::case::guard_error(at(), e))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    preflight::check_workbook(&bytes, &ext, &limits)
        .map_err(|e| crate::case::guard_error(at(), e))?;
    let (bytes, shown2): (std::sync::Arc<[u8]>, String) =
        (bytes.into(), shown.to_string());
    preflight::open_guarded(
        move || read(bytes, shown2),
        std::time::Duration::from_secs(30),
    )
    .map_err(|e| crate::case::guard_error(at(), e))?
}

/// A checked workbook's bytes opened by the parser.
fn open_workbook(
    bytes: std::sync::Arc<[u8]>,
    shown: &str,
) -> Result<calamine::Sheets<std::io::Cursor<std::sync::Arc<[u8]>>>, Diagnostic> {
    calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
        Diagnostic::error(
            Location::File(shown.to_string()),
            format!("无法读取工作簿：{}", workbook_problem(&e.to_string())),
        )
        .with_hint("请用 Excel 或 WPS 打开此文件，确认能正常打开后另存为 .xlsx 再试")
    })
}

/// Parses a checked workbook and reads one sheet (see [`open_sheet`]).
fn read_workbook(
    bytes: std::sync::Arc<[u8]>,
    shown: &str,
    wanted: Option<&str>,
    indicators: bool,
) -> Result<Sheet, Diagnostic> {
    let fail = |why: String| {
        Diagnostic::error(
            Location::File(shown.to_string()),
            format!("无法读取工作簿（{why}）"),
        )
    };
    let mut wb = open_workbook(bytes, shown)?;
    let names = wb.sheet_names().to_vec();
    let candidates: Vec<String> = match wanted {
        Some(w) => {
            if !names.iter().any(|n| n == w) {
                return Err(Diagnostic::error(
                    Location::File(shown.to_string()),
                    format!("工作簿中没有工作表\"{w}\""),
                )
                .with_hint(format!("已有的工作表：{}", names.join("、"))));
            }
            vec![w.to_string()]
        }
        None => names.clone(),
    };
    let mut first_err = None;
    let mut sheets_seen = Vec::new();
    for name in &candidates {
        let range = match wb.worksheet_range(name) {
            Ok(r) => r,
            Err(e) => {
                first_err.get_or_insert_with(|| {
                    fail(format!("工作表\"{name}\"{}", workbook_problem(&e.to_string())))
                });
                continue;
            }
        };
        let (h, w) = (range.height(), range.width());
        if h.saturating_mul(w) > 2_000_000 {
            return Err(fail(format!("工作表\"{name}\"过大（{h} 行 × {w} 列）")));
        }
        let origin = range.start().unwrap_or((0, 0));
        let mut cells: Vec<Vec<String>> =
            range.rows().map(|row| row.iter().map(data_text).collect()).collect();
        let merges = match &mut wb {
            Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut regions = Vec::new();
        for m in merges {
            let (r0, c0) = (
                m.start.0.saturating_sub(origin.0) as usize,
                m.start.1.saturating_sub(origin.1) as usize,
            );
            let (r1, c1) = (
                m.end.0.saturating_sub(origin.0) as usize,
                m.end.1.saturating_sub(origin.1) as usize,
            );
            regions.push((r0, c0, r1, c1));
            let Some(v) = cells.get(r0).and_then(|r| r.get(c0)).cloned() else {
                continue;
            };
            for row in cells.iter_mut().take(r1 + 1).skip(r0) {
                for cell in row.iter_mut().take(c1 + 1).skip(c0) {
                    if cell.is_empty() {
                        cell.clone_from(&v);
                    }
                }
            }
        }
        let sheet = Sheet {
            file: shown.to_string(),
            name: name.clone(),
            origin,
            cells,
            merges: regions,
        };
        if wanted.is_some() || !indicators || find_header(&sheet).is_some() {
            return Ok(sheet);
        }
        sheets_seen.push(sheet);
    }
    Err(first_err.unwrap_or_else(|| {
        Diagnostic::error(Location::File(shown.to_string()), "找不到指标表的表头行")
            .with_hint(missing_text_column(&sheets_seen).unwrap_or_else(|| {
            "表头须含\"三级指标\"（或\"指标内容\"\"指标\"）及\"序号\"\"责任单位\"等列名"
                .to_string()
        }))
    }))
}

/// What is wrong with a workbook calamine could not open, in words a user knows.
pub fn workbook_problem(e: &str) -> &'static str {
    let e = e.to_lowercase();
    if e.contains("zip") || e.contains("eocd") || e.contains("cfb") || e.contains("ole") {
        "文件已损坏，或不是 Excel 工作簿（扩展名与内容不符）"
    } else if e.contains("password") || e.contains("encrypt") {
        "工作簿设有密码保护"
    } else if e.contains("xml") {
        "工作簿内容已损坏（XML 不完整）"
    } else {
        "文件格式无法识别"
    }
}

/// For sheets without an indicator header: the row that looks like a header (two
/// known column names) and says which column it lacks.
pub fn missing_text_column(sheets: &[Sheet]) -> Option<String> {
    sheets.iter().find_map(|sheet| {
        sheet.cells.iter().enumerate().take(30).find_map(|(r, row)| {
            let known: Vec<&str> = row
                .iter()
                .filter(|t| header_field(t).is_some())
                .map(String::as_str)
                .collect();
            (known.len() >= 2).then(|| {
                format!(
                    "工作表\"{}\"第 {} 行像是表头（{}），但缺少\"三级指标\"列（列名可写：三级指标、指标内容、指标、考核内容）",
                    sheet.name,
                    sheet.origin.0 as usize + r + 1,
                    known.join("、")
                )
            })
        })
    })
}

/// The header row and its columns: a row naming the indicator text and at least
/// one other field, among the first 30 rows ([`columns::find_header`]).
pub fn find_header(sheet: &Sheet) -> Option<(usize, BTreeMap<Field, Vec<usize>>)> {
    let columns::Header { row, mut cols } =
        columns::find_header(&sheet.cells, INDICATOR_FIELDS, &[Field::Text], 2)?;
    // a merged "三级指标" over number and text columns
    if !cols.contains_key(&Field::Seq) && cols[&Field::Text].len() >= 2 {
        let text_cols = cols.remove(&Field::Text).unwrap_or_default();
        cols.insert(Field::Seq, vec![text_cols[0]]);
        cols.insert(Field::Text, vec![text_cols[1]]);
    }
    Some((row, cols))
}

/// Reads the 序号 of a cell: `12`, `12.`, `（12）`, `12、`.
fn parse_seq(s: &str) -> Option<u32> {
    let t = s
        .trim()
        .trim_matches(|c| matches!(c, '.' | '、' | '（' | '）' | '(' | ')' | '．'));
    t.parse().ok().filter(|n| *n > 0 && *n < 100_000)
}

/// A 序号 that names its list: `加分项1`, `减分项 2`, `否决项（1）`.
fn parse_labelled_seq(s: &str) -> Option<(String, u32)> {
    let t = s.trim();
    ["加分项", "否决项", "减分项"].iter().find_map(|l| {
        let rest = t.strip_prefix(l)?;
        parse_seq(rest.trim()).map(|n| (l.to_string(), n))
    })
}

/// 附加项 labels a row may announce.
fn extra_label(s: &str) -> Option<String> {
    ["加分项", "否决项", "减分项"].iter().find(|l| s.contains(*l)).map(|l| l.to_string())
}

/// A row of a sheet that is not read as an indicator: a warning at cell `c`,
/// quoting the start of `text`.
fn row_left_out(sheet: &Sheet, r: usize, c: usize, text: &str, why: &str) -> Diagnostic {
    let mut quoted: String = text.chars().take(20).collect();
    if text.chars().count() > 20 {
        quoted.push('…');
    }
    Diagnostic::warning(sheet.loc(r, c), format!("{why}，未作为指标读入：\"{quoted}\""))
}

/// Reads the indicator rows of a sheet; all problems are returned together.
/// On success, the warnings come with the indicators: rows that hold text but
/// are left out (a note, a signature line under the table).
pub fn read_indicators(
    sheet: &Sheet,
) -> Result<(Vec<Indicator>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let Some((header_row, cols)) = find_header(sheet) else {
        let mut d = Diagnostic::error(
            Location::File(sheet.file.clone()),
            format!("工作表\"{}\"中找不到指标表的表头行", sheet.name),
        );
        if let Some(h) = missing_text_column(std::slice::from_ref(sheet)) {
            d = d.with_hint(h);
        }
        return Err(vec![d]);
    };
    let col = |f: Field| cols.get(&f).map(|v| v[0]);
    // the columns the table uses, and which of them hold data (not 一级/二级)
    let used: Vec<(Field, usize)> =
        cols.iter().flat_map(|(f, cs)| cs.iter().map(move |c| (*f, *c))).collect();
    let first_col = used.iter().map(|(_, c)| *c).min().unwrap_or(0);
    let last_col = used.iter().map(|(_, c)| *c).max().unwrap_or(0);
    let mut diags = Vec::new();
    let mut out: Vec<Indicator> = Vec::new();
    let mut extra: Option<String> = None;
    let mut carried: (Option<String>, Option<String>) = (None, None);
    let empty = String::new();
    for (r, row) in sheet.cells.iter().enumerate().skip(header_row + 1) {
        let get = |f: Field| col(f).and_then(|c| row.get(c)).unwrap_or(&empty);
        if row.iter().all(String::is_empty) {
            continue;
        }
        // a repeated header row (printed, then retyped)
        if row.iter().filter(|t| header_field(t).is_some()).count() >= 2 {
            continue;
        }
        // horizontal merges on this row
        let across: Vec<&(usize, usize, usize, usize)> =
            sheet.merges.iter().filter(|m| m.0 <= r && r <= m.2 && m.3 > m.1).collect();
        // one merge over the whole table width: a note ("注：…") or a section row
        // ("加分项"), wherever it stands
        if let Some(m) = across.iter().find(|m| m.1 <= first_col && m.3 >= last_col) {
            let text = row.get(m.1).cloned().unwrap_or_default();
            let note =
                ["注", "说明", "备注", "填表说明"].iter().any(|p| text.starts_with(p));
            if let Some(l) =
                extra_label(&text).filter(|_| !note && text.chars().count() <= 12)
            {
                extra = Some(l);
            } else {
                let why = if note { "说明行" } else { "整行合并的单元格" };
                // a merge fills every covered cell: its text once
                diags.push(row_left_out(sheet, r, m.1, &text, why));
            }
            continue;
        }
        // a merge over two data columns would print one column's text as another's
        if let Some(m) = across.iter().find(|m| {
            used.iter()
                .filter(|(f, c)| {
                    !matches!(f, Field::Level1 | Field::Level2) && m.1 <= *c && *c <= m.3
                })
                .count()
                >= 2
        }) {
            let names: Vec<&str> = used
                .iter()
                .filter(|(_, c)| m.1 <= *c && *c <= m.3)
                .filter_map(|(f, _)| columns::names(*f).first().copied())
                .collect();
            let range = format!(
                "{}:{}",
                cell_name(sheet.origin.0 + m.0 as u32, sheet.origin.1 + m.1 as u32),
                cell_name(sheet.origin.0 + m.2 as u32, sheet.origin.1 + m.3 as u32)
            );
            diags.push(
                Diagnostic::error(
                    sheet.loc(r, m.1),
                    format!(
                        "单元格 {range} 横向合并，跨越了\"{}\"等列",
                        names.join("\"\"")
                    ),
                )
                .with_hint("指标行中每列应分别填写：请取消合并后把内容填入各自的列"),
            );
            continue;
        }
        let mut text = get(Field::Text).clone();
        let mut seq_text = get(Field::Seq).clone();
        // "12 认真开展…": the number typed into the text cell
        if seq_text.is_empty()
            && let Some((num, rest)) = text.split_once([' ', '\u{3000}'])
            && parse_seq(num).is_some()
            && !rest.trim().is_empty()
        {
            seq_text = num.to_string();
            text = rest.trim().to_string();
        }
        let level1 = Some(get(Field::Level1).clone())
            .filter(|s| !s.is_empty())
            .or_else(|| carried.0.clone());
        let level2 = Some(get(Field::Level2).clone())
            .filter(|s| !s.is_empty())
            .or_else(|| carried.1.clone());
        if text.is_empty() {
            // a section row ("附加项：加分项") or a note row
            let joined: String = row
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("");
            if let Some(l) = extra_label(&joined) {
                extra = Some(l);
            } else if parse_seq(&seq_text).is_some() {
                diags.push(Diagnostic::error(
                    sheet.loc(r, col(Field::Text).unwrap_or(0)),
                    "三级指标为空",
                ));
            } else {
                let note = ["注", "说明", "备注", "填表说明"]
                    .iter()
                    .any(|p| joined.trim_start().starts_with(p));
                let why = if note { "说明行" } else { "此行没有三级指标" };
                let c = row.iter().position(|t| !t.is_empty()).unwrap_or(0);
                let joined: Vec<&str> =
                    row.iter().filter(|t| !t.is_empty()).map(String::as_str).collect();
                diags.push(row_left_out(sheet, r, c, &joined.join(" "), why));
            }
            continue;
        }
        carried = (level1.clone(), level2.clone());
        let kind = match [&level1, &level2]
            .into_iter()
            .flatten()
            .find_map(|s| extra_label(s))
            .or_else(|| {
                level1
                    .as_deref()
                    .filter(|s| s.contains("附加"))
                    .map(|_| "附加项".to_string())
            }) {
            Some(l) => IndicatorKind::Extra(l),
            None => extra.clone().map_or(IndicatorKind::Main, IndicatorKind::Extra),
        };
        // `加分项1`: the number of a 附加项 list, printed as written
        let mut seq_label = None;
        let (kind, seq_text) = match parse_labelled_seq(&seq_text) {
            Some((label, n)) => {
                extra = Some(label.clone());
                seq_label = Some(seq_text.trim().to_string());
                (IndicatorKind::Extra(label), n.to_string())
            }
            None => (kind, seq_text),
        };
        let seq = match parse_seq(&seq_text) {
            Some(n) => n,
            None if seq_text.is_empty() && col(Field::Seq).is_none() => {
                out.iter().filter(|i| i.kind == kind).count() as u32 + 1
            }
            None => {
                let c = col(Field::Seq).unwrap_or(0);
                let msg = if seq_text.is_empty() {
                    "序号为空".to_string()
                } else {
                    format!("无法识别的序号\"{seq_text}\"")
                };
                diags.push(Diagnostic::error(sheet.loc(r, c), msg));
                continue;
            }
        };
        let located = |f: Field| -> Option<Located<String>> {
            let c = col(f)?;
            let v = row.get(c)?.clone();
            Some(Located::new(v, sheet.loc(r, c)))
        };
        let nonempty = |f: Field| located(f).filter(|l| !l.value.is_empty());
        let text_loc = sheet.loc(r, col(Field::Text).unwrap_or(0));
        out.push(Indicator {
            seq,
            seq_loc: sheet.loc(r, col(Field::Seq).or(col(Field::Text)).unwrap_or(0)),
            seq_label,
            kind,
            level1,
            level2,
            text: Located::new(text, text_loc.clone()),
            materials: located(Field::Materials)
                .unwrap_or_else(|| Located::new(String::new(), text_loc.clone())),
            units: located(Field::Units)
                .unwrap_or_else(|| Located::new(String::new(), text_loc.clone())),
            co_units: nonempty(Field::CoUnits),
            unit_refs: Vec::new(),
            done: crate::model::is_done(
                nonempty(Field::Status).as_ref().map(|s| s.value.as_str()),
                located(Field::Units).as_ref().map_or("", |u| u.value.as_str()),
            ),
            deadline: nonempty(Field::Deadline),
            due: None,
            status: nonempty(Field::Status),
            note: nonempty(Field::Note).map(|l| l.value),
        });
    }
    if out.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        diags.push(Diagnostic::error(
            Location::File(sheet.file.clone()),
            format!("工作表\"{}\"的表头行下没有指标", sheet.name),
        ));
    }
    if diags.iter().any(Diagnostic::is_error) { Err(diags) } else { Ok((out, diags)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(11, 2), "C12");
        assert_eq!(cell_name(0, 25), "Z1");
        assert_eq!(cell_name(0, 26), "AA1");
    }

    #[test]
    fn header_synonyms_ignore_spaces() {
        assert_eq!(header_field("一级 指标"), Some(Field::Level1));
        assert_eq!(header_field("具体资料报送"), Some(Field::Materials));
        assert_eq!(header_field("牵头单位"), Some(Field::Units));
        assert_eq!(header_field("  序\u{3000}号 "), Some(Field::Seq));
        assert_eq!(header_field("说明"), None);
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("  政府办\r\n司法局\u{3000} \n\n"), "政府办\n司法局");
        assert_eq!(parse_seq("12."), Some(12));
        assert_eq!(parse_seq("（3）"), Some(3));
        assert_eq!(parse_seq("三"), None);
        assert_eq!(parse_labelled_seq("加分项1"), Some(("加分项".to_string(), 1)));
        assert_eq!(parse_labelled_seq("减分项 2"), Some(("减分项".to_string(), 2)));
        assert_eq!(parse_labelled_seq("否决项（3）"), Some(("否决项".to_string(), 3)));
        assert_eq!(parse_labelled_seq("12"), None);
    }
}
