//! Writers: the document model to Typst (and from there PDF) and to DOCX.

pub mod docx;
pub mod ooxml;
pub mod typst;
