//! Shared helpers: a reproducible run (bundled fonts only, fixed date), text
//! extraction from the DOCX, normalisation for comparing PDF and DOCX text.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use gongwen::case::CaseDir;
use gongwen::pipeline::{self, Composed, Formats, Rendered, Settings};
use gongwen::render::typst::fonts::{FontOptions, FontSet};

/// The fonts every test uses: only the ones the repository carries.
pub fn fonts() -> Arc<FontSet> {
    static FONTS: OnceLock<Arc<FontSet>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            FontSet::load(&FontOptions { paths: vec![], ignore_system: true })
        })
        .clone()
}

/// Settings of a reproducible run.
pub fn settings() -> Settings {
    Settings {
        fonts: fonts(),
        library: gongwen::render::typst::world::library(),
        templates: None,
        date: chrono::NaiveDate::from_ymd_opt(2023, 8, 31).unwrap(),
        formats: Formats { pdf: true, docx: true },
        emit_typst: false,
    }
}

/// A test case folder under tests/fixtures.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A test case under tests/fixtures, as a case folder.
pub fn fixture(name: &str) -> CaseDir {
    CaseDir::Disk(fixture_path(name))
}

/// Composes and renders a case, panicking with the diagnostics if it fails.
pub fn build(dir: &CaseDir) -> (Composed, Rendered) {
    let s = settings();
    let composed = pipeline::compose_dir(dir, &s).unwrap_or_else(|d| panic!("{d:#?}"));
    let rendered = pipeline::render(&composed, &s).unwrap_or_else(|d| panic!("{d:#?}"));
    (composed, rendered)
}

/// One text part of a ZIP package (DOCX, XLSX).
pub fn zip_part(package: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut xml = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
    xml
}

/// `word/document.xml` of a DOCX.
pub fn document_xml(docx: &[u8]) -> String {
    zip_part(docx, "word/document.xml")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of each DOCX paragraph (table cells are paragraphs too), exactly as
/// stored.
pub fn docx_paragraphs(docx: &[u8]) -> Vec<String> {
    let xml = document_xml(docx);
    xml.split("</w:p>")
        .map(|p| {
            let mut text = String::new();
            let mut rest = p;
            while let Some(i) = rest.find("<w:t") {
                let after = &rest[i..];
                // <w:t> or <w:t xml:space="preserve">, not <w:tab/> or <w:tbl>
                let Some(close) = after.find('>') else { break };
                let tag = &after[..close];
                if tag == "<w:t" || tag.starts_with("<w:t ") {
                    let body = &after[close + 1..];
                    let end = body.find("</w:t>").unwrap_or(body.len());
                    text.push_str(&unescape(&body[..end]));
                    rest = &body[end..];
                } else {
                    rest = &after[close..];
                }
            }
            text
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Asserts that a text holds no format character (U+2060 word joiner, U+200B zero
/// width space, bidi controls, BOM …): nothing invisible is ever added.
pub fn assert_no_format_characters(text: &str, what: &str) {
    let bad: Vec<String> = text
        .chars()
        .filter(|c| {
            matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(bad.is_empty(), "{what} holds format characters: {bad:?}");
}

/// Text without the characters that only affect layout (spaces, line breaks),
/// for comparing what two formats print.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && gongwen::compose::needs_glyph(*c))
        .collect()
}

/// The text of the PDF pages without page numbers, normalised.
pub fn pdf_text(r: &Rendered) -> String {
    r.page_texts
        .iter()
        .map(|t| {
            let t = normalize(t);
            // the page number is drawn last on each page ("—N—")
            match t.rfind('—') {
                Some(end) if t.ends_with('—') => {
                    let start = t[..end].rfind('—').unwrap_or(end);
                    t[..start].to_string()
                }
                _ => t,
            }
        })
        .collect()
}

/// Asserts that each paragraph occurs in `haystack`, in order.
pub fn assert_in_order(paragraphs: &[String], haystack: &str, what: &str) {
    let mut pos = 0;
    for p in paragraphs {
        let p = normalize(p);
        if p.is_empty() {
            continue;
        }
        match haystack[pos..].find(&p) {
            Some(i) => pos += i + p.len(),
            None => panic!("{what}: paragraph not found (in order): {p}"),
        }
    }
}

/// Copies the built-in example into a folder.
pub fn write_example(dir: &Path) {
    for (name, text) in gongwen::case::EXAMPLE_FILES {
        std::fs::write(dir.join(name), text).unwrap();
    }
}
