//! The Yardstick domain: records, business calendar, metric language and catalogue, and
//! the KPI engine. Pure: no async, no database, no HTTP, no file system.

pub mod calendar;
pub mod diag;
pub mod period;
pub mod time;
pub mod data;
pub mod lang;
pub mod schema;
pub mod metric;
