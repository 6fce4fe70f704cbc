//! The error catalogue: every machine-readable code the library and the CLI return.
//!
//! Each module has its own error enum; all of them implement [`ErrorCode`], which
//! maps every variant to one [`Code`]. [`Code`] is the single list of codes: each
//! code appears once, means one thing wherever it is returned, and is spelled in
//! kebab-case. Codes are part of the public contract (the CLI prints them, the
//! bindings pass them to Swift, Kotlin and TypeScript); a code never changes
//! meaning once shipped. `docs/ERRORS.md` explains each code and what an app
//! should do about it.
//!
//! At a boundary an error travels as an [`ErrorReport`] ([`ErrorCode::report`]): its
//! code, its message, and the typed [`ErrorDetails`] some errors carry. The list of
//! codes itself is [`error_codes!`](crate::error_codes), which the bindings replay to
//! declare their own code enum.
//!
//! Shape of a code:
//!
//! * lower-case ASCII words joined by `-`;
//! * unambiguous without knowing which module returned it: a generic word gets
//!   the name of what failed in front (`secret-store-io`, `local-db-io`,
//!   `token-public-key-length`);
//! * two modules share a code only when it means the same thing and asks the
//!   app for the same reaction (`not-found`, `storage-reset`, `rng-failure`);
//! * codes fixed by the product specification keep their exact spelling
//!   (`expired`, `missing`, `invalid`, `disabled`, `invalid-length`,
//!   `invalid-word`, `invalid-checksum`, `invalid-secret`).
//!
//! ```
//! use localfirst_core::error::{Code, ErrorCode as _};
//! use localfirst_core::phrase::RecoveryPhrase;
//!
//! let error = RecoveryPhrase::parse("abandon").unwrap_err();
//! assert_eq!(error.code(), Code::InvalidLength);
//! assert_eq!(error.code(), "invalid-length");
//! assert_eq!("invalid-length".parse::<Code>(), Ok(Code::InvalidLength));
//! ```

mod catalogue;
mod report;

pub use catalogue::Code;
pub use report::{ErrorDetails, ErrorReport};

/// A value with a stable, catalogued error code (every public error enum).
pub trait ErrorCode {
    /// The machine-readable code, e.g. [`Code::Expired`] (`"expired"`).
    fn code(&self) -> Code;

    /// Typed facts the error carries beyond its code (which word of a phrase, both
    /// user ids of a conflict, ...), or `None`. Each module's error says which of its
    /// variants have them; the boundaries hand them on unchanged.
    fn details(&self) -> Option<ErrorDetails> {
        None
    }

    /// The error as every boundary hands it on: code, message and details.
    fn report(&self) -> ErrorReport
    where
        Self: std::fmt::Display,
    {
        ErrorReport {
            code: self.code(),
            reason: self.to_string(),
            details: self.details(),
        }
    }
}

/// A text that is not a catalogued error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unknown error code {text:?}")]
pub struct UnknownCode {
    /// The text that was given.
    pub text: String,
}

impl Code {
    /// Whether `text` is shaped like a code: non-empty lower-case ASCII letters and
    /// digits in words joined by single `-`.
    pub fn is_well_formed(text: &str) -> bool {
        !text.is_empty()
            && text.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for str {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Code> for String {
    fn eq(&self, other: &Code) -> bool {
        self == other.as_str()
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Text from outside (a token's claim, a key id) as a message shows it: JSON-quoted, so
/// control characters are escaped and no Rust debug syntax leaks into messages, and cut
/// after [`Quoted::MAX_CHARS`] characters (an ellipsis marks the cut).
///
/// ```
/// use localfirst_core::error::Quoted;
///
/// assert_eq!(Quoted("es1").to_string(), r#""es1""#);
/// assert_eq!(Quoted("a\u{7}b").to_string(), r#""a\u0007b""#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl Quoted<'_> {
    /// The most characters of the text shown.
    pub const MAX_CHARS: usize = 64;
}

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = self
            .0
            .char_indices()
            .nth(Quoted::MAX_CHARS)
            .map(|(at, _)| at);
        let shown = cut.map_or(self.0, |at| &self.0[..at]);
        // Serialising a string cannot fail; the fallback still quotes.
        let quoted = serde_json::to_string(shown).unwrap_or_else(|_| String::from("\"?\""));
        match cut {
            Some(_) => write!(f, "{quoted}…"),
            None => f.write_str(&quoted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_json_escaped_and_bounded() {
        assert_eq!(Quoted("").to_string(), "\"\"");
        assert_eq!(Quoted("say \"hi\"\n").to_string(), r#""say \"hi\"\n""#);
        let long = "é".repeat(100);
        let shown = Quoted(&long).to_string();
        assert_eq!(shown, format!("\"{}\"…", "é".repeat(64)));
    }

    #[test]
    fn every_code_round_trips_through_its_text() {
        for &code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
            assert!(Code::is_well_formed(code.as_str()), "{code}");
        }
        assert_eq!(
            "no-such-code".parse::<Code>(),
            Err(UnknownCode {
                text: "no-such-code".into()
            })
        );
    }

    #[test]
    fn shape_check_refuses_what_is_not_kebab_case() {
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a b", "é"] {
            assert!(!Code::is_well_formed(bad), "{bad:?}");
        }
        assert!(Code::is_well_formed("secret-store-io"));
    }

    #[test]
    fn codes_compare_with_strings_both_ways() {
        assert_eq!(Code::Expired, "expired");
        assert_eq!("expired", Code::Expired);
        assert_eq!(Code::Expired, *"expired");
        assert_eq!(Code::Expired, "expired".to_owned());
        assert_ne!(Code::Expired, "invalid");
    }

    #[test]
    fn serde_uses_the_text() {
        let json = serde_json::to_string(&Code::LocalDbIo).unwrap();
        assert_eq!(json, "\"local-db-io\"");
        assert_eq!(
            serde_json::from_str::<Code>(&json).unwrap(),
            Code::LocalDbIo
        );
        assert!(serde_json::from_str::<Code>("\"io\"").is_err());
    }
}
