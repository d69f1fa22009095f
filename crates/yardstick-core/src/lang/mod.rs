//! The metric expression language: syntax ([`ast`], [`parse`]), type checking and
//! compilation ([`compile`]) into a vectorisable [`program`], and evaluation ([`eval`]).

pub mod ast;
pub mod compile;
pub mod eval;
mod exists_index;
pub mod parse;
pub mod program;
