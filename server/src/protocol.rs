//! Wire messages of sync protocol version 1 (`docs/PROTOCOL.md`). The types
//! live in [`localfirst_core::sync::protocol`] (one definition for the server
//! and the client engine); this module re-exports them and adds the server's
//! frame parser.

use localfirst_core::error::Code;
use serde_json::Value;

pub use localfirst_core::sync::protocol::*;

/// Why an incoming text frame could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// `malformed-frame` or `unknown-message`.
    pub code: Code,
    /// Explanation.
    pub message: String,
}

const CLIENT_TYPES: [&str; 4] = ["hello", "push", "pull", "ping"];

/// Parses a client text frame, telling malformed frames from unknown types.
pub fn parse_client_frame(text: &str) -> Result<ClientMessage, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|e| FrameError {
        code: Code::MalformedFrame,
        message: format!("not JSON: {e}"),
    })?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| FrameError {
            code: Code::MalformedFrame,
            message: "a frame must be an object with a string `type`".to_owned(),
        })?;
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        let shown: String = kind.chars().take(64).collect();
        return Err(FrameError {
            code: Code::UnknownMessage,
            message: format!("unknown message type `{shown}`"),
        });
    }
    serde_json::from_value(value).map_err(|e| FrameError {
        code: Code::MalformedFrame,
        message: format!("bad `{kind}` frame: {e}"),
    })
}
