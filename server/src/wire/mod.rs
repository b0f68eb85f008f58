//! What travels on the wire, shared by every transport: times (`time`), JSON cells
//! (`json`), request objects with their member order kept (`object`) and lists of
//! names borrowed from a body (`name_list`), as the HTTP
//! API and Kafka records spell them. Names nothing else of the crate, so the API and
//! Kafka both stand on it without standing on each other.

pub mod json;
pub mod name_list;
pub mod object;
pub mod time;
