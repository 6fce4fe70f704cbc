//! `changes` frames bounded in bytes: the part of a page of the log a session
//! may read, cut into frames of at most `maxFrameBytes` each.

use localfirst_core::policy::PolicySet;
use localfirst_core::session::Session;

use crate::apply;
use localfirst_core::error::Code;

use crate::protocol::{encoded_len, ServerMessage, WireChange};
use crate::store::Change;

/// One `changes` frame's worth of a page.
pub(crate) struct FramePart {
    /// The visible changes, in log order.
    pub(crate) changes: Vec<WireChange>,
    /// The cursor of the last change of the page this part covers (visible or
    /// not): what the client has seen up to.
    pub(crate) cursor: u64,
    /// Index in the page of the first change this part does not cover.
    pub(crate) next: usize,
}

/// The next frame of `page[start..]`: as many changes as fit, in order, into a
/// `changes` frame of `max_frame_bytes`, and at least one if any is visible.
/// A change too large for a frame on its own (a row stored before the row
/// limit existed) goes without its row, marked `omitted: row-too-large`.
/// `after` is the cursor before `page[start]`.
pub(crate) fn next_part(
    page: &[Change],
    start: usize,
    after: u64,
    session: &Session,
    policies: Option<&PolicySet>,
    max_frame_bytes: usize,
) -> FramePart {
    let mut size = encoded_len(&ServerMessage::Changes {
        changes: Vec::new(),
        cursor: u64::MAX,
        more: true,
        live: true,
    });
    let mut part = FramePart {
        changes: Vec::new(),
        cursor: after,
        next: start,
    };
    for change in page.iter().skip(start) {
        if let Some(mut wire) = apply::visible(change, session, policies) {
            // One more change and its separating comma.
            let mut grown = size.saturating_add(encoded_len(&wire)).saturating_add(1);
            if grown > max_frame_bytes && part.changes.is_empty() {
                wire.row = None;
                wire.omitted = Some(Code::RowTooLarge.as_str().to_owned());
                grown = size.saturating_add(encoded_len(&wire)).saturating_add(1);
            }
            // The first change always goes in, so every part makes progress
            // (the omitted form is far below the smallest frame limit).
            if grown > max_frame_bytes && !part.changes.is_empty() {
                break;
            }
            size = grown;
            part.changes.push(wire);
        }
        part.cursor = change.cursor;
        part.next += 1;
    }
    part
}
