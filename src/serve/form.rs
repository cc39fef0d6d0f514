//! The form over a case file: the fields of the 版头, the notice, the 版记, the
//! 创建步骤 and the plan, read from case.toml and written back into it with
//! `toml_edit` (the user's comments, order and other keys stay as they were);
//! problems of a check keyed to the field they are about; the notice's body
//! imported from a .docx or .txt draft.

use std::io::{Cursor, Read};
use std::ops::Range;

use serde_json::{Map, Value, json};
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, TableLike};

use crate::case::tree::{self, Node};
use crate::diag::{Diagnostic, Location, SourceText};

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One text (a title may hold line breaks).
    Text,
    /// A list of texts, one per line on the page.
    Lines,
    /// A whole number.
    Int,
    /// A date: `2023-08-31` (a TOML date) or `2023年8月31日`.
    Date,
    /// Yes or no.
    Bool,
}

/// The simple fields: (table.key, kind).
const FIELDS: &[(&str, Kind)] = &[
    ("版头.发文机关", Kind::Lines),
    ("版头.文件", Kind::Bool),
    ("版头.机关代字", Kind::Text),
    ("版头.年份", Kind::Int),
    ("版头.序号", Kind::Int),
    ("版头.签发人", Kind::Lines),
    ("版头.份号", Kind::Text),
    ("版头.密级", Kind::Text),
    ("版头.保密期限", Kind::Text),
    ("版头.紧急程度", Kind::Text),
    ("通知.标题", Kind::Text),
    ("通知.主送", Kind::Lines),
    ("通知.正文", Kind::Lines),
    ("通知.署名", Kind::Lines),
    ("通知.成文日期", Kind::Date),
    ("通知.盖章", Kind::Bool),
    ("通知.印章", Kind::Text),
    ("通知.附注", Kind::Text),
    ("版记.抄送", Kind::Lines),
    ("版记.印发机关", Kind::Text),
    ("版记.印发日期", Kind::Date),
];

/// The field of the 创建步骤 (an array of tables), edited as rows.
pub const STEPS: &str = "创建步骤";
/// The keys of one step.
const STEP_KEYS: [&str; 3] = ["名称", "时限", "内容"];
/// The field of the plan, edited as the TOML text the case file holds.
pub const PLAN: &str = "方案";

/// Most steps a form may send.
const MAX_STEPS: usize = 200;

/// A case file parsed for editing.
fn parse(text: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>().map_err(|e| {
        let msg = e.message().trim().trim_end_matches('.').to_string();
        match e.span() {
            Some(span) => {
                let loc =
                    SourceText::new(crate::case::CASE_FILE, text).span_location(&span);
                format!("{loc}: 无法解析 TOML（{msg}）")
            }
            None => format!("无法解析 TOML（{msg}）"),
        }
    })
}

/// The text of a scalar as the form shows it.
fn scalar_text(v: &toml_edit::Value) -> String {
    match v {
        toml_edit::Value::String(s) => s.value().clone(),
        other => other.clone().decorated("", "").to_string(),
    }
}

fn field_value(item: Option<&Item>, kind: Kind) -> Value {
    let value = item.and_then(Item::as_value);
    match kind {
        Kind::Bool => json!(value.and_then(toml_edit::Value::as_bool).unwrap_or(false)),
        Kind::Lines => match value {
            None => json!([]),
            Some(toml_edit::Value::Array(a)) => {
                Value::Array(a.iter().map(|v| Value::String(scalar_text(v))).collect())
            }
            Some(v) => json!([scalar_text(v)]),
        },
        Kind::Text | Kind::Int | Kind::Date => {
            Value::String(value.map(scalar_text).unwrap_or_default())
        }
    }
}

/// The form's fields read from a case file: `{"版头.发文机关": [...], …,
/// "创建步骤": [{"名称", "时限", "内容"}], "方案": "TOML text"}`.
pub fn read(text: &str) -> Result<Map<String, Value>, String> {
    let doc = parse(text)?;
    let mut fields = Map::new();
    for (path, kind) in FIELDS {
        let (table, key) = path.split_once('.').expect("a table.key path");
        let item = doc.get(table).and_then(Item::as_table_like).and_then(|t| t.get(key));
        fields.insert((*path).to_string(), field_value(item, *kind));
    }
    let steps: Vec<Value> = doc
        .get(STEPS)
        .and_then(Item::as_array_of_tables)
        .map(|a| {
            a.iter()
                .map(|t| {
                    let mut step = Map::new();
                    for k in STEP_KEYS {
                        step.insert(k.into(), field_value(t.get(k), Kind::Text));
                    }
                    Value::Object(step)
                })
                .collect()
        })
        .unwrap_or_default();
    fields.insert(STEPS.into(), Value::Array(steps));
    let plan = match doc.get(PLAN) {
        Some(item) => {
            let mut only = DocumentMut::new();
            only.insert(PLAN, item.clone());
            only.to_string().trim().to_string()
        }
        None => String::new(),
    };
    fields.insert(PLAN.into(), Value::String(plan));
    Ok(fields)
}

/// A form value that is not of the expected shape.
fn shape(path: &str, expected: &str) -> String {
    format!("表单中\"{path}\"的值应为{expected}")
}

/// A text as a one-line TOML basic string, the way the example writes them
/// (a line break as `\n`).
fn basic(s: &str) -> toml_edit::Value {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => q.push_str(&format!("\\u{:04X}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    let mut v: toml_edit::Value = q.parse().unwrap_or_else(|_| toml_edit::Value::from(s));
    v.decor_mut().clear();
    v
}

/// Whether an array is written one item per line.
fn is_multiline(a: &Array) -> bool {
    a.iter().any(|v| {
        v.decor().prefix().and_then(|p| p.as_str()).is_some_and(|p| p.contains('\n'))
    })
}

/// A list of texts as a TOML array: one item per line when it was so, or when
/// it is long.
fn lines_value(items: Vec<String>, multiline: bool) -> toml_edit::Value {
    let long = items.iter().map(|s| s.chars().count() + 4).sum::<usize>() > 60;
    let mut a = Array::new();
    for s in items {
        a.push(basic(&s));
    }
    if multiline || long {
        for v in a.iter_mut() {
            v.decor_mut().set_prefix("\n  ");
        }
        a.set_trailing_comma(true);
        a.set_trailing("\n");
    }
    toml_edit::Value::Array(a)
}

/// The TOML value for a form value of `kind`; `None` removes the key.
fn to_toml(
    path: &str,
    kind: Kind,
    v: &Value,
    old: Option<&toml_edit::Value>,
) -> Result<Option<toml_edit::Value>, String> {
    let text = |v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.replace("\r\n", "\n")),
            Value::Null => Ok(String::new()),
            _ => Err(shape(path, "文本")),
        }
    };
    Ok(match kind {
        Kind::Bool => match v {
            Value::Bool(b) => {
                // an unset 否 stays unset
                if !b && old.is_none() { None } else { Some((*b).into()) }
            }
            _ => return Err(shape(path, "true 或 false")),
        },
        Kind::Lines => {
            let items: Vec<String> = match v {
                Value::Array(items) => items
                    .iter()
                    .map(text)
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .map(|s| s.trim_end().to_string())
                    .filter(|s| !s.trim().is_empty())
                    .collect(),
                Value::String(s) => s
                    .lines()
                    .map(|l| l.trim_end().to_string())
                    .filter(|l| !l.trim().is_empty())
                    .collect(),
                Value::Null => Vec::new(),
                _ => return Err(shape(path, "文本的列表")),
            };
            if items.is_empty() {
                None
            } else {
                let multiline =
                    matches!(old, Some(toml_edit::Value::Array(a)) if is_multiline(a));
                Some(lines_value(items, multiline))
            }
        }
        Kind::Text => {
            let s = text(v)?;
            if s.trim().is_empty() { None } else { Some(basic(&s)) }
        }
        Kind::Int => {
            let s = text(v)?;
            let t = s.trim();
            if t.is_empty() {
                None
            } else if let Ok(i) = t.parse::<i64>() {
                Some(i.into())
            } else {
                // kept as written: the check says what is wrong with it
                Some(basic(t))
            }
        }
        Kind::Date => {
            let s = text(v)?;
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                match t.parse::<toml_edit::Datetime>() {
                    Ok(d) if d.time.is_none() && d.offset.is_none() => Some(d.into()),
                    _ => Some(basic(t)),
                }
            }
        }
    })
}

/// Sets or removes `key` in a table, keeping the comments around the old value.
fn put(table: &mut dyn TableLike, key: &str, new: Option<toml_edit::Value>) {
    match new {
        None => {
            table.remove(key);
        }
        Some(mut v) => match table.get_mut(key).and_then(Item::as_value_mut) {
            Some(old) => {
                *v.decor_mut() = old.decor().clone();
                *old = v;
            }
            None => {
                table.insert(key, Item::Value(v));
            }
        },
    }
}

/// The table `name` of the document, made when absent.
fn table_mut<'d>(
    doc: &'d mut DocumentMut,
    name: &str,
) -> Result<&'d mut dyn TableLike, String> {
    if doc.get(name).is_none() {
        doc.insert(name, Item::Table(Table::new()));
    }
    doc.get_mut(name).and_then(Item::as_table_like_mut).ok_or_else(|| {
        format!("case.toml 中的\"{name}\"不是表，无法用表单修改；请在案卷文件中修改")
    })
}

/// Writes the steps into the `[[创建步骤]]` tables, in place (comments of the
/// steps that stay are kept).
fn put_steps(doc: &mut DocumentMut, v: &Value) -> Result<(), String> {
    let Value::Array(rows) = v else { return Err(shape(STEPS, "步骤的列表")) };
    if rows.len() > MAX_STEPS {
        return Err(format!("创建步骤最多 {MAX_STEPS} 个"));
    }
    if rows.is_empty() {
        doc.remove(STEPS);
        return Ok(());
    }
    if doc.get(STEPS).is_none() {
        doc.insert(STEPS, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let steps =
        doc.get_mut(STEPS).and_then(Item::as_array_of_tables_mut).ok_or_else(|| {
            "case.toml 中的\"创建步骤\"不是表数组（[[创建步骤]]），无法用表单修改"
                .to_string()
        })?;
    while steps.len() > rows.len() {
        steps.remove(steps.len() - 1);
    }
    for (i, row) in rows.iter().enumerate() {
        let Value::Object(row) = row else { return Err(shape(STEPS, "步骤的列表")) };
        if i == steps.len() {
            steps.push(Table::new());
        }
        let table = steps.get_mut(i).expect("pushed above");
        for k in STEP_KEYS {
            let path = format!("{STEPS}[{}].{k}", i + 1);
            let value = row.get(k).unwrap_or(&Value::Null);
            let old = table.get(k).and_then(Item::as_value).cloned();
            put(table, k, to_toml(&path, Kind::Text, value, old.as_ref())?);
        }
    }
    Ok(())
}

/// Sets every table of `item` (the plan and its chapters) to `position`, so the
/// plan stays where it was in the file.
fn reposition(item: &mut Item, position: usize) {
    match item {
        Item::Table(t) => {
            t.set_position(position);
            for (_, child) in t.iter_mut() {
                reposition(child, position);
            }
        }
        Item::ArrayOfTables(a) => {
            for t in a.iter_mut() {
                t.set_position(position);
                for (_, child) in t.iter_mut() {
                    reposition(child, position);
                }
            }
        }
        _ => {}
    }
}

/// The highest table position in a document.
fn last_position(item: &Item) -> usize {
    match item {
        Item::Table(t) => {
            t.iter().map(|(_, c)| last_position(c)).chain(t.position()).max().unwrap_or(0)
        }
        Item::ArrayOfTables(a) => a
            .iter()
            .flat_map(|t| t.iter().map(|(_, c)| last_position(c)).chain(t.position()))
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// Replaces the plan with the TOML text of the form.
fn put_plan(doc: &mut DocumentMut, v: &Value) -> Result<(), String> {
    let Value::String(text) = v else { return Err(shape(PLAN, "文本")) };
    if text.trim().is_empty() {
        doc.remove(PLAN);
        return Ok(());
    }
    let fragment = text.parse::<DocumentMut>().map_err(|e| {
        let msg = e.message().trim().trim_end_matches('.').to_string();
        match e.span() {
            Some(span) => {
                let loc = SourceText::new(PLAN, text.as_str()).span_location(&span);
                let (line, col) = match loc {
                    Location::Text { line, col, .. } => (line, col),
                    _ => (1, 1),
                };
                format!("\"方案\"一栏第 {line} 行第 {col} 列：无法解析 TOML（{msg}）")
            }
            None => format!("\"方案\"一栏无法解析 TOML（{msg}）"),
        }
    })?;
    if let Some((key, _)) = fragment.iter().find(|(k, _)| *k != PLAN) {
        return Err(format!(
            "\"方案\"一栏只能写 [\"方案\"] 及其章节（[[\"方案\".\"章\"]] 等），不能有\"{key}\""
        ));
    }
    let Some(item) = fragment.get(PLAN) else { return Ok(()) };
    let mut item = item.clone();
    let position = doc
        .get(PLAN)
        .and_then(Item::as_table)
        .and_then(Table::position)
        .unwrap_or_else(|| last_position(doc.as_item()) + 1);
    reposition(&mut item, position);
    doc.insert(PLAN, item);
    Ok(())
}

/// A case file with the form's fields written into it; other keys, comments
/// and the order of the file stay as they were. Unknown field names are an
/// error.
pub fn apply(text: &str, fields: &Map<String, Value>) -> Result<String, String> {
    let mut doc = parse(text)?;
    for (path, value) in fields {
        if path == STEPS {
            put_steps(&mut doc, value)?;
        } else if path == PLAN {
            put_plan(&mut doc, value)?;
        } else if let Some((_, kind)) = FIELDS.iter().find(|(p, _)| p == path) {
            let (table, key) = path.split_once('.').expect("a table.key path");
            let t = table_mut(&mut doc, table)?;
            let old = t.get(key).and_then(Item::as_value).cloned();
            let new = to_toml(path, *kind, value, old.as_ref())?;
            put(t, key, new);
        } else {
            return Err(format!("表单中没有\"{path}\"一栏"));
        }
    }
    Ok(doc.to_string())
}

/// Sets one simple field of a case file (used by uploads: the seal image).
pub fn set(text: &str, path: &str, value: Value) -> Result<String, String> {
    let mut fields = Map::new();
    fields.insert(path.to_string(), value);
    apply(text, &fields)
}

/// Where each value of a case file is: its dotted path (`通知.标题`,
/// `创建步骤[2].时限`, `方案.章[3].节[1].内容`, as messages name them) and its
/// first and last line.
pub fn value_lines(text: &str) -> Vec<(String, usize, usize)> {
    let src = SourceText::new(crate::case::CASE_FILE, text);
    let Ok(root) = tree::parse(&src) else { return Vec::new() };
    let line = |offset: usize| match src.location(offset) {
        Location::Text { line, .. } => line,
        _ => 0,
    };
    let mut out = Vec::new();
    walk(&root, "", &mut |path, key: &Range<usize>, node: &Node| {
        out.push((
            path.to_string(),
            line(key.start),
            line(node.span.end.saturating_sub(1)),
        ));
    });
    out
}

/// Calls `f` for every key/value pair below `node`, with its path.
fn walk(node: &Node, path: &str, f: &mut dyn FnMut(&str, &Range<usize>, &Node)) {
    let tree::Value::Table(entries) = &node.value else { return };
    for (k, kspan, child) in entries {
        let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
        match &child.value {
            tree::Value::Table(_) => walk(child, &p, f),
            tree::Value::Array(items)
                if !items.is_empty()
                    && items.iter().all(|i| matches!(i.value, tree::Value::Table(_))) =>
            {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{p}[{}]", i + 1), f);
                }
            }
            _ => f(&p, kspan, child),
        }
    }
}

/// The path of the value a diagnostic of the case file is about: the value on
/// its line, or the path its message names (`缺少必填项"通知.正文"`).
pub fn field_of(d: &Diagnostic, lines: &[(String, usize, usize)]) -> Option<String> {
    let Location::Text { file, line, .. } = &d.location else { return None };
    if !(file == crate::case::CASE_FILE
        || file.ends_with(&format!("/{}", crate::case::CASE_FILE)))
    {
        return None;
    }
    let named = d.message.split('"').skip(1).step_by(2).find(|q| {
        let root = q.split(['.', '[']).next().unwrap_or("");
        FIELDS.iter().any(|(p, _)| p.starts_with(&format!("{root}.")))
            || root == STEPS
            || root == PLAN
    });
    if let Some(n) = named {
        return Some(n.to_string());
    }
    lines
        .iter()
        .filter(|(_, first, last)| first <= line && line <= last)
        .max_by_key(|(p, _, _)| p.len())
        .map(|(p, _, _)| p.clone())
}

/// Largest draft accepted for the body.
pub const DRAFT_LIMIT: usize = 10 * 1024 * 1024;
/// Most bytes `word/document.xml` of a draft may unpack to.
const DOCUMENT_XML_LIMIT: u64 = 50 * 1024 * 1024;
/// Most paragraphs taken from a draft.
const MAX_PARAGRAPHS: usize = 2000;

/// The paragraphs of a draft: the paragraphs of a .docx's `word/document.xml`,
/// or the non-empty lines of a .txt (UTF-8, or GB18030 is refused with a hint).
pub fn draft_paragraphs(name: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    if bytes.len() > DRAFT_LIMIT {
        return Err(format!(
            "草稿 {name} 太大（{}，最多 10 MB）",
            crate::fsguard::human_size(bytes.len() as u64)
        ));
    }
    let paragraphs = match super::upload::extension(name).as_str() {
        "docx" => {
            docx_paragraphs(bytes).map_err(|e| format!("无法读取 {name}（{e}）"))?
        }
        "txt" => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                format!("无法读取 {name}（不是 UTF-8 编码的文本；请用记事本“另存为”UTF-8 编码）")
            })?;
            text.trim_start_matches('\u{feff}')
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        }
        _ => {
            return Err(format!(
                "不接受文件 {name}（正文只能从 .docx 或 .txt 草稿导入；.doc 请先用 Word 或 WPS 另存为 .docx）"
            ));
        }
    };
    if paragraphs.is_empty() {
        return Err(format!("{name} 中没有文字"));
    }
    if paragraphs.len() > MAX_PARAGRAPHS {
        return Err(format!(
            "{name} 有 {} 段，最多 {MAX_PARAGRAPHS} 段",
            paragraphs.len()
        ));
    }
    Ok(paragraphs)
}

/// The paragraphs of a .docx, in order, without empty ones.
fn docx_paragraphs(bytes: &[u8]) -> Result<Vec<String>, String> {
    use quick_xml::events::Event;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| "不是 .docx 文件（无法作为压缩包打开）".to_string())?;
    let mut xml = Vec::new();
    zip.by_name("word/document.xml")
        .map_err(|_| "不是 .docx 文件（没有 word/document.xml）".to_string())?
        .take(DOCUMENT_XML_LIMIT + 1)
        .read_to_end(&mut xml)
        .map_err(|e| format!("无法解压 word/document.xml（{e}）"))?;
    if xml.len() as u64 > DOCUMENT_XML_LIMIT {
        return Err("word/document.xml 解压后超过 50 MB".into());
    }
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut para: Option<String> = None;
    let mut in_text = false;
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("word/document.xml 不是完整的 XML（{e}）"))?;
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                b"p" => para = Some(String::new()),
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match (e.local_name().as_ref(), para.as_mut()) {
                (b"tab", Some(p)) => p.push(' '),
                (b"br" | b"cr", Some(p)) => p.push(' '),
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"p" => {
                    if let Some(p) = para.take() {
                        let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
                        if !p.is_empty() {
                            out.push(p);
                        }
                    }
                }
                b"t" => in_text = false,
                _ => {}
            },
            Event::Text(t) if in_text => {
                if let Some(p) = para.as_mut() {
                    p.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::GeneralRef(r) if in_text => {
                if let Some(p) = para.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        p.push(c);
                    } else {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        if let Some(s) =
                            quick_xml::escape::resolve_predefined_entity(&name)
                        {
                            p.push_str(s);
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "# 说明\n\"输出名\" = \"甲\"\n\n[\"版头\"]\n\"发文机关\" = [\"某办\"] # 主办在前\n\"机关代字\" = \"某办\"\n\"年份\" = 2023\n\"序号\" = 12\n\n[\"通知\"]\n\"标题\" = \"关于某事的通知\"\n\"正文\" = [\"一段。\"]\n\"成文日期\" = 2023-08-31\n\n[\"方案\"]\n\"标题\" = \"方案\"\n[[\"方案\".\"章\"]]\n\"标题\" = \"一章\"\n\n[[\"创建步骤\"]]\n\"名称\" = \"部署\" # 第一步\n\"时限\" = \"2023年9月初\"\n\"内容\" = \"召开会议。\"\n\n[\"版记\"]\n\"印发机关\" = \"某办\"\n";

    #[test]
    fn fields_are_read_and_written_back_in_place() {
        let f = read(CASE).unwrap();
        assert_eq!(f["版头.发文机关"], json!(["某办"]));
        assert_eq!(f["版头.年份"], json!("2023"));
        assert_eq!(f["通知.成文日期"], json!("2023-08-31"));
        assert_eq!(f["通知.盖章"], json!(false));
        assert_eq!(f["创建步骤"][0]["时限"], json!("2023年9月初"));
        assert!(
            f["方案"].as_str().unwrap().contains("[[\"方案\".\"章\"]]")
                || f["方案"].as_str().unwrap().contains("[[方案.章]]")
        );

        let mut edit = Map::new();
        edit.insert("通知.标题".into(), json!("关于另一事的通知"));
        edit.insert("版头.发文机关".into(), json!(["某办", "另一办"]));
        edit.insert("通知.成文日期".into(), json!("2023年9月1日"));
        edit.insert("版头.序号".into(), json!("十二"));
        edit.insert("通知.附注".into(), json!("此件公开发布"));
        edit.insert("版记.抄送".into(), json!(["县委办公室", ""]));
        let out = apply(CASE, &edit).unwrap();
        assert!(out.starts_with("# 说明\n"), "{out}");
        assert!(
            out.contains("\"发文机关\" = [\"某办\", \"另一办\"] # 主办在前"),
            "{out}"
        );
        assert!(out.contains("\"标题\" = \"关于另一事的通知\""), "{out}");
        assert!(out.contains("\"成文日期\" = \"2023年9月1日\""), "{out}");
        assert!(out.contains("\"序号\" = \"十二\""), "{out}");
        assert!(out.contains("\"抄送\" = [\"县委办公室\"]"), "{out}");
        assert!(out.contains("\"名称\" = \"部署\" # 第一步"), "{out}");
        // the order of the tables is kept
        let at = |s: &str| out.find(s).unwrap();
        assert!(
            at("[\"通知\"]") < at("[\"方案\"]")
                && at("[\"方案\"]") < at("[[\"创建步骤\"]]")
        );
        assert!(at("\"附注\"") < at("[\"方案\"]"), "{out}");

        // an empty optional field removes its key
        let mut clear = Map::new();
        clear.insert("通知.附注".into(), json!(""));
        let again = apply(&out, &clear).unwrap();
        assert!(!again.contains("附注"));
    }

    #[test]
    fn steps_and_the_plan_are_edited_where_they_stand() {
        let mut edit = Map::new();
        edit.insert(
            STEPS.into(),
            json!([
                {"名称": "部署", "时限": "2023年9月初", "内容": "召开会议。"},
                {"名称": "自查", "时限": "2023年9月底前", "内容": "全面自查。"}
            ]),
        );
        edit.insert(
            PLAN.into(),
            json!("[\"方案\"]\n\"标题\" = \"新方案\"\n[[\"方案\".\"章\"]]\n\"标题\" = \"甲章\"\n[[\"方案\".\"章\"]]\n\"标题\" = \"乙章\"\n"),
        );
        let out = apply(CASE, &edit).unwrap();
        let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} in {out}"));
        assert!(at("\"名称\" = \"部署\" # 第一步") < at("\"名称\" = \"自查\""));
        assert!(at("\"自查\"") < at("[\"版记\"]"), "{out}");
        assert!(at("[\"通知\"]") < at("\"新方案\""));
        assert!(at("\"乙章\"") < at("[[\"创建步骤\"]]"), "{out}");
        let f = read(&out).unwrap();
        assert_eq!(f[STEPS].as_array().unwrap().len(), 2);

        let mut bad = Map::new();
        bad.insert(PLAN.into(), json!("[\"版头\"]\n\"序号\" = 1\n"));
        assert!(apply(CASE, &bad).unwrap_err().contains("版头"));
        bad.insert(PLAN.into(), json!("\"标题\" = "));
        assert!(apply(CASE, &bad).unwrap_err().contains("第 1 行"));
        let mut unknown = Map::new();
        unknown.insert("通知.密码".into(), json!("x"));
        assert!(apply(CASE, &unknown).is_err());
    }

    #[test]
    fn a_problem_is_keyed_to_its_field() {
        let lines = value_lines(CASE);
        let loc = |line| Location::Text { file: "ws/case.toml".into(), line, col: 1 };
        let d = Diagnostic::error(loc(7), "年份不对");
        assert_eq!(field_of(&d, &lines).as_deref(), Some("版头.年份"));
        let d = Diagnostic::error(loc(22), "时限不对");
        assert_eq!(field_of(&d, &lines).as_deref(), Some("创建步骤[1].时限"));
        let d = Diagnostic::error(loc(10), "缺少必填项\"通知.署名\"");
        assert_eq!(field_of(&d, &lines).as_deref(), Some("通知.署名"));
        let d = Diagnostic::error(
            Location::Cell {
                file: "指标.xlsx".into(),
                sheet: "表".into(),
                cell: "C12".into(),
            },
            "x",
        );
        assert_eq!(field_of(&d, &lines), None);
    }

    #[test]
    fn drafts_become_paragraphs() {
        let txt = "\u{feff}第一段。\r\n\r\n  第二段。\n";
        assert_eq!(
            draft_paragraphs("草稿.txt", txt.as_bytes()).unwrap(),
            ["第一段。", "第二段。"]
        );
        assert!(draft_paragraphs("草稿.txt", b"\xb5\xda").unwrap_err().contains("UTF-8"));
        assert!(draft_paragraphs("草稿.doc", b"x").unwrap_err().contains(".docx"));
        assert!(
            draft_paragraphs("草稿.docx", b"not a zip").unwrap_err().contains("docx")
        );
        assert!(draft_paragraphs("空.txt", b"\n \n").unwrap_err().contains("没有文字"));

        let xml = "<?xml version=\"1.0\"?><w:document xmlns:w=\"w\"><w:body>\
            <w:p><w:r><w:t>甲&amp;乙</w:t></w:r><w:r><w:tab/><w:t xml:space=\"preserve\">丙 </w:t></w:r></w:p>\
            <w:p/><w:p><w:pPr/><w:r><w:t>第二段&#12290;</w:t></w:r></w:p></w:body></w:document>";
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, xml.as_bytes()).unwrap();
        let docx = zip.finish().unwrap().into_inner();
        assert_eq!(
            draft_paragraphs("草稿.docx", &docx).unwrap(),
            ["甲&乙 丙", "第二段。"]
        );
    }
}
