//! A located, schema-checked view of a TOML file.
//!
//! The file is parsed into spanned values; readers then ask for the keys they
//! expect. Every wrong type, missing key and unknown key becomes a Chinese
//! diagnostic with line and column, and reading goes on, so one run reports every
//! problem in the file.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::Range;

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Diagnostics, Location, SourceText};
use crate::model::Located;

/// A TOML value with its byte span.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it is in the file.
    pub span: Range<usize>,
}

/// The TOML value kinds.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A date or date-time, as TOML wrote it.
    Date(String),
    /// An array.
    Array(Vec<Node>),
    /// A table: keys with their spans, in file order.
    Table(Vec<(String, Range<usize>, Node)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "文本",
            Value::Int(_) => "整数",
            Value::Float(_) => "小数",
            Value::Bool(_) => "布尔值",
            Value::Date(_) => "日期",
            Value::Array(_) => "数组",
            Value::Table(_) => "表",
        }
    }
}

fn convert(value: &DeValue<'_>, span: Range<usize>) -> Node {
    let value = match value {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => {
            match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                Ok(v) => Value::Int(v),
                Err(_) => Value::Str(i.as_str().to_string()),
            }
        }
        DeValue::Float(f) => {
            Value::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN))
        }
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Date(d.to_string()),
        DeValue::Array(a) => {
            Value::Array(a.iter().map(|v| convert(v.get_ref(), v.span())).collect())
        }
        DeValue::Table(t) => Value::Table(convert_table(t)),
    };
    Node { value, span }
}

fn convert_table(t: &DeTable<'_>) -> Vec<(String, Range<usize>, Node)> {
    let mut entries: Vec<_> = t
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), k.span(), convert(v.get_ref(), v.span())))
        .collect();
    // file order, so messages come out top to bottom
    entries.sort_by_key(|(_, span, _)| span.start);
    entries
}

/// Parses a TOML text; syntax errors become diagnostics.
pub fn parse(src: &SourceText) -> Result<Node, Vec<Diagnostic>> {
    let (table, errors) = DeTable::parse_recoverable(&src.text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                let loc = e
                    .span()
                    .map_or(Location::File(src.name.clone()), |s| src.span_location(&s));
                let d = Diagnostic::error(
                    loc,
                    format!(
                        "无法解析 TOML（{}）",
                        e.message().trim().trim_end_matches('.')
                    ),
                );
                if e.message().contains("unquoted key") {
                    d.with_hint(
                        "中文键名须加英文双引号，例如 \"标题\" = \"…\"、[\"版头\"]",
                    )
                } else {
                    d
                }
            })
            .collect());
    }
    Ok(Node { value: Value::Table(convert_table(table.get_ref())), span: table.span() })
}

/// Shared state of one file being read: its text and the diagnostics so far.
pub struct Ctx<'a> {
    /// The file.
    pub src: &'a SourceText,
    /// What was found wrong.
    pub diags: RefCell<Diagnostics>,
}

impl<'a> Ctx<'a> {
    /// Starts reading a file.
    pub fn new(src: &'a SourceText) -> Self {
        Self { src, diags: RefCell::new(Diagnostics::new()) }
    }

    /// The location of a span.
    pub fn loc(&self, span: &Range<usize>) -> Location {
        self.src.span_location(span)
    }

    /// Records an error at a span.
    pub fn error(&self, span: &Range<usize>, msg: impl Into<String>) {
        self.diags.borrow_mut().push(Diagnostic::error(self.loc(span), msg));
    }

    /// Records a diagnostic.
    pub fn push(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }
}

/// Reads the keys of one table and reports the ones nobody asked for.
pub struct TableReader<'a> {
    ctx: &'a Ctx<'a>,
    /// Dotted path of this table, for messages (`通知`, `方案.章[2]`).
    path: String,
    entries: &'a [(String, Range<usize>, Node)],
    span: Range<usize>,
    asked: RefCell<BTreeSet<&'static str>>,
}

impl<'a> TableReader<'a> {
    /// Reads a node that must be a table.
    pub fn new(
        ctx: &'a Ctx<'a>,
        node: &'a Node,
        path: impl Into<String>,
    ) -> Option<Self> {
        let path = path.into();
        match &node.value {
            Value::Table(entries) => Some(Self {
                ctx,
                path,
                entries,
                span: node.span.clone(),
                asked: RefCell::new(BTreeSet::new()),
            }),
            other => {
                ctx.error(
                    &node.span,
                    format!("\"{path}\"应为表，而不是{}", other.kind()),
                );
                None
            }
        }
    }

    /// The span of the whole table.
    pub fn span(&self) -> &Range<usize> {
        &self.span
    }

    /// The shared context.
    pub fn ctx(&self) -> &'a Ctx<'a> {
        self.ctx
    }

    fn full(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&self, key: &'static str) -> Option<&'a Node> {
        self.asked.borrow_mut().insert(key);
        self.entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n)
    }

    fn missing(&self, key: &str) {
        self.ctx.push(
            Diagnostic::error(
                self.ctx.loc(&self.span),
                format!("缺少必填项\"{}\"", self.full(key)),
            )
            .with_hint(format!("在此表中加上 {key} = …")),
        );
    }

    fn wrong(&self, key: &str, node: &Node, expected: &str) {
        self.ctx.error(
            &node.span,
            format!("\"{}\"应为{expected}，而不是{}", self.full(key), node.value.kind()),
        );
    }

    /// A string value that must be present and not blank.
    pub fn req_str(&self, key: &'static str) -> Option<Located<String>> {
        match self.get(key) {
            None => {
                self.missing(key);
                None
            }
            Some(_) => {
                let s = self.opt_str(key)?;
                if s.value.trim().is_empty() {
                    self.ctx.push(Diagnostic::error(
                        s.loc.clone(),
                        format!("\"{}\"不能为空", self.full(key)),
                    ));
                    return None;
                }
                Some(s)
            }
        }
    }

    /// An optional string value.
    pub fn opt_str(&self, key: &'static str) -> Option<Located<String>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Str(s) => Some(Located::new(s.clone(), self.ctx.loc(&node.span))),
            _ => {
                self.wrong(key, node, "文本");
                None
            }
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &'static str) -> Option<bool> {
        let node = self.get(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong(key, node, "布尔值（true 或 false）");
                None
            }
        }
    }

    /// An optional integer in a range.
    pub fn opt_int(&self, key: &'static str, range: Range<i64>) -> Option<Located<i64>> {
        let node = self.get(key)?;
        match node.value {
            Value::Int(i) if range.contains(&i) => {
                Some(Located::new(i, self.ctx.loc(&node.span)))
            }
            Value::Int(i) => {
                self.ctx.error(
                    &node.span,
                    format!(
                        "\"{}\"的值 {i} 超出范围（{}～{}）",
                        self.full(key),
                        range.start,
                        range.end - 1
                    ),
                );
                None
            }
            _ => {
                self.wrong(key, node, "整数");
                None
            }
        }
    }

    /// A required integer in a range.
    pub fn req_int(&self, key: &'static str, range: Range<i64>) -> Option<Located<i64>> {
        if self.entries.iter().all(|(k, _, _)| k != key) {
            self.asked.borrow_mut().insert(key);
            self.missing(key);
            return None;
        }
        self.opt_int(key, range)
    }

    /// A date written as a TOML date (2023-08-31) or as `2023年8月31日`.
    pub fn opt_date(&self, key: &'static str) -> Option<Located<NaiveDate>> {
        let node = self.get(key)?;
        let text = match &node.value {
            Value::Date(s) | Value::Str(s) => s.trim(),
            _ => {
                self.wrong(key, node, "日期");
                return None;
            }
        };
        match parse_date(text) {
            Some(d) => Some(Located::new(d, self.ctx.loc(&node.span))),
            None => {
                self.ctx.push(
                    Diagnostic::error(
                        self.ctx.loc(&node.span),
                        format!("无法识别的日期\"{text}\"（{}）", self.full(key)),
                    )
                    .with_hint("写作 2023-08-31 或 2023年8月31日"),
                );
                None
            }
        }
    }

    /// A required date.
    pub fn req_date(&self, key: &'static str) -> Option<Located<NaiveDate>> {
        if self.entries.iter().all(|(k, _, _)| k != key) {
            self.asked.borrow_mut().insert(key);
            self.missing(key);
            return None;
        }
        self.opt_date(key)
    }

    /// A list of strings; a single string counts as a list of one.
    pub fn str_list(&self, key: &'static str) -> Vec<Located<String>> {
        let Some(node) = self.get(key) else { return Vec::new() };
        match &node.value {
            Value::Str(s) => vec![Located::new(s.clone(), self.ctx.loc(&node.span))],
            Value::Array(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    // an empty entry would print as "，，" in the document
                    Value::Str(s) if s.trim().is_empty() => {
                        self.ctx.error(
                            &item.span,
                            format!("\"{}\"中有空的一项", self.full(key)),
                        );
                        None
                    }
                    Value::Str(s) => {
                        Some(Located::new(s.clone(), self.ctx.loc(&item.span)))
                    }
                    other => {
                        self.ctx.error(
                            &item.span,
                            format!(
                                "\"{}\"的各项应为文本，而不是{}",
                                self.full(key),
                                other.kind()
                            ),
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                self.wrong(key, node, "文本或文本数组");
                Vec::new()
            }
        }
    }

    /// Whether the key is present.
    pub fn has(&self, key: &'static str) -> bool {
        self.asked.borrow_mut().insert(key);
        self.entries.iter().any(|(k, _, _)| k == key)
    }

    /// An optional sub-table.
    pub fn opt_table(&self, key: &'static str) -> Option<TableReader<'a>> {
        let node = self.get(key)?;
        TableReader::new(self.ctx, node, self.full(key))
    }

    /// A required sub-table.
    pub fn req_table(&self, key: &'static str) -> Option<TableReader<'a>> {
        if self.entries.iter().all(|(k, _, _)| k != key) {
            self.asked.borrow_mut().insert(key);
            self.missing(key);
            return None;
        }
        self.opt_table(key)
    }

    /// An array of tables (`[[key]]`); absent means empty.
    pub fn tables(&self, key: &'static str) -> Vec<TableReader<'a>> {
        let Some(node) = self.get(key) else { return Vec::new() };
        match &node.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    TableReader::new(
                        self.ctx,
                        item,
                        format!("{}[{}]", self.full(key), i + 1),
                    )
                })
                .collect(),
            _ => {
                self.wrong(key, node, "表数组（[[…]]）");
                Vec::new()
            }
        }
    }

    /// Free-form string entries (a table of variables).
    pub fn string_map(&self) -> Vec<(Located<String>, Located<String>)> {
        let mut out = Vec::new();
        for (k, kspan, node) in self.entries {
            let value = match &node.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Date(d) => d.clone(),
                other => {
                    self.ctx.error(
                        &node.span,
                        format!("变量\"{k}\"应为文本或数字，而不是{}", other.kind()),
                    );
                    continue;
                }
            };
            out.push((
                Located::new(k.clone(), self.ctx.loc(kspan)),
                Located::new(value, self.ctx.loc(&node.span)),
            ));
        }
        out
    }

    /// Reports every key that no reader asked for, with the nearest known key.
    pub fn finish(self) {
        let asked = self.asked.borrow().clone();
        for (k, span, _) in self.entries {
            if asked.contains(k.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(
                self.ctx.loc(span),
                format!("未知的键\"{}\"", self.full(k)),
            );
            let nearest = asked
                .iter()
                .map(|a| (strsim::normalized_levenshtein(a, k), *a))
                .filter(|(score, _)| *score >= 0.3)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            d = match nearest {
                Some((_, a)) => d.with_hint(format!("是否为\"{a}\"？")),
                None => d.with_hint(format!(
                    "此处可用的键：{}",
                    asked.iter().copied().collect::<Vec<_>>().join("、")
                )),
            };
            self.ctx.push(d);
        }
    }
}

/// Parses `2023-08-31`, `2023-8-31` or `2023年8月31日`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(d);
    }
    let (y, rest) = t.split_once('年')?;
    let (m, rest) = rest.split_once('月')?;
    let d = rest.strip_suffix('日')?;
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)
}
