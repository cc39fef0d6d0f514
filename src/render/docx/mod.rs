//! Document model → DOCX with docx-rs: an editable Word/WPS document, laid out to
//! GB/T 9704-2012 by the client's own means.
//!
//! What an office edits stays editable: text flows (the only line breaks are the
//! data's own), a table is one `w:tbl` with a repeating header row, rows that do
//! not split and merges continuous over a whole group; headings keep with the next
//! paragraph; the 版记 is a bottom-anchored floating table that stays at the foot of
//! the last page when the text before it grows or shrinks. Page geometry, the
//! 22 × 28 grid, odd/even footers with PAGE fields (landscape table pages keep the
//! number where it is on the portrait sheet, §7), the red 版头 rule and the official
//! font names with East-Asian alternates are set as a word processor expects them.
//!
//! The writer only maps the document model: every label and position comes from
//! `compose` and the layout stage; the one decision taken from the PDF layout is the
//! page parity of the 版记 ([`BanjiPlacement`]). The 版记 has the body's last section
//! to itself, so that decision is that section's type and footers alone: the rest
//! is written while Typst lays the document out ([`prepare_docx`]) and the
//! placement set afterwards ([`PreparedDocx::finish`]).

mod xml;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Cursor;

use docx_rs::*;

use crate::doc::{self, Align, Block, Document, FontRole, Slot, span_grid};
use crate::layout::BanjiPlacement;
use crate::units::{mm_to_twip, pt_to_twip};

/// Line pitch of the body grid (225 mm / 22) in twips.
const LINE: i32 = 579;
/// One 字 of 3号 on the grid (15.75 pt), in twips.
const CHAR: i32 = 315;
/// The line of a 36 pt 发文机关标志 name, in twips (50 pt).
const ORGAN_LINE: i32 = 1000;
/// How far below the top of its line the 标志's type stands, in twips.
const ORGAN_DROP: i32 = 97;
/// Space above a further stacked 标志 name: 4 mm between the names less what
/// the taller line adds.
const STACK_GAP: u32 = 0;
/// Height of the empty paragraph carrying the red 版头 rule (its bottom border), in
/// twips: the rule then lies 4 mm below the 发文字号.
const RED_RULE_PARA: i32 = 160;
/// Half-points.
const SIZE_BODY: usize = 32;
const SIZE_SMALL: usize = 28;
const SIZE_TITLE: usize = 44;

/// Relationship ids of the footers we add.
const FOOTER_ODD: &str = "rIdGwFooterOdd";
const FOOTER_EVEN: &str = "rIdGwFooterEven";
const FOOTER_LAND_ODD: &str = "rIdGwFooterLandOdd";
const FOOTER_LAND_EVEN: &str = "rIdGwFooterLandEven";
const FOOTER_BLANK: &str = "rIdGwFooterBlank";

/// Which footers a section uses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Footers {
    /// Portrait page numbers.
    Portrait,
    /// Landscape table pages: the number stays where it is on the portrait sheet.
    Landscape,
    /// No page number (the blank page before the 版记 and the 版记 page after it).
    Blank,
}

impl Footers {
    fn ids(self) -> (&'static str, &'static str) {
        match self {
            Footers::Portrait => (FOOTER_ODD, FOOTER_EVEN),
            Footers::Landscape => (FOOTER_LAND_ODD, FOOTER_LAND_EVEN),
            Footers::Blank => (FOOTER_BLANK, FOOTER_BLANK),
        }
    }
}

struct Writer<'a> {
    next_id: u32,
    /// Inside landscape pages (tables may be 225 mm wide).
    landscape: bool,
    /// The next paragraph opens a new page.
    break_before: bool,
    /// Blank lines before the next paragraph, in twips: space before it rather
    /// than empty paragraphs, so that, as in the PDF, they vanish where a page
    /// turns.
    pending_before: u32,
    /// PNG images of the document (the seal), by path.
    images: &'a BTreeMap<String, Vec<u8>>,
}

fn fonts(role: FontRole) -> RunFonts {
    let name = role.official_name();
    RunFonts::new().east_asia(name).ascii(name).hi_ansi(name).cs(name)
}

fn exact(twips: i32) -> LineSpacing {
    LineSpacing::new().line_rule(LineSpacingType::Exact).line(twips).before(0).after(0)
}

/// A paragraph one point high (its mark one point too): what a floating table is
/// anchored to and what ends a section after a table, taking no line of its own.
fn tiny(p: Paragraph) -> Paragraph {
    p.snap_to_grid(false).line_spacing(exact(20)).size(2)
}

/// The footer distance from the page foot, in twips: with the page-number
/// paragraph filling the footer area exactly (see [`number_para`]), its line top
/// lies 7 mm below the 版心 (measured in LibreOffice 25.2).
const FOOTER_DISTANCE: i32 = 1258;

/// A run of literal text; the data's own line breaks become `w:br`.
fn run(role: FontRole, text: &str, size: usize) -> Run {
    let mut r = Run::new().fonts(fonts(role)).size(size);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            r = r.add_break(BreakType::TextWrapping);
        }
        if !line.is_empty() {
            r = r.add_text(line);
        }
    }
    r
}

impl Writer<'_> {
    /// The next paragraph's `w14:paraId`.
    fn para_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:08X}", 0x1000_0000 + self.next_id)
    }

    fn para(&mut self) -> Paragraph {
        let mut p = Paragraph::new().id(self.para_id());
        if std::mem::take(&mut self.break_before) {
            p = p.page_break_before(true);
        }
        p
    }

    /// A paragraph on the body grid.
    fn grid_para(&mut self) -> Paragraph {
        let before = std::mem::take(&mut self.pending_before);
        self.para().line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(LINE)
                .before(before)
                .after(0),
        )
    }

    /// A justified body paragraph of runs, its first line indented 2 字 if asked.
    fn body_para(&mut self, runs: &[doc::Run], indent: bool) -> Paragraph {
        let mut p = self.grid_para().align(AlignmentType::Both);
        if indent {
            p = p.indent(None, Some(SpecialIndentType::FirstLine(2 * CHAR)), None, None);
        }
        for r in runs {
            p = p.add_run(run(r.role, &r.text, SIZE_BODY));
        }
        p
    }

    fn blank(&mut self, n: u32) -> Vec<Paragraph> {
        (0..n).map(|_| self.grid_para()).collect()
    }

    fn blocks(&mut self, blocks: &[Block], out: &mut Vec<Item>) {
        for (i, b) in blocks.iter().enumerate() {
            match b {
                Block::Head(h) => self.head(h, out),
                Block::Title(lines) => {
                    let p = self
                        .para()
                        .align(AlignmentType::Center)
                        .snap_to_grid(false)
                        .keep_next(true)
                        .line_spacing(exact(pt_to_twip(35.0)))
                        .add_run(run(FontRole::Title, &lines.join("\n"), SIZE_TITLE));
                    out.push(Item::P(p));
                }
                Block::Blank(n) => {
                    let text_follows = matches!(
                        blocks.get(i + 1),
                        Some(
                            Block::Para { .. }
                                | Block::Heading(_)
                                | Block::Attachments { .. }
                                | Block::ListItem { .. }
                        )
                    );
                    if text_follows && !self.break_before {
                        self.pending_before += n * LINE as u32;
                    } else {
                        out.extend(self.blank(*n).into_iter().map(Item::P));
                    }
                }
                Block::Para { runs, indent } => {
                    let p = self.body_para(runs, *indent);
                    out.push(Item::P(p));
                }
                // never the last line of a page: kept with the next paragraph
                Block::Heading(runs) => {
                    let p = self.body_para(runs, true).keep_next(true);
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
                        p = p.add_run(run(r.role, &r.text, SIZE_BODY));
                    }
                    out.push(Item::P(p));
                }
                Block::Attachments { label, items } => {
                    let label_w = text_twips(label);
                    for (i, (num, name)) in items.iter().enumerate() {
                        // wrapped lines start under the name
                        let hang = label_w + text_twips(num);
                        let mut p = self.grid_para().align(AlignmentType::Both).indent(
                            Some(2 * CHAR + hang),
                            Some(SpecialIndentType::Hanging(hang)),
                            None,
                            None,
                        );
                        if i == 0 {
                            p = p.add_run(run(FontRole::Fang, label, SIZE_BODY));
                        } else {
                            // the following numbers stand under the first one
                            p = p.indent(
                                Some(2 * CHAR + hang),
                                Some(SpecialIndentType::Hanging(hang - label_w)),
                                None,
                                None,
                            );
                        }
                        p = p.add_run(run(
                            FontRole::Fang,
                            &format!("{num}{name}"),
                            SIZE_BODY,
                        ));
                        out.push(Item::P(p));
                    }
                }
                // the positions the layout stage decided, as in the PDF
                Block::Signature { names, date, sealed, seal, place } => {
                    self.signature(names, date, *sealed, seal.as_deref(), place, out)
                }
                // a new section opens a new page by itself
                Block::NewFace
                    if matches!(blocks.get(i + 1), Some(Block::Landscape(_)))
                        || matches!(out.last(), Some(Item::LandscapeEnd)) => {}
                Block::NewFace => self.break_before = true,
                Block::AnnexLabel(l) => {
                    let p = self.grid_para().keep_next(true);
                    out.push(Item::P(p.add_run(run(FontRole::Hei, l, SIZE_BODY))));
                }
                Block::Table(t) => {
                    if std::mem::take(&mut self.break_before) {
                        // a table cannot open a page itself: an empty paragraph does
                        out.push(Item::P(tiny(self.para().page_break_before(true))));
                    }
                    out.push(Item::Xml(self.table(t)));
                }
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

    fn signature(
        &mut self,
        names: &[String],
        date: &str,
        sealed: bool,
        seal: Option<&str>,
        place: &crate::doc::SignaturePlace,
        out: &mut Vec<Item>,
    ) {
        // the last body paragraph, the blank lines and the 署名 keep with the
        // date: the 署名 never stands on a page of its own (GB/T 9704 7.3.5)
        if let Some(Item::P(last)) = out.last_mut() {
            *last = std::mem::take(last).keep_next(true);
        }
        let first_blank = out.len();
        out.extend(
            self.blank(if sealed { 2 } else { 1 })
                .into_iter()
                .map(|p| Item::P(p.keep_next(true))),
        );
        for (i, n) in names.iter().enumerate() {
            let x = place.name_x_pt.get(i).copied().unwrap_or(0.0);
            let p = self
                .grid_para()
                .keep_next(true)
                .indent(Some(pt_to_twip(x)), None, None, None)
                .add_run(run(FontRole::Fang, n, SIZE_BODY));
            out.push(Item::P(p));
        }
        // a date set against the right edge stays there whatever a client's
        // digits measure; otherwise it starts where the layout put it
        let p = match place.date_right_pt {
            Some(inset) => self.grid_para().align(AlignmentType::Right).indent(
                None,
                None,
                Some(pt_to_twip(inset)),
                None,
            ),
            None => self.grid_para().indent(
                Some(pt_to_twip(place.date_x_pt)),
                None,
                None,
                None,
            ),
        }
        .add_run(run(FontRole::Fang, date, SIZE_BODY));
        let image = seal.and_then(|s| self.images.get(s));
        if let (true, Some(png)) = (sealed, image) {
            // the seal, 42 mm across, centred on the date, its centre about 5 mm
            // above the date line (as in the PDF); it hangs from the first blank
            // line above the 署名 so that its offset is positive
            let (w, h) = png_size(png).unwrap_or((1, 1));
            let emu = |mm: f64| (mm * 36_000.0).round().max(0.0) as i32;
            let width = 42.0;
            let height = width * f64::from(h) / f64::from(w);
            let centre_x = place.seal_centre_pt * 25.4 / 72.0;
            let pitch_mm = f64::from(LINE) / 56.693;
            let lines_above = 2.0 + names.len() as f64;
            let top =
                lines_above * pitch_mm + 8.0 * 0.3528 - 26.0 + (42.0 - height) / 2.0;
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

    fn head(&mut self, h: &doc::Head, out: &mut Vec<Item>) {
        for m in &h.marks {
            let p = self.grid_para().add_run(run(m.role, &m.text, SIZE_BODY));
            out.push(Item::P(p));
        }
        // 发文机关标志: top edge 35 mm below the 版心 top; compressed to fit 156 mm.
        // The 36 pt names stand on exact 50 pt lines (a line as tall as the type
        // clips it in LibreOffice), which sets the type 97 twips below the line top
        // (measured in LibreOffice 25.2).
        let organ_pt = 36.0;
        let before =
            (mm_to_twip(35.0) - ORGAN_DROP - h.marks.len() as i32 * LINE).max(0) as u32;
        let organ_para = |w: &mut Writer, name: &str, before: u32, width_mm: f64| {
            let width_pt = name.chars().count() as f64 * organ_pt;
            let scale =
                ((width_mm / 0.3528) / width_pt * 100.0).min(100.0).floor() as i32;
            w.para()
                .align(AlignmentType::Center)
                .snap_to_grid(false)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        .line(ORGAN_LINE)
                        .before(before)
                        .after(0),
                )
                .add_run(
                    run(FontRole::Title, name, (organ_pt * 2.0) as usize)
                        .color("FF0000")
                        .stretch(scale),
                )
        };
        match &h.wenjian_beside {
            Some(wenjian) => {
                // 联合行文: names stacked, 文件 to their right, the pair centred as
                // a whole on the 版心 (as in the PDF)
                let name_pt = h
                    .organs
                    .iter()
                    .map(|o| o.chars().count() as f64 * organ_pt)
                    .fold(0.0, f64::max);
                let wj_pt = wenjian.chars().count() as f64 * organ_pt;
                let gap_pt = organ_pt / 4.0;
                let full = mm_to_twip(156.0);
                let names_w = pt_to_twip(name_pt).min(full - pt_to_twip(wj_pt + gap_pt));
                let wj_w = pt_to_twip(wj_pt + gap_pt);
                let side = ((full - names_w - wj_w) / 2).max(0);
                if before > 0 {
                    let spacer = self
                        .para()
                        .snap_to_grid(false)
                        .line_spacing(exact(before as i32));
                    out.push(Item::P(spacer));
                }
                let mut names = TableCell::new()
                    .width(names_w as usize, WidthType::Dxa)
                    .clear_all_border();
                for (i, o) in h.organs.iter().enumerate() {
                    let gap = if i > 0 { STACK_GAP } else { 0 };
                    let p = organ_para(self, o, gap, f64::from(names_w) / 56.7);
                    names = names.add_paragraph(p);
                }
                let wj = TableCell::new()
                    .width(wj_w as usize, WidthType::Dxa)
                    .vertical_align(VAlignType::Center)
                    .clear_all_border()
                    .add_paragraph(organ_para(self, wenjian, 0, f64::from(wj_w) / 56.7));
                let empty = |w: &mut Writer, width: i32| {
                    TableCell::new()
                        .width(width as usize, WidthType::Dxa)
                        .clear_all_border()
                        .add_paragraph(tiny(w.para()))
                };
                let cells = vec![empty(self, side), names, wj, empty(self, side)];
                let table = Table::new(vec![TableRow::new(cells)])
                    .set_grid(vec![
                        side as usize,
                        names_w as usize,
                        wj_w as usize,
                        side as usize,
                    ])
                    .width(full as usize, WidthType::Dxa)
                    .layout(TableLayoutType::Fixed)
                    .margins(TableCellMargins::new().margin(0, 0, 0, 0))
                    .clear_all_border();
                out.push(Item::T(table));
            }
            None => {
                for (i, o) in h.organs.iter().enumerate() {
                    // stacked names 4 mm apart: the taller line gives most of it
                    let gap = if i == 0 { before } else { STACK_GAP };
                    out.push(Item::P(organ_para(self, o, gap, 156.0)));
                }
            }
        }
        out.extend(self.blank(2).into_iter().map(Item::P));
        if h.signer_lines.is_empty() {
            let p = self.grid_para().align(AlignmentType::Center);
            out.push(Item::P(p.add_run(run(FontRole::Fang, &h.number, SIZE_BODY))));
        } else {
            // 上行文: 签发人 right (inset 1 字); the 发文字号 left (inset 1 字) on
            // the line of the last names
            let rows = h.signer_lines.len();
            for (i, names) in h.signer_lines.iter().enumerate() {
                let mut p = self
                    .grid_para()
                    .align(AlignmentType::Left)
                    .indent(Some(CHAR), None, Some(CHAR), None)
                    .add_tab(
                        Tab::new()
                            .val(TabValueType::Right)
                            .pos((mm_to_twip(156.0) - CHAR) as usize),
                    );
                if i == rows - 1 {
                    p = p.add_run(run(FontRole::Fang, &h.number, SIZE_BODY));
                }
                p = p.add_run(Run::new().add_tab());
                if i == 0 {
                    p = p.add_run(run(FontRole::Fang, &h.signer_label, SIZE_BODY));
                }
                for (k, n) in names.iter().enumerate() {
                    if k + 1 < names.len() {
                        // one 字 of space after a name that another follows: the
                        // spacing of its last character, not an added character
                        let mut chars = n.chars();
                        let last =
                            chars.next_back().map(String::from).unwrap_or_default();
                        p = p.add_run(run(FontRole::Kai, chars.as_str(), SIZE_BODY));
                        p = p.add_run(
                            run(FontRole::Kai, &last, SIZE_BODY).character_spacing(CHAR),
                        );
                    } else {
                        p = p.add_run(run(FontRole::Kai, n, SIZE_BODY));
                    }
                }
                out.push(Item::P(p));
            }
        }
        // the red rule 4 mm below the 发文字号, as wide as the 版心
        let mut rule = self.para().snap_to_grid(false).line_spacing(exact(RED_RULE_PARA));
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
        out.push(Item::P(self.para().snap_to_grid(false).line_spacing(exact(rest))));
    }

    /// A data table: one `w:tbl` whose header row repeats on every page, rows
    /// kept whole (but for rows taller than a page), merges as vMerge over the
    /// whole group and gridSpan. Written as WordprocessingML directly rather
    /// than built with docx-rs and repaired: a long table is most of a document
    /// (1,000 rows: 90 → 19 ms for the whole DOCX). It is the XML docx-rs and
    /// the schema repair ([`super::ooxml`]) gave for it, byte for byte, and is
    /// put in place after the repair, which leaves it as it is (tested).
    fn table(&mut self, t: &doc::Table) -> String {
        // a little less than the block: cell borders lie outside the grid widths
        let available = if self.landscape { 222.0 } else { 154.0 };
        let tall = t.tall_rows(crate::doc::TABLE_WIDTH_MM, crate::doc::TABLE_BLOCK_MM);
        let widths: Vec<usize> = t
            .column_widths_mm(available)
            .iter()
            .map(|w| mm_to_twip(*w).max(0) as usize)
            .collect();
        let size = (t.size_pt * 2.0) as usize;
        // as the Typst table: 1 em line boxes 0.4 em apart
        let line = pt_to_twip(t.size_pt * 1.4);
        // rows as tall as in the Typst table: a cell is 1.8 mm inset plus its
        // lines 1.4 em apart
        let v = (mm_to_twip(1.8) - pt_to_twip(t.size_pt * 0.2)).max(0);
        let h = mm_to_twip(1.5);
        let mut x = String::with_capacity(256 + t.rows.len() * 1600);
        x.push_str(r#"<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto" /><w:jc w:val="center" /><w:tblBorders>"#);
        for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
            let _ = write!(
                x,
                r#"<w:{side} w:val="single" w:sz="2" w:space="0" w:color="000000" />"#
            );
        }
        let _ = write!(
            x,
            concat!(
                r#"</w:tblBorders><w:tblLayout w:type="fixed" /><w:tblCellMar>"#,
                r#"<w:top w:w="{v}" w:type="dxa" /><w:left w:w="{h}" w:type="dxa" />"#,
                r#"<w:bottom w:w="{v}" w:type="dxa" /><w:right w:w="{h}" w:type="dxa" />"#,
                r#"</w:tblCellMar></w:tblPr><w:tblGrid>"#
            ),
            v = v,
            h = h
        );
        for w in &widths {
            let _ = write!(x, r#"<w:gridCol w:w="{w}" />"#);
        }
        x.push_str("</w:tblGrid>");
        // a cell: its width, spans and paragraph; `keep`: the row stays on the
        // page of the next (the first row of a merged group never stands alone
        // at a page foot, as in the PDF)
        let cell = |w: &mut Writer, x: &mut String, c: CellXml<'_>| {
            let _ =
                write!(x, r#"<w:tc><w:tcPr><w:tcW w:w="{}" w:type="dxa" />"#, c.width);
            if c.colspan > 1 {
                let _ = write!(x, r#"<w:gridSpan w:val="{}" />"#, c.colspan);
            }
            match c.merge {
                Some(VMergeType::Restart) => {
                    x.push_str(r#"<w:vMerge w:val="restart" />"#)
                }
                Some(_) => x.push_str(r#"<w:vMerge w:val="continue" />"#),
                None => {}
            }
            let id = w.para_id();
            let _ = write!(
                x,
                r#"<w:vAlign w:val="center" /></w:tcPr><w:p w14:paraId="{id}"><w:pPr>"#
            );
            if c.keep {
                x.push_str("<w:keepNext />");
            }
            let _ = write!(
                x,
                r#"<w:snapToGrid w:val="false" /><w:spacing w:before="0" w:after="0" w:line="{line}" w:lineRule="exact" />"#
            );
            match c.text {
                // a cell covered by a merge: an empty paragraph, which LibreOffice
                // needs to keep the row with the next when the row does
                None => x.push_str("<w:rPr /></w:pPr></w:p></w:tc>"),
                Some((text, role, align)) => {
                    let align = match align {
                        Align::Left => "left",
                        Align::Center => "center",
                    };
                    let font = role.official_name();
                    let _ = write!(
                        x,
                        concat!(
                            r#"<w:jc w:val="{align}" /><w:rPr /></w:pPr><w:r><w:rPr>"#,
                            r#"<w:rFonts w:ascii="{f}" w:hAnsi="{f}" w:cs="{f}" w:eastAsia="{f}" />"#,
                            r#"<w:sz w:val="{size}" /><w:szCs w:val="{size}" /></w:rPr>"#
                        ),
                        align = align,
                        f = font,
                        size = size
                    );
                    // the data's own line breaks
                    for (i, l) in text.split('\n').enumerate() {
                        if i > 0 {
                            x.push_str(r#"<w:br w:type="textWrapping" />"#);
                        }
                        if !l.is_empty() {
                            x.push_str(r#"<w:t xml:space="preserve">"#);
                            x.push_str(&xml::esc(l));
                            x.push_str("</w:t>");
                        }
                    }
                    x.push_str("</w:r></w:p></w:tc>");
                }
            }
        };
        x.push_str("<w:tr><w:trPr><w:cantSplit /><w:tblHeader/></w:trPr>");
        for (i, head) in t.header.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let text = Some((head.as_str(), FontRole::Hei, Align::Center));
            cell(
                self,
                &mut x,
                CellXml { width, colspan: 1, merge: None, keep: false, text },
            );
        }
        x.push_str("</w:tr>");
        let grid = span_grid(&t.rows, t.columns.len());
        let keep =
            t.keep_with_next(crate::doc::TABLE_WIDTH_MM, crate::doc::TABLE_BLOCK_MM);
        for (r, grid_row) in grid.iter().enumerate() {
            x.push_str(if tall[r] {
                "<w:tr><w:trPr />"
            } else {
                "<w:tr><w:trPr><w:cantSplit /></w:trPr>"
            });
            for slot in grid_row {
                match slot {
                    Slot::Start((i, ci)) => {
                        let c = &t.rows[r][*i];
                        let align = c.align.unwrap_or(t.columns[*ci].align);
                        let colspan = (c.colspan as usize).clamp(1, widths.len() - ci);
                        let width: usize = widths[*ci..ci + colspan].iter().sum();
                        let merge = (c.rowspan > 1).then_some(VMergeType::Restart);
                        let text = Some((c.text.as_str(), FontRole::Fang, align));
                        cell(
                            self,
                            &mut x,
                            CellXml { width, colspan, merge, keep: keep[r], text },
                        );
                    }
                    Slot::Covered { col, colspan, .. } => {
                        let width: usize = widths[*col..*col + *colspan].iter().sum();
                        let merge = Some(VMergeType::Continue);
                        let colspan = *colspan;
                        cell(
                            self,
                            &mut x,
                            CellXml { width, colspan, merge, keep: keep[r], text: None },
                        );
                    }
                    Slot::Inner => {}
                }
            }
            x.push_str("</w:tr>");
        }
        x.push_str("</w:tbl>");
        x
    }
}

/// A cell of [`Writer::table`]: its width in twips, the columns it spans, its
/// vertical merge, whether its row keeps with the next, and its text with font
/// and alignment (`None`: covered by a merge).
struct CellXml<'t> {
    width: usize,
    colspan: usize,
    merge: Option<VMergeType>,
    keep: bool,
    text: Option<(&'t str, FontRole, Align)>,
}

/// Width and height of a PNG from its header (the image was checked whole when
/// the case was read).
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24
        || !bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || &bytes[12..16] != b"IHDR"
    {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// Width of a text in twips on the body grid (half-width characters count half).
fn text_twips(s: &str) -> i32 {
    s.chars().map(|c| if c.is_ascii() { CHAR / 2 } else { CHAR }).sum()
}

/// A piece of the body in order; landscape markers delimit table sections.
#[expect(clippy::large_enum_variant, reason = "short-lived, one per block while writing")]
enum Item {
    P(Paragraph),
    T(Table),
    /// A data table's XML ([`Writer::table`]), put in place after the repair.
    Xml(String),
    LandscapeStart,
    LandscapeEnd,
}

/// The `— N —` paragraph of a footer; odd pages right, even pages left, 1 字 in.
/// `fill`: space above the line so that the footer fills its area exactly (else
/// LibreOffice moves the body's foot on the first page of an even-page section).
fn number_para(odd: bool, id: &str, fill: u32) -> Paragraph {
    let inset = pt_to_twip(14.0);
    let p = Paragraph::new()
        .id(id)
        .snap_to_grid(false)
        .align(if odd { AlignmentType::Right } else { AlignmentType::Left })
        .indent(
            if odd { None } else { Some(inset) },
            None,
            if odd { Some(inset) } else { None },
            None,
        )
        .line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::Exact)
                .line(pt_to_twip(14.0))
                .before(fill)
                .after(0),
        )
        .add_run(run(FontRole::Song, "— ", SIZE_SMALL));
    let field = || Run::new().fonts(fonts(FontRole::Song)).size(SIZE_SMALL);
    p.add_run(field().add_field_char(FieldCharType::Begin, false))
        .add_run(field().add_instr_text(InstrText::PAGE(InstrPAGE::new())))
        .add_run(field().add_field_char(FieldCharType::Separate, false))
        .add_run(field().add_text("1"))
        .add_run(field().add_field_char(FieldCharType::End, false))
        .add_run(run(FontRole::Song, " —", SIZE_SMALL))
}

/// Space above the portrait number line: the bottom margin less the footer
/// distance less the line.
const FOOTER_FILL: u32 = (1984 - FOOTER_DISTANCE - 280) as u32;

fn page_footer(odd: bool) -> Footer {
    let id = if odd { "7F000001" } else { "7F000002" };
    Footer::new().add_paragraph(number_para(odd, id, FOOTER_FILL))
}

/// Footer of a landscape table page (GB/T 9704 §7): the number keeps its place on
/// the printed sheet, so on the landscape page it runs down the left edge, turned
/// clockwise: a one-cell floating table with top-to-bottom text.
fn landscape_footer(odd: bool) -> Footer {
    let p = number_para(odd, if odd { "7F000003" } else { "7F000004" }, 0);
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
    let end = tiny(Paragraph::new().id(if odd { "7F000005" } else { "7F000006" }));
    Footer::new().add_table(table).add_paragraph(end)
}

/// A footer without a number that still fills the footer area.
fn blank_footer() -> Footer {
    let fill = 1984 - FOOTER_DISTANCE;
    Footer::new().add_paragraph(
        Paragraph::new().id("7F000007").snap_to_grid(false).line_spacing(exact(fill)),
    )
}

fn portrait_margin() -> PageMargin {
    PageMargin::new()
        .top(mm_to_twip(37.0))
        .bottom(mm_to_twip(35.0))
        .left(mm_to_twip(28.0))
        .right(mm_to_twip(26.0))
        .header(mm_to_twip(15.0))
        .footer(FOOTER_DISTANCE)
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

/// The 22 × 28 grid of the body: 22 lines of 28.95 pt, 28 characters a line
/// (the character pitch is the Normal style's 16 pt less 849/4096 pt).
fn body_grid() -> DocGrid {
    DocGrid::new()
        .grid_type(DocGridType::LinesAndChars)
        .line_pitch(LINE as usize)
        .char_space(-849)
}

fn section_property(landscape: bool) -> SectionProperty {
    let mut s = SectionProperty::new();
    if landscape {
        // no line grid on table pages: a grid that does not fill the block would
        // move the table
        s = s
            .page_size(
                PageSize::new()
                    .size(mm_to_twip(297.0) as u32, mm_to_twip(210.0) as u32)
                    .orient(PageOrientationType::Landscape),
            )
            .page_margin(landscape_margin());
    } else {
        s = s
            .page_size(
                PageSize::new().size(mm_to_twip(210.0) as u32, mm_to_twip(297.0) as u32),
            )
            .page_margin(portrait_margin())
            .doc_grid(body_grid());
    }
    s
}

/// The 版记 as a table of two or three rows between rules of the 版心's width
/// (first and last 0.35 mm, the middle 0.25 mm), anchored to the foot of the text
/// block, so that it stays at the foot of its page whatever comes before it.
fn banji_table(w: &mut Writer, b: &doc::Banji) -> Table {
    let inset = pt_to_twip(14.0);
    let full = mm_to_twip(156.0) as usize;
    let line = pt_to_twip(22.0);
    let para = |w: &mut Writer| {
        w.para().snap_to_grid(false).line_spacing(
            LineSpacing::new()
                .line_rule(LineSpacingType::AtLeast)
                .line(line)
                .before(0)
                .after(0),
        )
    };
    let border = |pos: TableCellBorderPosition, eighths: usize| {
        TableCellBorder::new(pos)
            .border_type(BorderType::Single)
            .size(eighths)
            .color("000000")
    };
    let cell = |p: Paragraph, top: usize, bottom: usize| {
        TableCell::new()
            .width(full, WidthType::Dxa)
            .set_borders(
                TableCellBorders::with_empty()
                    .set(border(TableCellBorderPosition::Top, top))
                    .set(border(TableCellBorderPosition::Bottom, bottom)),
            )
            .add_paragraph(p)
    };
    let mut rows = Vec::new();
    if let Some(cc) = &b.cc {
        // wrapped 抄送 names align after the label
        let label_w = pt_to_twip(14.0) * b.cc_label.chars().count() as i32;
        let p = para(w)
            .indent(Some(label_w), Some(SpecialIndentType::Hanging(label_w)), None, None)
            .add_run(run(FontRole::Fang, &b.cc_label, SIZE_SMALL))
            .add_run(run(FontRole::Fang, cc, SIZE_SMALL));
        rows.push(TableRow::new(vec![cell(p, 8, 6)]).cant_split());
    }
    let p = para(w)
        .add_tab(Tab::new().val(TabValueType::Right).pos(full - 2 * inset as usize))
        .add_run(run(FontRole::Fang, &b.printer, SIZE_SMALL))
        .add_run(Run::new().add_tab())
        .add_run(run(FontRole::Fang, &b.date, SIZE_SMALL));
    rows.push(
        TableRow::new(vec![cell(p, if b.cc.is_some() { 6 } else { 8 }, 8)]).cant_split(),
    );
    Table::new(rows)
        .clear_all_border()
        .set_grid(vec![full])
        .width(full, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .margins(TableCellMargins::new().margin(
            mm_to_twip(1.5) as usize,
            inset as usize,
            mm_to_twip(1.5) as usize,
            inset as usize,
        ))
        .position(
            TablePositionProperty::new()
                .horizontal_anchor("margin")
                .position_x_alignment("center")
                .vertical_anchor("margin")
                .position_y_alignment("bottom")
                .left_from_text(0)
                .right_from_text(0),
        )
}

/// The last section of a document with a 版记, the 版记's own: the one part of
/// a DOCX that depends on the PDF layout (GB/T 9704-2012 7.5: the 版记 at the
/// foot of an even page).
#[derive(Debug, Clone, Copy, PartialEq)]
struct LastSection {
    /// Continuous (the 版记 at the foot of the last content page) or starting
    /// on an even page.
    kind: SectionType,
    /// No page numbers after a blank page.
    footers: Footers,
}

impl LastSection {
    /// The 版记's section for a placement; `after_landscape`: the content ends
    /// on landscape table pages (the 版记 then always opens a portrait page).
    fn of(banji: BanjiPlacement, after_landscape: bool) -> LastSection {
        LastSection {
            kind: if banji == BanjiPlacement::SamePage && !after_landscape {
                SectionType::Continuous
            } else {
                SectionType::EvenPage
            },
            footers: if banji == BanjiPlacement::AfterBlank {
                Footers::Blank
            } else {
                Footers::Portrait
            },
        }
    }
}

/// The part name of the main document.
const DOCUMENT_PART: &str = "word/document.xml";

/// A DOCX written but for the 版记's section ([`LastSection`]): all of the work
/// of [`write_docx`] that does not need the PDF layout, so that it can run while
/// Typst lays the document out; [`PreparedDocx::finish`] sets the placement.
pub struct PreparedDocx {
    /// The repaired parts, by name.
    parts: BTreeMap<String, Vec<u8>>,
    /// The 版记's section as written, and the byte range of its `w:sectPr` (the
    /// body's last child) in `word/document.xml`; `None` without a 版记.
    last: Option<(LastSection, std::ops::Range<usize>)>,
    /// The content ends on landscape pages.
    after_landscape: bool,
}

impl PreparedDocx {
    /// The DOCX bytes with the 版记 where the PDF layout put it: the 版记's
    /// `w:sectPr` edited structurally (its `w:type` and footer references).
    pub fn finish(mut self, banji: BanjiPlacement) -> Result<Vec<u8>, String> {
        if let Some((written, range)) = self.last.take() {
            let want = LastSection::of(banji, self.after_landscape);
            if want != written {
                let part = self.parts.get_mut(DOCUMENT_PART).ok_or("no main document")?;
                let (odd, even) = want.footers.ids();
                // written as `prepare` writes them, so the bytes are the same
                let sect = xml::edit(&part[range.clone()], |path, e| {
                    match path.iter().map(String::as_str).collect::<Vec<_>>()[..] {
                        ["w:sectPr", "w:type"] => xml::Edit::Replace(format!(
                            r#"<w:type w:val="{}" />"#,
                            want.kind
                        )),
                        ["w:sectPr", "w:footerReference"] => {
                            let kind = xml::attr(e, "w:type").unwrap_or_default();
                            let id = if kind == "even" { even } else { odd };
                            xml::Edit::Replace(footer_reference(&kind, id))
                        }
                        _ => xml::Edit::Keep,
                    }
                })?;
                part.splice(range, sect);
            }
        }
        super::ooxml::write_zip(self.parts)
    }
}

/// A section's reference to one of its footers (`kind`: default or even).
fn footer_reference(kind: &str, id: &str) -> String {
    format!(r#"<w:footerReference w:type="{kind}" r:id="{id}"/>"#)
}

/// Writes the DOCX bytes of a document. `banji` is where the PDF layout put the
/// 版记; `images` are the PNG images the document shows, by path.
pub fn write_docx(
    doc: &Document,
    created: chrono::NaiveDate,
    banji: BanjiPlacement,
    images: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, String> {
    prepare(doc, created, banji, images)?.finish(banji)
}

/// Writes a document's DOCX but for the 版记's placement, which
/// [`PreparedDocx::finish`] sets: it gives the same bytes as [`write_docx`].
pub fn prepare_docx(
    doc: &Document,
    created: chrono::NaiveDate,
    images: &BTreeMap<String, Vec<u8>>,
) -> Result<PreparedDocx, String> {
    prepare(doc, created, BanjiPlacement::NextPage, images)
}

/// The DOCX of a document with the 版记's section written for `banji`.
fn prepare(
    doc: &Document,
    created: chrono::NaiveDate,
    banji: BanjiPlacement,
    images: &BTreeMap<String, Vec<u8>>,
) -> Result<PreparedDocx, String> {
    let mut w = Writer {
        next_id: 0,
        landscape: false,
        break_before: false,
        pending_before: 0,
        images,
    };
    let mut items = Vec::new();
    w.blocks(&doc.blocks, &mut items);

    // sections: portrait runs and landscape table pages alternate; the 版记 has
    // a section of its own, continuous at the foot of the last content page or
    // starting on an even page (after a blank page, neither that page nor the
    // 版记's is numbered): the only part that depends on the PDF layout
    let mut parts: Vec<(bool, Vec<Item>)> = vec![(false, Vec::new())];
    for item in items {
        match item {
            Item::LandscapeStart => parts.push((true, Vec::new())),
            Item::LandscapeEnd => parts.push((false, Vec::new())),
            other => parts.last_mut().expect("parts starts non-empty").1.push(other),
        }
    }
    parts.retain(|(_, items)| !items.is_empty());
    if parts.is_empty() {
        parts.push((false, vec![Item::P(w.grid_para())]));
    }
    let after_landscape = parts.last().is_some_and(|(l, _)| *l);
    // (footers, section type) of each section, in order
    let footers_of = |landscape: bool| {
        if landscape { Footers::Landscape } else { Footers::Portrait }
    };
    let mut sections: Vec<(Footers, Option<SectionType>)> =
        parts.iter().map(|(l, _)| (footers_of(*l), None)).collect();
    let mut body: Vec<(bool, Vec<Item>)> = parts;
    let mut last = None;
    if let Some(b) = &doc.banji {
        let table = banji_table(&mut w, b);
        // the paragraph the floating table is anchored to, as small as can be
        let mut anchor = tiny(w.para());
        if std::mem::take(&mut w.break_before) {
            anchor = anchor.page_break_before(true);
        }
        let section = LastSection::of(banji, after_landscape);
        body.push((false, vec![Item::T(table), Item::P(anchor)]));
        sections.push((section.footers, Some(section.kind)));
        last = Some(section);
    }

    let mut docx = Docx::new()
        .page_size(mm_to_twip(210.0) as u32, mm_to_twip(297.0) as u32)
        .page_margin(portrait_margin())
        .default_fonts(fonts(FontRole::Fang))
        .default_size(SIZE_BODY)
        .created_at(&format!("{}T00:00:00Z", created.format("%Y-%m-%d")))
        .updated_at(&format!("{}T00:00:00Z", created.format("%Y-%m-%d")));
    docx.settings = std::mem::take(&mut docx.settings)
        .even_and_odd_headers()
        .character_spacing_control(CharacterSpacingValues::CompressPunctuation);
    let count = body.len();
    // the data tables' XML by the id of the paragraph that stands for each
    let mut tables: Vec<(String, String)> = Vec::new();
    for (k, (landscape, items)) in body.into_iter().enumerate() {
        let last_section = k + 1 == count;
        let mut prop = section_property(landscape);
        prop.section_type = sections[k].1;
        let n = items.len();
        for (j, item) in items.into_iter().enumerate() {
            let closes = j + 1 == n && !last_section;
            docx = match item {
                Item::P(p) if closes => {
                    docx.add_paragraph(p.section_property(prop.clone()))
                }
                Item::P(p) => docx.add_paragraph(p),
                Item::T(t) => {
                    docx = docx.add_table(t);
                    if closes {
                        // a section cannot end in a table: a tiny paragraph ends it
                        docx.add_paragraph(tiny(w.para()).section_property(prop.clone()))
                    } else {
                        docx
                    }
                }
                Item::Xml(xml) => {
                    // a placeholder paragraph, replaced by the table after the repair
                    let id = format!("{:08X}", TABLE_PLACEHOLDER + tables.len() as u32);
                    docx = docx.add_paragraph(Paragraph::new().id(&id));
                    tables.push((id, xml));
                    if closes {
                        // a section cannot end in a table: a tiny paragraph ends it
                        docx.add_paragraph(tiny(w.para()).section_property(prop.clone()))
                    } else {
                        docx
                    }
                }
                Item::LandscapeStart | Item::LandscapeEnd => docx,
            };
        }
        if last_section {
            docx.document.section_property = prop;
        }
    }

    let mut xml = docx.build();
    // footers: portrait odd/even, landscape odd/even, blank
    let footer_parts = [
        (FOOTER_ODD, page_footer(true)),
        (FOOTER_EVEN, page_footer(false)),
        (FOOTER_LAND_ODD, landscape_footer(true)),
        (FOOTER_LAND_EVEN, landscape_footer(false)),
        (FOOTER_BLANK, blank_footer()),
    ];
    let mut rels = String::new();
    let mut types = String::new();
    xml.footers.clear();
    xml.footer_rels.clear();
    for (i, (id, footer)) in footer_parts.into_iter().enumerate() {
        let n = i + 1;
        xml.footers.push(footer.build());
        xml.footer_rels.push(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#
                .to_vec(),
        );
        rels.push_str(&format!(
            r#"<Relationship Id="{id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer{n}.xml"/>"#
        ));
        types.push_str(&format!(
            r#"<Override PartName="/word/footer{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>"#
        ));
    }
    xml.document_rels = xml::edit(&xml.document_rels, |path, _| {
        if path.len() == 1 { xml::Edit::Append(rels.clone()) } else { xml::Edit::Keep }
    })?;
    xml.content_type = xml::edit(&xml.content_type, |path, _| {
        if path.len() == 1 { xml::Edit::Append(types.clone()) } else { xml::Edit::Keep }
    })?;
    // every section names its footers
    let mut k = 0;
    xml.document = xml::edit(&xml.document, |path, e| {
        let name = path.last().map_or("", String::as_str);
        match name {
            "w:sectPr" => {
                let footers = sections.get(k).map_or(Footers::Portrait, |s| s.0);
                k += 1;
                let (odd, even) = footers.ids();
                xml::Edit::Prepend(
                    footer_reference("default", odd) + &footer_reference("even", even),
                )
            }
            "w:footerReference" | "w:headerReference" => {
                xml::Edit::Replace(String::new())
            }
            // the 版记 table is never overlapped by another floating table
            "w:tblpPr" => xml::Edit::Replace(format!(
                r#"<{}/><w:tblOverlap w:val="never"/>"#,
                String::from_utf8_lossy(e)
            )),
            _ => xml::Edit::Keep,
        }
    })?;
    // document defaults: no gap between Han characters and digits (公文 set
    // 2023年8月31日 without one), East-Asian language zh-CN
    // LibreOffice sizes the character grid from the Normal style's own size
    let mut style_id = String::new();
    xml.styles = xml::edit(&xml.styles, |path, e| {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        if p.last() == Some(&"w:style") {
            style_id = xml::attr(e, "w:styleId").unwrap_or_default();
        }
        match p.as_slice() {
            [.., "w:pPrDefault", "w:pPr"] => xml::Edit::Append(
                r#"<w:widowControl w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>"#.into(),
            ),
            [.., "w:style", "w:rPr"] if style_id == "Normal" => xml::Edit::Append(
                format!(r#"<w:sz w:val="{SIZE_BODY}"/><w:szCs w:val="{SIZE_BODY}"/>"#),
            ),
            [.., "w:rPrDefault", "w:rPr"] => xml::Edit::Append(
                r#"<w:lang w:val="zh-CN" w:eastAsia="zh-CN" w:bidi="ar-SA"/>"#.into(),
            ),
            _ => xml::Edit::Keep,
        }
    })?;
    xml.font_table = font_table().into_bytes();
    let mut buf = Cursor::new(Vec::new());
    xml.pack(&mut buf).map_err(|e| e.to_string())?;
    // children in schema order, unique ids, no unreferenced parts, core
    // properties: what Word needs to open the file without a repair
    let creator = doc.banji.as_ref().map_or("gongwen", |b| b.printer.as_str());
    let mut parts = super::ooxml::normalize_parts(
        &buf.into_inner(),
        &super::ooxml::CoreProps {
            title: doc.title.clone(),
            creator: creator.to_string(),
            date: created,
        },
    )?;
    if !tables.is_empty() {
        let xml = parts.get_mut(DOCUMENT_PART).ok_or("no main document")?;
        *xml = put_tables(xml, &tables)?;
    }
    // the 版记's section is the body's last child
    let last = match last {
        None => None,
        Some(section) => {
            let xml = parts.get(DOCUMENT_PART).ok_or("no main document")?;
            let start = find_last(xml, b"<w:sectPr").ok_or("no w:sectPr")?;
            let end = find_last(xml, b"</w:sectPr>").ok_or("no w:sectPr end")?
                + b"</w:sectPr>".len();
            if end < start || !xml[end..].trim_ascii_start().starts_with(b"</w:body>") {
                return Err("the last w:sectPr is not the body's".into());
            }
            Some((section, start..end))
        }
    };
    Ok(PreparedDocx { parts, last, after_landscape })
}

/// First `w14:paraId` of the paragraphs that stand for data tables until the
/// tables are put in place (above the writer's own ids, below the largest
/// valid one).
const TABLE_PLACEHOLDER: u32 = 0x7000_0000;

/// The main document with each placeholder paragraph (by its id) replaced by
/// its table.
fn put_tables(xml: &[u8], tables: &[(String, String)]) -> Result<Vec<u8>, String> {
    let size = tables.iter().map(|(_, t)| t.len()).sum::<usize>();
    let mut out = Vec::with_capacity(xml.len() + size);
    let mut rest = xml;
    for (id, table) in tables {
        let open = format!(r#"<w:p w14:paraId="{id}">"#);
        let start = memchr::memmem::find(rest, open.as_bytes())
            .ok_or_else(|| format!("no placeholder {id}"))?;
        let end = memchr::memmem::find(&rest[start..], b"</w:p>")
            .ok_or_else(|| format!("placeholder {id} not closed"))?
            + start
            + b"</w:p>".len();
        out.extend_from_slice(&rest[..start]);
        out.extend_from_slice(table.as_bytes());
        rest = &rest[end..];
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// Where `needle` last occurs in `hay`.
fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// fontTable.xml: the official fonts with the alternates Windows and WPS have
/// (仿宋, 楷体, 宋体/SimSun, 黑体/SimHei), the GB2312 character set and their
/// families, so substitution is predictable where a font is missing.
fn font_table() -> String {
    // (name, alternate, family, pitch)
    const FONTS: [(&str, &str, &str); 6] = [
        ("方正小标宋简体", "宋体", "script"),
        ("仿宋_GB2312", "仿宋", "modern"),
        ("楷体_GB2312", "楷体", "modern"),
        ("黑体", "SimHei", "modern"),
        ("宋体", "SimSun", "auto"),
        ("Times New Roman", "", "roman"),
    ];
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
    );
    for (name, alt, family) in FONTS {
        s.push_str(&format!(r#"<w:font w:name="{}">"#, xml::esc(name)));
        if !alt.is_empty() {
            s.push_str(&format!(r#"<w:altName w:val="{}"/>"#, xml::esc(alt)));
        }
        let charset = if name == "Times New Roman" { "00" } else { "86" };
        let pitch = if family == "roman" { "variable" } else { "fixed" };
        s.push_str(&format!(
            r#"<w:charset w:val="{charset}"/><w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>"#
        ));
    }
    s.push_str("</w:fonts>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Cell, Column, Table, Width};

    /// A table with what the writer meets: merges down and across, a row
    /// taller than a page, the data's own line breaks, empty cells and the
    /// characters XML escapes.
    fn table() -> Table {
        let col = |width, align| Column { width, align };
        let span =
            |text: &str, rowspan, colspan| Cell { rowspan, colspan, ..Cell::new(text) };
        let mut rows = vec![
            vec![span("一级", 2, 1), Cell::new("A&B <c> \"d\" 'e'"), Cell::new("")],
            vec![Cell::new("第一行\n\n第三行"), Cell::new("x")],
            vec![span("跨两列", 1, 2), Cell::new("y")],
        ];
        rows.push(vec![
            Cell::new("长"),
            Cell::new("很长的一格。".repeat(400)),
            Cell::new("z"),
        ]);
        Table {
            columns: vec![
                col(Width::Mm(20.0), Align::Center),
                col(Width::Fr(2), Align::Left),
                col(Width::Fr(1), Align::Center),
            ],
            header: vec!["一级指标".into(), "任务".into(), "单位".into()],
            rows,
            size_pt: 12.0,
        }
    }

    /// The data tables are written as XML directly: it must be what the
    /// schema repair leaves as it is (children in schema order, only declared
    /// attributes), and carry every cell's text, merge and break.
    #[test]
    fn direct_table_xml_is_schema_ordered() {
        let images = BTreeMap::new();
        let mut w = Writer {
            next_id: 0,
            landscape: false,
            break_before: false,
            pending_before: 0,
            images: &images,
        };
        let body = w.table(&table());
        let part = format!(
            concat!(
                r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" "#,
                r#"xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml">"#,
                "<w:body>{}</w:body></w:document>"
            ),
            body
        );
        let repaired = super::super::ooxml::reorder_part(part.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(repaired).unwrap(), part);
        assert!(body.contains("<w:tblHeader/>"), "the header row repeats");
        assert_eq!(body.matches(r#"<w:vMerge w:val="restart" />"#).count(), 1);
        assert_eq!(body.matches(r#"<w:vMerge w:val="continue" />"#).count(), 1);
        assert_eq!(body.matches(r#"<w:gridSpan w:val="2" />"#).count(), 1);
        assert!(body.contains(
            r#"<w:t xml:space="preserve">A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;</w:t>"#
        ));
        assert!(body.contains(concat!(
            r#"<w:t xml:space="preserve">第一行</w:t><w:br w:type="textWrapping" />"#,
            r#"<w:br w:type="textWrapping" /><w:t xml:space="preserve">第三行</w:t>"#
        )));
        // the row taller than a page may split, the others may not
        assert_eq!(body.matches("<w:trPr />").count(), 1);
        assert_eq!(body.matches("<w:cantSplit />").count(), 4);
        // one paragraph per cell, numbered on
        assert_eq!(body.matches("<w:p ").count(), 3 + 11);
        assert!(body.contains(r#"w14:paraId="1000000E""#));
    }
}
