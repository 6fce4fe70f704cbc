//! Reading JSON from outside with one rule: an object key that appears twice is
//! refused, at any depth. Parsers disagree on which of two equal keys wins (most
//! keep the last, some the first), so a document with duplicates can mean one
//! thing to us and another to the next reader; we accept neither.
//!
//! Token claims ([`crate::token`]), row values ([`crate::db::RowValues`]), filters
//! and policy files are read through here. The error is serde_json's, with the
//! reason ``duplicate field `KEY` `` and the position.

use std::borrow::Cow;
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
    visit_unique_keys_among(map, &[], |key, map| on_key(key.name, map))
}

/// A key of an object being read by [`visit_unique_keys_among`].
pub(crate) struct Key<'k> {
    /// The key, unescaped.
    pub name: &'k str,
    /// Its index in the `known` keys, if it is one of them.
    pub known: Option<usize>,
}

/// [`visit_unique_keys`] for an object whose usual keys are known in advance (a token's
/// claims): a repeat of one of the first 64 `known` keys is found with one bit per key, and
/// keys are borrowed from the input unless they hold escapes, so reading an object of known
/// keys allocates nothing. Any other key is remembered in a set made at the first one.
/// The refusal is the same whichever way a repeat is found.
pub(crate) fn visit_unique_keys_among<'de, A, F>(
    map: &mut A,
    known: &[&str],
    mut on_key: F,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(Key<'_>, &mut A) -> Result<(), A::Error>,
{
    let mut seen_known = 0u64;
    let mut seen_other = SeenKeys::default();
    while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
        let index = known.iter().position(|candidate| *candidate == name);
        let repeated = match index {
            Some(index) if index < 64 => {
                let bit = 1u64 << index;
                let repeated = seen_known & bit != 0;
                seen_known |= bit;
                repeated
            }
            _ => !seen_other.insert(name.clone()),
        };
        if repeated {
            return Err(serde::de::Error::custom(format_args!(
                "duplicate field `{name}`"
            )));
        }
        on_key(
            Key {
                name: &name,
                known: index,
            },
            map,
        )?;
    }
    Ok(())
}

/// Up to this many keys of an object are compared one by one; past it they go in a set.
const FEW_KEYS: usize = 16;

/// The keys of one object seen so far: a short list while the object is small (most are:
/// no hashing, one allocation), a hash set once it is not (no quadratic time).
#[derive(Default)]
struct SeenKeys<'de> {
    few: Vec<Cow<'de, str>>,
    many: HashSet<Cow<'de, str>>,
}

impl<'de> SeenKeys<'de> {
    /// Remembers `key`; `false` if it was seen before.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if self.few.len() < FEW_KEYS {
            if self.few.contains(&key) {
                return false;
            }
            if self.few.is_empty() {
                self.few.reserve_exact(FEW_KEYS);
            }
            self.few.push(key);
            return true;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.iter().cloned());
        }
        self.many.insert(key)
    }
}

/// A JSON string borrowed from the input where it holds no escapes, copied where it does
/// (serde's own `Cow<str>` always copies). Refuses anything else exactly as reading a
/// `String` would: the expected type is named "a string".
pub(crate) struct Text<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(value)))
    }
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
    fn repeats_are_found_in_objects_of_any_size() {
        for size in [1, 2, 15, 16, 17, 40] {
            let keys: Vec<String> = (0..size).map(|n| format!("\"k{n}\": {n}")).collect();
            let object = format!("{{{}}}", keys.join(","));
            assert_eq!(
                parse_unique(&object).unwrap().as_object().unwrap().len(),
                size,
                "{object}"
            );
            for repeat in [0, size / 2, size - 1] {
                let text = format!("{{{}, \"k{repeat}\": null}}", keys.join(","));
                let error = parse_unique(&text).unwrap_err().to_string();
                assert!(
                    error.starts_with(&format!("duplicate field `k{repeat}`")),
                    "{size} keys, k{repeat} again: {error}"
                );
            }
        }
    }

    #[test]
    fn known_keys_and_others_are_told_apart() {
        #[derive(Debug)]
        struct Seen(Vec<(String, Option<usize>)>);
        impl<'de> Deserialize<'de> for Seen {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Seen, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Seen;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen, A::Error> {
                        let mut seen = Vec::new();
                        visit_unique_keys_among(&mut map, &["a", "b"], |key, map| {
                            seen.push((key.name.to_owned(), key.known));
                            map.next_value::<serde::de::IgnoredAny>().map(|_| ())
                        })?;
                        Ok(Seen(seen))
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
        let seen: Seen = serde_json::from_str(r#"{"b": 1, "x": 2, "\u0061": 3}"#).unwrap();
        assert_eq!(
            seen.0,
            [
                ("b".into(), Some(1)),
                ("x".into(), None),
                ("a".into(), Some(0))
            ]
        );
        for text in [r#"{"a": 1, "\u0061": 2}"#, r#"{"x": 1, "b": 2, "x": 3}"#] {
            let error = serde_json::from_str::<Seen>(text).unwrap_err().to_string();
            assert!(error.starts_with("duplicate field"), "{text}: {error}");
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
