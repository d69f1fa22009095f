//! The metric expression language: syntax ([`ast`], [`parse`]), type checking and
//! compilation ([`compile`]) into a vectorisable [`program`], and evaluation ([`eval`]).

pub mod ast;
pub mod compile;
pub mod eval;
pub mod parse;
pub mod program;
