//! Document model → Typst source → PDF, with the typst crate as a library.
//!
//! The generated main file is short: `#import "/gongwen.typ": *` and one call per
//! block, every text a string literal. Layout rules live in the style library.

pub mod escape;
pub mod fonts;
pub mod world;

use std::fmt::Write as _;
use std::sync::Arc;

use typst::Library;
use typst::WorldExt;
use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst::layout::FrameItem;
use typst::utils::LazyHash;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::diag::{Diagnostic, Location};
use crate::doc::{Align, Block, Cell, Document, Run, Slot, Table, Width};
use escape::string;
use fonts::FontSet;
use world::GongwenWorld;

/// Writes the Typst main file for a document.
pub fn typst_source(doc: &Document) -> String {
    source(doc, false)
}

/// [`typst_source`], with the merged cells that a page break cut written whole:
/// they show their label again in each page they run into by themselves (the
/// patched Typst layout, vendor/typst-layout/PATCHES.md), what
/// `Table::split_spans_at` makes of the document's copy, in one layout instead
/// of one more layout round. Every merged cell is labelled so in both sources
/// (it then never runs over a page once cut), unless it carries a row's marker
/// or spans a row taller than a page (which may break where no row opens the
/// page): the two sources differ only in the cuts stated before the first
/// block, and a round that only cuts such cells lays out the same source
/// again. Where a label is taller than the part of its cell on a page, the
/// layout warns ([`REPEAT_OVERFLOW`]): cut cells would make their rows taller,
/// and the document must be written with its cuts ([`typst_source`]).
pub fn typst_source_repeating(doc: &Document) -> String {
    source(doc, true)
}

/// The warning of the patched Typst layout for a label taller than its part.
pub use typst_layout::REPEAT_OVERFLOW;

/// The main file, merged cells written for the layout to repeat their labels
/// or not (`repeat`, see [`typst_source_repeating`]).
fn source(doc: &Document, repeat: bool) -> String {
    let mut tables = Tables { repeat, ..Tables::default() };
    let mut body = String::new();
    for (i, b) in doc.blocks.iter().enumerate() {
        body.push('#');
        // the block before the 署名 goes to the next page with it
        let keep = matches!(doc.blocks.get(i + 1), Some(Block::Signature { .. }))
            && !matches!(b, Block::Blank(_) | Block::NewFace);
        if keep {
            body.push_str("keep-with-next[#");
        }
        block(b, &mut body, &mut tables);
        if keep {
            body.push(']');
        }
        body.push('\n');
    }
    if let Some(b) = &doc.banji {
        let cc = b.cc.as_deref().map_or("none".to_string(), string);
        let _ = writeln!(
            body,
            "#banji(cc-label: {}, cc: {cc}, printer: {}, date: {})",
            string(&b.cc_label),
            string(&b.printer),
            string(&b.date)
        );
    }
    let mut s = String::with_capacity(body.len() + 256);
    s.push_str("// 由 gongwen 生成；版式规则见 gongwen.typ\n");
    s.push_str("#import \"/gongwen.typ\": *\n");
    if tables.merged {
        // merged cells cut at page breaks (see `table`): the only lines a layout
        // round changes
        let _ = writeln!(s, "#let {CUT} = {}", dict(&tables.cut));
        let _ = writeln!(s, "#let {AGAIN} = {}", dict(&tables.again));
    }
    let _ = writeln!(s, "#show: gongwen.with(title: {})\n", string(&doc.title));
    s.push_str(&body);
    s
}

/// Name of the dictionary of merged cells cut short at a page break: key
/// `"table-row-column"`, value the cell's `rowspan` and `breakable`.
const CUT: &str = "gongwen-cut";

/// Name of the dictionary of merged labels printed again after a page break:
/// key `"table-row-column"`, value an array of the one cell.
const AGAIN: &str = "gongwen-again";

/// The tables written so far, and what they add before the first block.
#[derive(Default)]
struct Tables {
    /// Tables written.
    count: usize,
    /// Whether a table has cells merged over rows (the dictionaries are written).
    merged: bool,
    /// Entries of [`CUT`].
    cut: Vec<String>,
    /// Entries of [`AGAIN`].
    again: Vec<String>,
    /// Whether merged cells that show their label again by themselves are
    /// written whole, their cuts left out (see [`typst_source_repeating`]).
    repeat: bool,
}

/// A Typst dictionary literal of already-written `key: value` pairs.
fn dict(pairs: &[String]) -> String {
    if pairs.is_empty() { "(:)".into() } else { format!("({})", pairs.join(", ")) }
}

/// A Typst array literal of already-written items.
fn array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    match items.len() {
        0 => "()".into(),
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

fn run(r: &Run) -> String {
    format!("({}, {})", string(r.role.key()), string(&r.text))
}

/// One block as a code expression (without the leading `#`); `tables` counts the
/// tables written so far, to name their rows.
fn block(b: &Block, s: &mut String, tables: &mut Tables) {
    match b {
        Block::Head(h) => {
            let _ = write!(
                s,
                "banto(marks: {}, organs: {}, beside: {}, number: {}, signer-label: {}, signer-lines: {})",
                array(h.marks.iter().map(run)),
                array(h.organs.iter().map(|o| string(o))),
                h.wenjian_beside.as_deref().map_or("none".to_string(), string),
                string(&h.number),
                string(&h.signer_label),
                array(h.signer_lines.iter().map(|l| array(l.iter().map(|n| string(n))))),
            );
        }
        Block::Title(lines) => {
            let _ = write!(
                s,
                "doc-title({})",
                lines.iter().map(|l| string(l)).collect::<Vec<_>>().join(", ")
            );
        }
        Block::Blank(n) => {
            let _ = write!(s, "blank({n})");
        }
        Block::Para { runs, indent } => {
            let f = if *indent { "para" } else { "flush-para" };
            let _ =
                write!(s, "{f}({})", runs.iter().map(run).collect::<Vec<_>>().join(", "));
        }
        Block::Heading(runs) => {
            let _ = write!(
                s,
                "heading-line({})",
                runs.iter().map(run).collect::<Vec<_>>().join(", ")
            );
        }
        Block::ListItem { runs, hang } => {
            let _ = write!(
                s,
                "list-item({hang}, {})",
                runs.iter().map(run).collect::<Vec<_>>().join(", ")
            );
        }
        Block::Attachments { label, items } => {
            let _ = write!(
                s,
                "attachments({}, {})",
                string(label),
                items
                    .iter()
                    .map(|(n, t)| format!("({}, {})", string(n), string(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Block::Signature { names, date, sealed, seal, place } => {
            let seal =
                seal.as_deref().map_or("none".to_string(), |p| string(&format!("/{p}")));
            let _ = write!(
                s,
                "signature(names: {}, date: {}, sealed: {sealed}, seal: {seal}, name-xs: {}, date-x: {:.3}pt, seal-x: {:.3}pt)",
                array(names.iter().map(|n| string(n))),
                string(date),
                array(place.name_x_pt.iter().map(|x| format!("{x:.3}pt"))),
                place.date_x_pt,
                place.seal_centre_pt,
            );
        }
        Block::NewFace => s.push_str("pagebreak()"),
        Block::AnnexLabel(l) => {
            let _ = write!(s, "flush(in-font(\"hei\", {}))", string(l));
        }
        Block::Table(t) => {
            table(t, s, tables);
            tables.count += 1;
        }
        Block::Landscape(inner) => {
            s.push_str("landscape({\n");
            for b in inner {
                s.push_str("  ");
                if *b == Block::NewFace {
                    // the landscape body sits in a container, where only a
                    // column break may turn the page
                    s.push_str("colbreak()\n");
                    continue;
                }
                block(b, s, tables);
                s.push('\n');
            }
            s.push_str("})");
        }
    }
}

fn align(a: Align) -> &'static str {
    match a {
        Align::Left => "left + horizon",
        Align::Center => "center + horizon",
    }
}

/// Label of the marker in one cell of each body row (the first not merged over
/// rows): `(table, row)`, so the page each row lands on can be read back (the
/// DOCX breaks its tables there too).
pub const ROW_LABEL: &str = "gongwen-row";

/// One table annex. A merged cell that a page break cuts is printed again on
/// the next page (`Table::split_spans_at`); the rows are written as in the table
/// before its cuts (`Table::unsplit`), and the cuts in [`CUT`] and [`AGAIN`]
/// before the first block: at every row a merge covers, the row spreads its
/// entry of [`AGAIN`] (mostly none). A layout round that only cuts merges thus
/// changes those two lines, not the rows, and Typst's cached layout of every
/// cell it did not cut stays valid (a source edit inside the table would give
/// every cell of it new spans, and the whole table would be laid out again).
fn table(t: &Table, s: &mut String, tables: &mut Tables) {
    let index = tables.count;
    let (t, cuts) = t.unsplit();
    let grid = crate::doc::span_grid(&t.rows, t.columns.len());
    // (a cell merged over rows reads its rows from the dictionaries, also one
    // whose rows run past the table's end and so cover nothing)
    tables.merged |= t.rows.iter().flatten().any(|c| c.rowspan > 1);
    // rows kept with the next (a merged group's first row): one more column, 0 mm
    // wide and empty, whose unbreakable cells span each run of rows kept together
    let keep = t.keep_with_next(crate::doc::TABLE_WIDTH_MM, crate::doc::TABLE_BLOCK_MM);
    let keeps = keep.iter().any(|k| *k);
    let extra = |v: &mut Vec<String>, item: &str| {
        if keeps {
            v.push(item.to_string());
        }
    };
    let mut columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| match c.width {
            Width::Mm(mm) => format!("{mm}mm"),
            Width::Fr(f) => format!("{f}fr"),
        })
        .collect();
    extra(&mut columns, "0mm");
    let mut aligns: Vec<String> =
        t.columns.iter().map(|c| align(c.align).to_string()).collect();
    extra(&mut aligns, "left");
    let mut header: Vec<String> = t.header.iter().map(|h| string(h)).collect();
    extra(&mut header, "\"\"");
    let (columns, aligns, header) = (array(columns), array(aligns), array(header));
    let _ = writeln!(
        s,
        "data-table(columns: {columns}, align: {aligns}, header: {header}, size: {}pt, rows: (",
        t.size_pt
    );
    // landscape tables are ≈222 mm wide in a 156 mm block; rows taller than that
    // must be allowed to break between lines
    let tall = t.tall_rows(crate::doc::TABLE_WIDTH_MM, crate::doc::TABLE_BLOCK_MM);
    // the cell of each row that carries its marker: the first not merged over
    // rows (a merged cell may be laid out once per page), else the first
    let markers: Vec<usize> = t
        .rows
        .iter()
        .map(|row| row.iter().position(|c| c.rowspan <= 1).unwrap_or(0))
        .collect();
    // whether the merged cell at (row, index) shows its label again by itself
    // in each page it runs into: not if it carries a marker, nor over a row
    // taller than a page (it may break inside, where no row opens the page)
    let repeats = |r: usize, i: usize| {
        let c = &t.rows[r][i];
        let end = (r + c.rowspan as usize).min(tall.len());
        c.rowspan > 1 && i != markers[r] && !tall[r..end].iter().any(|t| *t)
    };
    for (r, row) in t.rows.iter().enumerate() {
        s.push_str("    ");
        let mut placed = 0;
        for slot in &grid[r] {
            match *slot {
                Slot::Start((i, col)) => {
                    let c = &row[i];
                    let key = format!("{index}-{r}-{col}");
                    let repeated = repeats(r, i);
                    if let Some(rows) = cuts.spans.get(&(r, col))
                        && !(tables.repeat && repeated)
                    {
                        let breakable = *rows > 1 || tall[r];
                        tables.cut.push(format!(
                            "\"{key}\": (rowspan: {rows}, breakable: {breakable})"
                        ));
                    }
                    if repeated {
                        s.push_str("[#");
                        cell(s, c, false, tall[r], &key, (index, r));
                        let _ = write!(s, "<{}>]", typst_layout::REPEAT_LABEL);
                    } else {
                        cell(s, c, i == markers[r], tall[r], &key, (index, r));
                    }
                    placed += 1;
                }
                Slot::Covered { origin: (or, oi), col, .. } => {
                    let key = format!("{index}-{r}-{col}");
                    if let Some(c) = cuts.again.get(&(r, col))
                        && !(tables.repeat && repeats(or, oi))
                    {
                        let mut again = String::new();
                        cell(&mut again, c, false, tall[r], "", (index, r));
                        tables.again.push(format!("\"{key}\": ({again},)"));
                    }
                    let _ = write!(s, "..{AGAIN}.at(\"{key}\", default: ())");
                }
                Slot::Inner => continue,
            }
            s.push_str(", ");
        }
        // cells past the last column (Typst opens a row for them)
        for (i, c) in row.iter().enumerate().skip(placed) {
            cell(s, c, i == markers[r], tall[r], "", (index, r));
            s.push_str(", ");
        }
        if keeps {
            if keep[r] && (r == 0 || !keep[r - 1]) {
                let run = keep[r..].iter().take_while(|k| **k).count() + 1;
                let _ = write!(
                    s,
                    "table.cell(rowspan: {run}, breakable: false, inset: 0pt, []), "
                );
            } else if r == 0 || !keep[r - 1] {
                // breakable: a row taller than a page must stay breakable
                s.push_str("table.cell(inset: 0pt, breakable: true, []), ");
            }
        }
        s.push('\n');
    }
    s.push_str("  ))");
}

/// One body cell; `marked`: it carries the row's marker
/// (`at`: table, row); `tall`: its row may be taller than a page; `key`: the
/// cell's key in [`CUT`] if it is merged over rows (empty: a label printed again,
/// written as it is).
fn cell(
    s: &mut String,
    c: &Cell,
    marked: bool,
    tall: bool,
    key: &str,
    at: (usize, usize),
) {
    let body = if marked {
        format!("[#metadata(({}, {})) <{ROW_LABEL}>] + {}", at.0, at.1, string(&c.text))
    } else {
        string(&c.text)
    };
    if c.rowspan == 1 && c.colspan == 1 && c.align.is_none() && !marked && !tall {
        s.push_str(&body);
        return;
    }
    s.push_str("table.cell(");
    if c.rowspan > 1 && !key.is_empty() {
        // a merged label may run over a page break (a row taller than a page
        // may too; other rows do not), unless the page break cut it
        let _ = write!(
            s,
            "..{CUT}.at(\"{key}\", default: (rowspan: {}, breakable: true)), colspan: {}",
            c.rowspan, c.colspan
        );
    } else {
        let _ = write!(s, "rowspan: {}, colspan: {}", c.rowspan, c.colspan);
        if c.rowspan > 1 || tall {
            s.push_str(", breakable: true");
        }
    }
    if let Some(a) = c.align {
        let _ = write!(s, ", align: {}", align(a));
    }
    let _ = write!(s, ", {body})");
}

/// A small document in the style library's shapes: every font role, a heading,
/// a table annex with its row marker, a landscape page, the 版记.
const WARM_UP: &str = r#"#import "/gongwen.typ": *
#show: gongwen.with(title: "")
#doc-title("关于")
#heading-line(("hei", "一、"))
#para(("kai", "（一）"), ("fang", "2023年8月31日，“一”。"), ("song", "一"), ("title", "一"))
#landscape({
  data-table(columns: (14mm, 1fr), align: (center + horizon, left + horizon), header: ("序号", "指标"), size: 12pt, rows: (
    table.cell(rowspan: 1, colspan: 1, [#metadata((0, 0)) <gongwen-row>] + "1"), "一",
  ))
})
#banji(cc-label: "抄送：", cc: "一。", printer: "一", date: "2023年8月31日印发")
"#;

/// Lays out a small document with `style` and drops it: Typst's caches and the
/// loaded fonts are the process's, so the first layout of a real document then
/// finds the fonts parsed and the style library evaluated. Meant for a second
/// core while a case is read and composed; what it lays out is of no interest
/// (a custom style library may lack the functions it calls). Returns whether it
/// laid out without an error or warning.
pub fn warm_up(
    library: Arc<LazyHash<Library>>,
    fonts: Arc<FontSet>,
    style: &str,
    today: chrono::NaiveDate,
) -> bool {
    let world = GongwenWorld::new(
        library,
        fonts,
        WARM_UP.to_string(),
        style,
        Arc::default(),
        today,
    );
    world.is_ok_and(|w| compile_world(&w).is_ok())
}

/// The Typst layout engine of one build: one world kept across layout rounds
/// (only the generated main source changes between them, so Typst's caches
/// serve everything else), and the last layout, for the PDF.
pub struct TypstEngine {
    world: GongwenWorld,
    last: Option<PagedDocument>,
    /// The main source of the last layout.
    pub source: String,
    /// Whether merged cells show their label again in each page they run into
    /// ([`typst_source_repeating`]); off for good once a label did not fit.
    repeat: bool,
}

impl TypstEngine {
    /// An engine for documents set with `style`, showing the case's `images`.
    pub fn new(
        library: Arc<LazyHash<Library>>,
        fonts: Arc<FontSet>,
        style: &str,
        images: Arc<std::collections::BTreeMap<String, Vec<u8>>>,
        today: chrono::NaiveDate,
    ) -> Result<Self, Vec<Diagnostic>> {
        let world =
            GongwenWorld::new(library, fonts, String::new(), style, images, today)
                .map_err(|e| vec![Diagnostic::error(Location::None, e)])?;
        Ok(Self { world, last: None, source: String::new(), repeat: true })
    }

    /// The last layout as PDF.
    pub fn export_pdf(
        &self,
        ident: &str,
        date: chrono::NaiveDate,
    ) -> Result<Vec<u8>, Diagnostic> {
        let doc = self.last.as_ref().ok_or_else(|| {
            Diagnostic::error(Location::None, "无法导出 PDF（尚未排版）")
        })?;
        export_pdf(doc, ident, date)
    }

    /// Lays out a given main source as it is (no layout rounds): the bare Typst
    /// compile that `gongwen bench` compares a build against. Returns the pages.
    pub fn compile_source(&mut self, source: &str) -> Result<usize, Vec<Diagnostic>> {
        self.source = source.to_string();
        self.world.set_main(&self.source);
        let document = compile_world(&self.world)?;
        let pages = document.pages().len();
        self.last = Some(document);
        Ok(pages)
    }

    /// The last layout: Typst's pages with every positioned item.
    pub fn into_layout(self) -> Option<PagedDocument> {
        self.last
    }
}

impl crate::layout::Engine for TypstEngine {
    fn lay_out(
        &mut self,
        doc: &Document,
    ) -> Result<crate::layout::Pages, Vec<Diagnostic>> {
        // merged labels repeated by the layout itself: a round that only cuts
        // merges lays out the same source again, which Typst's caches answer
        self.source =
            if self.repeat { typst_source_repeating(doc) } else { typst_source(doc) };
        self.world.set_main(&self.source);
        // a later round starts from the last round's introspection (page
        // numbers, the 版记's page): where its pages did not move, one layout
        // pass settles it instead of two
        let (mut document, overflow) = compile_checked(&self.world, self.last.as_ref())?;
        let mut breaks = table_breaks(&document);
        if self.repeat && (overflow || !cuts_open_pages(doc, &breaks)) {
            // the layout cannot show this document's cuts by itself: a label
            // taller than its part (a cut cell makes its rows taller), or a cut
            // made in an earlier round at a row that no longer opens a page
            // (printed there all the same, as the document's copy says). From
            // now on the cuts are written out cell by cell
            self.repeat = false;
            let cut = typst_source(doc);
            // the same source when the document has no cuts yet: its pages
            // turn where those of the cut cells will (the patch draws, it does
            // not size), and the next round cuts every label that ran over
            if cut != self.source {
                self.source = cut;
                self.world.set_main(&self.source);
                document = compile_world_from(&self.world, self.last.as_ref())?;
                breaks = table_breaks(&document);
            }
        }
        let pages = crate::layout::Pages {
            count: document.pages().len(),
            texts: page_texts(&document),
            table_breaks: breaks,
            banji_anchor: banji_anchor(&document),
        };
        self.last = Some(document);
        Ok(pages)
    }
}

/// Compiles a world's main source; any Typst error *or warning* is a diagnostic,
/// because a warning (an unknown font family, say) is the early sign of a wrong
/// page.
fn compile_world(world: &GongwenWorld) -> Result<PagedDocument, Vec<Diagnostic>> {
    compile_world_from(world, None)
}

/// Whether every label `doc` prints again after a cut (`Table::split_spans_at`)
/// stands in a row that opens a page in a layout with table breaks `breaks`.
fn cuts_open_pages(doc: &Document, breaks: &[Vec<usize>]) -> bool {
    doc.tables().iter().enumerate().all(|(t, table)| {
        table.rows.iter().enumerate().all(|(r, row)| {
            !row.iter().any(|c| c.again)
                || breaks.get(t).is_some_and(|rows| rows.contains(&r))
        })
    })
}

/// [`compile_world`], the first layout pass introspecting `seed` (an earlier
/// layout of nearly the same document) instead of nothing.
fn compile_world_from(
    world: &GongwenWorld,
    seed: Option<&PagedDocument>,
) -> Result<PagedDocument, Vec<Diagnostic>> {
    compile_checked(world, seed).map(|(document, _)| document)
}

/// [`compile_world_from`], telling whether a merged label repeated by the
/// layout was taller than its part ([`REPEAT_OVERFLOW`], not a diagnostic).
fn compile_checked(
    world: &GongwenWorld,
    seed: Option<&PagedDocument>,
) -> Result<(PagedDocument, bool), Vec<Diagnostic>> {
    let Warned { output, warnings } = compile_seeded(world, seed);
    let overflow = warnings.iter().any(|w| w.message == REPEAT_OVERFLOW);
    let mut diags: Vec<Diagnostic> = warnings
        .iter()
        .filter(|w| w.message != REPEAT_OVERFLOW)
        .map(|w| convert(world, w))
        .collect();
    match output {
        Ok(document) if diags.is_empty() => Ok((document, overflow)),
        Ok(_) => Err(diags),
        Err(errors) => {
            diags.extend(errors.iter().map(|e| convert(world, e)));
            Err(diags)
        }
    }
}

/// `typst::compile` for paged output, with the relayout loop starting from the
/// introspection of `seed` rather than an empty one. Typst lays a document out
/// until what it introspected (counters, positions) is what the layout gives:
/// a cold compile of ours needs three passes (page numbers and the 版记's
/// page, then the pages left unnumbered), a layout seeded with the previous
/// round's, whose pages did not move, settles in one. The loop is
/// `typst::compile_impl`'s (typst 0.15.1) with that seed: the same checks, the
/// same delayed errors, errors deduplicated as there, one pass more allowed.
fn compile_seeded(
    world: &dyn typst::World,
    seed: Option<&PagedDocument>,
) -> Warned<typst::diag::SourceResult<PagedDocument>> {
    use typst::World as _;
    use typst::comemo::{Constraint, Track};
    use typst::engine::{Engine, Route, Sink, Traced};
    use typst::foundations::{Output, StyleChain, Target, TargetElem};
    use typst::introspection::{Introspector, MAX_ITERS};
    use typst::utils::Protected;

    let Some(seed) = seed else { return typst::compile::<PagedDocument>(world) };
    let mut sink = Sink::new();
    let traced = Traced::default();
    let output = (|| {
        let (world, traced) = (world.track(), traced.track());
        let library = world.library();
        let base = StyleChain::new(&library.styles);
        let target = TargetElem::target.set(Target::Paged).wrap();
        let styles = base.chain(&target);
        let main = world.source(world.main()).map_err(|e| {
            typst::ecow::eco_vec![SourceDiagnostic::error(
                typst::syntax::Span::detached(),
                typst::ecow::EcoString::from(e),
            )]
        })?;
        let content = typst_eval::eval(
            world,
            library,
            traced,
            sink.track_mut(),
            Route::default().track(),
            &main,
        )?
        .content();
        let mut previous: Option<PagedDocument> = None;
        let mut passes = 0;
        loop {
            let introspector: &dyn Introspector =
                Output::introspector(previous.as_ref().unwrap_or(seed));
            let constraint = Constraint::new();
            let mut subsink = Sink::new();
            let mut engine = Engine {
                library,
                world,
                introspector: Protected::new(introspector.track_with(&constraint)),
                traced,
                sink: subsink.track_mut(),
                route: Route::default(),
            };
            let document = PagedDocument::create(&mut engine, &content, styles)?;
            passes += 1;
            let settled = constraint.validate(Output::introspector(&document));
            // a seed gets one pass more than a cold compile (MAX_ITERS)
            if settled || passes > MAX_ITERS {
                sink.extend_from_sink(subsink);
                if !settled {
                    sink.warn(SourceDiagnostic::warning(
                        typst::syntax::Span::detached(),
                        "layout did not converge within 6 attempts",
                    ));
                }
                let delayed = sink.delayed();
                return if delayed.is_empty() { Ok(document) } else { Err(delayed) };
            }
            previous = Some(document);
        }
    })();
    // as `typst::compile`: an error reported in several passes once
    let output = output.map_err(|mut errors| {
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert((e.span, e.message.clone())));
        errors
    });
    Warned { output, warnings: sink.warnings() }
}

/// A Typst diagnostic as ours, located in the generated file; Typst's own English
/// text passes through unchanged.
fn convert(world: &GongwenWorld, d: &SourceDiagnostic) -> Diagnostic {
    let location = d
        .span
        .id()
        .and_then(|id| {
            let source = world.source_text(id)?;
            let range = world.range(d.span)?;
            let text = source.text();
            let line = text[..range.start].matches('\n').count() + 1;
            let col =
                text[..range.start].rsplit('\n').next().map_or(0, |l| l.chars().count())
                    + 1;
            Some(Location::Text {
                file: id.get().vpath().get_with_slash().to_string(),
                line,
                col,
            })
        })
        .unwrap_or(Location::None);
    let mut diag = Diagnostic::error(location, format!("排版失败（{}）", d.message));
    if let Some(h) = d.hints.first() {
        diag = diag.with_hint(h.v.to_string());
    }
    diag
}

/// Exports a laid-out document as PDF with a fixed creation date.
pub fn export_pdf(
    doc: &PagedDocument,
    ident: &str,
    date: chrono::NaiveDate,
) -> Result<Vec<u8>, Diagnostic> {
    use chrono::Datelike;
    let dt = typst::foundations::Datetime::from_ymd_hms(
        date.year(),
        date.month() as u8,
        date.day() as u8,
        0,
        0,
        0,
    );
    let options = PdfOptions {
        ident: Smart::Custom(ident.to_string()),
        creator: Smart::Custom(Some(format!("gongwen {}", env!("CARGO_PKG_VERSION")))),
        timestamp: dt.map(Timestamp::new_utc),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(doc, &options).map_err(|errors| {
        let msg =
            errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("；");
        Diagnostic::error(Location::None, format!("无法导出 PDF（{msg}）"))
    })
}

/// Where the content before the 版记 ends: (page, distance from the page top in mm).
pub fn banji_anchor(doc: &PagedDocument) -> Option<(usize, f64)> {
    let label = typst::foundations::Label::new(typst::utils::PicoStr::intern(
        "gongwen-banji-anchor",
    ))?;
    let intro = doc.introspector();
    let content = intro.elements().query_label(label).ok()?;
    let pos = intro.position(content.location()?)?;
    Some((pos.page.get(), pos.point.y.to_mm()))
}

/// For each table (in document order), the rows that open a new page in the
/// Typst layout (not counting the table's first row).
pub fn table_breaks(doc: &PagedDocument) -> Vec<Vec<usize>> {
    use typst::foundations::{Label, Selector, Value};
    let Some(label) = Label::new(typst::utils::PicoStr::intern(ROW_LABEL)) else {
        return Vec::new();
    };
    let intro = doc.introspector();
    let mut rows: Vec<(usize, usize, usize)> = Vec::new();
    for content in intro.elements().query(&Selector::Label(label)) {
        let Ok(Value::Array(pair)) = content.field_by_name("value") else { continue };
        let num = |i: usize| match pair.at(i as i64, None) {
            Ok(Value::Int(n)) => Some(n as usize),
            _ => None,
        };
        let (Some(t), Some(r)) = (num(0), num(1)) else { continue };
        let Some(page) = content.location().and_then(|l| intro.position(l)) else {
            continue;
        };
        rows.push((t, r, page.page.get()));
    }
    rows.sort();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for w in rows.windows(2) {
        let (t0, _, p0) = w[0];
        let (t1, r1, p1) = w[1];
        while out.len() <= t1 {
            out.push(Vec::new());
        }
        if t0 == t1 && p1 != p0 {
            out[t1].push(r1);
        }
    }
    out
}

/// The text on each page, in reading order of the frames (for tests and checks).
pub fn page_texts(doc: &PagedDocument) -> Vec<String> {
    fn walk(frame: &typst::layout::Frame, out: &mut String) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => walk(&g.frame, out),
                FrameItem::Text(t) => out.push_str(&t.text),
                _ => {}
            }
        }
    }
    doc.pages()
        .iter()
        .map(|p| {
            let mut s = String::new();
            walk(&p.frame, &mut s);
            s
        })
        .collect()
}
