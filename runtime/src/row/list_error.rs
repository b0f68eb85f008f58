//! `ListError`: why a list column could not be built or spelled as text, as data;
//! rendered to text in one place (`Display`).

use std::fmt;

use datafusion::arrow::error::ArrowError;

use crate::ir::{ListType, Scalar};

/// Why `list::list_array` or `list::lists_as_text` failed.
#[derive(Debug)]
pub enum ListError {
    /// A row's value of a list column is neither a list of its type nor null.
    WrongValue { list: ListType, found: &'static str },
    /// An item of a list is not of the list's item type.
    WrongItem { item: Scalar, found: &'static str },
    /// The column's items do not fit Arrow's 32-bit offsets.
    TooManyItems { list: ListType },
    /// A counted list whose counts do not pair with its items.
    UnpairedCounts,
    /// Arrow refused the arrays.
    Arrow(ArrowError),
    /// A column of a list Arrow type that is not one of featc's list types.
    NotFeatcList { column: String },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::WrongValue { list, found } => {
                write!(f, "a {} column got a {found} value", list.name())
            }
            ListError::WrongItem { item, found } => {
                write!(f, "a list of {} got a {found} item", item.name())
            }
            ListError::TooManyItems { list } => {
                write!(f, "a {} column of more than 2^31 items", list.name())
            }
            ListError::UnpairedCounts => f.write_str("a counted list without one count per item"),
            ListError::Arrow(e) => write!(f, "{e}"),
            ListError::NotFeatcList { column } => {
                write!(f, "column `{column}` is not a featc list")
            }
        }
    }
}

impl std::error::Error for ListError {}

impl From<ArrowError> for ListError {
    fn from(e: ArrowError) -> ListError {
        ListError::Arrow(e)
    }
}
