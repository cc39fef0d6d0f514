//! GB/T 9704-2012 positions read from the frames Typst laid out (the pages the
//! PDF is exported from): every text run and rule with its transform applied,
//! in mm from the top-left corner of the page. Nothing here asks the layout
//! code where it meant to put things; the numbers come from the spec
//! (../shared/spec/gbt9704.md).

use gongwen::case::CaseDir;
use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst::visualize::{Geometry, Paint};
use typst_layout::PagedDocument;

use crate::common::*;

const PT: f64 = 25.4 / 72.0;
/// 版心 edges (§1).
const TOP: f64 = 37.0;
const LEFT: f64 = 28.0;
const RIGHT: f64 = 184.0;
const BOTTOM: f64 = 262.0;
/// Line pitch: 22 lines in 225 mm (§2, §12).
const PITCH: f64 = 225.0 / 22.0;
/// 4号, the page number's 字 (§5).
const SMALL: f64 = 14.0 * PT;

/// A run of text: its em box (ascender/descender of its font) as an axis-aligned
/// box on the page, in mm.
#[derive(Debug, Clone)]
pub struct Text {
    pub text: String,
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    /// The baseline start, on the page.
    pub base: (f64, f64),
    /// The writing direction on the page (unit vector).
    pub dir: (f64, f64),
    pub size_pt: f64,
    pub family: String,
    pub rgb: [u8; 3],
    /// The advance of each glyph, in mm.
    pub advances: Vec<f64>,
}

/// A stroked line or a filled rectangle, in mm.
#[derive(Debug, Clone)]
pub struct Rule {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
    pub thickness: f64,
    pub rgb: [u8; 3],
}

impl Rule {
    fn horizontal(&self) -> bool {
        (self.y0 - self.y1).abs() < 0.01
    }
    fn length(&self) -> f64 {
        (self.x1 - self.x0).hypot(self.y1 - self.y0)
    }
}

/// One page of the layout.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub width: f64,
    pub height: f64,
    pub texts: Vec<Text>,
    pub rules: Vec<Rule>,
}

fn mm(a: Abs) -> f64 {
    a.to_mm()
}

fn rgb(p: &Paint) -> [u8; 3] {
    match p {
        Paint::Solid(c) => {
            let [r, g, b, _] = c.to_vec4_u8();
            [r, g, b]
        }
        _ => [0, 0, 0],
    }
}

fn walk(frame: &Frame, ts: Transform, page: &mut Page) {
    for (pos, item) in frame.items() {
        let here = ts.pre_concat(Transform::translate(pos.x, pos.y));
        match item {
            FrameItem::Group(g) => walk(&g.frame, here.pre_concat(g.transform), page),
            FrameItem::Text(t) => {
                let size = t.size;
                let m = t.font.metrics();
                let asc = m.ascender.at(size);
                let desc = m.descender.at(size); // negative
                let width = t.width();
                let corners = [
                    Point::new(Abs::zero(), -asc),
                    Point::new(width, -asc),
                    Point::new(Abs::zero(), -desc),
                    Point::new(width, -desc),
                ]
                .map(|p| p.transform(here));
                let xs = corners.map(|p| mm(p.x));
                let ys = corners.map(|p| mm(p.y));
                let o = Point::zero().transform(here);
                let e = Point::new(Abs::pt(1.0), Abs::zero()).transform(here);
                page.texts.push(Text {
                    text: t.text.to_string(),
                    x0: xs.iter().copied().fold(f64::MAX, f64::min),
                    x1: xs.iter().copied().fold(f64::MIN, f64::max),
                    y0: ys.iter().copied().fold(f64::MAX, f64::min),
                    y1: ys.iter().copied().fold(f64::MIN, f64::max),
                    base: (mm(o.x), mm(o.y)),
                    dir: {
                        let (dx, dy) = ((e.x - o.x).to_pt(), (e.y - o.y).to_pt());
                        let len = dx.hypot(dy);
                        ((dx / len * 1e6).round() / 1e6, (dy / len * 1e6).round() / 1e6)
                    },
                    size_pt: size.to_pt(),
                    family: t.font.font().info().family.clone(),
                    rgb: rgb(&t.fill),
                    advances: t.glyphs.iter().map(|g| mm(g.x_advance.at(size))).collect(),
                });
            }
            FrameItem::Shape(shape, _) => match &shape.geometry {
                Geometry::Line(to) => {
                    let Some(stroke) = &shape.stroke else { continue };
                    let a = Point::zero().transform(here);
                    let b = to.transform(here);
                    let (a, b) = if (a.x, a.y) <= (b.x, b.y) { (a, b) } else { (b, a) };
                    page.rules.push(Rule {
                        x0: mm(a.x),
                        y0: mm(a.y),
                        x1: mm(b.x),
                        y1: mm(b.y),
                        thickness: mm(stroke.thickness),
                        rgb: rgb(&stroke.paint),
                    });
                }
                Geometry::Rect(size) => {
                    let Some(fill) = &shape.fill else { continue };
                    let a = Point::zero().transform(here);
                    let b = Point::new(size.x, size.y).transform(here);
                    let (x0, x1) = (mm(a.x.min(b.x)), mm(a.x.max(b.x)));
                    let (y0, y1) = (mm(a.y.min(b.y)), mm(a.y.max(b.y)));
                    // a thin filled rectangle draws a rule: its centre line
                    if y1 - y0 < 2.0 {
                        let y = (y0 + y1) / 2.0;
                        page.rules.push(Rule {
                            x0,
                            y0: y,
                            x1,
                            y1: y,
                            thickness: y1 - y0,
                            rgb: rgb(fill),
                        });
                    }
                }
                Geometry::Curve(_) => {}
            },
            _ => {}
        }
    }
}

/// Every page of a layout, flattened.
pub fn pages(doc: &PagedDocument) -> Vec<Page> {
    doc.pages()
        .iter()
        .map(|p| {
            let mut page = Page {
                width: mm(p.frame.width()),
                height: mm(p.frame.height()),
                ..Page::default()
            };
            walk(&p.frame, Transform::identity(), &mut page);
            page
        })
        .collect()
}

/// A page's text lines: runs of one baseline (vertical position) merged, left to
/// right. Only upright runs (page numbers on landscape pages are rotated).
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    pub base: f64,
    pub size_pt: f64,
    pub red: bool,
    pub runs: Vec<Text>,
}

pub fn lines(page: &Page) -> Vec<Line> {
    let mut runs: Vec<&Text> =
        page.texts.iter().filter(|t| t.dir == (1.0, 0.0)).collect();
    runs.sort_by(|a, b| a.base.1.total_cmp(&b.base.1).then(a.x0.total_cmp(&b.x0)));
    let mut out: Vec<Line> = Vec::new();
    for t in runs {
        match out.last_mut() {
            Some(l) if (l.base - t.base.1).abs() < 0.05 => {
                l.text.push_str(&t.text);
                l.x0 = l.x0.min(t.x0);
                l.x1 = l.x1.max(t.x1);
                l.y0 = l.y0.min(t.y0);
                l.y1 = l.y1.max(t.y1);
                l.size_pt = l.size_pt.max(t.size_pt);
                l.red &= t.rgb == [255, 0, 0];
                l.runs.push(t.clone());
            }
            _ => out.push(Line {
                text: t.text.clone(),
                x0: t.x0,
                x1: t.x1,
                y0: t.y0,
                y1: t.y1,
                base: t.base.1,
                size_pt: t.size_pt,
                red: t.rgb == [255, 0, 0],
                runs: vec![t.clone()],
            }),
        }
    }
    out
}

/// A case as laid out: its name, the flattened pages, the DOCX.
pub struct Laid {
    pub name: String,
    pub pages: Vec<Page>,
}

/// The built-in example and every fixture, built once for all tests here.
fn cases() -> &'static [Laid] {
    static CASES: std::sync::OnceLock<Vec<Laid>> = std::sync::OnceLock::new();
    CASES.get_or_init(|| {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut dirs: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("case.toml").is_file())
            .collect();
        dirs.sort();
        let mut all = vec![("example".to_string(), CaseDir::Builtin)];
        all.extend(dirs.into_iter().map(|d| {
            (d.file_name().unwrap().to_string_lossy().into_owned(), CaseDir::Disk(d))
        }));
        all.into_iter()
            .map(|(name, dir)| {
                let (_, r) = build(&dir);
                Laid { name, pages: pages(r.layout.as_ref().expect("a Typst layout")) }
            })
            .collect()
    })
}

fn near(what: &str, value: f64, target: f64, tol: f64) {
    assert!(
        (value - target).abs() <= tol,
        "{what}: {value:.3} mm, expected {target:.3} ± {tol} mm"
    );
}

/// The page number of a page: its run `— N —` and N.
fn page_number(page: &Page) -> Option<(&Text, usize)> {
    page.texts.iter().find_map(|t| {
        let n = t.text.strip_prefix("— ")?.strip_suffix(" —")?;
        Some((t, n.parse().ok()?))
    })
}

/// GB/T 9704 7.2 (§3): the red 发文机关标志 with its top edge 35 mm below the 版心
/// top (72 mm from the paper's top edge), centred; the red separator 156 mm wide
/// on the 版心, 4 mm below the 发文字号.
#[test]
fn header_mark_and_red_rule() {
    let mut report = Vec::new();
    for case in cases() {
        let name = &case.name;
        let page = &case.pages[0];
        let red_rules: Vec<&Rule> = page
            .rules
            .iter()
            .filter(|r| r.rgb == [255, 0, 0] && r.horizontal())
            .collect();
        assert_eq!(red_rules.len(), 1, "{name}: one red separator on page 1");
        let rule = red_rules[0];
        near(&format!("{name}: red rule left edge"), rule.x0, LEFT, 0.2);
        near(&format!("{name}: red rule width"), rule.length(), 156.0, 0.2);
        let lines = lines(page);
        let mark: Vec<&Line> = lines.iter().filter(|l| l.red && l.y1 < rule.y0).collect();
        assert!(!mark.is_empty(), "{name}: a red 标志 above the rule");
        let top = mark.iter().map(|l| l.y0).fold(f64::MAX, f64::min);
        near(&format!("{name}: 标志 top edge"), top, TOP + 35.0, 0.3);
        let (x0, x1) = mark
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), l| (a.min(l.x0), b.max(l.x1)));
        near(&format!("{name}: 标志 centre"), (x0 + x1) / 2.0, (LEFT + RIGHT) / 2.0, 0.5);
        assert!(x0 >= LEFT - 0.2 && x1 <= RIGHT + 0.2, "{name}: 标志 inside the 版心");
        // the 发文字号: the lowest black line above the rule
        let number = lines
            .iter()
            .filter(|l| !l.red && l.y1 < rule.y0)
            .max_by(|a, b| a.y1.total_cmp(&b.y1))
            .unwrap();
        assert!(
            number.text.contains('〔'),
            "{name}: 发文字号 above the rule: {}",
            number.text
        );
        near(
            &format!("{name}: red rule below the 发文字号"),
            rule.y0 - number.y1,
            4.0,
            0.3,
        );
        report.push(format!(
            "{name}: 标志 top {top:.2}, centre {:.2}, rule y {:.2} x {:.2}+{:.2} ({:.2} below 字号)",
            (x0 + x1) / 2.0,
            rule.y0,
            rule.x0,
            rule.length(),
            rule.y0 - number.y1
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(report.len() >= 12, "{report:?}");
}

/// §5, §7: `— N —` in 4号 宋体 on every page in one sequence (page 1 included),
/// the line top 7 mm below the 版心; odd pages right, even pages left, inset 1 字
/// (4号); unnumbered only the blank page before the 版记 page and that page. On a
/// landscape page the number is rotated with the sheet and sits where it sits on
/// a portrait sheet.
#[test]
fn page_numbers_odd_right_even_left() {
    let mut landscape = 0;
    let mut unnumbered = 0;
    let mut worst: f64 = 0.0;
    for case in cases() {
        let name = &case.name;
        let n = case.pages.len();
        // a blank page before the 版记 page: neither carries a number
        let blank_before = n >= 3
            && lines(&case.pages[n - 2]).is_empty()
            && page_number(&case.pages[n - 2]).is_none();
        for (i, page) in case.pages.iter().enumerate() {
            let no = i + 1;
            let what = format!("{name} page {no}");
            let Some((t, shown)) = page_number(page) else {
                assert!(
                    blank_before && no >= n - 1,
                    "{what}: no page number ({} pages)",
                    n
                );
                unnumbered += 1;
                continue;
            };
            assert!(
                !(blank_before && no >= n - 1),
                "{what}: numbered after a blank page"
            );
            assert_eq!(shown, no, "{what}: one sequence");
            assert_eq!(t.family, "FandolSong", "{what}: 宋体");
            assert!((t.size_pt - 14.0).abs() < 0.01, "{what}: 4号");
            // the number's box on the portrait sheet
            let (x0, x1, y0) = if page.width > page.height {
                landscape += 1;
                // the sheet turned clockwise: sheet x = page y, sheet y = 297 − page x
                assert_eq!(t.dir, (0.0, 1.0), "{what}: rotated 90° clockwise");
                (t.y0, t.y1, page.width - t.x1)
            } else {
                assert_eq!(t.dir, (1.0, 0.0), "{what}: upright");
                (t.x0, t.x1, t.y0)
            };
            near(&format!("{what}: number line top"), y0, BOTTOM + 7.0, 0.3);
            let inset = if no % 2 == 1 { RIGHT - x1 } else { x0 - LEFT };
            near(&format!("{what}: inset (odd right, even left)"), inset, SMALL, 0.3);
            worst = worst.max((y0 - BOTTOM - 7.0).abs()).max((inset - SMALL).abs());
        }
    }
    eprintln!(
        "{landscape} landscape pages, {unnumbered} unnumbered, worst {worst:.3} mm"
    );
    assert!(landscape >= 10, "landscape pages checked: {landscape}");
}

/// §2: a page of running body text holds 22 lines on a 225/22 mm pitch, from the
/// 版心 top edge, and 28 characters a line (full lines span 156 mm).
#[test]
fn full_body_pages_have_22_lines_of_28_characters() {
    let mut full_pages = 0;
    let mut full_lines = Vec::new();
    let mut advances = Vec::new();
    for case in cases() {
        for (i, page) in case.pages.iter().enumerate() {
            if page.width > page.height {
                continue;
            }
            let what = format!("{} page {}", case.name, i + 1);
            let body: Vec<Line> = lines(page)
                .into_iter()
                .filter(|l| (l.size_pt - 16.0).abs() < 0.01 && l.y1 <= BOTTOM + 0.5)
                .collect();
            if body.len() < 22 {
                continue;
            }
            full_pages += 1;
            assert_eq!(body.len(), 22, "{what}: 22 lines");
            near(&format!("{what}: first line top"), body[0].y0, TOP, 0.2);
            for w in body.windows(2) {
                near(
                    &format!("{what}: line pitch at {}", w[1].text),
                    w[1].base - w[0].base,
                    PITCH,
                    0.02,
                );
            }
            assert!(body[21].y1 <= BOTTOM, "{what}: the 22nd line inside the 版心");
            for l in &body {
                // a full line: flush left, ending at the right edge (a line-end
                // mark may hang half a 字 past it); counted in grid cells: a
                // punctuation mark Typst sets half-width (to justify the line or
                // at its end) and a Latin letter or digit take half a cell
                if (l.x0 - LEFT).abs() < 0.2 && l.x1 > RIGHT - 0.2 {
                    let cells: f64 = l
                        .runs
                        .iter()
                        .flat_map(|r| r.advances.iter().map(move |a| (a, r.size_pt * PT)))
                        .map(|(a, em)| if *a < 0.75 * em { 0.5 } else { 1.0 })
                        .sum();
                    full_lines.push(cells);
                }
            }
            // the 字 on the grid: a Han character of a line not stretched to
            // justify it (a paragraph's last line) advances 15.75 pt, so 28 fit
            // in 156 mm (§2: 156 / 28 = 5.571 mm, a 16 pt glyph 5.644 mm)
            // (Typst drops the tracking after a line's last character)
            for l in body.iter().filter(|l| l.x1 < RIGHT - 6.0) {
                let glyphs: Vec<(char, f64)> = l
                    .runs
                    .iter()
                    .flat_map(|r| r.text.chars().zip(r.advances.iter().copied()))
                    .collect();
                let han = glyphs[..glyphs.len() - 1]
                    .iter()
                    .filter(|(c, _)| ('\u{4E00}'..='\u{9FFF}').contains(c));
                advances.extend(han.map(|(_, a)| *a));
            }
        }
    }
    advances.sort_by(f64::total_cmp);
    let han = advances[advances.len() / 2];
    near("advance of a Han character", han, 15.75 * PT, 0.005);
    assert_eq!((156.0 / han).floor(), 28.0, "characters in 156 mm");
    let off: Vec<String> = advances
        .iter()
        .filter(|a| (*a - han).abs() >= 0.005)
        .map(|a| format!("{a:.3}"))
        .collect();
    assert!(
        off.is_empty(),
        "Han advances vary: {} of {}: {off:?}",
        off.len(),
        advances.len()
    );
    assert!(full_pages >= 5, "full body pages: {full_pages}");
    eprintln!(
        "{full_pages} full pages, {} full lines, Han advance {han:.4} mm",
        full_lines.len()
    );
    assert!(full_lines.len() > 50, "full lines: {}", full_lines.len());
    // 28 cells a line; ± 1 where Typst squeezes or hangs punctuation
    full_lines.sort_by(f64::total_cmp);
    assert_eq!(
        full_lines[full_lines.len() / 2],
        28.0,
        "median grid cells: {full_lines:?}"
    );
    assert!(
        full_lines.iter().all(|c| (27.0..=29.0).contains(c)),
        "grid cells in full lines: {full_lines:?}"
    );
}

/// §6: the 版记 closes the last page, an even page: rules 156 mm wide on the
/// 版心, thick (0.35 mm) first and last, thin (0.25 mm) between, the last on the
/// 版心 bottom edge (262 mm); the 印发 line 1 字 (4号) in from both sides.
#[test]
fn banji_at_the_foot_of_an_even_page() {
    for case in cases() {
        let name = &case.name;
        let n = case.pages.len();
        assert_eq!(n % 2, 0, "{name}: {n} pages, the 版记 page is even");
        let page = &case.pages[n - 1];
        let mut rules: Vec<&Rule> =
            page.rules.iter().filter(|r| r.horizontal()).collect();
        rules.sort_by(|a, b| a.y0.total_cmp(&b.y0));
        assert!(rules.len() >= 2, "{name}: 版记 rules on page {n}: {rules:?}");
        for (i, r) in rules.iter().enumerate() {
            let outer = i == 0 || i == rules.len() - 1;
            near(
                &format!("{name}: 版记 rule {i} thickness"),
                r.thickness,
                if outer { 0.35 } else { 0.25 },
                0.01,
            );
            near(&format!("{name}: 版记 rule {i} left"), r.x0, LEFT, 0.2);
            near(&format!("{name}: 版记 rule {i} width"), r.length(), 156.0, 0.2);
            assert_eq!(r.rgb, [0, 0, 0], "{name}: black rules");
        }
        near(&format!("{name}: 版记 last rule"), rules[rules.len() - 1].y0, BOTTOM, 0.2);
        eprintln!(
            "{name}: 版记 on page {n}, rules at {:?}",
            rules
                .iter()
                .map(|r| format!("{:.2}/{:.2}", r.y0, r.thickness))
                .collect::<Vec<_>>()
        );
        let lines = lines(page);
        let printed = lines
            .iter()
            .find(|l| l.text.ends_with("印发"))
            .unwrap_or_else(|| panic!("{name}: 印发 line on page {n}"));
        near(&format!("{name}: 印发机关 left inset"), printed.x0 - LEFT, SMALL, 0.3);
        near(&format!("{name}: 印发日期 right inset"), RIGHT - printed.x1, SMALL, 0.3);
        assert!(
            printed.y0 > rules[rules.len() - 2].y0
                && printed.y1 < rules[rules.len() - 1].y0,
            "{name}: 印发 between the last two rules"
        );
        // nothing but the page number below the last rule
        assert!(
            lines.iter().all(|l| l.y0 < BOTTOM
                || page_number(page).is_some_and(|(t, _)| t.text == l.text)),
            "{name}: text below the 版记"
        );
    }
}

/// In a table cell every full-width mark keeps its whole width: at a line's
/// start or end and next to another mark (LibreOffice sets them so in the
/// DOCX's cells; compressed, a cell line of the PDF held half a 字 more and the
/// client's table ran a page longer). Checked on the landscape table pages, in
/// the cells' type (smaller than the body's 3号, which is justified and
/// compresses marks, as in a note below a table).
#[test]
fn table_cells_set_full_width_marks_at_full_width() {
    const MARKS: &str = "。，、：；！？“”‘’（）《》〔〕【】";
    let mut seen = 0;
    for case in cases() {
        for (no, page) in case.pages.iter().enumerate() {
            if page.width <= page.height {
                continue;
            }
            for t in &page.texts {
                let chars: Vec<char> = t.text.chars().collect();
                if chars.len() != t.advances.len()
                    || t.dir != (1.0, 0.0)
                    || t.size_pt > 15.0
                {
                    continue;
                }
                for (c, adv) in chars.iter().zip(&t.advances) {
                    if MARKS.contains(*c) {
                        seen += 1;
                        let em = t.size_pt * PT;
                        assert!(
                            (adv - em).abs() < 0.01,
                            "{} p{}: {c} in {:?} is {adv:.2} mm wide, not 1 字 ({em:.2} mm)",
                            case.name,
                            no + 1,
                            t.text
                        );
                    }
                }
            }
        }
    }
    assert!(seen > 1000, "only {seen} full-width marks on table pages");
}

/// The pages of `laid` (a document as laid out, its merges cut where pages
/// turn) written the explicit way ([`gongwen::render::typst::typst_source`]:
/// a label printed again is a cell of its own) and compiled cold.
fn explicit_pages(
    composed: &gongwen::pipeline::Composed,
    laid: &gongwen::doc::Document,
) -> Vec<Page> {
    let mut cold = gongwen::pipeline::typst_engine(composed, &settings()).unwrap();
    let source = gongwen::render::typst::typst_source(laid);
    assert!(
        source.contains("gongwen-again = (\""),
        "the explicit source has labels printed again"
    );
    cold.compile_source(&source).unwrap();
    pages(&cold.into_layout().unwrap())
}

/// A page's text runs (text, left, top) and rules (ends), to 0.01 mm, sorted.
type Marks = (Vec<(String, i64, i64)>, Vec<(i64, i64, i64, i64)>);

/// Every text run and rule of each page.
fn marks(pages: &[Page]) -> Vec<Marks> {
    let at = |v: f64| (v * 100.0).round() as i64;
    pages
        .iter()
        .map(|p| {
            let mut texts: Vec<_> =
                p.texts.iter().map(|t| (t.text.clone(), at(t.x0), at(t.y0))).collect();
            let mut rules: Vec<_> = p
                .rules
                .iter()
                .map(|r| (at(r.x0), at(r.y0), at(r.x1), at(r.y1)))
                .collect();
            texts.sort();
            rules.sort();
            (texts, rules)
        })
        .collect()
}

/// A merged cell that a page break cuts prints its label again on the next
/// page. Where the label fits the part of its cell on each page, the patched
/// layout does that itself (the source is that of the table before its cuts,
/// so the round that cuts lays out nothing new): the pages are exactly those of
/// the table with its cuts written out cell by cell.
#[test]
fn merged_labels_repeated_by_the_layout_give_the_pages_of_the_cut_table() {
    let (composed, rendered) = build(&fixture("plan-from-workbook"));
    assert!(rendered.typst.contains("<gongwen-repeat>"), "labels repeated by the layout");
    assert!(rendered.typst.contains("#let gongwen-again = (:)"), "no cut stated");
    let laid = pages(rendered.layout.as_ref().unwrap());
    let explicit = explicit_pages(&composed, &rendered.doc);
    assert_eq!(laid.len(), explicit.len());
    assert!(marks(&laid) == marks(&explicit), "other pages than the cut table's");
}

/// A merged label taller than the part of its cell on a page: a cut cell
/// makes its rows taller, the patched layout cannot, so the document is laid
/// out the explicit way (and its pages are those of the cut table).
#[test]
fn a_label_taller_than_its_part_is_laid_out_as_cut_cells() {
    let dir = tempfile::tempdir().unwrap();
    gongwen::bench::write_rows_case(dir.path(), 200, gongwen::bench::Annex::Merged)
        .unwrap();
    let data = dir.path().join("指标.toml");
    let long = "组二级指标：依法全面履行政府职能，推进机构、职能、权限、程序、责任法定化，持续深化行政审批制度改革。";
    let text = std::fs::read_to_string(&data).unwrap().replace("组二级指标。", long);
    std::fs::write(&data, text).unwrap();
    let (composed, rendered) = build(&CaseDir::Disk(dir.path().to_path_buf()));
    // labels the layout could repeat (no row taller than a page), but one did
    // not fit: the cuts of every cell are stated
    assert!(rendered.typst.contains("<gongwen-repeat>"));
    assert!(rendered.typst.contains("#let gongwen-again = (\""), "written with its cuts");
    assert!(rendered.pages > 2);
    let laid = pages(rendered.layout.as_ref().unwrap());
    let explicit = explicit_pages(&composed, &rendered.doc);
    assert!(marks(&laid) == marks(&explicit));
    let mut doc = rendered.doc.clone();
    let again = doc
        .tables_mut()
        .iter()
        .flat_map(|(t, _)| t.rows.iter().flatten())
        .filter(|c| c.again)
        .count();
    assert!(again > 0, "labels printed again");
}

/// A cell merged over rows that run past the table's end (it covers nothing
/// below it) still compiles: the dictionaries its rows are read from are
/// written whenever a cell is merged over rows.
#[test]
fn a_merge_past_the_last_row_compiles() {
    use gongwen::doc::{Align, Block, Cell, Column, Document, Table, Width};
    let mut last = Cell::new("一级");
    last.rowspan = 3;
    let table = Table {
        columns: vec![
            Column { width: Width::Mm(30.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
        ],
        header: vec!["一级指标".into(), "三级指标".into()],
        rows: vec![vec![Cell::new("甲"), Cell::new("乙")], vec![last, Cell::new("丙")]],
        size_pt: 12.0,
    };
    let doc =
        Document { title: "表".into(), blocks: vec![Block::Table(table)], banji: None };
    let s = settings();
    let style = gongwen::pipeline::style_library(&s).unwrap();
    for source in [
        gongwen::render::typst::typst_source(&doc),
        gongwen::render::typst::typst_source_repeating(&doc),
    ] {
        assert!(source.contains("#let gongwen-cut = (:)"));
        let mut engine = gongwen::render::typst::TypstEngine::new(
            s.library.clone(),
            s.fonts.clone(),
            &style,
            std::sync::Arc::default(),
            s.date,
        )
        .unwrap();
        assert_eq!(engine.compile_source(&source).unwrap(), 1);
    }
}
