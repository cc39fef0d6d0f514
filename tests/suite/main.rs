//! Integration tests: one binary, one module per feature.

mod attacks;
mod cli;
mod common;
mod example;
mod frames;
mod invalid;
mod progress;
mod realdata;
mod robust;
mod scores;
mod serve;
mod signatures;
mod snapshot;
mod templates;
mod workbook;
