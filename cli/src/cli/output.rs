//! Printing: one ordered JSON object (`--json`) or aligned `name  value` lines, and
//! every write checked.
//!
//! Key order is fixed by the CLI, never by `serde_json`'s features: a report's fields
//! come out in the order the command added them; objects nested inside a field (rows,
//! outbox entries) come out with their keys sorted by Unicode code point. The same
//! build of the core therefore prints byte-identical JSON whichever features other
//! crates turn on.

use std::io::Write;

use serde_json::Value;

/// Writes `fields` as one JSON object on one line, in the given order.
pub fn json_object_line(fields: &[(String, Value)]) -> String {
    let mut out = String::from("{");
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(&mut out, name);
        out.push(':');
        write_value(&mut out, value);
    }
    out.push('}');
    out
}

/// `value` as compact JSON with object keys sorted by code point.
pub fn ordered_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Prints `text` and a newline to `out` and flushes, reporting any failure.
pub fn write_line(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Whether the process started with its standard output closed (`>&-`). The Rust
/// runtime then puts `/dev/null`, opened for reading and writing, on descriptor 1, so
/// every write "succeeds" and prints nowhere; a shell's `>/dev/null` opens it for
/// writing only, so that stays allowed. Unix only; elsewhere `false`.
pub fn stdout_closed_at_start() -> bool {
    #[cfg(unix)]
    {
        use std::io::Read as _;
        use std::os::fd::AsFd as _;
        use std::os::unix::fs::MetadataExt as _;
        let Ok(descriptor) = std::io::stdout().as_fd().try_clone_to_owned() else {
            return true;
        };
        let mut stdout = std::fs::File::from(descriptor);
        let (Ok(out), Ok(null)) = (stdout.metadata(), std::fs::metadata("/dev/null")) else {
            return false;
        };
        // Only the runtime's stand-in is /dev/null opened for reading too.
        (out.dev(), out.ino()) == (null.dev(), null.ino()) && stdout.read(&mut [0u8; 1]).is_ok()
    }
    #[cfg(not(unix))]
    false
}

/// The human form: one `name  value` line per field, names padded to one width.
pub fn human_lines(fields: &[(String, Value)]) -> String {
    let width = fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (index, (name, value)) in fields.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        let shown = match value {
            Value::String(s) => s.clone(),
            Value::Null => "-".to_owned(),
            other => ordered_json(other),
        };
        text.push_str(&format!("{name:width$}  {shown}"));
    }
    text
}

fn write_string(out: &mut String, text: &str) {
    // Serialising a plain string cannot fail; the fallback keeps the output valid JSON.
    match serde_json::to_string(text) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (name, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::String(text) => write_string(out, text),
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_order_and_nested_keys_are_sorted() {
        let mut nested = serde_json::Map::new();
        nested.insert("zeta".into(), Value::from(1));
        nested.insert("$createdBy".into(), Value::from("u"));
        nested.insert("alpha".into(), Value::from(vec![Value::Null]));
        let fields = vec![
            ("b".to_owned(), Value::from(true)),
            ("a".to_owned(), Value::Object(nested)),
            ("q\"".to_owned(), Value::from("x\ny")),
        ];
        assert_eq!(
            json_object_line(&fields),
            r#"{"b":true,"a":{"$createdBy":"u","alpha":[null],"zeta":1},"q\"":"x\ny"}"#
        );
    }
}
