//! The document model both writers read: what goes on the page, already worded,
//! numbered and dated. Writers only map these nodes to Typst or DOCX; every
//! decision about content is made in `compose`.

/// The font role of a run of text (the actual family is chosen per machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FontRole {
    /// 小标宋: titles and the 发文机关标志.
    Title,
    /// 仿宋: body text.
    Fang,
    /// 黑体: level-1 headings, 附件 labels, table heads, 密级.
    Hei,
    /// 楷体: level-2 headings, 签发人 names.
    Kai,
    /// 宋体: page numbers.
    Song,
}

impl FontRole {
    /// Every role.
    pub const ALL: [FontRole; 5] =
        [FontRole::Title, FontRole::Fang, FontRole::Hei, FontRole::Kai, FontRole::Song];

    /// The key used in the Typst style library.
    pub fn key(self) -> &'static str {
        match self {
            FontRole::Title => "title",
            FontRole::Fang => "fang",
            FontRole::Hei => "hei",
            FontRole::Kai => "kai",
            FontRole::Song => "song",
        }
    }

    /// The role's Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            FontRole::Title => "小标宋",
            FontRole::Fang => "仿宋",
            FontRole::Hei => "黑体",
            FontRole::Kai => "楷体",
            FontRole::Song => "宋体",
        }
    }

    /// The official font a DOCX names for this role (Word/WPS users expect these).
    pub fn official_name(self) -> &'static str {
        match self {
            FontRole::Title => "方正小标宋简体",
            FontRole::Fang => "仿宋_GB2312",
            FontRole::Hei => "黑体",
            FontRole::Kai => "楷体_GB2312",
            FontRole::Song => "宋体",
        }
    }
}

/// A run of text in one font.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Font role.
    pub role: FontRole,
    /// Literal text.
    pub text: String,
}

impl Run {
    /// A run.
    pub fn new(role: FontRole, text: impl Into<String>) -> Self {
        Self { role, text: text.into() }
    }
}

/// A whole document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Document title (PDF metadata).
    pub title: String,
    /// Content in order.
    pub blocks: Vec<Block>,
    /// 版记, at the foot of the last (even) page.
    pub banji: Option<Banji>,
}

/// The 版头 above the red separator.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// 份号, 密级, 紧急程度 lines, top-down.
    pub marks: Vec<Run>,
    /// 发文机关标志 names.
    pub organs: Vec<String>,
    /// "文件" after the names, if any.
    pub wenjian: Option<String>,
    /// 发文字号.
    pub number: String,
    /// 签发人 names (上行文).
    pub signers: Vec<String>,
}

/// A block on the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The 版头.
    Head(Head),
    /// A centred 2号 小标宋 title, line by line.
    Title(Vec<String>),
    /// Blank lines on the grid.
    Blank(u32),
    /// A paragraph: indented 2 字 unless `indent` is false.
    Para {
        /// Runs.
        runs: Vec<Run>,
        /// First-line indent of 2 字.
        indent: bool,
    },
    /// A flush-left paragraph whose continuation lines start `hang` 字 in (roster
    /// lines: wrapped text aligns under the first name).
    ListItem {
        /// Runs.
        runs: Vec<Run>,
        /// Continuation indent in 字.
        hang: u32,
    },
    /// 附件说明: (number, name) pairs; a single annex has an empty number.
    Attachments(Vec<(String, String)>),
    /// 发文机关署名 and 成文日期.
    Signature {
        /// 署名 lines.
        names: Vec<String>,
        /// 成文日期 as printed.
        date: String,
        /// 加盖印章 layout.
        sealed: bool,
        /// Seal image (path inside the case folder).
        seal: Option<String>,
    },
    /// Start a new face (page).
    NewFace,
    /// `附件` / `附件N` in 3号 黑体 at the top left.
    AnnexLabel(String),
    /// A table.
    Table(Table),
    /// Blocks printed on landscape pages (GB/T 9704 §7).
    Landscape(Vec<Block>),
}

/// Horizontal alignment in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left.
    Left,
    /// Centre.
    Center,
}

/// A column width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Width {
    /// Fixed, in millimetres.
    Mm(f64),
    /// A share of the remaining width.
    Fr(u32),
}

/// A table column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Width.
    pub width: Width,
    /// Alignment of body cells.
    pub align: Align,
}

/// A table cell; spans as in pandoc's model.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Literal text (line breaks allowed).
    pub text: String,
    /// Rows covered.
    pub rowspan: u32,
    /// Columns covered.
    pub colspan: u32,
    /// Alignment override.
    pub align: Option<Align>,
}

impl Cell {
    /// A one-by-one cell.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), rowspan: 1, colspan: 1, align: None }
    }
}

/// A table with a repeated header row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Columns.
    pub columns: Vec<Column>,
    /// Header cells (黑体, repeated on every page).
    pub header: Vec<String>,
    /// Body rows; covered positions are simply absent.
    pub rows: Vec<Vec<Cell>>,
    /// Text size in points.
    pub size_pt: f64,
}

impl Table {
    /// The text width the columns take, in mm, for a given available width.
    pub fn column_widths_mm(&self, available_mm: f64) -> Vec<f64> {
        let fixed: f64 = self
            .columns
            .iter()
            .map(|c| if let Width::Mm(w) = c.width { w } else { 0.0 })
            .sum();
        let frs: u32 = self
            .columns
            .iter()
            .map(|c| if let Width::Fr(f) = c.width { f } else { 0 })
            .sum();
        let rest = (available_mm - fixed).max(0.0);
        self.columns
            .iter()
            .map(|c| match c.width {
                Width::Mm(w) => w,
                Width::Fr(f) => rest * f as f64 / frs.max(1) as f64,
            })
            .collect()
    }
}

/// The 版记.
#[derive(Debug, Clone, PartialEq)]
pub struct Banji {
    /// 抄送 names joined, ending with 。 (without the label).
    pub cc: Option<String>,
    /// 印发机关.
    pub printer: String,
    /// `2023年8月31日印发`.
    pub date: String,
}

impl Document {
    /// The text of the document paragraph by paragraph, as both writers print it;
    /// used to prove that the PDF and the DOCX carry the same words.
    pub fn paragraphs(&self) -> Vec<String> {
        fn walk(blocks: &[Block], out: &mut Vec<String>) {
            for b in blocks {
                match b {
                    Block::Head(h) => {
                        out.extend(h.marks.iter().map(|r| r.text.clone()));
                        out.extend(h.organs.iter().cloned());
                        if let Some(w) = &h.wenjian {
                            out.push(w.clone());
                        }
                        out.push(h.number.clone());
                        if !h.signers.is_empty() {
                            out.push(format!("签发人：{}", h.signers.join("")));
                        }
                    }
                    Block::Title(lines) => out.push(lines.concat()),
                    Block::Para { runs, .. } | Block::ListItem { runs, .. } => {
                        out.push(runs.iter().map(|r| r.text.as_str()).collect())
                    }
                    Block::Attachments(items) => {
                        for (i, (num, name)) in items.iter().enumerate() {
                            let label = if i == 0 { "附件：" } else { "" };
                            out.push(format!("{label}{num}{name}"));
                        }
                    }
                    Block::Signature { names, date, .. } => {
                        out.extend(names.iter().cloned());
                        out.push(date.clone());
                    }
                    Block::AnnexLabel(l) => out.push(l.clone()),
                    Block::Table(t) => {
                        out.extend(t.header.iter().cloned());
                        for row in &t.rows {
                            out.extend(row.iter().map(|c| c.text.clone()));
                        }
                    }
                    Block::Landscape(inner) => walk(inner, out),
                    Block::Blank(_) | Block::NewFace => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.blocks, &mut out);
        if let Some(b) = &self.banji {
            if let Some(cc) = &b.cc {
                out.push(format!("抄送：{cc}"));
            }
            out.push(b.printer.clone());
            out.push(b.date.clone());
        }
        out
    }
}
