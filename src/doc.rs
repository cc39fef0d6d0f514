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
    /// 发文机关标志 lines as printed, top-down; a single organ with 文件 carries it
    /// already (`某某文件`).
    pub organs: Vec<String>,
    /// "文件" printed to the right of the stacked names of a 联合行文, if any.
    pub wenjian_beside: Option<String>,
    /// 发文字号.
    pub number: String,
    /// 签发人 names (上行文), as printed line by line (two names a line).
    pub signer_lines: Vec<Vec<String>>,
    /// The label before the first 签发人 line.
    pub signer_label: String,
}

impl Head {
    /// A 版头 of the given organs: a single organ is joined with 文件 (`某某文件`),
    /// several are stacked with 文件 beside them; 签发人 two names a line.
    pub fn new(
        marks: Vec<Run>,
        organs: Vec<String>,
        wenjian: bool,
        number: String,
        signers: Vec<String>,
    ) -> Self {
        let (organs, wenjian_beside) = match (wenjian, organs.len()) {
            (true, 1) => (vec![format!("{}文件", organs[0])], None),
            (true, _) => (organs, Some("文件".to_string())),
            (false, _) => (organs, None),
        };
        Self {
            marks,
            organs,
            wenjian_beside,
            number,
            signer_lines: signers.chunks(2).map(<[String]>::to_vec).collect(),
            signer_label: "签发人：".to_string(),
        }
    }
}

/// Where the 署名, the 成文日期 and the seal stand, from the left edge of the
/// 版心 in points; decided once by [`crate::layout`], placed by both writers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignaturePlace {
    /// Start of each 署名 line.
    pub name_x_pt: Vec<f64>,
    /// Start of the 成文日期.
    pub date_x_pt: f64,
    /// Where the 成文日期 is set against the right edge, its distance from
    /// that edge: sealed, 4 字 in (7.3.5.1). Unsealed it is placed by its
    /// start, 2 字 right of the 署名's start (7.3.5.2).
    pub date_right_pt: Option<f64>,
    /// Centre of the seal (over the date).
    pub seal_centre_pt: f64,
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
    /// A heading on its own line (一、…, （一）…), indented 2 字 like a paragraph;
    /// it never ends a page: it stays with the block after it.
    Heading(Vec<Run>),
    /// A flush-left paragraph whose continuation lines start `hang` 字 in (roster
    /// lines: wrapped text aligns under the first name).
    ListItem {
        /// Runs.
        runs: Vec<Run>,
        /// Continuation indent in 字.
        hang: u32,
    },
    /// 附件说明: (number, name) pairs; a single annex has an empty number.
    Attachments {
        /// The label before the first item (`附件：`).
        label: String,
        /// (number, name) pairs.
        items: Vec<(String, String)>,
    },
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
        /// Positions, filled in by the layout stage.
        place: SignaturePlace,
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
    /// A merged label printed again after a page break (in the PDF's copy of
    /// the document only): it opens no group of its own.
    pub again: bool,
}

impl Cell {
    /// A one-by-one cell.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), rowspan: 1, colspan: 1, align: None, again: false }
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

/// What a grid position holds once spans are laid out.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// A cell starts here: (index in its row, column).
    Start((usize, usize)),
    /// Covered by a cell from a row above (a vMerge continuation of `colspan` columns).
    Covered {
        /// The covering cell: (row, index in its row).
        origin: (usize, usize),
        /// First column.
        col: usize,
        /// Columns covered.
        colspan: usize,
    },
    /// Covered by a cell starting to the left in the same row (written as gridSpan).
    Inner,
}

/// Lays cells with row and column spans out on a full grid, as DOCX needs them.
pub fn span_grid(rows: &[Vec<Cell>], ncols: usize) -> Vec<Vec<Slot>> {
    let mut grid: Vec<Vec<Option<Slot>>> = vec![vec![None; ncols]; rows.len()];
    for (r, row) in rows.iter().enumerate() {
        let mut col = 0;
        for (i, cell) in row.iter().enumerate() {
            while col < ncols && grid[r][col].is_some() {
                col += 1;
            }
            if col >= ncols {
                break;
            }
            let cs = (cell.colspan as usize).clamp(1, ncols - col);
            grid[r][col] = Some(Slot::Start((i, col)));
            grid[r][col + 1..col + cs].fill(Some(Slot::Inner));
            let end = (r + cell.rowspan as usize).min(rows.len());
            for below in &mut grid[r + 1..end] {
                below[col] = Some(Slot::Covered { origin: (r, i), col, colspan: cs });
                below[col + 1..col + cs].fill(Some(Slot::Inner));
            }
            col += cs;
        }
    }
    grid.into_iter()
        .map(|row| row.into_iter().map(|s| s.unwrap_or(Slot::Inner)).collect())
        .collect()
}

/// Characters that may not open a line (GB/T 15834 避头).
const NO_LINE_START: &str = "，。、；：？！）》”’〕】」』…—～%％·.,;:?!)]}";
/// Characters that may not close a line (避尾).
const NO_LINE_END: &str = "（《“‘〔【「『([{";

/// Breaks a text into lines no wider than `width_em`, with Chinese line-breaking
/// rules: no line opens with closing punctuation or ends with opening
/// punctuation, Latin words and numbers stay whole. `advance` gives a
/// character's width in em. Existing line breaks are kept. (For measuring only:
/// no layout-made line break is ever stored in a document's text.)
pub fn wrap_text(
    text: &str,
    width_em: f64,
    advance: &dyn Fn(char) -> f64,
) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let chars: Vec<char> = para.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            let mut width = 0.0;
            let mut end = start;
            while end < chars.len() && width + advance(chars[end]) <= width_em {
                width += advance(chars[end]);
                end += 1;
            }
            if end >= chars.len() {
                lines.push(
                    chars[start..].iter().collect::<String>().trim_end().to_string(),
                );
                break;
            }
            // step back to a place where a break is allowed
            let can_break = |i: usize| {
                let (a, b) = (chars[i - 1], chars[i]);
                !(NO_LINE_START.contains(b)
                    || NO_LINE_END.contains(a)
                    || (a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric())
                    || (a.is_ascii_digit() && b == '.')
                    // a number keeps its unit: 2023年, 5个工作日, 90％
                    || (a.is_ascii_digit() && !b.is_ascii())
                    || a == '\u{2060}'
                    || b == '\u{2060}')
            };
            let mut brk = end;
            while brk > start + 1 && !can_break(brk) {
                brk -= 1;
            }
            if brk <= start + 1 && !can_break(brk.max(start + 1)) {
                brk = end.max(start + 1); // nothing better: cut where it is full
            }
            lines.push(
                chars[start..brk].iter().collect::<String>().trim_end().to_string(),
            );
            start = brk;
            while start < chars.len() && chars[start] == ' ' {
                start += 1;
            }
        }
        if chars.is_empty() {
            lines.push(String::new());
        }
    }
    lines
}

/// The width a table's rows are estimated for (a landscape table in its 225 mm
/// block, less the cell borders), in mm: what both writers and the layout stage
/// pass to [`Table::tall_rows`] and [`Table::keep_with_next`].
pub const TABLE_WIDTH_MM: f64 = 222.0;
/// The height a table's page offers its rows (the landscape 156 mm block less
/// a margin), in mm.
pub const TABLE_BLOCK_MM: f64 = 150.0;

impl Table {
    /// The height of a cell's text estimated from the column widths of a table
    /// `width_mm` wide, in mm (lines 1.4 em apart, 3.6 mm of padding).
    fn cell_mm(&self, cell: &Cell, col: usize, widths: &[f64]) -> f64 {
        let em_mm = self.size_pt * 25.4 / 72.0;
        let w: f64 =
            widths[col..(col + cell.colspan as usize).min(widths.len())].iter().sum();
        let per_line = ((w - 3.0) / em_mm).max(1.0);
        let lines: f64 = cell
            .text
            .split('\n')
            .map(|l| {
                let units: f64 =
                    l.chars().map(|c| if c.is_ascii() { 0.5 } else { 1.0 }).sum();
                (units / per_line).ceil().max(1.0)
            })
            .sum();
        lines * em_mm * 1.4 + 3.6
    }

    /// Each row's height estimated from the text of its own (not merged) cells
    /// and the column widths for a table `width_mm` wide, in mm.
    pub fn row_heights_mm(&self, width_mm: f64) -> Vec<f64> {
        let widths = self.column_widths_mm(width_mm);
        let one_line = self.size_pt * 25.4 / 72.0 * 1.4 + 3.6;
        let grid = span_grid(&self.rows, self.columns.len());
        grid.iter()
            .enumerate()
            .map(|(r, slots)| {
                slots
                    .iter()
                    .filter_map(|slot| match slot {
                        Slot::Start((i, col)) if self.rows[r][*i].rowspan <= 1 => {
                            Some(self.cell_mm(&self.rows[r][*i], *col, &widths))
                        }
                        _ => None,
                    })
                    .fold(one_line, f64::max)
            })
            .collect()
    }

    /// Rows that may be taller than a whole page of `block_mm` (so they must be
    /// allowed to break between lines), estimated for a table `width_mm` wide.
    pub fn tall_rows(&self, width_mm: f64, block_mm: f64) -> Vec<bool> {
        let header = self.header_mm();
        self.row_heights_mm(width_mm).iter().map(|h| h + header > block_mm).collect()
    }

    /// About the height of the header row: three lines.
    fn header_mm(&self) -> f64 {
        3.0 * self.size_pt * 25.4 / 72.0 * 1.4
    }

    /// Rows that stay on the page of the next row: the first row of a merged
    /// group never stands alone at a page foot (nor does a chain of such rows),
    /// as long as the rows kept together fill at most 75 % of a page of
    /// `block_mm` (estimated for a table `width_mm` wide), so that a page can
    /// always hold them. Both writers say it natively: Typst keeps the rows in
    /// one unbreakable span, the DOCX sets keep-with-next on the row.
    pub fn keep_with_next(&self, width_mm: f64, block_mm: f64) -> Vec<bool> {
        let widths = self.column_widths_mm(width_mm);
        let heights = self.row_heights_mm(width_mm);
        let budget = 0.75 * (block_mm - self.header_mm());
        let grid = span_grid(&self.rows, self.columns.len());
        // the merged cells that start in each row: (rows spanned, text height)
        let merged: Vec<Vec<(usize, f64)>> = grid
            .iter()
            .enumerate()
            .map(|(r, slots)| {
                slots
                    .iter()
                    .filter_map(|slot| match slot {
                        // a label printed again after a break opens no group: the
                        // PDF's copy keeps the rows the DOCX keeps
                        Slot::Start((i, col))
                            if self.rows[r][*i].rowspan > 1
                                && !self.rows[r][*i].again =>
                        {
                            let cell = &self.rows[r][*i];
                            Some((
                                cell.rowspan as usize,
                                self.cell_mm(cell, *col, &widths),
                            ))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let mut keep = vec![false; self.rows.len()];
        // the first row of the rows kept together so far, ending with row r
        let mut first = 0;
        for r in 0..self.rows.len().saturating_sub(1) {
            if r == 0 || !keep[r - 1] {
                first = r;
            }
            let chain: f64 = heights[first..=r + 1].iter().sum();
            // a merged cell starting in the chain must fit in the chain's rows it
            // spans: one taller than them would be laid out whole (no break
            // inside the kept rows) and could overrun the page
            let fits = (first..=r + 1).all(|k| {
                merged[k].iter().all(|&(span, mm)| {
                    mm <= heights[k..(k + span).min(r + 2)].iter().sum::<f64>()
                })
            });
            keep[r] = !merged[r].is_empty() && chain <= budget && fits;
        }
        keep
    }

    /// Cuts every merged cell that runs over one of `breaks` (rows that open a new
    /// page) into one part per page, each printing the label again. Returns whether
    /// anything changed.
    pub fn split_spans_at(&mut self, breaks: &[usize]) -> bool {
        let mut changed = false;
        if self.rows.iter().all(|row| row.iter().all(|c| c.rowspan <= 1)) {
            return false;
        }
        // one grid for all breaks, taken last to first: cutting at a break changes
        // only rows from that break on and the rowspans (read live) of the cells
        // that cross it, so the grid of every earlier row stays true
        let grid = span_grid(&self.rows, self.columns.len());
        let mut breaks = breaks.to_vec();
        breaks.sort_unstable();
        breaks.dedup();
        for &b in breaks.iter().rev() {
            if b == 0 || b >= self.rows.len() {
                continue;
            }
            // (position in row b, new cell) for every merge that crosses row b
            let mut inserts = Vec::new();
            for (c, slot) in grid[b].iter().enumerate() {
                if let Slot::Covered { origin: (r, i), .. } = slot {
                    let cell = &mut self.rows[*r][*i];
                    let rest = cell.rowspan - (b - r) as u32;
                    cell.rowspan = (b - r) as u32;
                    let mut again = cell.clone();
                    again.rowspan = rest;
                    again.again = true;
                    let at = grid[b][..c]
                        .iter()
                        .filter(|s| matches!(s, Slot::Start(_)))
                        .count();
                    inserts.push((at, again));
                }
            }
            // insert right to left so earlier positions stay valid
            for (at, cell) in inserts.into_iter().rev() {
                self.rows[b].insert(at, cell);
                changed = true;
            }
        }
        changed
    }

    /// Undoes [`Table::split_spans_at`]: the table with every label printed again
    /// folded back into the merged cell it continues, and the cuts, by (row,
    /// column) of that table. The Typst writer states the cuts apart from the
    /// rows, so a layout round that only cuts merges leaves the rows' source
    /// text, and with it Typst's cached layout of every other cell, as it was.
    pub fn unsplit(&self) -> (Table, Cuts) {
        let grid = span_grid(&self.rows, self.columns.len());
        let mut cuts = Cuts::default();
        let mut rows = Vec::with_capacity(self.rows.len());
        for (r, slots) in grid.iter().enumerate() {
            let mut row = Vec::with_capacity(self.rows[r].len());
            for slot in slots {
                let Slot::Start((i, col)) = *slot else { continue };
                let cell = &self.rows[r][i];
                if cell.again {
                    cuts.again.insert((r, col), cell.clone());
                    continue;
                }
                let mut whole = cell.clone();
                // the labels printed again below it, each where the last part ends
                let mut next = r + cell.rowspan as usize;
                while let Some(&Slot::Start((j, _))) = grid.get(next).map(|s| &s[col])
                    && self.rows[next][j].again
                {
                    whole.rowspan += self.rows[next][j].rowspan;
                    next += self.rows[next][j].rowspan as usize;
                }
                if whole.rowspan != cell.rowspan {
                    cuts.spans.insert((r, col), cell.rowspan);
                }
                row.push(whole);
            }
            // cells past the last column, which the grid leaves out, stay
            let placed = slots.iter().filter(|s| matches!(s, Slot::Start(_))).count();
            row.extend(self.rows[r].iter().skip(placed).cloned());
            rows.push(row);
        }
        let table = Table {
            columns: self.columns.clone(),
            header: self.header.clone(),
            rows,
            size_pt: self.size_pt,
        };
        (table, cuts)
    }
}

/// The merged cells [`Table::split_spans_at`] cut, as [`Table::unsplit`] finds
/// them: keyed by (row, column).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cuts {
    /// Merged cells cut short: the rows they span in the cut table.
    pub spans: std::collections::BTreeMap<(usize, usize), u32>,
    /// Labels printed again after a page break.
    pub again: std::collections::BTreeMap<(usize, usize), Cell>,
}

/// The 版记.
#[derive(Debug, Clone, PartialEq)]
pub struct Banji {
    /// The label before the 抄送 names (`抄送：`).
    pub cc_label: String,
    /// 抄送 names joined, ending with 。 (without the label).
    pub cc: Option<String>,
    /// 印发机关.
    pub printer: String,
    /// `2023年8月31日印发`.
    pub date: String,
}

impl Document {
    /// Every table in document order, with whether it is on landscape pages.
    pub fn tables_mut(&mut self) -> Vec<(&mut Table, bool)> {
        fn walk<'a>(
            blocks: &'a mut [Block],
            landscape: bool,
            out: &mut Vec<(&'a mut Table, bool)>,
        ) {
            for b in blocks {
                match b {
                    Block::Table(t) => out.push((t, landscape)),
                    Block::Landscape(inner) => walk(inner, true, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&mut self.blocks, false, &mut out);
        out
    }

    /// Every table in document order.
    pub fn tables(&self) -> Vec<&Table> {
        fn walk<'a>(blocks: &'a [Block], out: &mut Vec<&'a Table>) {
            for b in blocks {
                match b {
                    Block::Table(t) => out.push(t),
                    Block::Landscape(inner) => walk(inner, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.blocks, &mut out);
        out
    }

    /// The text of the document paragraph by paragraph, as both writers print it;
    /// used to prove that the PDF and the DOCX carry the same words.
    pub fn paragraphs(&self) -> Vec<String> {
        fn walk(blocks: &[Block], out: &mut Vec<String>) {
            for b in blocks {
                match b {
                    Block::Head(h) => {
                        out.extend(h.marks.iter().map(|r| r.text.clone()));
                        out.extend(h.organs.iter().cloned());
                        out.extend(h.wenjian_beside.iter().cloned());
                        if h.signer_lines.is_empty() {
                            out.push(h.number.clone());
                        }
                        for (i, names) in h.signer_lines.iter().enumerate() {
                            let last = i + 1 == h.signer_lines.len();
                            let label = if i == 0 { h.signer_label.as_str() } else { "" };
                            let number = if last { h.number.as_str() } else { "" };
                            out.push(format!("{number}{label}{}", names.join("")));
                        }
                    }
                    Block::Title(lines) => out.push(lines.concat()),
                    Block::Para { runs, .. }
                    | Block::Heading(runs)
                    | Block::ListItem { runs, .. } => {
                        out.push(runs.iter().map(|r| r.text.as_str()).collect())
                    }
                    Block::Attachments { label, items } => {
                        for (i, (num, name)) in items.iter().enumerate() {
                            let label = if i == 0 { label.as_str() } else { "" };
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
                out.push(format!("{}{cc}", b.cc_label));
            }
            out.push(b.printer.clone());
            out.push(b.date.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_a_full_grid() {
        let mut a = Cell::new("一级");
        a.rowspan = 2;
        let mut wide = Cell::new("附加项");
        wide.colspan = 3;
        let rows = vec![
            vec![a, Cell::new("x"), Cell::new("y")],
            vec![Cell::new("x2"), Cell::new("y2")],
            vec![wide],
        ];
        let g = span_grid(&rows, 3);
        assert_eq!(
            g[0],
            vec![Slot::Start((0, 0)), Slot::Start((1, 1)), Slot::Start((2, 2))]
        );
        assert_eq!(
            g[1],
            vec![
                Slot::Covered { origin: (0, 0), col: 0, colspan: 1 },
                Slot::Start((0, 1)),
                Slot::Start((1, 2))
            ]
        );
        assert_eq!(g[2], vec![Slot::Start((0, 0)), Slot::Inner, Slot::Inner]);
    }

    #[test]
    fn wrapping_follows_chinese_rules() {
        let adv = |c: char| if c.is_ascii() { 0.5 } else { 1.0 };
        assert_eq!(wrap_text("一二三四五六", 4.0, &adv), ["一二三四", "五六"]);
        // a full stop never opens a line: the last character goes with it
        assert_eq!(wrap_text("一二三四。五", 4.0, &adv), ["一二三", "四。五"]);
        // numbers stay whole
        assert_eq!(wrap_text("一二三2023年", 5.0, &adv), ["一二三", "2023年"]);
        // an opening bracket never ends a line
        assert_eq!(wrap_text("一二三（四）", 4.0, &adv), ["一二三", "（四）"]);
        assert_eq!(wrap_text("甲\n乙", 4.0, &adv), ["甲", "乙"]);
    }

    #[test]
    fn merged_cells_are_cut_at_page_breaks() {
        let mut lead = Cell::new("一、依法履职");
        lead.rowspan = 3;
        let mut t = Table {
            columns: vec![
                Column { width: Width::Mm(30.0), align: Align::Center },
                Column { width: Width::Fr(1), align: Align::Left },
            ],
            header: vec!["一级指标".into(), "三级指标".into()],
            rows: vec![
                vec![lead, Cell::new("甲")],
                vec![Cell::new("乙")],
                vec![Cell::new("丙")],
            ],
            size_pt: 12.0,
        };
        assert!(t.split_spans_at(&[2]));
        assert_eq!(t.rows[0][0].rowspan, 2);
        assert_eq!(t.rows[2].len(), 2);
        assert_eq!(t.rows[2][0].text, "一、依法履职");
        assert_eq!(t.rows[2][0].rowspan, 1);
        assert!(!t.split_spans_at(&[2]));
    }

    /// 一级 over 10 rows, 二级 over rows 0–4 and 5–9, the third column a row each.
    fn nested_groups() -> Table {
        let mut first = Cell::new("一级");
        first.rowspan = 10;
        let (mut a, mut b) = (Cell::new("二级甲"), Cell::new("二级乙"));
        a.rowspan = 5;
        b.rowspan = 5;
        let mut rows: Vec<Vec<Cell>> =
            (0..10).map(|i| vec![Cell::new(format!("{i}"))]).collect();
        rows[5].insert(0, b);
        rows[0].insert(0, a);
        rows[0].insert(0, first);
        Table {
            columns: vec![
                Column { width: Width::Mm(20.0), align: Align::Center },
                Column { width: Width::Mm(20.0), align: Align::Center },
                Column { width: Width::Fr(1), align: Align::Left },
            ],
            header: vec!["一级".into(), "二级".into(), "三级".into()],
            rows,
            size_pt: 12.0,
        }
    }

    #[test]
    fn one_span_cut_by_several_breaks_at_once() {
        // pages opening at 3 and 7
        let mut t = nested_groups();
        assert!(t.split_spans_at(&[7, 3]));
        let texts = |r: usize| {
            t.rows[r].iter().map(|c| (c.text.clone(), c.rowspan)).collect::<Vec<_>>()
        };
        assert_eq!(texts(0), [("一级".into(), 3), ("二级甲".into(), 3), ("0".into(), 1)]);
        assert_eq!(texts(3), [("一级".into(), 4), ("二级甲".into(), 2), ("3".into(), 1)]);
        assert_eq!(texts(5), [("二级乙".into(), 2), ("5".into(), 1)]);
        assert_eq!(texts(7), [("一级".into(), 3), ("二级乙".into(), 3), ("7".into(), 1)]);
        let grid = span_grid(&t.rows, 3);
        assert!(grid.iter().all(|r| r.len() == 3));
        assert!(!t.split_spans_at(&[3, 7]), "settled");
    }

    #[test]
    fn unsplit_gives_back_the_table_before_its_cuts() {
        let base = nested_groups();
        assert_eq!(base.unsplit(), (base.clone(), Cuts::default()));
        // cut in two rounds, as the layout loop may: at 3, then at 7
        let mut t = base.clone();
        assert!(t.split_spans_at(&[3]));
        assert!(t.split_spans_at(&[7]));
        let (back, cuts) = t.unsplit();
        assert_eq!(back, base);
        let spans: Vec<_> = cuts.spans.into_iter().collect();
        assert_eq!(spans, [((0, 0), 3), ((0, 1), 3), ((5, 1), 2)]);
        let again: Vec<_> =
            cuts.again.iter().map(|(k, c)| (*k, c.text.as_str(), c.rowspan)).collect();
        assert_eq!(
            again,
            [
                ((3, 0), "一级", 4),
                ((3, 1), "二级甲", 2),
                ((7, 0), "一级", 3),
                ((7, 1), "二级乙", 3)
            ]
        );
        assert!(cuts.again.values().all(|c| c.again));
    }
}
