//! A readable snapshot of the document model (`doc::Document`, with the
//! positions the layout stage fills in) for the built-in example and every
//! fixture, one file each under tests/suite/snapshots/. A change of the model
//! fails with a diff; to accept it, run the tests with `INSTA_UPDATE=always`
//! (or `cargo insta review`) and commit the rewritten files.

use std::fmt::Write as _;

use gongwen::case::CaseDir;
use gongwen::doc::{Align, Block, Document, Run, Table, Width};

use crate::common::*;

const PT: f64 = 25.4 / 72.0;

fn runs(rs: &[Run]) -> String {
    // a change of font is shown as [黑体]…; 仿宋 is the default
    rs.iter()
        .map(|r| match r.role.label() {
            "仿宋" => r.text.clone(),
            l => format!("[{l}]{}", r.text),
        })
        .collect::<Vec<_>>()
        .join("")
}

/// The data's own line breaks shown as ⏎.
fn text(s: &str) -> String {
    s.replace('\n', "⏎")
}

fn table(t: &Table, ind: &str, out: &mut String) {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let w = match c.width {
                Width::Mm(mm) => format!("{mm}mm"),
                Width::Fr(f) => format!("{f}fr"),
            };
            let a = match c.align {
                Align::Left => "left",
                Align::Center => "centre",
            };
            format!("{w} {a}")
        })
        .collect();
    let _ = writeln!(out, "{ind}table {}pt, columns: {}", t.size_pt, cols.join(" | "));
    let _ = writeln!(out, "{ind}  header: {}", t.header.join(" | "));
    for (r, row) in t.rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                let mut s = String::new();
                if c.rowspan > 1 {
                    let _ = write!(s, "[rowspan {}] ", c.rowspan);
                }
                if c.colspan > 1 {
                    let _ = write!(s, "[colspan {}] ", c.colspan);
                }
                match c.align {
                    Some(Align::Left) => s.push_str("[left] "),
                    Some(Align::Center) => s.push_str("[centre] "),
                    None => {}
                }
                s.push_str(&text(&c.text));
                s
            })
            .collect();
        let _ = writeln!(out, "{ind}  {:>3}: {}", r + 1, cells.join(" | "));
    }
}

fn blocks(bs: &[Block], ind: &str, out: &mut String) {
    for b in bs {
        match b {
            Block::Head(h) => {
                let _ = writeln!(out, "{ind}版头");
                for m in &h.marks {
                    let _ =
                        writeln!(out, "{ind}  mark: {}", runs(std::slice::from_ref(m)));
                }
                let _ = writeln!(out, "{ind}  标志: {}", h.organs.join(" / "));
                if let Some(w) = &h.wenjian_beside {
                    let _ = writeln!(out, "{ind}  beside: {w}");
                }
                let _ = writeln!(out, "{ind}  发文字号: {}", h.number);
                for l in &h.signer_lines {
                    let _ = writeln!(out, "{ind}  {}{}", h.signer_label, l.join(" "));
                }
            }
            Block::Title(lines) => {
                let _ = writeln!(out, "{ind}title: {}", lines.join(" / "));
            }
            Block::Blank(n) => {
                let _ = writeln!(out, "{ind}blank {n}");
            }
            Block::Para { runs: r, indent } => {
                let k = if *indent { "para" } else { "flush" };
                let _ = writeln!(out, "{ind}{k}: {}", text(&runs(r)));
            }
            Block::Heading(r) => {
                let _ = writeln!(out, "{ind}heading: {}", runs(r));
            }
            Block::ListItem { runs: r, hang } => {
                let _ = writeln!(out, "{ind}item (hang {hang}): {}", runs(r));
            }
            Block::Attachments { label, items } => {
                let _ = writeln!(out, "{ind}附件说明: {label}");
                for (n, t) in items {
                    let _ = writeln!(out, "{ind}  {n}{t}");
                }
            }
            Block::Signature { names, date, sealed, seal, place } => {
                let kind = if *sealed { "sealed" } else { "unsealed" };
                let _ =
                    writeln!(out, "{ind}signature ({kind}), mm from the 版心 left edge:");
                for (n, x) in names.iter().zip(&place.name_x_pt) {
                    let _ = writeln!(out, "{ind}  署名 at {:.2}: {n}", x * PT);
                }
                let right = place
                    .date_right_pt
                    .map_or(String::new(), |r| format!(", {:.2} from the right", r * PT));
                let _ = writeln!(
                    out,
                    "{ind}  date at {:.2}{right}: {date}",
                    place.date_x_pt * PT
                );
                let seal = seal.as_deref().unwrap_or("none");
                let _ = writeln!(
                    out,
                    "{ind}  seal centre {:.2}: {seal}",
                    place.seal_centre_pt * PT
                );
            }
            Block::NewFace => {
                let _ = writeln!(out, "{ind}--- new face");
            }
            Block::AnnexLabel(l) => {
                let _ = writeln!(out, "{ind}annex label: {l}");
            }
            Block::Table(t) => table(t, ind, out),
            Block::Landscape(inner) => {
                let _ = writeln!(out, "{ind}landscape:");
                blocks(inner, &format!("{ind}  "), out);
            }
        }
    }
}

/// The model as text, one block a line (table rows one a line).
pub fn render(doc: &Document) -> String {
    let mut out = format!("document: {}\n", doc.title);
    blocks(&doc.blocks, "", &mut out);
    if let Some(b) = &doc.banji {
        out.push_str("版记\n");
        if let Some(cc) = &b.cc {
            let _ = writeln!(out, "  {}{cc}", b.cc_label);
        }
        let _ = writeln!(out, "  {} | {}", b.printer, b.date);
    }
    out
}

fn snapshot(name: &str, dir: &CaseDir) {
    let s = settings();
    let composed =
        gongwen::pipeline::compose_dir(dir, &s).unwrap_or_else(|d| panic!("{d:#?}"));
    let mut doc = composed.doc;
    gongwen::layout::place_signatures(&mut doc, s.fonts.as_ref());
    insta::assert_snapshot!(format!("model_{name}"), render(&doc));
}

#[test]
fn model_example() {
    snapshot("example", &CaseDir::Builtin);
}

macro_rules! fixtures {
    ($($test:ident: $name:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            snapshot($name, &fixture($name));
        }
    )*};
}

fixtures! {
    model_small: "small",
    model_sealed: "sealed",
    model_lingchuan: "lingchuan",
    model_progress: "progress",
    model_plan_from_workbook: "plan-from-workbook",
    model_foot_1: "foot-1",
    model_foot_1_sealed: "foot-1-sealed",
    model_foot_2: "foot-2",
    model_foot_2_sealed: "foot-2-sealed",
    model_foot_3: "foot-3",
    model_foot_3_sealed: "foot-3-sealed",
}

/// Every fixture has its snapshot test above.
#[test]
fn every_fixture_has_a_snapshot() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("case.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let snaps =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/snapshots");
    for n in &names {
        let file = snaps.join(format!("suite__snapshot__model_{n}.snap"));
        assert!(file.is_file(), "no snapshot of the fixture {n}: {}", file.display());
    }
    assert_eq!(names.len(), 11, "{names:?}");
}
