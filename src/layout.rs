//! The layout stage: everything about where things stand on the page, decided
//! once for both writers. Its input is the composed [`Document`]; its output is
//! the same document with positions filled in and a [`Plan`] of the pagination
//! the Typst layout found (where each table breaks, where the 版记 goes).
//!
//! Text is never changed here: the only line breaks in any output are the data's
//! own. The content-visible layout change (a merged label printed again after a
//! page break) is a document → document function ([`crate::doc::Table::split_spans_at`])
//! applied to the PDF's copy of the document only; a group's first row is kept
//! with the next row natively by both writers ([`crate::doc::Table::keep_with_next`]).
//!
//! Measuring goes through [`Measure`] (character widths, which the Typst font set
//! implements) and [`Engine`] (a whole layout, which the Typst side implements);
//! unit tests fake both.

use crate::diag::{Diagnostic, Location};
use crate::doc::{Block, Document, FontRole, SignaturePlace};

/// The 版心 width, in points (156 mm).
pub const TEXT_WIDTH_PT: f64 = 156.0 * 72.0 / 25.4;

/// What a 署名 pushed against the 版心's right edge keeps free: the tracking
/// after its last character and rounding, so that it never wraps.
const EDGE_SLACK_PT: f64 = 0.5;
/// Body text size (3号), in points.
pub const BODY_PT: f64 = 16.0;
/// The tracking of body text, in points (16 pt glyphs on a 15.75 pt advance: 28
/// characters a line).
pub const TRACK_PT: f64 = -0.25;
/// One 字 on the body grid, in points.
pub const CHAR_PT: f64 = BODY_PT + TRACK_PT;

/// Character widths of the fonts a document is set in.
pub trait Measure {
    /// A character's advance in em in the font of `role`.
    fn advance_em(&self, role: FontRole, c: char) -> f64;

    /// The width of a body-size text in points, tracking included.
    fn body_width_pt(&self, role: FontRole, text: &str) -> f64 {
        text.chars().map(|c| self.advance_em(role, c) * BODY_PT + TRACK_PT).sum()
    }

    /// The width of a 成文日期 in points. The style library sets the date
    /// without the body's tracking: half-width digits are not squeezed onto
    /// the grid by Word or LibreOffice either, and a date set against the
    /// right edge or 2 字 right of the 署名 then stands within a fraction of a
    /// millimetre of the PDF in those clients (their Han characters are 0.09 mm
    /// narrower, their digits as wide).
    fn date_width_pt(&self, text: &str) -> f64 {
        text.chars().map(|c| self.advance_em(FontRole::Fang, c) * BODY_PT).sum()
    }
}

/// Every Han character and full-width mark one em, ASCII half (for tests).
pub struct Monospace;

impl Measure for Monospace {
    fn advance_em(&self, _: FontRole, c: char) -> f64 {
        if c.is_ascii() { 0.5 } else { 1.0 }
    }
}

/// Where the 版记 goes, as the Typst layout decided it (GB/T 9704-2012 7.5: at
/// the foot of the last page, an even page).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BanjiPlacement {
    /// At the foot of the last content page, which is even.
    #[default]
    SamePage,
    /// On the next page, which is even; it keeps its page number.
    NextPage,
    /// After a blank page; neither page is numbered.
    AfterBlank,
}

/// The pagination the Typst layout found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Per table (document order), the rows that open a new page.
    pub table_breaks: Vec<Vec<usize>>,
    /// Where the 版记 goes.
    pub banji: BanjiPlacement,
    /// Pages in the PDF.
    pub pages: usize,
}

/// What a layout engine reports of one laid-out document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pages {
    /// Pages in all.
    pub count: usize,
    /// The text on each page.
    pub texts: Vec<String>,
    /// Per table (document order), the rows that open a new page.
    pub table_breaks: Vec<Vec<usize>>,
    /// Where the content before the 版记 ends: (page, mm from the page top).
    pub banji_anchor: Option<(usize, f64)>,
}

/// A layout engine: lays a document out and says where its pages turn. The
/// Typst side implements it (keeping one world across rounds); tests fake it.
pub trait Engine {
    /// Lays `doc` out.
    fn lay_out(&mut self, doc: &Document) -> Result<Pages, Vec<Diagnostic>>;
}

/// Layout rounds before a table's pagination counts as not converging.
pub const MAX_ROUNDS: usize = 40;

/// Most pages a document may have. A workbook within the loader's bounds
/// (10,000 rows) of ordinary rows stays under it: 9,999 one-line rows of a
/// four-column 责任清单 take 667 pages, two-line rows 2,000 (5 s, 840 MB). Past
/// it, layout time and memory grow with no document anyone would print.
pub const MAX_PAGES: usize = 2_000;

/// Most characters one page can hold: 10.5 pt text (the smallest any document
/// uses) in the 156 × 225 mm 版心 sets at most about 61 × 50 = 3,050 characters
/// with no cell padding and no line spacing; ordinary pages hold far fewer.
const CHARS_PER_PAGE: usize = 3_100;

/// Most table lines one page can hold: 10.5 pt lines with no spacing and no
/// padding in 225 mm.
const TABLE_LINES_PER_PAGE: usize = 60;

/// A lower bound of the pages `doc` takes, from its text and its table lines
/// alone: what no layout can pack tighter. It lets a document far over
/// [`MAX_PAGES`] be refused before any layout work is spent on it.
pub fn min_pages(doc: &Document) -> usize {
    fn walk(blocks: &[Block], lines: &mut usize, faces: &mut usize) {
        for b in blocks {
            match b {
                Block::Table(t) => {
                    for row in &t.rows {
                        // a row is as tall as its tallest cell's written lines
                        *lines += row
                            .iter()
                            .map(|c| c.text.split('\n').count())
                            .max()
                            .unwrap_or(1);
                    }
                }
                Block::NewFace => *faces += 1,
                Block::Landscape(inner) => {
                    *faces += 1;
                    walk(inner, lines, faces);
                }
                _ => {}
            }
        }
    }
    let chars: usize = doc.paragraphs().iter().map(|p| p.chars().count()).sum();
    let (mut lines, mut faces) = (0, 1);
    walk(&doc.blocks, &mut lines, &mut faces);
    (chars / CHARS_PER_PAGE).max(lines / TABLE_LINES_PER_PAGE).max(faces)
}

/// Refuses a document that cannot fit in [`MAX_PAGES`] whatever its layout
/// ([`min_pages`]): run before any layout, and by `check`.
pub fn page_bound(doc: &Document) -> Result<(), Vec<Diagnostic>> {
    let least = min_pages(doc);
    if least > MAX_PAGES { Err(too_many_pages(doc, least, true)) } else { Ok(()) }
}

/// The error of a document over [`MAX_PAGES`]; `pages` is its count (`at_least`:
/// a lower bound, the document was not laid out).
fn too_many_pages(doc: &Document, pages: usize, at_least: bool) -> Vec<Diagnostic> {
    fn rows(blocks: &[Block]) -> usize {
        blocks
            .iter()
            .map(|b| match b {
                Block::Table(t) => t.rows.len(),
                Block::Landscape(inner) => rows(inner),
                _ => 0,
            })
            .sum()
    }
    let message = if at_least {
        format!("《{}》至少有 {pages} 页，超过 {MAX_PAGES} 页的上限", doc.title)
    } else {
        format!("《{}》排版后有 {pages} 页，超过 {MAX_PAGES} 页的上限", doc.title)
    };
    let hint = match rows(&doc.blocks) {
        0 => "请把内容拆分为几份文件分别生成".to_owned(),
        n => format!(
            "文中表格共 {n} 行；请把数据拆分为几个工作簿分别生成，或删去过长的单元格文字"
        ),
    };
    vec![Diagnostic::error(Location::None, message).with_hint(hint)]
}

/// Lays a document out until its tables are settled, and returns the PDF's
/// copy of the document (with the content-visible change: a merged label
/// printed again after a page break), the plan both writers follow and the
/// pages of the last round.
///
/// Each round cuts every merge that a page break cuts (the label is printed
/// again on the next page), all at once. A merged group's first row is kept
/// with the next by the writers themselves (`Table::keep_with_next`), so it
/// costs no round. A layout that does not settle is an error.
pub fn paginate(
    doc: &Document,
    engine: &mut dyn Engine,
) -> Result<(Document, Plan, Pages), Vec<Diagnostic>> {
    paginate_with(doc, engine, &mut |_| {})
}

/// [`paginate`], telling `each_round` the plan of every round as it is laid
/// out (the last call has the plan returned): `--timings` and `bench` count
/// the rounds and time the first.
pub fn paginate_with(
    doc: &Document,
    engine: &mut dyn Engine,
    each_round: &mut dyn FnMut(&Plan),
) -> Result<(Document, Plan, Pages), Vec<Diagnostic>> {
    page_bound(doc)?;
    let mut laid = doc.clone();
    let mut pages = engine.lay_out(&laid)?;
    for _ in 0..MAX_ROUNDS {
        if pages.count > MAX_PAGES {
            return Err(too_many_pages(doc, pages.count, false));
        }
        let plan = plan_of(&pages);
        each_round(&plan);
        let mut changed = false;
        for ((t, _), rows) in laid.tables_mut().into_iter().zip(&plan.table_breaks) {
            changed |= t.split_spans_at(rows);
        }
        if !changed {
            return Ok((laid, plan, pages));
        }
        pages = engine.lay_out(&laid)?;
    }
    Err(vec![
        Diagnostic::error(
            Location::None,
            format!("表格分页经 {MAX_ROUNDS} 轮排版仍未稳定"),
        )
        .with_hint("请检查是否有特别长的合并单元格，或把表格拆分为几个附件"),
    ])
}

/// The plan of one laid-out round.
fn plan_of(pages: &Pages) -> Plan {
    Plan {
        table_breaks: pages.table_breaks.clone(),
        banji: pages.banji_anchor.map_or(BanjiPlacement::SamePage, |(page, y)| {
            banji_placement(page, y, &pages.texts)
        }),
        pages: pages.count,
    }
}

/// The 版记 placement a layout chose: `page`/`y_mm` is where the content ends,
/// `texts` the text of every page (the 版记 is on the last).
pub fn banji_placement(page: usize, y_mm: f64, texts: &[String]) -> BanjiPlacement {
    let last = texts.len();
    // after a landscape page the content "ends" at the top of a fresh page
    let fresh = y_mm < 37.5;
    if page == last && !fresh {
        BanjiPlacement::SamePage
    } else if last >= 2 && texts[last - 2].trim().is_empty() {
        BanjiPlacement::AfterBlank
    } else {
        BanjiPlacement::NextPage
    }
}

/// Fills in the positions of every 署名, 成文日期 and seal (GB/T 9704-2012 7.3.5).
///
/// Sealed: the date right-inset 4 字, each 署名 centred on it (kept inside the
/// 版心), the seal centred on the date. Unsealed: the 署名 right-inset 2 字, the
/// date starting 2 字 to the right of it, or right-inset 2 字 when it is the
/// longer, the 署名 then starting 2 字 to its left.
pub fn place_signatures(doc: &mut Document, m: &dyn Measure) {
    fn walk(blocks: &mut [Block], m: &dyn Measure) {
        for b in blocks {
            match b {
                Block::Signature { names, date, sealed, place, .. } => {
                    *place = signature_place(names, date, *sealed, m);
                }
                Block::Landscape(inner) => walk(inner, m),
                _ => {}
            }
        }
    }
    walk(&mut doc.blocks, m);
}

/// The positions of one signature block.
pub fn signature_place(
    names: &[String],
    date: &str,
    sealed: bool,
    m: &dyn Measure,
) -> SignaturePlace {
    let w = |s: &str| m.body_width_pt(FontRole::Fang, s);
    let dw = m.date_width_pt(date);
    let widths: Vec<f64> = names.iter().map(|n| w(n)).collect();
    let sw = widths.iter().copied().fold(0.0, f64::max);
    if sealed {
        let date_x = TEXT_WIDTH_PT - 4.0 * CHAR_PT - dw;
        let centre = date_x + dw / 2.0;
        SignaturePlace {
            name_x_pt: widths
                .iter()
                .map(|nw| {
                    (centre - nw / 2.0).min(TEXT_WIDTH_PT - nw - EDGE_SLACK_PT).max(0.0)
                })
                .collect(),
            date_x_pt: date_x.max(0.0),
            date_right_pt: Some(4.0 * CHAR_PT),
            seal_centre_pt: centre,
        }
    } else {
        let mut sign_x = TEXT_WIDTH_PT - 2.0 * CHAR_PT - sw;
        let mut date_x = sign_x + 2.0 * CHAR_PT;
        if date_x + dw > TEXT_WIDTH_PT - 2.0 * CHAR_PT {
            date_x = TEXT_WIDTH_PT - 2.0 * CHAR_PT - dw;
            sign_x = date_x - 2.0 * CHAR_PT;
        }
        // unsealed, the date is placed by its first character, 2 字 right of
        // the 署名's (7.3.5.2), also when it is the longer line and was set
        // 2 字 from the right edge here: a client that sets its digits wider
        // than Typst (LibreOffice, Word: no grid squeeze on half-width
        // digits) keeps the two starts 2 字 apart, and the date ends a
        // fraction of a millimetre further right
        SignaturePlace {
            name_x_pt: widths.iter().map(|_| sign_x.max(0.0)).collect(),
            date_x_pt: date_x.max(0.0),
            date_right_pt: None,
            seal_centre_pt: date_x + dw / 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Align, Cell, Column, Table, Width};

    /// A fake engine: a table's page holds `per_page` rows, the header aside.
    struct Rows {
        per_page: usize,
        rounds: usize,
    }

    impl Engine for Rows {
        fn lay_out(&mut self, doc: &Document) -> Result<Pages, Vec<Diagnostic>> {
            self.rounds += 1;
            let mut d = doc.clone();
            let tables = d.tables_mut();
            let count =
                tables.iter().map(|(t, _)| t.rows.len().div_ceil(self.per_page)).sum();
            let table_breaks = tables
                .into_iter()
                .map(|(t, _)| {
                    (1..t.rows.len()).filter(|r| r % self.per_page == 0).collect()
                })
                .collect();
            Ok(Pages {
                count,
                texts: vec![String::new()],
                table_breaks,
                banji_anchor: None,
            })
        }
    }

    fn grouped(groups: &[u32]) -> Document {
        let mut rows = Vec::new();
        for (g, n) in groups.iter().enumerate() {
            for i in 0..*n {
                let mut row = Vec::new();
                if i == 0 {
                    let mut c = Cell::new(format!("组{g}"));
                    c.rowspan = *n;
                    row.push(c);
                }
                row.push(Cell::new(format!("{g}.{i}")));
                rows.push(row);
            }
        }
        let table = Table {
            columns: vec![
                Column { width: Width::Mm(30.0), align: Align::Center },
                Column { width: Width::Fr(1), align: Align::Left },
            ],
            header: vec!["一级".into(), "三级".into()],
            rows,
            size_pt: 12.0,
        };
        Document { title: "表".into(), blocks: vec![Block::Table(table)], banji: None }
    }

    #[test]
    fn merged_labels_are_printed_again_after_a_break() {
        // one group of 5 rows over pages of 3: the label again on page 2
        let mut engine = Rows { per_page: 3, rounds: 0 };
        let (laid, _, _) = paginate(&grouped(&[5]), &mut engine).unwrap();
        let mut laid = laid;
        let tables = laid.tables_mut();
        let t = &tables[0].0;
        assert_eq!(t.rows[0][0].rowspan, 3);
        assert_eq!(t.rows[3][0].text, "组0");
        assert_eq!(t.rows[3][0].rowspan, 2);
        assert_eq!(engine.rounds, 2);
    }

    #[test]
    fn every_round_is_told_its_plan_the_last_is_the_one_returned() {
        // a group of 5 rows over pages of 3: two rounds, the same breaks in both
        let mut engine = Rows { per_page: 3, rounds: 0 };
        let mut seen = Vec::new();
        let (_, plan, _) =
            paginate_with(&grouped(&[5]), &mut engine, &mut |p| seen.push(p.clone()))
                .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].table_breaks, vec![vec![3]]);
        assert_eq!(seen.last(), Some(&plan));
        // a layout of one round is told once
        let mut engine = Rows { per_page: 10, rounds: 0 };
        let mut told = 0;
        paginate_with(&grouped(&[5]), &mut engine, &mut |_| told += 1).unwrap();
        assert_eq!(told, 1);
    }

    #[test]
    fn a_groups_first_row_keeps_with_the_next() {
        // groups of 2, 3 and 1 rows: each group's first row keeps with the next
        // (Typst keeps them in one unbreakable span, the DOCX sets keepNext)
        let mut d = grouped(&[2, 3, 1]);
        let t = &d.tables_mut()[0].0;
        assert_eq!(
            t.keep_with_next(222.0, 150.0),
            [true, false, true, false, false, false]
        );
    }

    #[test]
    fn rows_too_tall_to_keep_together_are_not_kept() {
        // a group whose first two rows would fill more than 75 % of a page
        let mut d = grouped(&[2, 2]);
        let t = &mut d.tables_mut()[0].0;
        t.rows[1][0].text = "很长的三级指标".repeat(200);
        assert_eq!(t.keep_with_next(222.0, 150.0), [false, false, true, false]);
    }

    #[test]
    fn a_layout_that_never_settles_is_an_error() {
        // every round a page break cuts the rest of one long merged group anew
        struct Restless(usize);
        impl Engine for Restless {
            fn lay_out(&mut self, _: &Document) -> Result<Pages, Vec<Diagnostic>> {
                self.0 += 1;
                Ok(Pages { table_breaks: vec![vec![self.0]], ..Pages::default() })
            }
        }
        let err = paginate(&grouped(&[100]), &mut Restless(0)).unwrap_err();
        assert!(err[0].message.contains("未稳定"), "{:?}", err);
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unsealed_signature_is_inset_two_characters() {
        let p = signature_place(
            &names(&["夏邑县法治政府建设领导小组办公室"]),
            "2023年8月31日",
            false,
            &Monospace,
        );
        // the 署名 (16 字) is longer than the date: it ends 2 字 from the right
        let sw = 16.0 * CHAR_PT;
        assert!((p.name_x_pt[0] + sw - (TEXT_WIDTH_PT - 2.0 * CHAR_PT)).abs() < 1e-9);
        // the date starts 2 字 to the right of the 署名
        assert!((p.date_x_pt - p.name_x_pt[0] - 2.0 * CHAR_PT).abs() < 1e-9);
    }

    #[test]
    fn several_names_share_one_start_when_unsealed_and_centre_when_sealed() {
        let n = names(&["甲乙丙丁戊己庚辛", "甲乙丙丁"]);
        let p = signature_place(&n, "2023年8月31日", false, &Monospace);
        assert_eq!(p.name_x_pt[0], p.name_x_pt[1]);
        let p = signature_place(&n, "2023年8月31日", true, &Monospace);
        let centre = |x: f64, chars: f64| x + chars * CHAR_PT / 2.0;
        assert!((centre(p.name_x_pt[0], 8.0) - p.seal_centre_pt).abs() < 1e-9);
        assert!((centre(p.name_x_pt[1], 4.0) - p.seal_centre_pt).abs() < 1e-9);
        // the sealed date ends 4 字 from the right, set without tracking
        let dw = Monospace.date_width_pt("2023年8月31日");
        assert!((dw - (3.0 + 7.0 * 0.5) * BODY_PT).abs() < 1e-9);
        assert!((p.date_x_pt + dw - (TEXT_WIDTH_PT - 4.0 * CHAR_PT)).abs() < 1e-9);
    }

    #[test]
    fn a_document_over_the_page_limit_is_refused_before_or_after_layout() {
        // 200,000 one-line rows: at least 3,333 pages, refused unlaid
        struct Never;
        impl Engine for Never {
            fn lay_out(&mut self, _: &Document) -> Result<Pages, Vec<Diagnostic>> {
                panic!("a document over the limit is not laid out")
            }
        }
        let mut doc = grouped(&[1; 200_000]);
        assert_eq!(min_pages(&doc), 3_333);
        let err = paginate(&doc, &mut Never).unwrap_err();
        assert_eq!(err[0].message, "《表》至少有 3333 页，超过 2000 页的上限");
        assert!(err[0].hint.as_deref().unwrap().contains("共 200000 行"));
        // long text in few rows counts by its characters
        doc = grouped(&[1; 10]);
        for (t, _) in doc.tables_mut() {
            for row in &mut t.rows {
                row[1].text = "字".repeat(1_000_000);
            }
        }
        assert_eq!(min_pages(&doc), 10_000_000 / CHARS_PER_PAGE);
        assert!(paginate(&doc, &mut Never).is_err());
        // a layout that reports more pages than the limit stops there
        let mut engine = Rows { per_page: 3, rounds: 0 };
        let err = paginate(&grouped(&[1; 6_003]), &mut engine).unwrap_err();
        assert_eq!(err[0].message, "《表》排版后有 2001 页，超过 2000 页的上限");
        assert_eq!(engine.rounds, 1, "no further round");
        // the limit itself is taken
        let mut engine = Rows { per_page: 3, rounds: 0 };
        assert!(paginate(&grouped(&[1; 6_000]), &mut engine).is_ok());
    }
}
