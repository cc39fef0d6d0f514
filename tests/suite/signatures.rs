//! Several 署名 lines, sealed and unsealed: the positions the layout stage
//! decided (`doc::SignaturePlace`) are where the PDF prints each 署名 and the
//! 成文日期 (read from Typst's frames) and where the DOCX puts them (paragraph
//! indents in word/document.xml), within 0.5 mm.

use gongwen::case::CaseDir;
use gongwen::doc::Block;

use crate::common::*;
use crate::frames::{lines, pages};

const PT: f64 = 25.4 / 72.0;
const TWIP: f64 = 25.4 / 1440.0;
const LEFT: f64 = 28.0;

/// A DOCX paragraph: its text, left indent and right indent (mm), right-aligned.
#[derive(Debug)]
struct Para {
    text: String,
    left: f64,
    right: f64,
    right_aligned: bool,
}

fn attr(tag: &str, names: &[&str]) -> f64 {
    for n in names {
        if let Some(i) = tag.find(&format!(" {n}=\"")) {
            let rest = &tag[i + n.len() + 3..];
            let v: String = rest.chars().take_while(|c| *c != '"').collect();
            return v.parse::<f64>().unwrap() * TWIP;
        }
    }
    0.0
}

fn paragraphs(xml: &str) -> Vec<Para> {
    xml.split("</w:p>")
        .map(|p| {
            let ind =
                p.find("<w:ind ").map_or("", |i| &p[i..i + p[i..].find("/>").unwrap()]);
            let mut text = String::new();
            let mut rest = p;
            while let Some(i) = rest.find("<w:t") {
                let after = &rest[i..];
                let close = after.find('>').unwrap();
                let tag = &after[..close];
                if tag == "<w:t" || tag.starts_with("<w:t ") {
                    let body = &after[close + 1..];
                    let end = body.find("</w:t>").unwrap_or(body.len());
                    text.push_str(&body[..end]);
                    rest = &body[end..];
                } else {
                    rest = &after[close..];
                }
            }
            Para {
                text,
                left: attr(ind, &["w:left", "w:start"]),
                right: attr(ind, &["w:right", "w:end"]),
                right_aligned: p.contains("<w:jc w:val=\"right\""),
            }
        })
        .collect()
}

/// A copy of a fixture whose 署名 is `names`.
fn case_with_names(fixture: &str, names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture_path(fixture);
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(dir.path().join("case.toml")).unwrap();
    let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let old = "\"署名\" = [\"某县人民政府办公室\"]";
    assert!(toml.contains(old), "{fixture}: 署名 line");
    let toml = toml.replace(old, &format!("\"署名\" = [{}]", list.join(", ")));
    std::fs::write(dir.path().join("case.toml"), toml).unwrap();
    dir
}

/// (what, PDF mm, DOCX mm, layout mm) for each 署名 start and the date.
fn measure(fixture: &str, names: &[&str]) -> Vec<(String, f64, f64, f64)> {
    let dir = case_with_names(fixture, names);
    let (_, r) = build(&CaseDir::Disk(dir.path().to_path_buf()));
    let (date, place, sealed) = r
        .doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Signature { names: n, date, place, sealed, .. } => {
                assert_eq!(n, names);
                Some((date.clone(), place.clone(), *sealed))
            }
            _ => None,
        })
        .expect("a signature block");
    // the PDF: the page with the 成文日期 line, the 署名 lines just above it
    let pages = pages(r.layout.as_ref().unwrap());
    let page_lines = pages
        .iter()
        .map(lines)
        .find(|ls| ls.iter().any(|l| l.text == date))
        .expect("the 成文日期 in the PDF");
    let d = page_lines.iter().position(|l| l.text == date).unwrap();
    let pdf_date = &page_lines[d];
    let pdf_names = &page_lines[d - names.len()..d];
    // the DOCX: the date paragraph and the 署名 paragraphs before it
    let paras: Vec<Para> = paragraphs(&document_xml(r.docx.as_ref().unwrap()))
        .into_iter()
        .filter(|p| !p.text.is_empty())
        .collect();
    let k = paras.iter().position(|p| p.text == date).expect("the 成文日期 in the DOCX");
    let docx_date = &paras[k];
    let docx_names = &paras[k - names.len()..k];
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let shown: Vec<String> = page_lines[d.saturating_sub(names.len() + 1)..=d]
            .iter()
            .map(|l| format!("{:.2}..{:.2} {}", l.x0, l.x1, l.text))
            .collect();
        assert_eq!(pdf_names[i].text, *n, "PDF 署名 line {i}: {shown:#?}");
        assert_eq!(docx_names[i].text, *n, "DOCX 署名 paragraph {i}");
        assert!(!docx_names[i].right_aligned);
        out.push((
            format!("署名 {n} start"),
            pdf_names[i].x0 - LEFT,
            docx_names[i].left,
            place.name_x_pt[i] * PT,
        ));
    }
    if docx_date.right_aligned {
        // set against the right edge: compare where it ends
        let inset = place.date_right_pt.expect("a right-set date in the model") * PT;
        out.push((
            "date end".into(),
            pdf_date.x1 - LEFT,
            156.0 - docx_date.right,
            156.0 - inset,
        ));
    } else {
        out.push((
            "date start".into(),
            pdf_date.x0 - LEFT,
            docx_date.left,
            place.date_x_pt * PT,
        ));
    }
    eprintln!("{fixture} {names:?} sealed {sealed}:");
    for (what, pdf, docx, layout) in &out {
        eprintln!("  {what}: PDF {pdf:.2} DOCX {docx:.2} layout {layout:.2} mm");
    }
    out
}

fn assert_parity(fixture: &str, names: &[&str]) {
    for (what, pdf, docx, layout) in measure(fixture, names) {
        let ctx = format!("{fixture} {names:?}: {what}");
        assert!(
            (pdf - layout).abs() <= 0.1,
            "{ctx}: PDF {pdf:.2} mm, layout {layout:.2} mm"
        );
        assert!((pdf - docx).abs() <= 0.5, "{ctx}: PDF {pdf:.2} mm, DOCX {docx:.2} mm");
    }
}

/// Shorter than the date: unsealed, the date is set 2 字 from the right edge
/// and the 署名 starts 2 字 left of it.
const SHORT: &[&str] = &["某县司法局"];
const ONE: &[&str] = &["某县人民政府办公室"];
const TWO: &[&str] = &["某县人民政府办公室", "某县司法局"];
const THREE: &[&str] = &["某县人民政府", "某县法治政府建设领导小组办公室", "某县司法局"];

#[test]
fn unsealed_signatures_stand_alike_in_pdf_and_docx() {
    for names in [ONE, TWO, THREE] {
        assert_parity("foot-2", names);
    }
}

#[test]
fn sealed_signatures_stand_alike_in_pdf_and_docx() {
    for names in [ONE, TWO] {
        assert_parity("foot-2-sealed", names);
    }
}

/// Unsealed, a 署名 shorter than the date: the DOCX starts it 0.56 mm left of
/// where the layout and the PDF put it (the DOCX writer measures the date again
/// with its own metrics, digits 8 pt and 字 15.79 pt, instead of using the
/// layout's `SignaturePlace`).
#[test]
fn a_short_unsealed_signature_stands_alike() {
    assert_parity("foot-2", SHORT);
}

/// Sealed, a 署名 of 15 字 is centred on the date and kept inside the 版心 by
/// the layout (it ends at the right edge); the PDF must still print it on one
/// line. Today its last character wraps to the next line, at the left margin.
#[test]
fn a_long_sealed_signature_stays_on_one_line() {
    assert_parity("foot-2-sealed", THREE);
}
