//! Diagnostics: one shape for every problem the user can cause, with its location.
//!
//! Loading and validation collect *all* problems before stopping, so a user fixes
//! twenty rows in one pass. Messages are Chinese, in the form "无法读取 X（原因）",
//! without a trailing 。; advice goes into a separate hint.

use std::fmt;
use std::ops::Range;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The run cannot produce a correct document.
    Error,
    /// Worth a look; the document is still written.
    Warning,
}

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A position in a text file (1-based line and column, columns in characters).
    Text {
        /// The file's name as shown.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        col: usize,
    },
    /// A cell of a workbook, e.g. `责任清单.xlsx › 任务表!C12`.
    Cell {
        /// The workbook's name as shown.
        file: String,
        /// The sheet's name.
        sheet: String,
        /// The cell, e.g. `C12`.
        cell: String,
    },
    /// A whole file.
    File(String),
    /// No particular place.
    None,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Text { file, line, col } => write!(f, "{file}:{line}:{col}"),
            Location::Cell { file, sheet, cell } => write!(f, "{file} › {sheet}!{cell}"),
            Location::File(file) => write!(f, "{file}"),
            Location::None => Ok(()),
        }
    }
}

/// One problem found in the user's input or while producing output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where it is.
    pub location: Location,
    /// What is wrong, in Chinese.
    pub message: String,
    /// How to fix it, if we know.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at a location.
    pub fn error(location: Location, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, location, message: message.into(), hint: None }
    }

    /// A warning at a location.
    pub fn warning(location: Location, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this stops the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "错误",
            Severity::Warning => "警告",
        };
        if self.location != Location::None {
            write!(f, "{}: ", self.location)?;
        }
        write!(f, "{label}：{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  提示：{hint}")?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// The diagnostic as printed for a person: as [`Display`], and for a position
    /// in a text file whose text `source` gives (by the name in the location),
    /// that line of the file with a caret under the column, as rustc and
    /// codespan print it. The hint comes last.
    pub fn render(&self, source: &dyn Fn(&str) -> Option<String>) -> String {
        let Location::Text { file, line, col } = &self.location else {
            return self.to_string();
        };
        let Some(text) = source(file) else { return self.to_string() };
        let Some(src_line) = text.lines().nth(line.saturating_sub(1)) else {
            return self.to_string();
        };
        let label = match self.severity {
            Severity::Error => "错误",
            Severity::Warning => "警告",
        };
        let mut out = format!("{}: {label}：{}", self.location, self.message);
        let (shown, caret) = snippet_line(src_line, *col);
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        out.push_str(&format!("\n{pad} |\n{number} | {shown}\n{pad} | {caret}^"));
        if let Some(hint) = &self.hint {
            out.push_str(&format!("\n  提示：{hint}"));
        }
        out
    }
}

/// How many terminal columns a character takes: 2 for East Asian wide and
/// full-width characters, 0 for control characters, else 1.
fn columns(c: char) -> usize {
    let u = c as u32;
    if c.is_control() {
        0
    } else if matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
    {
        2
    } else {
        1
    }
}

/// A source line as shown under a diagnostic (at most about 80 columns around
/// column `col`, tabs as one space, control characters left out) and the
/// spaces that put a caret under `col`.
fn snippet_line(line: &str, col: usize) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(30);
    let end = (at + 40).min(chars.len());
    let mut shown = String::new();
    let mut caret = String::new();
    if start > 0 {
        shown.push('…');
        caret.push(' ');
    }
    for (i, &c) in chars[start..end].iter().enumerate() {
        let c = if c == '\t' { ' ' } else { c };
        if c.is_control() {
            continue;
        }
        shown.push(c);
        if start + i < at {
            caret.push_str(&" ".repeat(columns(c)));
        }
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

/// A text file kept in memory so byte spans can be turned into line:column.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The name shown in messages (as the user gave the path).
    pub name: String,
    /// The whole text.
    pub text: String,
    /// Byte offset of each line's start (a large data file has many located values).
    line_starts: Vec<usize>,
}

impl SourceText {
    /// Wraps a named text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { name: name.into(), text, line_starts }
    }

    /// The location of a byte offset (clamped to the text).
    pub fn location(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let line_start = self.line_starts[line - 1];
        let col = self.text[line_start..offset].chars().count() + 1;
        Location::Text { file: self.name.clone(), line, col }
    }

    /// The location of the start of a span.
    pub fn span_location(&self, span: &Range<usize>) -> Location {
        self.location(span.start)
    }
}

/// Collects diagnostics during a run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds many.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// Whether any error was collected.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// All collected diagnostics, in the order found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Takes the collected diagnostics.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = SourceText::new("case.toml", "a = 1\n标题 = \"x\"\n");
        let off = src.text.find("\"x\"").unwrap();
        assert_eq!(src.location(off).to_string(), "case.toml:2:6");
        assert_eq!(src.location(0).to_string(), "case.toml:1:1");
    }

    #[test]
    fn render_shows_the_source_line_with_a_caret() {
        let d = Diagnostic::error(
            Location::Text { file: "case.toml".into(), line: 2, col: 6 },
            "\"标题\" 应为文字",
        )
        .with_hint("请加引号");
        let text = "[通知]\n\"标题\" = 12\n";
        let out = d.render(&|f| (f == "case.toml").then(|| text.to_string()));
        assert_eq!(
            out,
            "case.toml:2:6: 错误：\"标题\" 应为文字\n  |\n2 | \"标题\" = 12\n  |        ^\n  提示：请加引号"
        );
        // no source: as Display
        assert_eq!(d.render(&|_| None), d.to_string());
    }

    #[test]
    fn render_cuts_a_long_line_around_the_column() {
        let line = "甲".repeat(100);
        let d = Diagnostic::error(
            Location::Text { file: "a.toml".into(), line: 1, col: 60 },
            "错",
        );
        let out = d.render(&|_| Some(line.clone()));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[2], format!("1 | …{}…", "甲".repeat(70)));
        // the caret under the 60th character: "…" + 30 wide characters before it
        assert_eq!(lines[3], format!("  | {}^", " ".repeat(1 + 60)));
    }

    #[test]
    fn display_has_location_label_and_hint() {
        let d = Diagnostic::error(
            Location::Cell {
                file: "责任清单.xlsx".into(),
                sheet: "任务表".into(),
                cell: "C12".into(),
            },
            "未登记的单位\"县司发局\"",
        )
        .with_hint("是否为\"县司法局\"？");
        assert_eq!(
            d.to_string(),
            "责任清单.xlsx › 任务表!C12: 错误：未登记的单位\"县司发局\"\n  提示：是否为\"县司法局\"？"
        );
    }
}
