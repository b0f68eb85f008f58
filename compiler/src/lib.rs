//! featc: the compiler from `.feat` projects to a typed IR, batch plans and stream graphs.
