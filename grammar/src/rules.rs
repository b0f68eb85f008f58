//! The pest parser generated from `feat.pest`: `FeatParser` and its `Rule`s, the floor
//! under every module that walks pest's pairs (the driver, the AST builder, the error
//! mapping, the formatter).

use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "feat.pest"]
pub(crate) struct FeatParser;
