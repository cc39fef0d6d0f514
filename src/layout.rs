//! The layout stage: everything about where things stand on the page, decided
//! once for both writers. Its input is the composed [`Document`]; its output is
//! the same document with positions filled in and a [`Plan`] of the pagination
//! the Typst layout found (where each table breaks, where the 版记 goes).
//!
//! Text is never changed here: the only line breaks in any output are the data's
//! own. Content-visible layout changes (a merged label printed again after a page
//! break, a group's first row moved to the next page) are document → document
//! functions ([`Table::split_spans_at`], [`Document::split_table_at`]) applied to
//! the PDF's copy of the document only.
//!
//! Measuring goes through [`Measure`], which the Typst font set implements and
//! unit tests fake.

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
