//! What travels on the wire, shared by every transport: times (`time`), JSON cells
//! (`json`) and request objects with their member order kept (`object`), as the HTTP
//! API and Kafka records spell them. Names nothing else of the crate, so the API and
//! Kafka both stand on it without standing on each other.

pub mod json;
pub mod object;
pub mod time;
