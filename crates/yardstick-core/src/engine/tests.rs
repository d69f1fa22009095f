//! The engine against hand-computed tables (SPEC §4): nulls, records exactly on period and
//! window boundaries, mixed UTC offsets, a team move in the middle of the month, an
//! unassigned ticket, excluded causes. Every expected value is worked out in the comments.

mod sources;
mod tickets;
