//! Yardstick's reports as a library: the shapes people and programs read — metric rows,
//! scorecards with the arithmetic of each step, explanations with their records — defined
//! once as serialisable types with JSON Schemas (`schema.rs`, published in `docs/api/`),
//! and the writers of each format beside them (CSV, JSON, aligned tables, XLSX). The CLI
//! prints these; the web API will return exactly these shapes.
//!
//! Architecture Invariant: reports are made from the core's results and never compute a
//! number of their own beyond rounding for display.

pub mod card;
pub mod explain;
pub mod explain_text;
pub mod metrics;
pub mod schema;
pub mod sheet;
pub mod xlsx;
