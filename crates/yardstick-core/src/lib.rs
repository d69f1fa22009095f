//! The Yardstick domain: records, business calendar, metric language and catalogue, and
//! the KPI engine. Pure: no async, no database, no HTTP, no file system.

pub mod calendar;
pub mod data;
pub mod diag;
pub mod engine;
pub mod host;
pub mod lang;
pub mod metric;
pub mod period;
pub mod schema;
pub mod scorecard;
pub mod settings;
#[cfg(test)]
pub(crate) mod testkit;
pub mod time;
