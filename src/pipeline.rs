//! The whole job for one case: load → check → compose → render → write.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use typst::Library;
use typst::utils::LazyHash;

use crate::case::{self, CaseDir};
use crate::compose::{self, prose::Prose};
use crate::diag::{Diagnostic, Location};
use crate::doc::Document;
use crate::layout::BanjiPlacement;
use crate::render;
use crate::render::typst::fonts::FontSet;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// Write the PDF.
    pub pdf: bool,
    /// Write the DOCX.
    pub docx: bool,
}

/// Settings shared by every case of a run.
pub struct Settings {
    /// Fonts, loaded once per process.
    pub fonts: Arc<FontSet>,
    /// Typst's standard library, built once.
    pub library: Arc<LazyHash<Library>>,
    /// `--templates DIR`.
    pub templates: Option<PathBuf>,
    /// The date used for PDF/DOCX metadata (`--date`, `SOURCE_DATE_EPOCH`, today).
    pub date: chrono::NaiveDate,
    /// Which formats to write.
    pub formats: Formats,
    /// Also write the generated Typst sources beside the PDF.
    pub emit_typst: bool,
}

/// A composed case, ready to render.
pub struct Composed {
    /// Output stem.
    pub name: String,
    /// The document.
    pub doc: Document,
    /// Images the document shows, by their path in the case folder.
    pub images: std::collections::BTreeMap<String, Vec<u8>>,
    /// The case's indicators as a 指标.toml text, kept with the outputs so that
    /// `gongwen diff` can compare a later version against this build.
    pub record: Option<String>,
    /// What the case's data left out (see [`crate::model::Case::warnings`]).
    pub warnings: Vec<Diagnostic>,
}

/// What a command wrote, and the warnings of what it read.
#[derive(Debug, Default)]
pub struct Written {
    /// The files, in the order written.
    pub files: Vec<PathBuf>,
    /// Rows left out and the like: printed, not a failure.
    pub warnings: Vec<Diagnostic>,
}

/// What a whole case's build made.
#[derive(Debug)]
pub struct Built {
    /// The files.
    pub files: Vec<PathBuf>,
    /// Pages of the PDF layout.
    pub pages: usize,
    /// Time per stage.
    pub timings: Timings,
    /// What the case's data left out.
    pub warnings: Vec<Diagnostic>,
}

/// Loads, checks and composes a case; all problems are returned together.
pub fn compose_dir(
    dir: &CaseDir,
    settings: &Settings,
) -> Result<Composed, Vec<Diagnostic>> {
    let case = case::load_case(dir)?;
    let prose = Prose::new(settings.templates.as_deref()).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let mut images = std::collections::BTreeMap::new();
    if let Some(seal) = &case.notice.seal {
        match &case.dir {
            Some(root) => {
                if let Some(bytes) = check_image(root, seal, &mut diags) {
                    images.insert(seal.value.trim_start_matches("./").to_string(), bytes);
                }
            }
            None => {
                diags.push(Diagnostic::error(seal.loc.clone(), "内置示例没有印章图片"))
            }
        }
    }
    let doc = match compose::compose_case(&case, prose, settings.fonts.as_ref()) {
        Ok(doc) => doc,
        Err(mut ds) => {
            ds.extend(diags);
            return Err(ds);
        }
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    // a document no layout can fit in the page limit is refused here, so that
    // `check` refuses it as `build` does
    crate::layout::page_bound(&doc)?;
    let record = indicator_record(&case);
    Ok(Composed { name: case.name.clone(), doc, images, record, warnings: case.warnings })
}

/// Largest image file accepted in a case folder.
const IMAGE_LIMIT: u64 = 20 * 1024 * 1024;
/// Most pixels an image may have (a seal needs far fewer; a small file may
/// declare a huge picture).
pub const IMAGE_PIXELS: u64 = 16_000_000;

/// Reads and checks a PNG image named in the case (inside its folder, bounded,
/// a whole and sane PNG); returns its bytes.
fn check_image(
    root: &Path,
    file: &crate::model::Located<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<u8>> {
    let checked = case::case_file(root, file).and_then(|path| {
        let bytes = crate::fsguard::read_limited(&path, IMAGE_LIMIT)
            .map_err(|e| case::guard_error(file.loc.clone(), e))?;
        crate::case::preflight::check_png(&bytes, IMAGE_PIXELS)
            .map_err(|e| case::guard_error(file.loc.clone(), e))?;
        Ok(bytes)
    });
    match checked {
        Ok(bytes) => Some(bytes),
        Err(mut d) => {
            if !d.message.starts_with("印章") {
                d.message = format!("印章图片：{}", d.message);
            }
            if d.hint.is_none() {
                d = d.with_hint("印章请用带透明背景的 PNG 图片");
            }
            diags.push(d);
            None
        }
    }
}

/// The style library: built in, or `--templates DIR/typst/gongwen.typ`.
pub fn style_library(settings: &Settings) -> Result<String, Diagnostic> {
    if let Some(dir) = &settings.templates {
        let p = dir.join("typst").join("gongwen.typ");
        if p.is_file() {
            return std::fs::read_to_string(&p).map_err(|e| {
                Diagnostic::error(
                    Location::File(p.display().to_string()),
                    format!("无法读取样式库（{}）", crate::case::io_reason(&e)),
                )
            });
        }
    }
    Ok(render::typst::world::STYLE_LIBRARY.to_string())
}

/// Rendered bytes of one case.
pub struct Rendered {
    /// PDF bytes, if asked for.
    pub pdf: Option<Vec<u8>>,
    /// DOCX bytes, if asked for.
    pub docx: Option<Vec<u8>>,
    /// The generated Typst main source.
    pub typst: String,
    /// Pages in the PDF.
    pub pages: usize,
    /// The text laid out on each PDF page.
    pub page_texts: Vec<String>,
    /// Where the time went.
    pub timings: Timings,
    /// The document as laid out (tables cut where pages turn).
    pub doc: Document,
    /// Per table of `doc`, the rows that open a new page.
    pub table_breaks: Vec<Vec<usize>>,
    /// Where the 版记 goes, as the last layout round placed it (the DOCX
    /// follows it).
    pub banji: BanjiPlacement,
    /// Typst's laid-out pages (the frames the PDF is exported from), for tests
    /// that measure positions; `None` when no format was asked for.
    pub layout: Option<typst_layout::PagedDocument>,
}

/// Seconds spent per stage of a build.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Reading and checking the input, wording, numbering.
    pub compose: f64,
    /// Typst layout (all rounds, with what is read back from each).
    pub layout: f64,
    /// The first layout round alone (within `layout`).
    pub first_round: f64,
    /// Layout rounds.
    pub rounds: usize,
    /// PDF export.
    pub pdf: f64,
    /// DOCX writing.
    pub docx: f64,
    /// Writing the files.
    pub write: f64,
}

impl Timings {
    /// All stages.
    pub fn total(&self) -> f64 {
        self.compose + self.layout + self.pdf + self.docx + self.write
    }
}

/// Renders a composed case into the requested formats (nothing is written).
///
/// The DOCX needs of the layout only the 版记's placement: it is written on a
/// second thread while Typst lays the document out (mostly on one core), and
/// finished with the placement of the last layout round while the PDF is
/// exported.
pub fn render(c: &Composed, settings: &Settings) -> Result<Rendered, Vec<Diagnostic>> {
    // the layout stage: positions for both writers
    let mut doc = c.doc.clone();
    crate::layout::place_signatures(&mut doc, settings.fonts.as_ref());
    let doc = doc;
    std::thread::scope(|scope| {
        let clock = std::time::Instant::now();
        // the DOCX takes the 版记's page parity from the Typst layout, so lay out
        // even when only the DOCX is wanted
        let mut engine = typst_engine(c, settings)?;
        // the DOCX, but for the 版记's placement, which is sent when laid out
        let (placed, placement) = std::sync::mpsc::channel::<BanjiPlacement>();
        let docx_job = settings.formats.docx.then(|| {
            let doc = &doc;
            scope.spawn(move || {
                let t = std::time::Instant::now();
                let prepared = render::docx::prepare_docx(doc, settings.date, &c.images);
                let mut secs = t.elapsed().as_secs_f64();
                // no placement: the layout failed and the DOCX is not wanted
                let banji = placement.recv().ok()?;
                let t = std::time::Instant::now();
                let bytes = prepared.and_then(|p| p.finish(banji));
                secs += t.elapsed().as_secs_f64();
                Some((bytes, secs))
            })
        });
        let mut timings = Timings::default();
        let mut each_round = |_: &crate::layout::Plan| {
            timings.rounds += 1;
            if timings.rounds == 1 {
                timings.first_round = clock.elapsed().as_secs_f64();
            }
        };
        let (pdf_doc, plan, pages) =
            match crate::layout::paginate_with(&doc, &mut engine, &mut each_round) {
                Ok(laid) => laid,
                Err(d) => {
                    // no placement: the DOCX thread ends without finishing; it is
                    // joined here, so that a panic of it is not left to the scope
                    drop(placed);
                    if let Some(handle) = docx_job {
                        let _ = handle.join();
                    }
                    return Err(d);
                }
            };
        timings.layout = clock.elapsed().as_secs_f64();
        // a closed channel only means the DOCX thread is gone: its join says why
        let _ = placed.send(plan.banji);
        // the PDF is exported while the DOCX is finished (two cores)
        let t = std::time::Instant::now();
        let pdf = settings
            .formats
            .pdf
            .then(|| engine.export_pdf(&c.name, settings.date).map_err(|d| vec![d]));
        timings.pdf = t.elapsed().as_secs_f64();
        let docx = docx_job.map(|handle| {
            let (bytes, secs) = match handle.join() {
                Ok(Some(done)) => done,
                _ => (Err("the DOCX writer stopped".to_owned()), 0.0),
            };
            timings.docx = secs;
            bytes.map_err(|e| {
                // the writer's errors are our own faults, worded by the XML and
                // zip libraries: wrapped, the detail kept for the report
                vec![
                    Diagnostic::error(Location::None, "无法生成 DOCX（程序内部错误）")
                        .with_hint(format!("报告此问题时请附上：{e}")),
                ]
            })
        });
        let (pdf, docx) = (pdf.transpose()?, docx.transpose()?);
        Ok(Rendered {
            pdf,
            docx,
            typst: std::mem::take(&mut engine.source),
            pages: pages.count,
            page_texts: pages.texts,
            timings,
            doc: pdf_doc,
            table_breaks: plan.table_breaks,
            banji: plan.banji,
            layout: engine.into_layout(),
        })
    })
}

/// The Typst layout engine for a composed case (its style library, fonts and
/// checked images).
pub fn typst_engine(
    c: &Composed,
    settings: &Settings,
) -> Result<render::typst::TypstEngine, Vec<Diagnostic>> {
    let style = style_library(settings).map_err(|d| vec![d])?;
    render::typst::TypstEngine::new(
        settings.library.clone(),
        settings.fonts.clone(),
        &style,
        Arc::new(c.images.clone()),
        settings.date,
    )
}

/// A preview of a composed case, laid out exactly as for the PDF (nothing is
/// written).
pub struct Preview {
    /// Pages in all.
    pub pages: usize,
    /// A key for each previewed page: pages with the same key look the same.
    pub keys: Vec<String>,
    /// The previewed pages as SVG images; `None` for a page whose key the
    /// asker already has (its image is the one it has).
    pub svg: Vec<Option<String>>,
    /// The text of the same pages (the images draw glyphs, not text).
    pub texts: Vec<String>,
}

/// A preview of the first `max_pages` pages of a composed case. Pages whose
/// key is in `have` are not drawn again: after one field changed, the pages it
/// did not move are sent as their key alone (drawing a page of Chinese text as
/// SVG is most of a warm preview's time).
pub fn preview(
    c: &Composed,
    settings: &Settings,
    max_pages: usize,
    have: &std::collections::HashSet<String>,
) -> Result<Preview, Vec<Diagnostic>> {
    let mut doc = c.doc.clone();
    crate::layout::place_signatures(&mut doc, settings.fonts.as_ref());
    let mut engine = typst_engine(c, settings)?;
    let (_, _, pages) = crate::layout::paginate(&doc, &mut engine)?;
    let layout = engine.into_layout().ok_or_else(|| {
        vec![Diagnostic::error(Location::None, "无法生成预览（尚未排版）")]
    })?;
    let shown = &layout.pages()[..layout.pages().len().min(max_pages)];
    let keys: Vec<String> = shown.iter().map(page_key).collect();
    let opts = typst_svg::SvgOptions::default();
    let svg = shown
        .iter()
        .zip(&keys)
        .map(|(page, key)| (!have.contains(key)).then(|| typst_svg::svg(page, &opts)))
        .collect();
    let texts = pages.texts.into_iter().take(shown.len()).collect();
    Ok(Preview { pages: pages.count, keys, svg, texts })
}

/// A key of what a page shows: a hash of everything its SVG image draws
/// (glyphs, shapes, images, positions, fill) and of nothing else, so a page
/// that only moved in the source (other spans, other element locations)
/// keeps its key.
pub fn page_key(page: &typst_layout::Page) -> String {
    use std::hash::{Hash, Hasher};
    use typst::layout::{Frame, FrameItem};

    struct Drawn<'a>(&'a Frame);

    impl Hash for Drawn<'_> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            let frame = self.0;
            frame.size().hash(state);
            std::mem::discriminant(&frame.kind()).hash(state);
            for (point, item) in frame.items() {
                point.hash(state);
                std::mem::discriminant(item).hash(state);
                match item {
                    FrameItem::Group(group) => {
                        group.transform.hash(state);
                        group.clip.hash(state);
                        group.label.hash(state);
                        Drawn(&group.frame).hash(state);
                    }
                    FrameItem::Text(text) => {
                        text.font.hash(state);
                        text.size.hash(state);
                        text.fill.hash(state);
                        text.stroke.hash(state);
                        text.glyphs.len().hash(state);
                        for g in &text.glyphs {
                            (g.id, g.x_advance, g.x_offset, g.y_advance, g.y_offset)
                                .hash(state);
                        }
                    }
                    FrameItem::Shape(shape, _) => shape.hash(state),
                    FrameItem::Image(image, size, _) => (image, size).hash(state),
                    // only a link to an address is drawn (as its target)
                    FrameItem::Link(dest, size) => {
                        size.hash(state);
                        if let typst::model::Destination::Url(url) = dest {
                            url.hash(state);
                        }
                    }
                    FrameItem::Tag(_) => {}
                }
            }
        }
    }

    let hash = typst::utils::hash128(&(Drawn(&page.frame), &page.fill, &page.bleed));
    format!("{hash:032x}")
}

/// Stages the rendered files of a case under `out` (written in full as
/// temporaries; they appear only when `outputs` is committed).
pub fn stage(
    c: &Composed,
    r: &Rendered,
    out: &Path,
    settings: &Settings,
    outputs: &mut crate::output::Outputs,
) -> Result<(), Diagnostic> {
    crate::output::clean_stale_temporaries(out);
    let mut put = |path: PathBuf, bytes: &[u8]| -> Result<(), Diagnostic> {
        if outputs.paths().contains(&path) {
            return Err(Diagnostic::error(
                Location::File(path.display().to_string()),
                "两个输出文件同名，后一个会覆盖前一个",
            )
            .with_hint(
                "单位名称或输出名只差文件名中不能用的字符时，请改用可区分的名称",
            ));
        }
        outputs.add(&path, bytes).map_err(|e| {
            Diagnostic::error(
                Location::File(path.display().to_string()),
                format!("无法写入文件（{}）", case::io_reason(&e)),
            )
        })
    };
    if let Some(pdf) = &r.pdf {
        put(out.join(format!("{}.pdf", c.name)), pdf)?;
    }
    if let Some(docx) = &r.docx {
        put(out.join(format!("{}.docx", c.name)), docx)?;
    }
    if settings.emit_typst {
        let dir = out.join(format!("{}.typ.d", c.name));
        put(dir.join("main.typ"), r.typst.as_bytes())?;
        put(dir.join("gongwen.typ"), style_library(settings)?.as_bytes())?;
        put(dir.join("fonts.typ"), settings.fonts.fonts_module().as_bytes())?;
    }
    Ok(())
}

/// Puts every staged file in place; the error says exactly what was written.
pub fn commit(outputs: crate::output::Outputs) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    outputs.commit().map_err(|e| {
        let mut d = Diagnostic::error(
            Location::File(e.path.display().to_string()),
            format!("无法写入文件（{}）", case::io_reason(&e.error)),
        );
        d = if e.written.is_empty() {
            d.with_hint("未写出任何文件")
        } else {
            let names: Vec<String> =
                e.written.iter().map(|p| p.display().to_string()).collect();
            d.with_hint(format!("已写出：{}", names.join("、")))
        };
        vec![d]
    })
}

/// Writes the rendered files of one case into `out`, all or none; returns the
/// paths written.
pub fn write(
    c: &Composed,
    r: &Rendered,
    out: &Path,
    settings: &Settings,
) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let mut outputs = crate::output::Outputs::new();
    stage(c, r, out, settings, &mut outputs).map_err(|d| vec![d])?;
    commit(outputs)
}

/// `gongwen table`: prints one indicator workbook as a stand-alone table.
pub fn build_table(
    workbook: &Path,
    sheet: Option<&str>,
    title: Option<&str>,
    out: &Path,
    settings: &Settings,
) -> Result<Written, Vec<Diagnostic>> {
    let shown = case::display_path(workbook);
    let sheet =
        case::workbook::read_sheet(workbook, &shown, sheet).map_err(|d| vec![d])?;
    let (inds, warnings) = case::workbook::read_indicators(&sheet)?;
    let stem =
        workbook.file_stem().and_then(|s| s.to_str()).unwrap_or("表格").to_string();
    let title = title.map_or(stem.clone(), str::to_string);
    let kind = if inds.iter().any(|i| i.level1.is_some()) {
        "任务分解"
    } else {
        "责任清单"
    };
    let cols = case::default_columns(kind);
    let doc = compose::compose_table(&title, &inds, &cols, settings.fonts.as_ref())?;
    let files = write_document(&stem, doc, out, settings)?;
    Ok(Written { files, warnings })
}

/// A unit's name made fit for a file name (characters no file system takes are dropped).
/// Characters no file system takes become `_`; a name Windows reserves or one
/// ending in a dot gets a `_` after it. Names that come out alike are caught
/// when the files are staged (two outputs of one name are an error).
pub fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
                || c.is_control()
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    if case::file_name_problem(&out).is_some() {
        out.push('_');
    }
    out
}

/// Renders a stand-alone document and stages its files under `out`.
fn stage_document(
    name: &str,
    doc: Document,
    out: &Path,
    settings: &Settings,
    outputs: &mut crate::output::Outputs,
) -> Result<(), Vec<Diagnostic>> {
    let (composed, rendered) = render_document(name, doc, settings)?;
    stage(&composed, &rendered, out, settings, outputs).map_err(|d| vec![d])
}

/// Checks and renders a stand-alone document (a task list, a report) made from
/// data rather than composed from a case; nothing is written.
pub fn render_document(
    name: &str,
    doc: Document,
    settings: &Settings,
) -> Result<(Composed, Rendered), Vec<Diagnostic>> {
    // made from data by a command, not composed from a case: checked here
    let problems = compose::check_document(&doc, settings.fonts.as_ref());
    if !problems.is_empty() {
        return Err(problems);
    }
    let composed = Composed {
        name: name.to_string(),
        doc,
        images: Default::default(),
        record: None,
        warnings: Vec::new(),
    };
    let rendered = render(&composed, settings)?;
    Ok((composed, rendered))
}

/// Renders and writes a stand-alone document under `out`.
fn write_document(
    name: &str,
    doc: Document,
    out: &Path,
    settings: &Settings,
) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let mut outputs = crate::output::Outputs::new();
    stage_document(name, doc, out, settings, &mut outputs)?;
    commit(outputs)
}

/// `gongwen units`: one task list per unit of a case, and the summary.
pub fn build_units(
    dir: &CaseDir,
    out: &Path,
    settings: &Settings,
) -> Result<Written, Vec<Diagnostic>> {
    let case = case::load_case(dir)?;
    if case.indicators.is_empty() {
        return Err(vec![
            Diagnostic::error(Location::None, "案卷没有指标数据")
                .with_hint("在 [\"数据\"] 中写 \"指标\" = …"),
        ]);
    }
    let project = case
        .vars
        .get("项目")
        .map_or("法治政府建设示范创建".to_string(), |v| v.value.clone());
    let units = compose::assign::tasks_by_unit(&case.registry, &case.indicators);
    let mut outputs = crate::output::Outputs::new();
    let summary = compose::assign::unit_summary("各单位任务汇总表", &units);
    stage_document("各单位任务汇总表", summary, out, settings, &mut outputs)?;
    let mut problems = Vec::new();
    for (unit, tasks) in &units {
        let doc = compose::assign::unit_task_list(unit, &project, tasks);
        let name = file_name(unit);
        if let Err(ds) = stage_document(&name, doc, out, settings, &mut outputs) {
            problems.extend(ds.into_iter().map(|d| {
                let hint = format!("单位\"{unit}\"的任务清单");
                match d.hint.clone() {
                    Some(h) => d.with_hint(format!("{hint}：{h}")),
                    None => d.with_hint(hint),
                }
            }));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Written { files: commit(outputs)?, warnings: case.warnings })
}

/// `gongwen diff`: which indicators gained or lost which units, and the 责任调整对照表.
pub fn build_diff(
    old: &Path,
    new: &Path,
    sheet: Option<&str>,
    out: &Path,
    settings: &Settings,
) -> Result<(Vec<compose::assign::Change>, Written), Vec<Diagnostic>> {
    let before = case::read_indicator_file(old, sheet);
    let after = if new.is_dir() {
        case::load_case(&CaseDir::Disk(new.to_path_buf()))
            .map(|c| (c.indicators, c.warnings))
    } else {
        case::read_indicator_file(new, sheet)
    };
    let ((before, mut warnings), (after, later)) = match (before, after) {
        (Ok(b), Ok(a)) => (b, a),
        (b, a) => {
            let mut ds = b.err().unwrap_or_default();
            ds.extend(a.err().unwrap_or_default());
            return Err(ds);
        }
    };
    let changes = compose::assign::diff_units(&before, &after);
    let doc = compose::assign::change_table("责任调整对照表", &changes);
    let files = write_document("责任调整对照表", doc, out, settings)?;
    warnings.extend(later);
    Ok((changes, Written { files, warnings }))
}

/// `gongwen scores`: blank sheets and the score-entry workbook, or, with a filled
/// workbook, the 督察情况通报 with every unit's sheets.
pub fn build_scores(
    path: &Path,
    filled: Option<&Path>,
    units: &[String],
    out: &Path,
    settings: &Settings,
) -> Result<Written, Vec<Diagnostic>> {
    let file =
        if path.is_dir() { path.join("打分表.toml") } else { path.to_path_buf() };
    let mut scores = crate::scores::load_scores(&file)?;
    if !units.is_empty() {
        scores.units = units.to_vec();
    }
    match filled {
        None => {
            let mut outputs = crate::output::Outputs::new();
            stage_document(
                "督察情况打分表",
                compose::scores::blank_sheets(&scores),
                out,
                settings,
                &mut outputs,
            )?;
            let xlsx = crate::scores::write_entry_workbook(&scores, settings.date)
                .map_err(|e| {
                    vec![Diagnostic::error(
                        Location::None,
                        format!("无法生成打分录入表（{e}）"),
                    )]
                })?;
            let p = out.join("打分录入.xlsx");
            outputs.add(&p, &xlsx).map_err(|e| {
                vec![Diagnostic::error(
                    Location::File(p.display().to_string()),
                    format!("无法写入文件（{}）", case::io_reason(&e)),
                )]
            })?;
            Ok(Written { files: commit(outputs)?, warnings: Vec::new() })
        }
        Some(f) => {
            let units = crate::scores::read_filled(f, &scores)?;
            let files = write_document(
                "督察情况通报",
                compose::scores::report(&scores, &units),
                out,
                settings,
            )?;
            Ok(Written { files, warnings: Vec::new() })
        }
    }
}

/// What `gongwen status` found and wrote.
pub struct StatusReport {
    /// Progress per unit.
    pub units: Vec<crate::progress::UnitProgress>,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// What the case's data left out.
    pub warnings: Vec<Diagnostic>,
}

/// `gongwen status`: progress per unit on `as_of`, the 进度通报, and a 督办通知
/// for every unit with overdue tasks (numbered from `first_seq`).
pub fn build_status(
    dir: &CaseDir,
    as_of: chrono::NaiveDate,
    reply_days: i64,
    first_seq: Option<i64>,
    out: &Path,
    settings: &Settings,
) -> Result<StatusReport, Vec<Diagnostic>> {
    let case = case::load_case(dir)?;
    if case.indicators.is_empty() {
        return Err(vec![Diagnostic::error(Location::None, "案卷没有指标数据")]);
    }
    let states = crate::progress::task_states(&case, as_of)?;
    let units = crate::progress::by_unit(&case, &states);
    let mut outputs = crate::output::Outputs::new();
    stage_document(
        "创建任务进度通报",
        compose::progress::progress_report(&units, as_of),
        out,
        settings,
        &mut outputs,
    )?;
    let reply = as_of
        .checked_add_signed(chrono::Duration::days(reply_days))
        .filter(|_| reply_days > 0)
        .ok_or_else(|| {
            vec![Diagnostic::error(
                Location::None,
                format!("回复期限 {reply_days} 天不在 1 至 365 天之间"),
            )]
        })?;
    let first = first_seq.unwrap_or(case.header.number.seq + 1);
    for (seq, u) in (first..).zip(units.iter().filter(|u| !u.overdue.is_empty())) {
        let numbers: Vec<String> = u.overdue.iter().map(|(n, _)| n.clone()).collect();
        let doc = compose::progress::urge_notice(
            &case, &u.unit, &states, &numbers, as_of, reply, seq,
        );
        let name = file_name(&format!("督办通知-{}", u.unit));
        stage_document(&name, doc, out, settings, &mut outputs)?;
    }
    let written = commit(outputs)?;
    Ok(StatusReport { units, written, warnings: case.warnings })
}

/// A whole case: compose, render, write. Returns the files, the page count,
/// the time per stage and the warnings.
pub fn build_case(
    dir: &CaseDir,
    out: &Path,
    settings: &Settings,
) -> Result<Built, Vec<Diagnostic>> {
    std::thread::scope(|scope| {
        if !WARMED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            scope.spawn(|| warm_up(settings));
        }
        build_case_now(dir, out, settings)
    })
}

/// Whether a build of this process has warmed Typst up (see [`warm_up`]).
static WARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lays out a small document with the build's style library and drops it. Run
/// on another core while the first case of a process is read and composed:
/// Typst's first layout in a process loads the fonts and evaluates the style
/// library, and its caches are the process's, so the case's own layout then
/// starts with both done (1,000 rows: the layout stage about 0.03 s shorter).
fn warm_up(settings: &Settings) {
    let Ok(style) = style_library(settings) else { return };
    // a panic here (a Typst bug) must not end the build, which lays the case
    // out on its own anyway
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render::typst::warm_up(
            settings.library.clone(),
            settings.fonts.clone(),
            &style,
            settings.date,
        )
    }));
}

/// [`build_case`] itself.
fn build_case_now(
    dir: &CaseDir,
    out: &Path,
    settings: &Settings,
) -> Result<Built, Vec<Diagnostic>> {
    let t = std::time::Instant::now();
    let composed = compose_dir(dir, settings)?;
    let compose = t.elapsed().as_secs_f64();
    let rendered = render(&composed, settings)?;
    let t = std::time::Instant::now();
    let mut outputs = crate::output::Outputs::new();
    stage(&composed, &rendered, out, settings, &mut outputs).map_err(|d| vec![d])?;
    let written = commit(outputs)?;
    if let Some(record) = &composed.record {
        // a convenience for `gongwen diff`, kept apart from the documents: a
        // failure here does not fail the build
        let path = recorded_indicators(out, &composed.name);
        let _ = crate::output::write_atomic(&path, record.as_bytes());
    }
    let timings =
        Timings { compose, write: t.elapsed().as_secs_f64(), ..rendered.timings };
    Ok(Built {
        files: written,
        pages: rendered.pages,
        timings,
        warnings: composed.warnings,
    })
}

/// Where a build keeps the indicators it printed, for `gongwen diff` against the
/// last build.
pub fn recorded_indicators(out: &Path, name: &str) -> PathBuf {
    out.join(".gongwen").join(format!("{name}.指标.toml"))
}

/// The indicators of a case as a TOML file of `[[指标]]` rows (the format of a
/// case's 指标.toml), or `None` without indicators.
fn indicator_record(case: &crate::model::Case) -> Option<String> {
    if case.indicators.is_empty() {
        return None;
    }
    let rows: Vec<toml::Table> = case
        .indicators
        .iter()
        .map(|i| {
            let mut t = toml::Table::new();
            t.insert("序号".into(), toml::Value::Integer(i64::from(i.seq)));
            if let crate::model::IndicatorKind::Extra(k) = &i.kind {
                t.insert("类别".into(), toml::Value::String(k.clone()));
            }
            t.insert("三级指标".into(), toml::Value::String(i.text.value.clone()));
            t.insert("责任单位".into(), toml::Value::String(i.units.value.clone()));
            if let Some(co) = &i.co_units {
                t.insert("配合单位".into(), toml::Value::String(co.value.clone()));
            }
            t
        })
        .collect();
    let mut doc = toml::Table::new();
    doc.insert(
        "指标".into(),
        toml::Value::Array(rows.into_iter().map(toml::Value::Table).collect()),
    );
    toml::to_string(&doc).ok()
}
