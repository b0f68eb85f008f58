//! Group mode (`featc serve --kafka-group`): what its instances share.

pub mod store;
