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

    /// Normalises, then decodes once: the canonical phrase and its secret.
    ///
    /// The refusals come in a fixed order: the word count, then the first word not in the
    /// list (with its position), then the checksum. The word-by-word look-up that names an
    /// unknown word runs only once the decoding has failed; a phrase that decodes has every
    /// word in the list.
    fn parse_with_secret(input: &str) -> Result<(RecoveryPhrase, Secret), PhraseError> {
        let lowered = Zeroizing::new(input.trim().to_lowercase());
        let words: Vec<&str> = lowered.split_whitespace().collect();
        if words.len() != PHRASE_WORDS {
            return Err(PhraseError::InvalidLength { got: words.len() });
        }
        let canonical = RecoveryPhrase(words.join(" "));
        match canonical.to_secret() {
            Ok(secret) => Ok((canonical, secret)),
            Err(error) => Err(canonical.first_unknown_word().unwrap_or(error)),
        }
    }

    /// The first word that is not in the list, with its one-based position.
    fn first_unknown_word(&self) -> Option<PhraseError> {
        self.0
            .split(' ')
            .enumerate()
            .find(|(_, word)| Language::English.find_word(word).is_none())
            .map(|(index, word)| PhraseError::InvalidWord {
                position: index + 1,
                word: word.to_owned(),
            })
    }

    /// The secret this phrase encodes.
    pub fn to_secret(&self) -> Result<Secret, PhraseError> {
        decode_normalized(&self.0)
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

/// The number of words of `text` if it is ASCII without capitals (as phrases are shown),
/// so that the words need no normalising; `None` otherwise. Words are separated by the
/// ASCII characters `char::is_whitespace` accepts, as `split_whitespace` separates them.
fn lowercase_ascii_word_count(text: &str) -> Option<usize> {
    let mut count = 0;
    let mut in_word = false;
    for &byte in text.as_bytes() {
        if matches!(byte, b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r' | b' ') {
            in_word = false;
        } else if byte.is_ascii_uppercase() || !byte.is_ascii() {
            return None;
        } else if !in_word {
            in_word = true;
            count += 1;
        }
    }
    Some(count)
}

/// Decodes lower-case words separated by whitespace (the checksum checked) into a secret.
fn decode_normalized(words: &str) -> Result<Secret, PhraseError> {
    let mut mnemonic =
        Mnemonic::parse_in_normalized(Language::English, words).map_err(|e| match e {
            bip39::Error::BadWordCount(got) => PhraseError::InvalidLength { got },
            bip39::Error::UnknownWord(index) => PhraseError::InvalidWord {
                position: index + 1,
                word: words
                    .split_whitespace()
                    .nth(index)
                    .unwrap_or_default()
                    .to_owned(),
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

/// Encodes a secret as its 24-word phrase.
pub fn secret_to_phrase(secret: &Secret) -> RecoveryPhrase {
    RecoveryPhrase::from_secret(secret)
}

/// Decodes a user-typed phrase into the exact secret it encodes.
///
/// A phrase of 24 lower-case ASCII words (as phrases are shown) is decoded where it is,
/// without a normalised copy; any other input, and any input that does not decode, takes
/// the full path, which names the refusal.
pub fn phrase_to_secret(input: &str) -> Result<Secret, PhraseError> {
    if lowercase_ascii_word_count(input) == Some(PHRASE_WORDS) {
        if let Ok(secret) = decode_normalized(input) {
            return Ok(secret);
        }
    }
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
