//! Recovery phrases against the BIP39 reference test data, plus input tolerance
//! and the four error codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use localfirst_core::phrase::{phrase_to_secret, secret_to_phrase, PhraseError, RecoveryPhrase};
use localfirst_core::secret::Secret;
use localfirst_core::ErrorCode;
use proptest::prelude::*;
use serde_json::Value;

fn hex32(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn reference() -> Vec<(Secret, String)> {
    let data: Value = common::data_json("bip39_english_256.json");
    let list = data["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 8);
    list.iter()
        .map(|pair| {
            (
                Secret::from_bytes(hex32(pair[0].as_str().unwrap())),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn bip39_reference_vectors_encode_and_decode() {
    for (secret, words) in reference() {
        assert_eq!(secret_to_phrase(&secret).expose(), words);
        assert_eq!(phrase_to_secret(&words).unwrap(), secret);
    }
}

#[test]
fn tolerates_case_and_whitespace() {
    for (secret, words) in reference() {
        let messy = format!(
            "  \t{}\n ",
            words
                .split(' ')
                .enumerate()
                .map(|(i, w)| if i % 2 == 0 {
                    w.to_uppercase()
                } else {
                    w.to_owned()
                })
                .collect::<Vec<_>>()
                .join(" \t\n  ")
        );
        assert_eq!(phrase_to_secret(&messy).unwrap(), secret);
        assert_eq!(RecoveryPhrase::parse(&messy).unwrap().expose(), words);
    }
}

#[test]
fn error_codes_are_stable() {
    let (_, words) = &reference()[1];
    let list: Vec<&str> = words.split(' ').collect();

    let short = phrase_to_secret(&list[..12].join(" ")).unwrap_err();
    assert_eq!(short, PhraseError::InvalidLength { got: 12 });
    assert_eq!(short.code(), "invalid-length");
    assert_eq!(short.to_string(), "Expected 24 words, got 12");
    assert_eq!(
        phrase_to_secret("").unwrap_err(),
        PhraseError::InvalidLength { got: 0 }
    );
    assert_eq!(
        phrase_to_secret(&format!("{words} zoo"))
            .unwrap_err()
            .code(),
        "invalid-length"
    );

    let mut bad_word = list.clone();
    bad_word[9] = "jazzy";
    let err = phrase_to_secret(&bad_word.join(" ")).unwrap_err();
    assert_eq!(err.code(), "invalid-word");
    assert!(
        err.to_string().contains("10") && err.to_string().contains("jazzy"),
        "{err}"
    );

    let mut swapped = list.clone();
    swapped.swap(0, 1);
    assert_eq!(
        phrase_to_secret(&swapped.join(" ")).unwrap_err().code(),
        "invalid-checksum"
    );
    assert_eq!(PhraseError::InvalidSecret.code(), "invalid-secret");
}

#[test]
fn refusals_keep_their_order_and_words_any_spelling() {
    let (secret, words) = &reference()[1];
    let list: Vec<&str> = words.split(' ').collect();
    let with = |edits: &[(usize, &str)]| {
        let mut edited = list.clone();
        for (at, word) in edits {
            edited[*at] = word;
        }
        edited.join(" ")
    };
    // An unknown word is named (lower-cased, one-based) even when the checksum fails too,
    // and only the first of several.
    let both = with(&[(2, "ZZZ"), (5, "qqq"), (0, list[1]), (1, list[0])]);
    let error = phrase_to_secret(&both).unwrap_err();
    assert_eq!(
        error,
        PhraseError::InvalidWord {
            position: 3,
            word: "zzz".into()
        }
    );
    assert_eq!(
        error.to_string(),
        r#"Word 3 ("zzz") is not in the recovery word list"#
    );
    assert_eq!(
        phrase_to_secret(&with(&[(23, "CAFÉ")])).unwrap_err(),
        PhraseError::InvalidWord {
            position: 24,
            word: "café".into()
        }
    );
    // The count comes first, whatever the words.
    assert_eq!(
        phrase_to_secret(&format!("{both} café")).unwrap_err(),
        PhraseError::InvalidLength { got: 25 }
    );
    // Any Unicode whitespace separates words; a letter that lower-cases to an ASCII one
    // (the Kelvin sign to "k") is that letter.
    let ideographic = list.join("\u{3000}");
    assert_eq!(&phrase_to_secret(&ideographic).unwrap(), secret);
    let at = list.iter().position(|word| word.contains('k')).unwrap();
    let kelvin = list[at].replacen('k', "\u{212A}", 1);
    let text = with(&[(at, &kelvin)]);
    assert_eq!(&phrase_to_secret(&text).unwrap(), secret);
    assert_eq!(RecoveryPhrase::parse(&text).unwrap().expose(), words);
}

proptest! {
    #[test]
    fn any_secret_round_trips(bytes in any::<[u8; 32]>()) {
        let secret = Secret::from_bytes(bytes);
        let phrase = secret_to_phrase(&secret);
        prop_assert_eq!(phrase.expose().split(' ').count(), 24);
        prop_assert_eq!(phrase_to_secret(phrase.expose()).unwrap(), secret);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = phrase_to_secret(&text);
    }
}
