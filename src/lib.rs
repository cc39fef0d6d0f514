//! gongwen：把结构化数据生成为符合 GB/T 9704-2012 的公文（PDF 与 DOCX）。
//!
//! Pipeline: `case` (TOML → checked [`model::Case`], every problem located) →
//! `compose` (wording from Tera, numbering, dates, table spans → [`doc::Document`]) →
//! `render::typst` (Typst source → PDF through the typst crate) and
//! `render::docx` (docx-rs). Both writers read the same document model, so the
//! PDF and the DOCX carry the same text.

// Diagnostics travel by value: they are few, and never on a hot path.
#![expect(
    clippy::result_large_err,
    reason = "diagnostics are few and carry their location by value"
)]

pub mod batch;
pub mod bench;
pub mod case;
pub mod cmd;
pub mod compose;
pub mod deadline;
pub mod diag;
pub mod doc;
pub mod fsguard;
pub mod layout;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod registry;
pub mod render;
pub mod scores;
pub mod serve;
pub mod units;
