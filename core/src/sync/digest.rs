//! The content digest of a pushed entry: what the server records beside an
//! idempotency key `(user id, client id, seq)`, so that a resend (same key,
//! same content) is told apart from another device writing under the same
//! client id (same key, other content).
//!
//! The digest is SHA-256 over a canonical encoding of table, op, id, payload
//! and the writer's time `at`, independent of key order, whitespace and serde
//! features: every value is a tag byte then its content; strings and arrays
//! carry their length (8 bytes, big endian); object members are sorted by key
//! bytes; integers are their decimal text, other numbers the bits of their
//! `f64`. The time follows the payload as `@` and 8 bytes (big endian); an
//! entry without one (a client from before `at`) adds nothing, so it digests
//! exactly as table, op, id and payload alone.
//!
//! `at` is part of the write: a resend of one outbox entry carries the same
//! time, while another device writing the same content under the same client
//! id and seq at another moment is a different write.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::protocol::{PushEntry, WriteOp};

/// Domain separation, and the version of this encoding.
const DOMAIN: &[u8] = b"localfirst-push-entry-v1";

impl PushEntry {
    /// SHA-256 of the entry's table, op, id, payload and `at` (not its seq),
    /// in the canonical encoding described in this module.
    pub fn content_digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        string(&mut hasher, &self.table);
        hasher.update(match self.op {
            WriteOp::Insert => b"i",
            WriteOp::Update => b"u",
            WriteOp::Delete => b"d",
        });
        string(&mut hasher, &self.id);
        match &self.payload {
            None => hasher.update(b"-"),
            Some(map) => {
                hasher.update(b"+");
                object(&mut hasher, map);
            }
        }
        if let Some(at) = self.at {
            hasher.update(b"@");
            hasher.update(at.to_be_bytes());
        }
        hasher.finalize().into()
    }
}

fn length(hasher: &mut Sha256, len: usize) {
    hasher.update(u64::try_from(len).unwrap_or(u64::MAX).to_be_bytes());
}

fn string(hasher: &mut Sha256, text: &str) {
    hasher.update(b"s");
    length(hasher, text.len());
    hasher.update(text.as_bytes());
}

fn object(hasher: &mut Sha256, map: &serde_json::Map<String, Value>) {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    hasher.update(b"o");
    length(hasher, members.len());
    for (key, value) in members {
        string(hasher, key);
        self::value(hasher, value);
    }
}

fn value(hasher: &mut Sha256, value: &Value) {
    match value {
        Value::Null => hasher.update(b"n"),
        Value::Bool(false) => hasher.update(b"f"),
        Value::Bool(true) => hasher.update(b"t"),
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                hasher.update(b"i");
                string(hasher, &int.to_string());
            } else if let Some(int) = number.as_u64() {
                hasher.update(b"i");
                string(hasher, &int.to_string());
            } else {
                hasher.update(b"d");
                let float = number.as_f64().unwrap_or(f64::NAN);
                hasher.update(float.to_bits().to_be_bytes());
            }
        }
        Value::String(text) => string(hasher, text),
        Value::Array(items) => {
            hasher.update(b"a");
            length(hasher, items.len());
            for item in items {
                self::value(hasher, item);
            }
        }
        Value::Object(map) => object(hasher, map),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(op: WriteOp, id: &str, payload: Option<Value>) -> PushEntry {
        PushEntry {
            seq: 1,
            table: "todos".into(),
            op,
            id: id.into(),
            payload: payload.and_then(|p| p.as_object().cloned()),
            at: None,
        }
    }

    #[test]
    fn key_order_and_seq_do_not_matter() {
        let a = entry(
            WriteOp::Insert,
            "r",
            Some(json!({"a": 1, "b": [true, null]})),
        );
        let b: PushEntry = serde_json::from_str(
            r#"{"seq": 9, "table": "todos", "op": "insert", "id": "r",
                "payload": {"b": [true, null], "a": 1}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.content_digest(), b.content_digest());
    }

    #[test]
    fn every_part_of_the_content_counts() {
        let base = entry(WriteOp::Update, "r", Some(json!({"n": 1})));
        let variants = [
            entry(WriteOp::Insert, "r", Some(json!({"n": 1}))),
            entry(WriteOp::Update, "s", Some(json!({"n": 1}))),
            entry(WriteOp::Update, "r", Some(json!({"n": 2}))),
            entry(WriteOp::Update, "r", Some(json!({"n": 1.0}))),
            entry(WriteOp::Update, "r", Some(json!({"n": "1"}))),
            entry(WriteOp::Update, "r", Some(json!({"m": 1}))),
            entry(WriteOp::Update, "r", Some(json!({}))),
            entry(WriteOp::Update, "r", None),
            PushEntry {
                table: "other".into(),
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(
                base.content_digest(),
                variant.content_digest(),
                "{variant:?}"
            );
        }
    }

    #[test]
    fn the_writers_time_counts_and_its_absence_keeps_the_old_digest() {
        let base = entry(WriteOp::Update, "r", Some(json!({"n": 1})));
        let at = |t: u64| PushEntry {
            at: Some(t),
            ..base.clone()
        };
        // A resend of the same outbox entry carries the same time.
        assert_eq!(
            at(1_700_000_000).content_digest(),
            at(1_700_000_000).content_digest()
        );
        assert_ne!(
            at(1_700_000_000).content_digest(),
            at(1_700_000_001).content_digest()
        );
        assert_ne!(at(0).content_digest(), base.content_digest());
        // An entry without a time (a client from before `at`) digests as
        // table, op, id and payload alone: the encoding of version 1.
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        string(&mut hasher, "todos");
        hasher.update(b"u");
        string(&mut hasher, "r");
        hasher.update(b"+");
        object(
            &mut hasher,
            json!({"n": 1}).as_object().unwrap_or_else(|| panic!()),
        );
        let without_time: [u8; 32] = hasher.finalize().into();
        assert_eq!(base.content_digest(), without_time);
    }

    #[test]
    fn lengths_keep_neighbouring_strings_apart() {
        let a = PushEntry {
            table: "ab".into(),
            ..entry(WriteOp::Delete, "c", None)
        };
        let b = PushEntry {
            table: "a".into(),
            ..entry(WriteOp::Delete, "bc", None)
        };
        assert_ne!(a.content_digest(), b.content_digest());
        let nested = entry(WriteOp::Insert, "r", Some(json!({"x": [["a"], "b"]})));
        let flat = entry(WriteOp::Insert, "r", Some(json!({"x": [["a", "b"]]})));
        assert_ne!(nested.content_digest(), flat.content_digest());
    }
}
