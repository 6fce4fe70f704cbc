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

/// A value with a stable, catalogued error code (every public error enum).
pub trait ErrorCode {
    /// The machine-readable code, e.g. [`Code::Expired`] (`"expired"`).
    fn code(&self) -> Code;
}

/// A text that is not a catalogued error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unknown error code {text:?}")]
pub struct UnknownCode {
    /// The text that was given.
    pub text: String,
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )+) => {
        /// Every error code the library and the CLI can return, each once.
        ///
        /// Compare with a string directly (`code == "expired"`), print it with
        /// `Display`, and parse it back with [`str::parse`]. New codes may be added
        /// in later versions, so matches need a wildcard arm.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )+
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )+ ];

            /// The code's kebab-case text, e.g. `"invalid-checksum"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $text, )+
                }
            }
        }

        impl std::str::FromStr for Code {
            type Err = UnknownCode;

            fn from_str(text: &str) -> Result<Code, UnknownCode> {
                match text {
                    $( $text => Ok(Code::$variant), )+
                    _ => Err(UnknownCode { text: text.to_owned() }),
                }
            }
        }
    };
}

catalogue! {
    // Secret text (SecretError).
    /// The secret text has `=` padding; secrets are unpadded base64url.
    SecretPadding = "secret-padding",
    /// The secret text has a character outside the base64url alphabet.
    SecretInvalidCharacter = "secret-invalid-character",
    /// The secret is not exactly 32 bytes (43 base64url characters).
    SecretInvalidLength = "secret-invalid-length",
    /// The secret text is not the canonical encoding (unused bits set).
    SecretNonCanonical = "secret-non-canonical",
    /// The operating system's random number generator failed.
    RngFailure = "rng-failure",

    // Public keys and user ids (IdentityError).
    /// A public key is not unpadded base64url.
    PublicKeyEncoding = "public-key-encoding",
    /// A public key is not 32 bytes long.
    PublicKeyLength = "public-key-length",
    /// A public key is not a valid Ed25519 point.
    PublicKeyInvalid = "public-key-invalid",
    /// A user id is not a hyphenated UUID.
    UserIdInvalid = "user-id-invalid",

    // Recovery phrases (PhraseError, SPEC §3).
    /// A recovery phrase does not have 24 words.
    InvalidLength = "invalid-length",
    /// A word of a recovery phrase is not in the word list.
    InvalidWord = "invalid-word",
    /// A recovery phrase's checksum does not match.
    InvalidChecksum = "invalid-checksum",
    /// The data does not carry a 32-byte secret.
    InvalidSecret = "invalid-secret",

    // Passkey backup (PasskeyError, SPEC §9; also returned by the platform layers).
    /// The device, OS version or app set-up has no passkey support.
    NotSupported = "not-supported",
    /// The platform could not create the backup passkey.
    CreateFailed = "create-failed",
    /// The platform could not get an assertion from the backup passkey.
    GetFailed = "get-failed",
    /// No backup passkey was chosen or found.
    NoCredential = "no-credential",
    /// A passkey assertion is malformed or does not carry a 32-byte secret.
    InvalidCredential = "invalid-credential",
    /// A passkey assertion lacks user presence or user verification.
    VerificationFailed = "verification-failed",

    // Provider-held vault (VaultError).
    /// The app's vault failed to load or store.
    VaultUnavailable = "vault-unavailable",
    /// The app's vault did not answer in time.
    VaultTimeout = "vault-timeout",
    /// The vault holds something that is not a secret.
    VaultCorrupt = "vault-corrupt",
    /// A secret written to the vault did not read back.
    VaultWriteUnconfirmed = "vault-write-unconfirmed",
    /// The vault holds another identity than this device.
    VaultIdentityConflict = "vault-identity-conflict",

    // Self-signed tokens (TokenError, SPEC §2).
    /// The token is longer than the limit.
    TokenTooLarge = "token-too-large",
    /// The token does not have three dot-separated parts.
    TokenMalformed = "token-malformed",
    /// A token part is not unpadded base64url.
    TokenEncoding = "token-encoding",
    /// The token header is not the expected one.
    InvalidHeader = "invalid-header",
    /// The token's algorithm is not `EdDSA`.
    UnsupportedAlgorithm = "unsupported-algorithm",
    /// The token claims are not a JSON object of the expected types.
    InvalidClaims = "invalid-claims",
    /// The token has a claim the format does not define.
    UnknownClaim = "unknown-claim",
    /// The token lacks a required claim.
    MissingClaim = "missing-claim",
    /// The token's issuer is not a self-signed issuer.
    UnknownIssuer = "unknown-issuer",
    /// The token's issuer is not accepted by this verifier.
    IssuerNotAllowed = "issuer-not-allowed",
    /// The token's audience is not the expected one.
    AudienceMismatch = "audience-mismatch",
    /// The token's public key claim is not a valid Ed25519 key.
    TokenPublicKeyInvalid = "token-public-key-invalid",
    /// The token's public key claim is not 32 bytes long.
    TokenPublicKeyLength = "token-public-key-length",
    /// The token's signature is not 64 bytes long.
    SignatureLength = "signature-length",
    /// The token's signature does not verify.
    InvalidSignature = "invalid-signature",
    /// The token's subject is not the user id of its public key.
    SubjectMismatch = "subject-mismatch",
    /// The token was issued in the future.
    IssuedInFuture = "issued-in-future",
    /// The token expired (self-signed verification, or the server said so).
    Expired = "expired",
    /// The token's lifetime is longer than allowed.
    TtlTooLong = "ttl-too-long",
    /// The token expires before it was issued.
    InvalidLifetime = "invalid-lifetime",
    /// A requested token lifetime is zero or too long to represent.
    InvalidTtl = "invalid-ttl",
    /// An identity proof to verify is empty.
    ProofTokenRequired = "proof-token-required",

    // Server rejections of a credential (AuthFailure, SPEC §5 and §7).
    /// The server needed a credential and got none.
    Missing = "missing",
    /// The server refused the credential.
    Invalid = "invalid",
    /// The server does not allow this kind of auth.
    Disabled = "disabled",

    // Client auth (AuthError).
    /// The call would change who a `Db` acts as.
    PrincipalChange = "principal-change",
    /// An external token cannot be decoded or has no usable `sub`.
    InvalidToken = "invalid-token",
    /// A cookie session is not usable (empty user id).
    InvalidCookieSession = "invalid-cookie-session",

    // Secret stores (StoreError).
    /// The secret store cannot be read right now (device locked).
    SecretStoreUnavailable = "secret-store-unavailable",
    /// The key protecting the stored secret is gone.
    SecretStoreKeyInvalidated = "secret-store-key-invalidated",
    /// What is stored does not decode or decrypt to a secret.
    SecretStoreCorrupted = "secret-store-corrupted",
    /// The process may not read or write the secret store.
    SecretStorePermissionDenied = "secret-store-permission-denied",
    /// An I/O error in the secret store.
    SecretStoreIo = "secret-store-io",
    /// Any other secret store failure.
    SecretStoreBackend = "secret-store-backend",
    /// The secret store stayed locked by another process or thread for the whole wait.
    SecretStoreLocked = "secret-store-locked",
    /// A storage key is blank or too long.
    InvalidStorageKey = "invalid-storage-key",

    // Policies (PolicyError).
    /// The policy set does not grant the operation.
    PolicyDenied = "policy-denied",
    /// A policy set is not valid.
    PolicyInvalid = "policy-invalid",
    /// A policy file cannot be read.
    PolicyIo = "policy-io",
    /// A policy file is too large.
    PolicyTooLarge = "policy-too-large",

    // The local database (StorageError) and the Db (DbError).
    /// A table or column name is not valid.
    InvalidName = "invalid-name",
    /// Row values cannot be stored.
    InvalidRow = "invalid-row",
    /// A filter cannot be evaluated.
    InvalidFilter = "invalid-filter",
    /// No row with this id (or no such item).
    NotFound = "not-found",
    /// A row with this id already exists.
    AlreadyExists = "already-exists",
    /// The local database was deleted; the operation did not run.
    StorageReset = "storage-reset",
    /// The local database stayed locked longer than the busy timeout.
    Busy = "busy",
    /// The local database file is damaged or not a database.
    Corrupt = "corrupt",
    /// The local database was written by a newer version.
    UnsupportedSchema = "unsupported-schema",
    /// A table name differs only in letter case from an existing table.
    TableNameClash = "table-name-clash",
    /// Any other SQLite failure.
    Sqlite = "sqlite",
    /// A file-system operation on the local database failed.
    LocalDbIo = "local-db-io",
    /// The `Db` (or its local database) was logged out.
    LoggedOut = "logged-out",
    /// A config value is not valid.
    InvalidConfig = "invalid-config",
    /// An argument to a call is not valid.
    InvalidArgument = "invalid-argument",
    /// Anonymous sessions cannot write.
    AnonymousWriteDenied = "anonymous-write-denied",
    /// The app's account-discard migration failed.
    MigrationFailed = "migration-failed",
    /// The background runtime of a `Db` (refreshes, sync) could not be started.
    RuntimeUnavailable = "runtime-unavailable",

    // Client sync (DbError's sync variants).
    /// Sync cannot run: no server URL, `sync_when` keeps the data local, or the credential is paused.
    SyncUnavailable = "sync-unavailable",
    /// The sync server refused the credential (its code is `expired`, `missing`, `invalid` or `disabled`).
    SyncAuthRejected = "sync-auth-rejected",
    /// The sync server could not be reached, or the connection broke.
    SyncNetwork = "sync-network",
    /// The sync server answered with an error frame or an unexpected message.
    SyncProtocol = "sync-protocol",
    /// A row larger than the sync server stores (`maxRowBytes`): a write the server (or the
    /// engine, for an entry too large for any frame) refuses, or a stored row it cannot send.
    RowTooLarge = "row-too-large",

    // The command-line tool.
    /// The command line is not valid (unknown flag, missing or bad value).
    Usage = "usage",
    /// Standard input could not be read or held nothing.
    Stdin = "stdin",
    /// Writing the command's output failed.
    Output = "output",
    /// No secret is stored under the key.
    Absent = "absent",
    /// A JSON argument is not valid JSON or not an object.
    InvalidJson = "invalid-json",
    /// A failure inside the tool that is not the input's fault.
    Internal = "internal",
    /// An input (stdin, a file) is larger than the command accepts.
    InputTooLarge = "input-too-large",
    /// An input path names something other than a regular file (a FIFO, a device, a directory).
    InputNotAFile = "input-not-a-file",
    /// An input file could not be read.
    InputRead = "input-read",
    /// `db sync`: the server refused some entries (they were dropped from the outbox).
    SyncRejected = "sync-rejected",
    /// `db sync`: the server did not acknowledge every pending entry.
    SyncIncomplete = "sync-incomplete",
    /// `demo`: a check of the lifecycle walk-through failed.
    DemoCheckFailed = "demo-check-failed",
    /// Bindings: a Swift/Kotlin listener or refresher threw something other than the
    /// library's own exception.
    CallbackFailed = "callback-failed",

    // External tokens verified by the sync server (ExternalAuthError).
    /// An external token's `sub` is empty, too long, or has control characters.
    InvalidSubject = "invalid-subject",
    /// An external token's `nbf` is in the future.
    NotYetValid = "not-yet-valid",
    /// An external token's issuer is not the one the server expects.
    IssuerMismatch = "issuer-mismatch",
    /// No key of the key set has the token's `kid` (after one forced refresh).
    UnknownKey = "unknown-key",
    /// The token's `alg` does not match its key's algorithm.
    AlgorithmMismatch = "algorithm-mismatch",
    /// A configured or fetched public key cannot be used.
    InvalidKey = "invalid-key",
    /// The JWKS URL is not https (or http on loopback).
    InvalidJwksUrl = "invalid-jwks-url",
    /// The JWKS endpoint could not be reached and no usable cached keys remain.
    JwksUnavailable = "jwks-unavailable",
    /// The key set holds no usable key.
    EmptyKeySet = "empty-key-set",

    // The sync server (ServerError, its StoreError).
    /// The server configuration is not valid.
    ServerConfig = "server-config",
    /// The server could not bind its address.
    ServerBind = "server-bind",
    /// Another I/O failure of the server.
    ServerIo = "server-io",
    /// The server's external key source (JWKS URL or static key) is not usable.
    ServerExternalKeys = "server-external-keys",
    /// The server's database failed.
    ServerStorageDatabase = "server-storage-database",
    /// A value stored by the server could not be decoded.
    ServerStorageCorrupt = "server-storage-corrupt",
    /// The server's storage was closed.
    ServerStorageClosed = "server-storage-closed",
    /// The server's storage could not be opened.
    ServerStorageOpen = "server-storage-open",
    /// A backend or admin secret of the server is shorter than the minimum (or empty).
    SharedSecretTooShort = "shared-secret-too-short",
    /// The server refused a socket: this user or this address has too many open.
    TooManyConnections = "too-many-connections",

    // The demo's embedded identity provider (ProviderError).
    /// The provider's configuration is not valid.
    ProviderConfig = "provider-config",
    /// The provider's signing key could not be made or loaded.
    ProviderKey = "provider-key",
    /// The provider could not bind its address.
    ProviderBind = "provider-bind",
    /// A request body is over the provider's limit.
    ProviderBodyTooLarge = "provider-body-too-large",
    /// A request body is not the JSON the endpoint takes.
    ProviderMalformedRequest = "provider-malformed-request",
    /// A sign-up without an identity proof.
    ProviderProofRequired = "provider-proof-required",
    /// A sign-up whose identity proof does not verify.
    ProviderProofInvalid = "provider-proof-invalid",
    /// A token request without a bearer token.
    ProviderTokenMissing = "provider-token-missing",
    /// A token request whose bearer token is not the provider's, or too old to refresh.
    ProviderTokenInvalid = "provider-token-invalid",
    /// A token request for an account the provider does not know.
    ProviderUnknownAccount = "provider-unknown-account",
    /// A sign-in code that is wrong, used or expired.
    ProviderSigninInvalid = "provider-signin-invalid",
    /// The provider could not sign a token.
    ProviderSigning = "provider-signing",
    /// A request to the provider failed on the way (client side).
    ProviderHttp = "provider-http",
    /// The provider answered a request with an error (client side).
    ProviderRejected = "provider-rejected",
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
