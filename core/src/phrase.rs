//! 24-word recovery phrases (standard BIP39, English word list).
//!
//! The phrase *is* the secret: its 256 bits of entropy are the 32 secret bytes,
//! with no hashing and no password. Anyone holding the phrase holds the account,
//! and an app must say so wherever it shows one.
//!
//! Decoding is forgiving about layout and strict about content: input is trimmed,
//! lower-cased and split on any run of whitespace; then it must be exactly 24
//! words of the English list with a valid checksum.

use bip39::{Language, Mnemonic};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Code, ErrorCode, ErrorDetails};
use crate::secret::Secret;

/// Number of words in a recovery phrase.
pub const PHRASE_WORDS: usize = 24;

/// Why a recovery phrase was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhraseError {
    /// Not exactly 24 words.
    #[error("Expected 24 words, got {got}")]
    InvalidLength {
        /// Number of words found.
        got: usize,
    },
    /// A word is not in the English BIP39 list.
    #[error("Word {position} ({word:?}) is not in the recovery word list")]
    InvalidWord {
        /// One-based position of the word.
        position: usize,
        /// The word as given (lower-cased).
        word: String,
    },
    /// The words are valid but their checksum is not (a typo or a swapped word).
    #[error("The recovery phrase checksum does not match; check the words and their order")]
    InvalidChecksum,
    /// The phrase does not carry a 32-byte secret.
    #[error("The recovery phrase does not encode a 32-byte secret")]
    InvalidSecret,
}

impl ErrorCode for PhraseError {
    fn code(&self) -> Code {
        match self {
            PhraseError::InvalidLength { .. } => Code::InvalidLength,
            PhraseError::InvalidWord { .. } => Code::InvalidWord,
            PhraseError::InvalidChecksum => Code::InvalidChecksum,
            PhraseError::InvalidSecret => Code::InvalidSecret,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            PhraseError::InvalidLength { got } => Some(ErrorDetails::PhraseLength {
                got: ErrorDetails::count(*got),
            }),
            PhraseError::InvalidWord { position, word } => Some(ErrorDetails::InvalidWord {
                position: ErrorDetails::count(*position),
                word: word.clone(),
            }),
            PhraseError::InvalidChecksum | PhraseError::InvalidSecret => None,
        }
    }
}

/// A 24-word recovery phrase: lowercase words separated by single spaces.
///
/// It is as sensitive as the secret: wiped on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct RecoveryPhrase(String);

impl RecoveryPhrase {
    /// The phrase for a secret.
    pub fn from_secret(secret: &Secret) -> RecoveryPhrase {
        // 32 bytes is always a valid BIP39 entropy length, so this cannot fail;
        // the fallback keeps the function total without a panic path.
        match Mnemonic::from_entropy_in(Language::English, secret.expose_bytes()) {
            Ok(mut mnemonic) => {
                let text = mnemonic.to_string();
                mnemonic.zeroize();
                RecoveryPhrase(text)
            }
            Err(_) => RecoveryPhrase(String::new()),
        }
    }

    /// Parses a phrase typed by a user (any case, any whitespace) into its canonical form.
    pub fn parse(input: &str) -> Result<RecoveryPhrase, PhraseError> {
        RecoveryPhrase::parse_with_secret(input).map(|(phrase, _)| phrase)
    }

    /// Normalises, checks every word, then decodes once: the canonical phrase and its secret.
    fn parse_with_secret(input: &str) -> Result<(RecoveryPhrase, Secret), PhraseError> {
        let lowered = Zeroizing::new(input.trim().to_lowercase());
        let words: Vec<&str> = lowered.split_whitespace().collect();
        if words.len() != PHRASE_WORDS {
            return Err(PhraseError::InvalidLength { got: words.len() });
        }
        for (index, word) in words.iter().enumerate() {
            if Language::English.find_word(word).is_none() {
                return Err(PhraseError::InvalidWord {
                    position: index + 1,
                    word: (*word).to_owned(),
                });
            }
        }
        let canonical = RecoveryPhrase(words.join(" "));
        let secret = canonical.to_secret()?;
        Ok((canonical, secret))
    }

    /// The secret this phrase encodes.
    pub fn to_secret(&self) -> Result<Secret, PhraseError> {
        let mut mnemonic =
            Mnemonic::parse_in_normalized(Language::English, &self.0).map_err(|e| match e {
                bip39::Error::BadWordCount(got) => PhraseError::InvalidLength { got },
                bip39::Error::UnknownWord(index) => PhraseError::InvalidWord {
                    position: index + 1,
                    word: self.0.split(' ').nth(index).unwrap_or_default().to_owned(),
                },
                bip39::Error::InvalidChecksum => PhraseError::InvalidChecksum,
                _ => PhraseError::InvalidSecret,
            })?;
        let (mut entropy, len) = mnemonic.to_entropy_array();
        mnemonic.zeroize();
        let secret = Secret::from_slice(&entropy[..len]).map_err(|_| PhraseError::InvalidSecret);
        entropy.zeroize();
        secret
    }

    /// The words, single-spaced and lowercase. Show it only to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Constant-time in the phrase's content (the length, which reveals nothing beyond the
/// word lengths, may short-circuit).
impl PartialEq for RecoveryPhrase {
    fn eq(&self, other: &RecoveryPhrase) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for RecoveryPhrase {}

impl std::fmt::Debug for RecoveryPhrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryPhrase(<redacted>)")
    }
}

/// Encodes a secret as its 24-word phrase.
pub fn secret_to_phrase(secret: &Secret) -> RecoveryPhrase {
    RecoveryPhrase::from_secret(secret)
}

/// Decodes a user-typed phrase into the exact secret it encodes.
pub fn phrase_to_secret(input: &str) -> Result<Secret, PhraseError> {
    RecoveryPhrase::parse_with_secret(input).map(|(_, secret)| secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_compares_the_words() {
        let a = secret_to_phrase(&Secret::from_bytes([1; 32]));
        let b = RecoveryPhrase::parse(&a.expose().to_uppercase()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, secret_to_phrase(&Secret::from_bytes([2; 32])));
    }

    #[test]
    fn errors_carry_codes_and_positions() {
        let zeros = secret_to_phrase(&Secret::from_bytes([0; 32]));
        let mut words: Vec<String> = zeros.expose().split(' ').map(str::to_owned).collect();
        assert_eq!(
            phrase_to_secret(&words[..23].join(" ")).unwrap_err().code(),
            "invalid-length"
        );
        words[4] = "zzzz".into();
        assert_eq!(
            phrase_to_secret(&words.join(" ")),
            Err(PhraseError::InvalidWord {
                position: 5,
                word: "zzzz".into()
            })
        );
        words[4] = "abandon".into();
        words[23] = "abandon".into();
        assert_eq!(
            phrase_to_secret(&words.join(" ")),
            Err(PhraseError::InvalidChecksum)
        );
        assert_eq!(format!("{zeros:?}"), "RecoveryPhrase(<redacted>)");
    }
}
