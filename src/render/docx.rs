//! Document model → DOCX with docx-rs: A4 with the 公文 margins, a 22-line grid,
//! runs naming the official fonts, odd/even footers with PAGE fields, the red
//! 版头 rule as a paragraph border, merged table cells as vMerge/gridSpan, and the
//! 版记 as a bordered block at the foot of the last, even page.

use std::io::Cursor;

use docx_rs::*;

use crate::doc::{self, Align, Block, Document, FontRole, Slot, span_grid};
use crate::units::{mm_to_twip, pt_to_twip};

/// Line pitch of the body grid (225 mm / 22) in twips.
const LINE: i32 = 579;
/// One 字 of 3号 squeezed by 0.25 pt, in twips.
const CHAR: i32 = 315;
/// Height of the empty paragraph carrying the red 版头 rule (its bottom border), in
/// twips: the rule then lies 4 mm below the 发文字号 (measured in LibreOffice 7.4).
const RED_RULE_PARA: i32 = 160;
/// Half-points.
const SIZE_BODY: usize = 32;
const SIZE_SMALL: usize = 28;
const SIZE_TITLE: usize = 44;
/// Marks a header row so `<w:tblHeader/>` can be written (docx-rs has no setter).
const HEADER_ROW_MARK: &str = r#"<w:trHeight w:val="1" w:hRule="atLeast" />"#;

struct Writer {
    next_id: u32,
    /// Inside landscape pages (tables may be 225 mm wide).
    landscape: bool,
    /// Pagination decided by the Typst layout.
    layout: DocxLayout,
    /// Tables written so far.
    tables: usize,
}

fn fonts(role: FontRole) -> RunFonts {
    let name = role.official_name();
    RunFonts::new().east_asia(name).ascii(name).hi_ansi(name).cs(name)
}

impl Writer {
    fn para(&mut self) -> Paragraph {
        self.next_id += 1;
        Paragraph::new().id(format!("{:08X}", self.next_id))
    }

    /// A paragraph on the body grid.
    fn grid_para(&mut self) -> Paragraph {
        self.para().line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(LINE)
                .before(0)
                .after(0),
        )
    }

    fn run(role: FontRole, text: &str, size: usize) -> Run {
        let mut r = Run::new().fonts(fonts(role)).size(size).character_spacing(-5);
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                r = r.add_break(BreakType::TextWrapping);
            }
            r = r.add_text(glue_scripts(line));
        }
        r
    }

    fn blank(&mut self, n: u32) -> Vec<Paragraph> {
        (0..n).map(|_| self.grid_para()).collect()
    }

    fn blocks(&mut self, blocks: &[Block], out: &mut Vec<Item>) {
        for b in blocks {
            match b {
                Block::Head(h) => self.head(h, out),
                Block::Title(lines) => {
                    let mut p = self.para().align(AlignmentType::Center).line_spacing(
                        LineSpacing::new()
                            .line_rule(LineSpacingType::Exact)
                            .line(pt_to_twip(35.0))
                            .before(0)
                            .after(0),
                    );
                    p = p.add_run(
                        Self::run(FontRole::Title, &lines.join("\n"), SIZE_TITLE)
                            .character_spacing(0),
                    );
                    out.push(Item::P(p));
                }
                Block::Blank(n) => out.extend(self.blank(*n).into_iter().map(Item::P)),
                Block::Para { runs, indent } => {
                    let mut p = self.grid_para().align(AlignmentType::Both);
                    if *indent {
                        p = p.indent(
                            None,
                            Some(SpecialIndentType::FirstLine(2 * CHAR)),
                            None,
                            None,
                        );
                    }
                    for r in runs {
                        p = p.add_run(Self::run(r.role, &r.text, SIZE_BODY));
                    }
                    out.push(Item::P(p));
                }
                Block::ListItem { runs, hang } => {
                    let hang = *hang as i32 * CHAR;
                    let mut p = self.grid_para().align(AlignmentType::Both).indent(
                        Some(hang),
                        Some(SpecialIndentType::Hanging(hang)),
                        None,
                        None,
                    );
                    for r in runs {
                        p = p.add_run(Self::run(r.role, &r.text, SIZE_BODY));
                    }
                    out.push(Item::P(p));
                }
                Block::Attachments(items) => {
                    let label = "附件：";
                    for (i, (num, name)) in items.iter().enumerate() {
                        // hanging alignment: wrapped lines start under the name
                        let hang = CHAR * 3 + (num.chars().count() as i32 * CHAR / 2);
                        let mut p = self.grid_para().align(AlignmentType::Both).indent(
                            Some(2 * CHAR + hang),
                            Some(SpecialIndentType::Hanging(hang)),
                            None,
                            None,
                        );
                        let lead = if i == 0 {
                            label.to_string()
                        } else {
                            "\u{3000}\u{3000}\u{3000}".to_string()
                        };
                        p = p.add_run(Self::run(
                            FontRole::Fang,
                            &format!("{lead}{num}{name}"),
                            SIZE_BODY,
                        ));
                        out.push(Item::P(p));
                    }
                }
                Block::Signature { names, date, sealed, seal } => {
                    let first_blank = out.len();
                    out.extend(
                        self.blank(if *sealed { 2 } else { 1 }).into_iter().map(Item::P),
                    );
                    let w = |s: &str| -> i32 {
                        s.chars()
                            .map(|c| if c.is_ascii() { CHAR / 2 } else { CHAR })
                            .sum()
                    };
                    let sw = names.iter().map(|n| w(n)).max().unwrap_or(0);
                    let dw = w(date);
                    let text_width = mm_to_twip(156.0);
                    // Positions are set from the left wherever possible: clients add
                    // their own gaps between Han characters and digits, so a date's
                    // width is only an estimate, while the 署名's (all Han) is exact.
                    let (sign_right, date_left) = if *sealed {
                        let date_right = 4 * CHAR;
                        let date_left = text_width - date_right - dw;
                        ((date_right + dw / 2 - sw / 2).max(0), date_left)
                    } else if dw + 2 * CHAR <= sw {
                        (2 * CHAR, text_width - 2 * CHAR - sw + 2 * CHAR)
                    } else {
                        let date_left = text_width - 2 * CHAR - dw;
                        (text_width - (date_left - 2 * CHAR) - sw, date_left)
                    };
                    for n in names {
                        let p = self.grid_para().align(AlignmentType::Right).indent(
                            None,
                            None,
                            Some(sign_right.max(0)),
                            None,
                        );
                        out.push(Item::P(p.add_run(Self::run(
                            FontRole::Fang,
                            n,
                            SIZE_BODY,
                        ))));
                    }
                    let mut p = self.grid_para().align(AlignmentType::Left).indent(
                        Some(date_left.max(0)),
                        None,
                        None,
                        None,
                    );
                    p = p.add_run(Self::run(FontRole::Fang, date, SIZE_BODY));
                    let image = seal.as_ref().and_then(|s| self.layout.images.get(s));
                    if let (true, Some(png)) = (*sealed, image) {
                        // the seal, 42 mm across, centred on the date, its centre
                        // about 5 mm above the date line (as in the PDF). It hangs
                        // from the first blank line above the 署名 so that its
                        // offset is positive (docx-rs cannot write negative ones).
                        let (w, h) = crate::pipeline::png_size(png).unwrap_or((1, 1));
                        let emu = |mm: f64| (mm * 36_000.0).round().max(0.0) as i32;
                        let width = 42.0;
                        let height = width * h as f64 / w as f64;
                        let centre_x = (date_left + dw / 2) as f64 / 56.693;
                        let pitch_mm = LINE as f64 / 56.693;
                        let lines_above = 2.0 + names.len() as f64;
                        let top = lines_above * pitch_mm + 8.0 * 0.3528 - 26.0
                            + (42.0 - height) / 2.0;
                        let pic = Pic::new_with_dimensions(png.clone(), w, h)
                            .id("rIdImageSeal")
                            .size(emu(width) as u32, emu(height) as u32)
                            .floating()
                            .overlapping()
                            .relative_from_h(RelativeFromHType::Margin)
                            .relative_from_v(RelativeFromVType::Paragraph)
                            .offset_x(emu(centre_x - width / 2.0))
                            .offset_y(emu(top));
                        if let Some(Item::P(anchor)) = out.get_mut(first_blank) {
                            let para = std::mem::take(anchor);
                            *anchor = para.add_run(Run::new().add_image(pic));
                        }
                    }
                    out.push(Item::P(p));
                }
                // after landscape pages the section break already opened a new page
                Block::NewFace if matches!(out.last(), Some(Item::LandscapeEnd)) => {}
                // a table cut on purpose: the next part opens the next page (a
                // paragraph carrying a break could itself spill onto a new page)
                Block::NewFace if matches!(out.last(), Some(Item::T(_))) => {
                    let p = self
                        .para()
                        .snap_to_grid(false)
                        .line_spacing(
                            LineSpacing::new()
                                .line_rule(LineSpacingType::Exact)
                                .line(20)
                                .before(0)
                                .after(0),
                        )
                        .page_break_before(true);
                    out.push(Item::P(p));
                }
                Block::NewFace => {
                    let p =
                        self.grid_para().add_run(Run::new().add_break(BreakType::Page));
                    out.push(Item::P(p));
                }
                Block::AnnexLabel(l) => {
                    out.push(Item::P(self.grid_para().add_run(Self::run(
                        FontRole::Hei,
                        l,
                        SIZE_BODY,
                    ))));
                }
                Block::Table(t) => self.table(t, out),
                Block::Landscape(inner) => {
                    out.push(Item::LandscapeStart);
                    self.landscape = true;
                    self.blocks(inner, out);
                    self.landscape = false;
                    out.push(Item::LandscapeEnd);
                }
            }
        }
    }

    fn head(&mut self, h: &doc::Head, out: &mut Vec<Item>) {
        for m in &h.marks {
            out.push(Item::P(
                self.grid_para().add_run(Self::run(m.role, &m.text, SIZE_BODY)),
            ));
        }
        // 发文机关标志: top edge 35 mm below the 版心 top; compressed to fit 156 mm
        let organ_pt = 36.0;
        let before = (mm_to_twip(35.0) - h.marks.len() as i32 * LINE).max(0) as u32;
        let organ_para = |w: &mut Writer, name: &str, before: u32, width_mm: f64| {
            let width_pt = name.chars().count() as f64 * organ_pt;
            let scale =
                ((width_mm / 0.3528) / width_pt * 100.0).min(100.0).floor() as i32;
            let spacing = LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(pt_to_twip(organ_pt))
                .before(before)
                .after(0);
            w.para()
                .align(AlignmentType::Center)
                .snap_to_grid(false)
                .line_spacing(spacing)
                .add_run(
                    Writer::run(FontRole::Title, name, (organ_pt * 2.0) as usize)
                        .color("FF0000")
                        .character_spacing(0)
                        .stretch(scale),
                )
        };
        match (&h.wenjian, h.organs.len()) {
            (Some(wenjian), n) if n > 1 => {
                // 联合行文: names stacked, 文件 to their right, centred on them
                let wj_w = mm_to_twip(2.0 * organ_pt * 0.3528 + 2.0);
                let names_w = mm_to_twip(156.0) - wj_w;
                if before > 0 {
                    let spacer = self.para().snap_to_grid(false).line_spacing(
                        LineSpacing::new()
                            .line_rule(LineSpacingType::Exact)
                            .line(before as i32)
                            .before(0)
                            .after(0),
                    );
                    out.push(Item::P(spacer));
                }
                let mut names = TableCell::new()
                    .width(names_w as usize, WidthType::Dxa)
                    .clear_all_border();
                for (i, o) in h.organs.iter().enumerate() {
                    let mut p = organ_para(self, o, 0, names_w as f64 / 56.7);
                    if i > 0 {
                        p = p.line_spacing(
                            LineSpacing::new()
                                .line_rule(LineSpacingType::Exact)
                                .line(pt_to_twip(organ_pt))
                                .before(mm_to_twip(4.0) as u32)
                                .after(0),
                        );
                    }
                    names = names.add_paragraph(p);
                }
                let wj = TableCell::new()
                    .width(wj_w as usize, WidthType::Dxa)
                    .vertical_align(VAlignType::Center)
                    .clear_all_border()
                    .add_paragraph(organ_para(self, wenjian, 0, 156.0));
                let table = Table::new(vec![TableRow::new(vec![names, wj])])
                    .set_grid(vec![names_w as usize, wj_w as usize])
                    .layout(TableLayoutType::Fixed)
                    .margins(TableCellMargins::new().margin(0, 0, 0, 0))
                    .clear_all_border();
                out.push(Item::T(table));
            }
            _ => {
                for (i, o) in h.organs.iter().enumerate() {
                    let name = match (&h.wenjian, h.organs.len()) {
                        (Some(w), 1) => format!("{o}{w}"),
                        _ => o.clone(),
                    };
                    let gap = if i == 0 { before } else { mm_to_twip(4.0) as u32 };
                    out.push(Item::P(organ_para(self, &name, gap, 156.0)));
                }
            }
        }
        out.extend(self.blank(2).into_iter().map(Item::P));
        if h.signers.is_empty() {
            let p = self.grid_para().align(AlignmentType::Center);
            out.push(Item::P(p.add_run(Self::run(FontRole::Fang, &h.number, SIZE_BODY))));
        } else {
            // 上行文: 签发人 right (inset 1 字), two names a line; the 发文字号 left
            // (inset 1 字) on the line of the last names
            let rows: Vec<&[String]> = h.signers.chunks(2).collect();
            for (i, names) in rows.iter().enumerate() {
                let mut p = self
                    .grid_para()
                    .align(AlignmentType::Left)
                    .indent(Some(CHAR), None, Some(CHAR), None)
                    .add_tab(
                        Tab::new()
                            .val(TabValueType::Right)
                            .pos((mm_to_twip(156.0) - CHAR) as usize),
                    );
                if i == rows.len() - 1 {
                    p = p.add_run(Self::run(FontRole::Fang, &h.number, SIZE_BODY));
                }
                let label = if i == 0 {
                    "签发人："
                } else {
                    "\u{3000}\u{3000}\u{3000}\u{3000}"
                };
                p = p
                    .add_run(Run::new().add_tab())
                    .add_run(Self::run(FontRole::Fang, label, SIZE_BODY))
                    .add_run(Self::run(
                        FontRole::Kai,
                        &names.join("\u{3000}"),
                        SIZE_BODY,
                    ));
                out.push(Item::P(p));
            }
        }
        // the red rule 4 mm below the 发文字号, as wide as the 版心
        let mut rule = self.para().snap_to_grid(false).line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(RED_RULE_PARA)
                .before(0)
                .after(0),
        );
        rule.property = rule.property.set_borders(
            ParagraphBorders::with_empty().set(
                ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                    .val(BorderType::Single)
                    .size(12)
                    .space(0)
                    .color("FF0000"),
            ),
        );
        out.push(Item::P(rule));
        // two blank lines to the title, less what the rule paragraph took
        let rest = 2 * LINE - RED_RULE_PARA;
        out.push(Item::P(
            self.para().snap_to_grid(false).line_spacing(
                LineSpacing::new()
                    .line_rule(LineSpacingType::Exact)
                    .line(rest)
                    .before(0)
                    .after(0),
            ),
        ));
    }

    /// A table, cut where the Typst layout turned the page: one DOCX table per
    /// page, each opening with the header row, a forced page break between them,
    /// so both formats put the same rows on the same pages. A merged cell cut by a
    /// page break is restarted with its label on the new page.
    fn table(&mut self, t: &doc::Table, out: &mut Vec<Item>) {
        let breaks =
            self.layout.table_breaks.get(self.tables).cloned().unwrap_or_default();
        self.tables += 1;
        let mut bounds = vec![0];
        // a row taller than a page flows on by itself: no forced break after it
        let tall = t.tall_rows(222.0, 150.0);
        bounds.extend(
            breaks.into_iter().filter(|r| *r > 0 && *r < t.rows.len() && !tall[r - 1]),
        );
        bounds.push(t.rows.len());
        bounds.dedup();
        let grid = span_grid(&t.rows, t.columns.len());
        for (k, w) in bounds.windows(2).enumerate() {
            if k > 0 {
                let mut p = self.para().snap_to_grid(false).line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        .line(20)
                        .before(0)
                        .after(0),
                );
                p = p.page_break_before(true);
                out.push(Item::P(p));
            }
            out.push(Item::T(self.table_chunk(t, &grid, w[0], w[1])));
        }
    }

    fn table_chunk(
        &mut self,
        t: &doc::Table,
        grid: &[Vec<Slot>],
        from: usize,
        to: usize,
    ) -> Table {
        // a little less than the block: cell borders lie outside the grid widths
        let available = if self.landscape { 222.0 } else { 154.0 };
        // rows taller than a page may break, as in the Typst table
        let tall = t.tall_rows(222.0, 150.0);
        let widths: Vec<usize> = t
            .column_widths_mm(available)
            .iter()
            .map(|w| mm_to_twip(*w) as usize)
            .collect();
        let size = (t.size_pt * 2.0) as usize;
        let cell_para = |w: &mut Writer, text: &str, role: FontRole, align: Align| {
            let a = match align {
                Align::Left => AlignmentType::Left,
                Align::Center => AlignmentType::Center,
            };
            w.para()
                .align(a)
                .snap_to_grid(false)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        // as the Typst table: 1 em line boxes 0.4 em apart
                        .line(pt_to_twip(t.size_pt * 1.4))
                        .before(0)
                        .after(0),
                )
                .add_run(Writer::run(role, text, size).character_spacing(0))
        };
        let header_cells = t
            .header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                TableCell::new()
                    .width(widths[i], WidthType::Dxa)
                    .vertical_align(VAlignType::Center)
                    .add_paragraph(cell_para(self, h, FontRole::Hei, Align::Center))
            })
            .collect();
        let mut rows = vec![
            TableRow::new(header_cells).row_height(1.0).height_rule(HeightRule::AtLeast),
        ];
        for (r, grid_row) in grid.iter().enumerate().take(to).skip(from) {
            let mut cells = Vec::new();
            for slot in grid_row {
                // the cell that starts here, or restarts here at the top of a page
                let start = match slot {
                    Slot::Start((i, col)) => Some((r, *i, *col)),
                    Slot::Covered { origin, col, .. } if r == from => {
                        Some((origin.0, origin.1, *col))
                    }
                    _ => None,
                };
                match (start, slot) {
                    (Some((orow, i, ci)), _) => {
                        let cell = &t.rows[orow][i];
                        let align = cell.align.unwrap_or(t.columns[ci].align);
                        let cs = (cell.colspan as usize).clamp(1, widths.len() - ci);
                        let w: usize = widths[ci..ci + cs].iter().sum();
                        let mut tc = TableCell::new()
                            .width(w, WidthType::Dxa)
                            .vertical_align(VAlignType::Center)
                            .add_paragraph(cell_para(
                                self,
                                &cell.text,
                                FontRole::Fang,
                                align,
                            ));
                        if cs > 1 {
                            tc = tc.grid_span(cs);
                        }
                        // rows of the merge left on this page
                        let left =
                            (orow + cell.rowspan as usize).min(to).saturating_sub(r);
                        if left > 1 {
                            tc = tc.vertical_merge(VMergeType::Restart);
                        }
                        cells.push(tc);
                    }
                    (None, Slot::Covered { col, colspan, .. }) => {
                        let w: usize = widths[*col..*col + *colspan].iter().sum();
                        let mut tc = TableCell::new()
                            .width(w, WidthType::Dxa)
                            .vertical_merge(VMergeType::Continue)
                            .add_paragraph(self.para());
                        if *colspan > 1 {
                            tc = tc.grid_span(*colspan);
                        }
                        cells.push(tc);
                    }
                    _ => {}
                }
            }
            let row = TableRow::new(cells);
            rows.push(if tall[r] { row } else { row.cant_split() });
        }
        // rows as tall as in the Typst table: there a cell is 1.8 mm inset plus its
        // lines with 0.4 em leading between them; here every line is 1.4 em tall,
        // so the padding gives back the 0.4 em of the line without leading (and a
        // hair more, so that a page Typst filled never overflows here)
        let v = (mm_to_twip(1.8) - pt_to_twip(t.size_pt * 0.2) - 4) as usize;
        let h = mm_to_twip(1.5) as usize;
        Table::new(rows)
            .set_grid(widths)
            .layout(TableLayoutType::Fixed)
            .align(TableAlignmentType::Center)
            .margins(TableCellMargins::new().margin(v, h, v, h))
    }
}

/// Puts a word joiner (U+2060, invisible, no width) between Han characters and
/// Latin letters or digits. 公文 set `2023年8月31日` without gaps; Word honours
/// `w:autoSpaceDE="0"` for that, LibreOffice does not, but neither adds a gap
/// across a joiner.
pub fn glue_scripts(text: &str) -> String {
    let wide = |c: char| !c.is_ascii() && !c.is_whitespace() && c != '\u{2060}';
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if let Some(p) = prev
            && ((p.is_ascii_alphanumeric() && wide(c))
                || (wide(p) && c.is_ascii_alphanumeric()))
        {
            out.push('\u{2060}');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// A piece of the body in order; landscape markers delimit table sections.
#[expect(clippy::large_enum_variant, reason = "short-lived, one per block while writing")]
enum Item {
    P(Paragraph),
    T(Table),
    LandscapeStart,
    LandscapeEnd,
}

fn page_footer(odd: bool) -> Footer {
    // fixed ids: docx-rs numbers paragraphs from a process-wide counter otherwise
    let p = Paragraph::new()
        .id(if odd { "7F000001" } else { "7F000002" })
        .align(if odd { AlignmentType::Right } else { AlignmentType::Left })
        .indent(
            if odd { None } else { Some(pt_to_twip(14.0)) },
            None,
            if odd { Some(pt_to_twip(14.0)) } else { None },
            None,
        )
        .add_run(Writer::run(FontRole::Song, "— ", SIZE_SMALL).character_spacing(0));
    let p = page_field(p)
        .add_run(Writer::run(FontRole::Song, " —", SIZE_SMALL).character_spacing(0));
    Footer::new().add_paragraph(p)
}

/// A PAGE field whose result is set in 4号 宋体 like the dashes around it.
fn page_field(p: Paragraph) -> Paragraph {
    let run = || Run::new().fonts(fonts(FontRole::Song)).size(SIZE_SMALL);
    p.add_run(run().add_field_char(FieldCharType::Begin, false))
        .add_run(run().add_instr_text(InstrText::PAGE(InstrPAGE::new())))
        .add_run(run().add_field_char(FieldCharType::Separate, false))
        .add_run(run().add_text("1"))
        .add_run(run().add_field_char(FieldCharType::End, false))
}

fn portrait_margin() -> PageMargin {
    PageMargin::new()
        .top(mm_to_twip(37.0))
        .bottom(mm_to_twip(35.0))
        .left(mm_to_twip(28.0))
        .right(mm_to_twip(26.0))
        .header(mm_to_twip(15.0))
        .footer(mm_to_twip(23.0))
}

/// Where the 版记 goes, as the Typst layout decided it; the DOCX follows so both
/// formats paginate the same (Word and WPS then agree; LibreOffice drops the blank
/// pages that a bare `evenPage` break would ask for, so the blank page is explicit).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BanjiPlacement {
    /// At the foot of the last content page (an even page); the content ends at
    /// this distance from the page top, in mm.
    SamePage {
        /// Where the content ends on that page.
        content_end_mm: f64,
    },
    /// On the next page, which is even; it keeps its page number.
    #[default]
    NextPage,
    /// After a blank page; neither page is numbered (GB/T 9704-2012 7.5).
    AfterBlank,
}

/// Pagination the DOCX takes over from the Typst layout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocxLayout {
    /// Where the 版记 goes.
    pub banji: BanjiPlacement,
    /// Per table (document order), the rows that open a new page.
    pub table_breaks: Vec<Vec<usize>>,
    /// PNG images the document shows (the seal), by path.
    pub images: std::collections::BTreeMap<String, Vec<u8>>,
}

/// Writes the DOCX bytes of a document.
pub fn write_docx(
    doc: &Document,
    created: chrono::NaiveDate,
    layout: DocxLayout,
) -> Result<Vec<u8>, String> {
    let placement = layout.banji;
    let mut w = Writer { next_id: 0, landscape: false, layout, tables: 0 };
    let mut items = Vec::new();
    w.blocks(&doc.blocks, &mut items);

    let grid = DocGrid::new().grid_type(DocGridType::Lines).line_pitch(LINE as usize);
    let mut docx = Docx::new()
        .page_size(mm_to_twip(210.0) as u32, mm_to_twip(297.0) as u32)
        .page_margin(portrait_margin())
        .default_fonts(fonts(FontRole::Fang))
        .default_size(SIZE_BODY)
        .default_spacing(-5)
        .footer(page_footer(true))
        .even_footer(page_footer(false))
        .created_at(&format!("{}T00:00:00Z", created.format("%Y-%m-%d")))
        .updated_at(&format!("{}T00:00:00Z", created.format("%Y-%m-%d")));
    docx.document.section_property =
        docx.document.section_property.clone().doc_grid(grid.clone());

    // Sections: portrait runs and landscape table pages (GB/T 9704 §7) alternate;
    // the 版记 closes the document in its own section that starts on an even page.
    let mut parts: Vec<(bool, Vec<Item>)> = vec![(false, Vec::new())];
    for item in items {
        match item {
            Item::LandscapeStart => parts.push((true, Vec::new())),
            Item::LandscapeEnd => parts.push((false, Vec::new())),
            other => parts.last_mut().expect("parts starts non-empty").1.push(other),
        }
    }
    parts.retain(|(_, items)| !items.is_empty());
    let banji = doc.banji.as_ref().map(|b| banji_paragraphs(&mut w, b, placement));
    let same_page = matches!(placement, BanjiPlacement::SamePage { .. });
    // the last part stays in the body unless the 版记 needs a section of its own
    let last_in_body = if banji.is_none() || same_page { parts.pop() } else { None };
    for (landscape, items) in parts {
        let mut section = section_for(landscape, &grid);
        for item in items {
            section = match item {
                Item::P(p) => section.add_paragraph(p),
                Item::T(t) => section.add_table(t),
                Item::LandscapeStart | Item::LandscapeEnd => section,
            };
        }
        docx = docx.add_section(section);
    }
    if let Some((landscape, items)) = last_in_body {
        if landscape {
            docx = docx
                .page_size(mm_to_twip(297.0) as u32, mm_to_twip(210.0) as u32)
                .page_orient(PageOrientationType::Landscape)
                .page_margin(landscape_margin());
        }
        for item in items {
            docx = match item {
                Item::P(p) => docx.add_paragraph(p),
                Item::T(t) => docx.add_table(t),
                Item::LandscapeStart | Item::LandscapeEnd => docx,
            };
        }
    }
    let mut body_footers = ("rIdFooter1".to_string(), "rIdFooter2".to_string());
    if let Some(paras) = banji {
        for p in paras {
            docx = docx.add_paragraph(p);
        }
        docx.document.section_property.section_type = match placement {
            BanjiPlacement::SamePage { .. } => None,
            // the even page Typst chose; Word also fixes the parity if its own
            // pagination ever differs
            BanjiPlacement::NextPage => Some(SectionType::EvenPage),
            // the section opens with the explicit blank (odd) page
            BanjiPlacement::AfterBlank => Some(SectionType::OddPage),
        };
        if placement == BanjiPlacement::AfterBlank {
            body_footers =
                (String::from("rIdFooterBlank"), String::from("rIdFooterBlank"));
        }
    }
    let mut xml = docx.build();
    let document = String::from_utf8(std::mem::take(&mut xml.document))
        .map_err(|e| e.to_string())?;
    let landscape_ids = add_landscape_footers(&mut xml)?;
    add_footer_part(
        &mut xml,
        "rIdFooterBlank",
        Footer::new().add_paragraph(Paragraph::new().id("7F000007")),
    )?;
    let document = body_footers_for_last_sect_pr(&document, &body_footers);
    xml.document = fix_sect_prs(&mark_header_rows(&document), &landscape_ids)
        .replace("<w:pPr>", &format!("<w:pPr>{AUTO_SPACE_OFF}"))
        .into_bytes();
    let styles =
        String::from_utf8(std::mem::take(&mut xml.styles)).map_err(|e| e.to_string())?;
    xml.styles = no_auto_space(&styles).into_bytes();
    let mut buf = Cursor::new(Vec::new());
    xml.pack(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf.into_inner())
}

fn landscape_margin() -> PageMargin {
    PageMargin::new()
        .top(mm_to_twip(28.0))
        .bottom(mm_to_twip(26.0))
        .left(mm_to_twip(35.0))
        .right(mm_to_twip(37.0))
        .header(mm_to_twip(12.0))
        .footer(mm_to_twip(12.0))
}

fn section_for(landscape: bool, grid: &DocGrid) -> Section {
    if landscape {
        // no line grid on table pages: LibreOffice centres a grid that does not
        // fill the 156 mm block, which would move the table down
        Section::new()
            .page_size(
                PageSize::new()
                    .size(mm_to_twip(297.0) as u32, mm_to_twip(210.0) as u32)
                    .orient(PageOrientationType::Landscape),
            )
            .page_orient(PageOrientationType::Landscape)
            .page_margin(landscape_margin())
    } else {
        Section::new()
            .doc_grid(grid.clone())
            .page_size(
                PageSize::new().size(mm_to_twip(210.0) as u32, mm_to_twip(297.0) as u32),
            )
            .page_margin(portrait_margin())
    }
}

/// Footer of a landscape table page (GB/T 9704 §7): the number keeps its place on
/// the printed sheet, so on the landscape page it runs down the left edge, turned
/// clockwise: a one-cell floating table with top-to-bottom text.
fn landscape_footer(odd: bool) -> Footer {
    let inset = pt_to_twip(14.0);
    let mut p = Paragraph::new()
        .id(if odd { "7F000003" } else { "7F000004" })
        .align(if odd { AlignmentType::Right } else { AlignmentType::Left })
        .line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(pt_to_twip(14.0))
                .before(0)
                .after(0),
        )
        .snap_to_grid(false);
    p = if odd {
        p.indent(None, None, Some(inset), None)
    } else {
        p.indent(Some(inset), None, None, None)
    };
    let p = p.add_run(Writer::run(FontRole::Song, "— ", SIZE_SMALL).character_spacing(0));
    let p = page_field(p)
        .add_run(Writer::run(FontRole::Song, " —", SIZE_SMALL).character_spacing(0));
    let width = pt_to_twip(14.0) as usize;
    let cell = TableCell::new()
        .width(width, WidthType::Dxa)
        .text_direction(TextDirectionType::TbRl)
        .vertical_align(VAlignType::Top)
        .clear_all_border()
        .add_paragraph(p);
    // em box between 23 mm and 28 mm from the landscape page's left edge (the
    // sheet's 269 mm line), running along the 版心's 156 mm from 28 mm down
    let x = mm_to_twip(297.0 - 269.0) - pt_to_twip(14.0);
    let table = Table::new(vec![
        TableRow::new(vec![cell])
            .row_height(mm_to_twip(156.0) as f32)
            .height_rule(HeightRule::Exact),
    ])
    .set_grid(vec![width])
    .layout(TableLayoutType::Fixed)
    .margins(TableCellMargins::new().margin(0, 0, 0, 0))
    .clear_all_border()
    .position(
        TablePositionProperty::new()
            .horizontal_anchor("page")
            .vertical_anchor("page")
            .position_x(x)
            .position_y(mm_to_twip(28.0))
            .left_from_text(0)
            .right_from_text(0),
    );
    let tiny =
        Paragraph::new().id(if odd { "7F000005" } else { "7F000006" }).line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(20)
                .before(0)
                .after(0),
        );
    Footer::new().add_table(table).add_paragraph(tiny)
}

/// Adds the two landscape footers as parts of the package; returns their
/// relationship ids (odd, even). docx-rs registers footers only through sections,
/// and keeps one per section.
fn add_landscape_footers(xml: &mut XMLDocx) -> Result<(String, String), String> {
    add_footer_part(xml, "rIdFooterLandOdd", landscape_footer(true))?;
    add_footer_part(xml, "rIdFooterLandEven", landscape_footer(false))?;
    Ok(("rIdFooterLandOdd".into(), "rIdFooterLandEven".into()))
}

/// Adds a footer part with its relationship and content type.
fn add_footer_part(xml: &mut XMLDocx, id: &str, footer: Footer) -> Result<(), String> {
    let n = xml.footers.len() + 1;
    xml.footers.push(footer.build());
    xml.footer_rels.push(
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships" />"#
            .to_vec(),
    );
    let rels = String::from_utf8(std::mem::take(&mut xml.document_rels))
        .map_err(|e| e.to_string())?;
    xml.document_rels = rels
        .replacen(
            "</Relationships>",
            &format!(r#"<Relationship Id="{id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer{n}.xml" /></Relationships>"#),
            1,
        )
        .into_bytes();
    let types = String::from_utf8(std::mem::take(&mut xml.content_type))
        .map_err(|e| e.to_string())?;
    xml.content_type = types
        .replacen(
            "</Types>",
            &format!(r#"<Override PartName="/word/footer{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml" /></Types>"#),
            1,
        )
        .into_bytes();
    Ok(())
}

/// Marks the body's own (last) `w:sectPr` with the footers it should use; the
/// marker is read by [`fix_sect_prs`].
fn body_footers_for_last_sect_pr(xml: &str, footers: &(String, String)) -> String {
    match xml.rfind("<w:sectPr>") {
        Some(i) => format!(
            "{}<w:sectPr><gongwen:footers odd=\"{}\" even=\"{}\"/>{}",
            &xml[..i],
            footers.0,
            footers.1,
            &xml[i + "<w:sectPr>".len()..]
        ),
        None => xml.to_string(),
    }
}

/// Every section uses the document's odd and even footers (docx-rs keeps only one
/// footer per added section), landscape sections their own, and `w:sectPr`
/// children are put in schema order.
fn fix_sect_prs(xml: &str, landscape: &(String, String)) -> String {
    const ORDER: [&str; 6] =
        ["w:type", "w:pgSz", "w:pgMar", "w:cols", "w:titlePg", "w:docGrid"];
    let mut out = String::with_capacity(xml.len() + 1024);
    let mut rest = xml;
    while let Some(start) = rest.find("<w:sectPr>") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("</w:sectPr>") else { break };
        let inner = &rest[start + "<w:sectPr>".len()..start + len];
        let children: Vec<&str> = inner
            .split_inclusive("/>")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        out.push_str("<w:sectPr>");
        let marked = inner.find("<gongwen:footers odd=\"").map(|i| {
            let rest = &inner[i + "<gongwen:footers odd=\"".len()..];
            let odd = &rest[..rest.find('"').unwrap_or(0)];
            let rest = &rest[rest.find("even=\"").map_or(0, |j| j + 6)..];
            (odd, &rest[..rest.find('"').unwrap_or(0)])
        });
        let (odd, even) = if let Some(ids) = marked {
            ids
        } else if inner.contains(r#"w:orient="landscape""#) {
            (landscape.0.as_str(), landscape.1.as_str())
        } else {
            ("rIdFooter1", "rIdFooter2")
        };
        out.push_str(&format!(r#"<w:footerReference w:type="default" r:id="{odd}" />"#));
        out.push_str(&format!(r#"<w:footerReference w:type="even" r:id="{even}" />"#));
        for tag in ORDER {
            for c in children.iter().filter(|c| c.starts_with(&format!("<{tag} "))) {
                out.push_str(c);
            }
        }
        out.push_str("</w:sectPr>");
        rest = &rest[start + len + "</w:sectPr>".len()..];
    }
    out.push_str(rest);
    out
}

/// Word and LibreOffice put a gap between Han characters and digits by default
/// (`2023 年`); 公文 have none, so the document defaults switch it off.
const AUTO_SPACE_OFF: &str = r#"<w:autoSpaceDE w:val="0" /><w:autoSpaceDN w:val="0" />"#;

fn no_auto_space(styles: &str) -> String {
    const OFF: &str = AUTO_SPACE_OFF;
    styles
        .replacen("<w:pPrDefault><w:pPr>", &format!("<w:pPrDefault><w:pPr>{OFF}"), 1)
        .replacen(
            r#"<w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal" /><w:rPr /><w:pPr>"#,
            &format!(r#"<w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal" /><w:rPr /><w:pPr>{OFF}"#),
            1,
        )
}

/// docx-rs cannot yet mark a repeating header row; our header rows carry a marker height.
fn mark_header_rows(xml: &str) -> String {
    xml.replace(HEADER_ROW_MARK, "<w:tblHeader />")
}

/// Line height of the 版记 (4号 text), in points.
const BANJI_LINE_PT: f64 = 22.0;

/// Width of a text in 字 (half-width characters count half).
fn text_units(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 0.5 } else { 1.0 }).sum()
}

/// Lines the 抄送 text takes: the first after `抄送：`, the rest aligned after the colon.
fn cc_lines(cc: &str) -> usize {
    // 156 mm less 1 字 inset each side, in 4号 characters
    let per_line = ((156.0 - 2.0 * 4.94) / 4.94f64).floor();
    let first = per_line - 3.0;
    let units = text_units(cc);
    if units <= first {
        1
    } else {
        1 + ((units - first) / (per_line - 3.0)).ceil() as usize
    }
}

/// The 版记 as paragraphs: an exact-height filler that pushes it to the foot of its
/// (fresh, even) page, then 抄送 and 印发 between rules of the 版心's width. Each rule
/// is the bottom border of an empty paragraph without indents, so it spans 156 mm
/// while the text keeps its 1 字 insets.
fn banji_paragraphs(
    w: &mut Writer,
    b: &doc::Banji,
    placement: BanjiPlacement,
) -> Vec<Paragraph> {
    let inset = pt_to_twip(14.0);
    let line = pt_to_twip(BANJI_LINE_PT);
    let exact = |h: i32| {
        LineSpacing::new().line_rule(LineSpacingType::Exact).line(h).before(0).after(0)
    };
    let rule = |w: &mut Writer, size: usize| {
        let mut p = w.para().snap_to_grid(false).line_spacing(exact(RULE_PARA));
        p.property = p.property.set_borders(
            ParagraphBorders::with_empty().set(
                ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                    .val(BorderType::Single)
                    .size(size)
                    .space(0)
                    .color("000000"),
            ),
        );
        p
    };
    let cc = b.cc.as_ref().map_or(0, |cc| cc_lines(cc));
    let rules = if b.cc.is_some() { 3 } else { 2 };
    // a rule's thickness adds to its paragraph: 1 pt thick, 0.75 pt thin (in twips)
    let thickness = if b.cc.is_some() { 20 + 15 + 20 } else { 40 };
    let height = (cc as i32 + 1) * line + rules * RULE_PARA + thickness;
    let mut out = Vec::new();
    let room = match placement {
        BanjiPlacement::SamePage { content_end_mm } => mm_to_twip(262.0 - content_end_mm),
        BanjiPlacement::NextPage => mm_to_twip(225.0),
        BanjiPlacement::AfterBlank => {
            // the blank page: one tiny empty paragraph, then a page break
            out.push(w.para().snap_to_grid(false).line_spacing(exact(20)));
            mm_to_twip(225.0)
        }
    };
    // measured in LibreOffice 7.4: a section that opens on a new page starts its
    // first paragraph lower than a paragraph after a page break does
    // (and a hair of slack, so the last rule never spills past the 版心)
    let calibration = BANJI_SLACK
        + match placement {
            BanjiPlacement::NextPage => SECTION_START_OFFSET,
            _ => 0,
        };
    let filler = (room - height - calibration).max(20);
    let mut filler_para = w.para().snap_to_grid(false).line_spacing(exact(filler));
    if placement == BanjiPlacement::AfterBlank {
        filler_para = filler_para.page_break_before(true);
    }
    out.push(filler_para);
    out.push(rule(w, 8));
    if let Some(cc) = &b.cc {
        let p = w.para().snap_to_grid(false).line_spacing(exact(line)).indent(
            Some(inset * 4),
            Some(SpecialIndentType::Hanging(inset * 3)),
            Some(inset),
            None,
        );
        out.push(
            p.add_run(
                Writer::run(FontRole::Fang, &format!("抄送：{cc}"), SIZE_SMALL)
                    .character_spacing(0),
            ),
        );
        out.push(rule(w, 6));
    }
    let p = w
        .para()
        .snap_to_grid(false)
        .line_spacing(exact(line))
        .indent(Some(inset), None, Some(inset), None)
        // tab stops count from the margin, not from the indent
        .add_tab(
            Tab::new().val(TabValueType::Right).pos((mm_to_twip(156.0) - inset) as usize),
        );
    out.push(
        p.add_run(
            Writer::run(FontRole::Fang, &b.printer, SIZE_SMALL).character_spacing(0),
        )
        .add_run(Run::new().add_tab())
        .add_run(Writer::run(FontRole::Fang, &b.date, SIZE_SMALL).character_spacing(0)),
    );
    out.push(rule(w, 8));
    out
}

/// Height of the empty paragraph that carries a 版记 rule, in twips.
const RULE_PARA: i32 = 120;

/// Slack below the last 版记 rule, in twips (0.6 mm): the rule's own thickness must
/// stay inside the 版心 too.
const BANJI_SLACK: i32 = 34;
/// How much lower LibreOffice 7.4 sets the first paragraph of a section that opens
/// a page than the one after a page break (twips, measured: 2.9 mm).
const SECTION_START_OFFSET: i32 = 164;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sect_pr_children_in_schema_order_with_both_footers() {
        let xml = r#"<w:p/><w:sectPr><w:pgSz w:w="1" /><w:docGrid w:type="lines" /><w:footerReference w:type="default" r:id="rIdFooter3" /><w:type w:val="evenPage" /></w:sectPr>"#;
        assert_eq!(
            fix_sect_prs(xml, &("L1".into(), "L2".into())),
            r#"<w:p/><w:sectPr><w:footerReference w:type="default" r:id="rIdFooter1" /><w:footerReference w:type="even" r:id="rIdFooter2" /><w:type w:val="evenPage" /><w:pgSz w:w="1" /><w:docGrid w:type="lines" /></w:sectPr>"#
        );
    }

    #[test]
    fn scripts_are_glued_without_gaps() {
        assert_eq!(
            glue_scripts("2023年8月31日"),
            "2023\u{2060}年\u{2060}8\u{2060}月\u{2060}31\u{2060}日"
        );
        assert_eq!(glue_scripts("— 1 —"), "— 1 —");
        assert_eq!(glue_scripts("abc"), "abc");
    }

    #[test]
    fn header_rows_get_tbl_header() {
        let xml = format!("<w:tr><w:trPr>{HEADER_ROW_MARK}</w:trPr></w:tr>");
        assert_eq!(
            mark_header_rows(&xml),
            "<w:tr><w:trPr><w:tblHeader /></w:trPr></w:tr>"
        );
    }
}
