//! Helpers of the external-auth tests.

pub mod jwks;
