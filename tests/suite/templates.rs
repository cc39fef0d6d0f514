//! `--templates DIR`: a folder of same-named files replaces the built-in wording
//! templates and the Typst style library, and a bad one is a located error.

use gongwen::case::CaseDir;
use gongwen::pipeline;

use crate::common::*;

fn with_templates(dir: &std::path::Path) -> pipeline::Settings {
    pipeline::Settings { templates: Some(dir.to_path_buf()), ..settings() }
}

/// A stage heading template from the folder words every 创建步骤 heading, in
/// the PDF and the DOCX alike; the others stay built in.
#[test]
fn a_wording_template_replaces_the_built_in_one() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("stage_heading.tera"), "步骤：{{ 名称 }}，{{ 时限 }}")
        .unwrap();
    let s = with_templates(t.path());
    let composed = pipeline::compose_dir(&CaseDir::Builtin, &s).unwrap();
    let rendered = pipeline::render(&composed, &s).unwrap();
    let pdf = pdf_text(&rendered);
    let docx: String = docx_paragraphs(rendered.docx.as_ref().unwrap())
        .iter()
        .map(|p| normalize(p))
        .collect();
    // the built-in wording is 名称（时限）; the folder's: 步骤：名称，时限
    let heading = normalize("步骤：加压部署，2023年9月初");
    assert!(pdf.contains(&heading), "PDF lacks the folder's wording");
    assert!(docx.contains(&heading), "DOCX lacks the folder's wording");
    assert!(
        !pdf.contains(&normalize("加压部署（2023年9月初）")),
        "built-in wording left"
    );
    let steps = composed.doc.paragraphs().iter().filter(|p| p.contains("步骤：")).count();
    assert!(steps >= 3, "every 创建步骤 heading uses it: {steps}");
}

/// A style library from the folder sets the pages: here it prints each table
/// header cell with a marker by changing one function, and the PDF shows it.
#[test]
fn the_style_library_can_be_replaced() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("typst")).unwrap();
    let built_in = include_str!("../../templates/typst/gongwen.typ");
    // table header cells printed with a marker the built-in library never prints
    let changed = built_in.replacen(
        "in-font(\"hei\", c)))",
        "in-font(\"hei\", c + \"（自定版式）\")))",
        1,
    );
    assert_ne!(changed, built_in, "the library still sets table headers so");
    std::fs::write(t.path().join("typst/gongwen.typ"), changed).unwrap();
    let s = with_templates(t.path());
    let composed = pipeline::compose_dir(&CaseDir::Builtin, &s).unwrap();
    let rendered = pipeline::render(&composed, &s).unwrap();
    let pdf = pdf_text(&rendered);
    assert!(
        pdf.contains(&normalize("（自定版式）")),
        "the folder's library was not used"
    );
}

/// A template with a syntax error is reported with its file and line, and
/// nothing is built.
#[test]
fn a_broken_template_is_a_located_error() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("stage_heading.tera"), "{{ 名称 }}\n{% if %}").unwrap();
    let s = with_templates(t.path());
    let diags = match pipeline::compose_dir(&CaseDir::Builtin, &s) {
        Ok(_) => panic!("a broken template was accepted"),
        Err(d) => d,
    };
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|d| d.contains("stage_heading.tera")), "{text:?}");
}
