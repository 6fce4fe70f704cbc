//! Reading JSON from outside with one rule: an object key that appears twice is
//! refused, at any depth. Parsers disagree on which of two equal keys wins (most
//! keep the last, some the first), so a document with duplicates can mean one
//! thing to us and another to the next reader; we accept neither.
//!
//! Token claims ([`crate::token`]), row values ([`crate::db::RowValues`]), filters
//! and policy files are read through here. The error is serde_json's, with the
//! reason ``duplicate field `<key>` `` and the position.

use std::collections::HashSet;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Parses JSON text into a [`Value`], refusing any object with a repeated key.
pub fn parse_unique(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<UniqueValue>(text).map(|value| value.0)
}

/// Parses JSON bytes into a [`Value`], refusing any object with a repeated key.
pub fn parse_unique_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<UniqueValue>(bytes).map(|value| value.0)
}

/// The one key reader of an object: calls `on_key` with each key (its value still to
/// be read from `map`) and refuses a key seen before, so "last wins" never happens.
pub(crate) fn visit_unique_keys<'de, A, F>(map: &mut A, mut on_key: F) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<(), A::Error>,
{
    let mut seen = HashSet::new();
    while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
        if !seen.insert(key.clone().into_owned()) {
            return Err(serde::de::Error::custom(format_args!(
                "duplicate field `{key}`"
            )));
        }
        on_key(key.as_ref(), map)?;
    }
    Ok(())
}

/// A JSON value read with [`visit_unique_keys`] at every level.
struct UniqueValue(Value);

impl<'de> Deserialize<'de> for UniqueValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UniqueValue, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = UniqueValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::from(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::String(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::String(value)))
    }

    fn visit_unit<E>(self) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::Null))
    }

    fn visit_none<E>(self) -> Result<UniqueValue, E> {
        Ok(UniqueValue(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<UniqueValue, D::Error> {
        UniqueValue::deserialize(inner)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(UniqueValue(item)) = seq.next_element_seed(UniqueSeed)? {
            items.push(item);
        }
        Ok(UniqueValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueValue, A::Error> {
        let mut object = Map::new();
        visit_unique_keys(&mut map, |key, map| {
            let UniqueValue(value) = map.next_value_seed(UniqueSeed)?;
            object.insert(key.to_owned(), value);
            Ok(())
        })?;
        Ok(UniqueValue(Value::Object(object)))
    }
}

/// Reads one nested [`UniqueValue`].
struct UniqueSeed;

impl<'de> DeserializeSeed<'de> for UniqueSeed {
    type Value = UniqueValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<UniqueValue, D::Error> {
        UniqueValue::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_are_refused_at_every_depth() {
        for text in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1, "b": {"c": 1, "c": 1}}"#,
            r#"[{"x": [1, {"y": null, "y": null}]}]"#,
            r#"{"é": 1, "\u00e9": 2}"#,
        ] {
            let error = parse_unique(text).unwrap_err();
            assert!(
                error.to_string().contains("duplicate field"),
                "{text}: {error}"
            );
            assert!(parse_unique_slice(text.as_bytes()).is_err(), "{text}");
            // A plain parse would have accepted it.
            assert!(serde_json::from_str::<Value>(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn everything_else_reads_as_serde_json_reads_it() {
        for text in [
            r#"{"a": 1, "b": -2, "c": 1.5, "d": 18446744073709551615, "e": "x\ny"}"#,
            r#"[null, true, false, [], {}, {"a": {"a": {"a": 1}}}]"#,
            r#""just a string""#,
            "12",
        ] {
            assert_eq!(
                parse_unique(text).unwrap(),
                serde_json::from_str::<Value>(text).unwrap(),
                "{text}"
            );
        }
        assert_eq!(
            parse_unique(r#"{"k": [1, 2]}"#).unwrap(),
            json!({"k": [1, 2]})
        );
        assert!(parse_unique("{").is_err());
        assert!(
            parse_unique(&"[".repeat(100_000)).is_err(),
            "depth stays bounded"
        );
    }
}
