//! The Expo module's `src/codes.ts` is generated from the catalogue: this test renders
//! it from `Code::ALL` and `ErrorDetails` and fails when the committed file differs.
//! `LOCALFIRST_BLESS=1 cargo test -p localfirst-core --test typescript_codes` rewrites
//! the file instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::fmt::Write as _;
use std::path::PathBuf;

use localfirst_core::error::{Code, ErrorDetails};
use localfirst_core::policy::Operation;
use serde_json::Value;

/// Where the generated file lives.
fn target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../expo-module/src/codes.ts")
}

/// One value of every `ErrorDetails` variant. The `match` in [`variant_index`] has an
/// arm per variant, so a new variant does not compile until it has an index, and the
/// test fails until it has a sample here.
fn samples() -> Vec<ErrorDetails> {
    vec![
        ErrorDetails::PhraseLength { got: 3 },
        ErrorDetails::InvalidWord {
            position: 1,
            word: "w".into(),
        },
        ErrorDetails::AuthenticatorFlags { flags: 1 },
        ErrorDetails::VaultTimeout { timeout_ms: 1 },
        ErrorDetails::IdentityConflict {
            device_user_id: "a".into(),
            vault_user_id: "b".into(),
        },
        ErrorDetails::TableOperation {
            table: "t".into(),
            operation: Operation::Insert,
        },
        ErrorDetails::Row {
            table: "t".into(),
            id: "1".into(),
        },
        ErrorDetails::TableNameClash {
            table: "T".into(),
            existing: "t".into(),
        },
        ErrorDetails::SyncCode {
            code: "expired".into(),
        },
    ]
}

/// The position of `details`' variant; `VARIANTS` is how many there are.
fn variant_index(details: &ErrorDetails) -> usize {
    match details {
        ErrorDetails::PhraseLength { .. } => 0,
        ErrorDetails::InvalidWord { .. } => 1,
        ErrorDetails::AuthenticatorFlags { .. } => 2,
        ErrorDetails::VaultTimeout { .. } => 3,
        ErrorDetails::IdentityConflict { .. } => 4,
        ErrorDetails::TableOperation { .. } => 5,
        ErrorDetails::Row { .. } => 6,
        ErrorDetails::TableNameClash { .. } => 7,
        ErrorDetails::SyncCode { .. } => 8,
    }
}
const VARIANTS: usize = 9;

fn quoted(text: &str) -> String {
    format!("'{text}'")
}

/// The TypeScript type of a details field, read from its sample value.
fn field_type(name: &str, value: &Value) -> &'static str {
    match (name, value) {
        ("operation", _) => "Operation",
        (_, Value::String(_)) => "string",
        (_, Value::Number(_)) => "number",
        (_, Value::Bool(_)) => "boolean",
        _ => panic!("no TypeScript type for {name}: {value}"),
    }
}

fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "// Generated from the error catalogue (localfirst_core::error, docs/ERRORS.md): do not edit.\n\
         // `cargo test -p localfirst-core --test typescript_codes` checks this file against the\n\
         // catalogue; with LOCALFIRST_BLESS=1 the same command rewrites it.\n\n",
    );
    out.push_str(
        "/** A code of the error catalogue (docs/ERRORS.md). */\nexport type ErrorCode =\n",
    );
    for (at, code) in Code::ALL.iter().enumerate() {
        let end = if at + 1 == Code::ALL.len() { ";" } else { "" };
        writeln!(out, "  | {}{end}", quoted(code.as_str())).unwrap();
    }
    out.push_str("\n/** Every code of the catalogue, in catalogue order. */\n");
    out.push_str("export const ERROR_CODES: readonly ErrorCode[] = [\n");
    for code in Code::ALL {
        writeln!(out, "  {},", quoted(code.as_str())).unwrap();
    }
    out.push_str(
        "];\n\n/** An operation on a table, as policies name it. */\nexport type Operation =",
    );
    let operations: Vec<String> = Operation::ALL
        .iter()
        .map(|operation| quoted(operation.as_str()))
        .collect();
    writeln!(out, " {};", operations.join(" | ")).unwrap();
    out.push_str(
        "\n/**\n * Typed facts some errors carry beyond their code (`LocalFirstError.details`), told apart\n * by `kind`: which word of a recovery phrase is wrong, both user ids of a vault conflict, ...\n */\nexport type ErrorDetails =\n",
    );
    let samples = samples();
    for (at, details) in samples.iter().enumerate() {
        let Value::Object(fields) = serde_json::to_value(details).unwrap() else {
            panic!("details serialise as an object");
        };
        let kind = fields["kind"].as_str().unwrap();
        let shape: Vec<String> = std::iter::once(format!("kind: {}", quoted(kind)))
            .chain(
                fields
                    .iter()
                    .filter(|(name, _)| name.as_str() != "kind")
                    .map(|(name, value)| format!("{name}: {}", field_type(name, value))),
            )
            .collect();
        let end = if at + 1 == samples.len() { ";" } else { "" };
        writeln!(out, "  | {{ {} }}{end}", shape.join("; ")).unwrap();
    }
    out
}

#[test]
fn every_details_variant_has_one_sample() {
    let mut seen: Vec<usize> = samples().iter().map(variant_index).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..VARIANTS).collect::<Vec<_>>());
}

#[test]
fn the_expo_code_file_matches_the_catalogue() {
    let rendered = render();
    let path = target();
    if std::env::var_os("LOCALFIRST_BLESS").is_some_and(|value| value == "1") {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "expo-module/src/codes.ts is out of date: run `LOCALFIRST_BLESS=1 cargo test -p localfirst-core --test typescript_codes` and commit it"
    );
}
