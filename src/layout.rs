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
    let mut laid = doc.clone();
    let mut pages = engine.lay_out(&laid)?;
    for _ in 0..MAX_ROUNDS {
        let breaks = pages.table_breaks.clone();
        let mut changed = false;
        for ((t, _), rows) in laid.tables_mut().into_iter().zip(&breaks) {
            changed |= t.split_spans_at(rows);
        }
        if !changed {
            let plan = Plan {
                table_breaks: pages.table_breaks.clone(),
                banji: pages
                    .banji_anchor
                    .map_or(BanjiPlacement::SamePage, |(page, y)| {
                        banji_placement(page, y, &pages.texts)
                    }),
                pages: pages.count,
            };
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
    let dw = w(date);
    let widths: Vec<f64> = names.iter().map(|n| w(n)).collect();
    let sw = widths.iter().copied().fold(0.0, f64::max);
    if sealed {
        let date_x = TEXT_WIDTH_PT - 4.0 * CHAR_PT - dw;
        let centre = date_x + dw / 2.0;
        SignaturePlace {
            name_x_pt: widths
                .iter()
                .map(|nw| (centre - nw / 2.0).min(TEXT_WIDTH_PT - nw).max(0.0))
                .collect(),
            date_x_pt: date_x.max(0.0),
            date_right_pt: Some(4.0 * CHAR_PT),
            seal_centre_pt: centre,
        }
    } else {
        let mut sign_x = TEXT_WIDTH_PT - 2.0 * CHAR_PT - sw;
        let mut date_x = sign_x + 2.0 * CHAR_PT;
        let mut date_right_pt = None;
        if date_x + dw > TEXT_WIDTH_PT - 2.0 * CHAR_PT {
            date_x = TEXT_WIDTH_PT - 2.0 * CHAR_PT - dw;
            sign_x = date_x - 2.0 * CHAR_PT;
            date_right_pt = Some(2.0 * CHAR_PT);
        }
        SignaturePlace {
            name_x_pt: widths.iter().map(|_| sign_x.max(0.0)).collect(),
            date_x_pt: date_x.max(0.0),
            date_right_pt,
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
            let table_breaks = d
                .tables_mut()
                .into_iter()
                .map(|(t, _)| {
                    (1..t.rows.len()).filter(|r| r % self.per_page == 0).collect()
                })
                .collect();
            Ok(Pages {
                count: 1,
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
        // the sealed date ends 4 字 from the right
        let dw = Monospace.body_width_pt(FontRole::Fang, "2023年8月31日");
        assert!((p.date_x_pt + dw - (TEXT_WIDTH_PT - 4.0 * CHAR_PT)).abs() < 1e-9);
    }
}
