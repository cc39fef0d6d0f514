//! Integration tests: one binary, one module per feature.

mod common;
mod example;
mod invalid;
mod cli;
