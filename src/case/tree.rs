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
                    format!("无法解析 TOML（{}）", toml_reason(e.message())),
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

/// A TOML syntax error in Chinese. The toml crate words its errors as
/// `description, expected a, b`; the description is translated from the
/// parser's fixed set, the expected tokens kept when they are literal (`=`, `]`),
/// and nothing English is passed on.
fn toml_reason(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let (description, expected) = match message.split_once(", expected ") {
        Some((d, e)) => (d, Some(e)),
        None => (message, None),
    };
    let what = match description {
        "duplicate key" => "键重复",
        "invalid unquoted key" | "unquoted keys cannot be empty" | "invalid key" => {
            // the hint says how to quote; the expected characters would mislead
            return "键名无效".to_owned();
        }
        "string values must be quoted" | "unquoted string" => "文字须加英文双引号",
        "missing value" | "missing value for key" | "key with no value" => "缺少值",
        "invalid value" => "值无效",
        "missing assignment between key-value pairs" => "缺少等号",
        "extra assignment between key-value pairs" | "extra `=`" => "多余的等号",
        "unexpected `=` in array" => "列表中不能有等号",
        "missing comma between array elements" => "列表的元素之间缺少逗号",
        "missing comma between key-value pairs" => "键值对之间缺少逗号",
        "extra comma in array" => "列表中多余的逗号",
        "extra comma in inline table" => "内联表中多余的逗号",
        "unclosed array" => "列表缺少右方括号 ]",
        "unclosed inline table" => "内联表缺少右花括号 }",
        "unclosed table" => "表头缺少右方括号 ]",
        "unclosed array table" => "表头缺少右方括号 ]]",
        "missing array opening" => "列表缺少左方括号 [",
        "missing inline table opening" => "内联表缺少左花括号 {",
        "missing table open" => "表头缺少左方括号 [",
        "missing key for inline table element" | "invalid inline table element" => {
            "内联表的元素有误"
        }
        "invalid key-value pair" | "unexpected key or value" | "unexpected content" => {
            "此处的内容无法识别"
        }
        "unexpected content between comment and newline" => "注释后有多余的内容",
        "invalid comment character" => "注释中有不允许的字符",
        "missing comment start" => "缺少注释符号 #",
        "carriage return must be followed by newline" => "回车符后缺少换行符",
        "keys cannot be multi-line basic strings"
        | "keys cannot be multi-line literal strings" => "键名不能是多行字符串",
        "invalid basic string" | "invalid multi-line basic string" => "字符串有误",
        "missing escaped value" | "too few unicode value digits" => "转义序列 \\ 有误",
        "missing opening quote" => "缺少左引号",
        "`_` may only go between digits" => "下划线 _ 只能写在数字之间",
        "integers with a radix cannot be signed"
        | "redundant numeric sign"
        | "unexpected sign" => "数的正负号有误",
        "radix must be lowercase" | "redundant integer number prefix" => "数的前缀有误",
        "unexpected leading zero" => "数不能以 0 开头",
        "recursion limit" | "cannot recurse further; max recursion depth met" => {
            "嵌套层数过多"
        }
        d if d.starts_with("cannot extend value of type") => "不能用带点的键扩展已有的值",
        d if d.contains("date") || d.contains("time") => "日期或时间有误",
        _ => "语法有误",
    };
    // literal tokens only: descriptions are English words
    let tokens: Vec<&str> = expected
        .into_iter()
        .flat_map(|e| e.split(", "))
        .filter(|t| t.len() >= 3 && t.starts_with('`') && t.ends_with('`'))
        .map(|t| &t[1..t.len() - 1])
        .filter(|t| !t.trim().is_empty() && !what.contains(t))
        .collect();
    if tokens.is_empty() {
        what.to_owned()
    } else {
        format!("{what}，此处应为 {}", tokens.join(" 或 "))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        let src = SourceText::new("case.toml", text);
        parse(&src).expect_err("broken").iter().map(ToString::to_string).collect()
    }

    #[test]
    fn toml_errors_are_chinese() {
        assert_eq!(
            errors("标题 = \"x\"\n"),
            [
                "case.toml:1:1: 错误：无法解析 TOML（键名无效）\n  提示：中文键名须加英文双引号，例如 \"标题\" = \"…\"、[\"版头\"]"
            ]
        );
        assert!(errors("a = 1\na = 2\n")[0].contains("键重复"));
        assert!(
            errors("a = [1, 2\n")[0].contains("（列表"),
            "{:?}",
            errors("a = [1, 2\n")
        );
        assert!(errors("\"a\" \"b\"\n")[0].contains("（缺少值，此处应为 =）"));
        assert!(errors("a = [1, 2\n")[0].contains("（列表缺少右方括号 ]）"));
        assert!(errors("a = 1979-13-45\n")[0].contains("（日期或时间有误）"));
        for broken in [
            "a = 1\na = 2\n",
            "a = [1 2]\n",
            "[表\n",
            "a = 1979-13-45\n",
            "a = \"\\q\"\n",
            "a = {b = 1,,}\n",
            "a = 0x-1\n",
            "a = 01\n",
            "[[a]\n",
            "a = b\n",
            "\"a\" \"b\"\n",
        ] {
            for e in errors(broken) {
                // the expected characters are literal tokens, not words
                let reason = e.split("TOML（").nth(1).unwrap_or(&e);
                let reason = reason.split("此处应为").next().unwrap_or(reason);
                assert!(
                    !reason.chars().any(|c| c.is_ascii_alphabetic()),
                    "{broken:?}: {e}"
                );
            }
        }
    }
}
