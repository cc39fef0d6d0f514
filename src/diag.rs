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
