//! Authentication of incoming connections.

mod jwks;
mod jwt;

pub mod external;
pub mod token_cache;
