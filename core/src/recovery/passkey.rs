//! Passkey backup: the secret kept as the `user.id` of a resident WebAuthn credential.
//!
//! Byte-compatible with Jazz's browser `BrowserPasskeyBackup`, so one passkey serves
//! web and mobile: the credential lives on the app's relying-party id, its user
//! handle is the 32 secret bytes, and restoring takes the user handle of an
//! assertion whose authenticator data says the user was present (bit 0) and
//! verified (bit 2).
//!
//! The core never talks to an authenticator. It builds the requests the platform
//! takes ([`PasskeyRegistrationRequest`], [`PasskeyAssertionRequest`]: WebAuthn JSON
//! for Android's Credential Manager, plain fields for iOS's AuthenticationServices)
//! and checks what comes back ([`secret_from_assertion_json`],
//! [`secret_from_assertion`]). The platform layers report their own failures with
//! the same error type ([`PasskeyError::NotSupported`], [`PasskeyError::CreateFailed`],
//! [`PasskeyError::GetFailed`], [`PasskeyError::NoCredential`]).
//!
//! ```
//! use localfirst_core::recovery::passkey::{secret_from_assertion, PasskeyBackup};
//! use localfirst_core::secret::Secret;
//!
//! let backup = PasskeyBackup::new("My App", "myapp.example")?;
//! let secret = Secret::from_bytes([7u8; 32]);
//! let request = backup.registration_request(&secret, "alice@myapp.example")?;
//! assert_eq!(request.user_id(), secret.expose_bytes());
//! assert!(request.to_json().contains("\"rp\":{\"id\":\"myapp.example\""));
//!
//! // What an authenticator hands back: 37+ bytes of authenticator data (flags at
//! // offset 32: user present + user verified) and the user handle.
//! let mut authenticator_data = [0u8; 37];
//! authenticator_data[32] = 0x05;
//! let restored = secret_from_assertion(&authenticator_data, Some(secret.expose_bytes()))?;
//! assert_eq!(restored, secret);
//! # Ok::<(), localfirst_core::recovery::passkey::PasskeyError>(())
//! ```
//!
//! There is no signature check: nothing stores the credential's public key, and
//! none is needed, since the secret is only revealed by an authenticator that
//! verified the user. The checks guard against a response that is malformed or
//! was produced without user verification.

use std::borrow::Cow;

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Code, ErrorCode, ErrorDetails};
use crate::secret::{Secret, SecretError, SECRET_LEN};

/// Length of a challenge drawn by [`PasskeyBackup`], in bytes.
pub const CHALLENGE_LEN: usize = 32;

/// Shortest challenge accepted by the `*_with_challenge` builders, in bytes
/// (Android's Credential Manager refuses shorter ones).
pub const MIN_CHALLENGE_LEN: usize = 16;

/// Longest challenge accepted by the `*_with_challenge` builders, in bytes.
pub const MAX_CHALLENGE_LEN: usize = 64;

/// Authenticator data is at least the 32-byte relying-party id hash, one flags
/// byte and a 4-byte signature counter.
pub const MIN_AUTHENTICATOR_DATA_LEN: usize = 37;

/// Offset of the flags byte in the authenticator data.
pub const FLAGS_OFFSET: usize = 32;

/// Flags bit 0: the user was present.
pub const FLAG_USER_PRESENT: u8 = 0x01;

/// Flags bit 2: the user was verified (biometrics, device PIN).
pub const FLAG_USER_VERIFIED: u8 = 0x04;

/// Largest assertion response [`secret_from_assertion_json`] reads, in bytes.
pub const MAX_ASSERTION_JSON_LEN: usize = 64 * 1024;

/// Longest app name, relying-party id or display name, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// COSE algorithm ids offered at registration: ES256 (-7), then RS256 (-257).
pub const PUB_KEY_CRED_ALGORITHMS: [i64; 2] = [-7, -257];

/// Why a passkey backup or restore failed. The platform layers use the same type
/// for their own failures, so every platform reports the same codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The device or OS version has no passkey support (or the app lacks the
    /// associated-domain / asset-links set-up for the relying-party id).
    #[error("passkeys are not supported here: {reason}")]
    NotSupported {
        /// Platform detail.
        reason: String,
    },
    /// The secret to back up is not 32 bytes of strict base64url.
    #[error("the secret must be 32 bytes of unpadded base64url")]
    InvalidSecret,
    /// The platform could not create the credential (cancelled, no provider, ...).
    #[error("creating the passkey failed: {reason}")]
    CreateFailed {
        /// Platform detail.
        reason: String,
    },
    /// The platform could not get an assertion (cancelled, timed out, ...).
    #[error("getting the passkey failed: {reason}")]
    GetFailed {
        /// Platform detail.
        reason: String,
    },
    /// No passkey of this relying-party id was chosen or found.
    #[error("no passkey credential was returned")]
    NoCredential,
    /// The assertion is malformed or its user handle is not a 32-byte secret.
    #[error("the passkey credential does not carry a valid secret: {reason}")]
    InvalidCredential {
        /// What is wrong (never secret material).
        reason: String,
    },
    /// The authenticator data lacks user presence or user verification.
    #[error("the authenticator did not verify the user (flags {flags:#04x})")]
    VerificationFailed {
        /// The flags byte found.
        flags: u8,
    },
    /// An app name, relying-party id, display name or challenge is not valid.
    #[error("invalid passkey argument: {reason}")]
    InvalidArgument {
        /// Which argument and why.
        reason: String,
    },
    /// The system random number generator failed while drawing a challenge.
    #[error("the system random number generator failed")]
    Rng,
}

impl ErrorCode for PasskeyError {
    fn code(&self) -> Code {
        match self {
            PasskeyError::NotSupported { .. } => Code::NotSupported,
            PasskeyError::InvalidSecret => Code::InvalidSecret,
            PasskeyError::CreateFailed { .. } => Code::CreateFailed,
            PasskeyError::GetFailed { .. } => Code::GetFailed,
            PasskeyError::NoCredential => Code::NoCredential,
            PasskeyError::InvalidCredential { .. } => Code::InvalidCredential,
            PasskeyError::VerificationFailed { .. } => Code::VerificationFailed,
            PasskeyError::InvalidArgument { .. } => Code::InvalidArgument,
            PasskeyError::Rng => Code::RngFailure,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            PasskeyError::VerificationFailed { flags } => {
                Some(ErrorDetails::AuthenticatorFlags { flags: *flags })
            }
            _ => None,
        }
    }
}

impl From<SecretError> for PasskeyError {
    fn from(error: SecretError) -> PasskeyError {
        match error {
            SecretError::Rng => PasskeyError::Rng,
            _ => PasskeyError::InvalidSecret,
        }
    }
}

/// An app's passkey backup: its name (shown in the passkey sheet as the relying
/// party) and its relying-party id (the domain passkeys are scoped to).
///
/// The relying-party id must be the same on the web and in the apps, and must
/// never change: passkeys made for one id are invisible under another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyBackup {
    app_name: String,
    rp_id: String,
}

impl PasskeyBackup {
    /// A backup for `app_name` on relying-party id `rp_id` (a bare host name such
    /// as `myapp.example`: no scheme, port or path).
    pub fn new(app_name: &str, rp_id: &str) -> Result<PasskeyBackup, PasskeyError> {
        check_name("app name", app_name)?;
        check_rp_id(rp_id)?;
        Ok(PasskeyBackup {
            app_name: app_name.to_owned(),
            rp_id: rp_id.to_owned(),
        })
    }

    /// The app name (`rp.name`).
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// The relying-party id (`rp.id`).
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The registration request backing up `secret` under `display_name` (shown
    /// in the platform's passkey sheet), with a fresh random challenge.
    pub fn registration_request(
        &self,
        secret: &Secret,
        display_name: &str,
    ) -> Result<PasskeyRegistrationRequest, PasskeyError> {
        self.registration_request_with_challenge(secret, display_name, random_challenge()?)
    }

    /// [`registration_request`](Self::registration_request) with a given challenge
    /// (16 to 64 bytes), for tests and reproducible output.
    pub fn registration_request_with_challenge(
        &self,
        secret: &Secret,
        display_name: &str,
        challenge: Vec<u8>,
    ) -> Result<PasskeyRegistrationRequest, PasskeyError> {
        check_name("display name", display_name)?;
        check_challenge(&challenge)?;
        Ok(PasskeyRegistrationRequest {
            rp_id: self.rp_id.clone(),
            rp_name: self.app_name.clone(),
            user_name: display_name.to_owned(),
            user_display_name: display_name.to_owned(),
            challenge,
            user_id: Zeroizing::new(secret.expose_bytes().to_vec()),
        })
    }

    /// [`registration_request`](Self::registration_request) for a secret given as
    /// text (strict unpadded base64url); anything else is [`PasskeyError::InvalidSecret`].
    pub fn registration_request_for_text(
        &self,
        secret: &str,
        display_name: &str,
    ) -> Result<PasskeyRegistrationRequest, PasskeyError> {
        let secret = Secret::parse_base64url(secret)?;
        self.registration_request(&secret, display_name)
    }

    /// The assertion request that restores the secret, with a fresh random challenge.
    pub fn assertion_request(&self) -> Result<PasskeyAssertionRequest, PasskeyError> {
        self.assertion_request_with_challenge(random_challenge()?)
    }

    /// [`assertion_request`](Self::assertion_request) with a given challenge (16 to 64 bytes).
    pub fn assertion_request_with_challenge(
        &self,
        challenge: Vec<u8>,
    ) -> Result<PasskeyAssertionRequest, PasskeyError> {
        check_challenge(&challenge)?;
        Ok(PasskeyAssertionRequest {
            rp_id: self.rp_id.clone(),
            challenge,
        })
    }
}

/// What the platform needs to create the backup passkey.
///
/// * Android: hand [`to_json`](Self::to_json) (a `PublicKeyCredentialCreationOptionsJSON`)
///   to Credential Manager's `CreatePublicKeyCredentialRequest`.
/// * iOS: `ASAuthorizationPlatformPublicKeyCredentialProvider(relyingPartyIdentifier:
///   rp_id)`, `createCredentialRegistrationRequest(challenge:name:userID:)` with
///   [`challenge`](Self::challenge), [`user_name`](Self::user_name) and
///   [`user_id`](Self::user_id), then `displayName` and
///   `userVerificationPreference = .required`.
///
/// The user id **is the secret**: the JSON and [`user_id`](Self::user_id) must be
/// handed to the platform and nowhere else (never logged). Both wipe themselves.
pub struct PasskeyRegistrationRequest {
    rp_id: String,
    rp_name: String,
    user_name: String,
    user_display_name: String,
    challenge: Vec<u8>,
    user_id: Zeroizing<Vec<u8>>,
}

impl PasskeyRegistrationRequest {
    /// `rp.id`: the relying-party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// `rp.name`: the app name.
    pub fn rp_name(&self) -> &str {
        &self.rp_name
    }

    /// `user.name`: the display name given.
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    /// `user.displayName`: the display name given.
    pub fn user_display_name(&self) -> &str {
        &self.user_display_name
    }

    /// The challenge bytes.
    pub fn challenge(&self) -> &[u8] {
        &self.challenge
    }

    /// `user.id`: the 32 secret bytes. Never log them.
    pub fn user_id(&self) -> &[u8] {
        &self.user_id
    }

    /// The request as `PublicKeyCredentialCreationOptionsJSON` (binary fields in
    /// unpadded base64url). Contains the secret; wiped on drop.
    pub fn to_json(&self) -> Zeroizing<String> {
        let user_id = Zeroizing::new(URL_SAFE_NO_PAD.encode(self.user_id.as_slice()));
        let options = CreationOptionsJson {
            rp: RpJson {
                id: &self.rp_id,
                name: &self.rp_name,
            },
            user: UserJson {
                id: &user_id,
                name: &self.user_name,
                display_name: &self.user_display_name,
            },
            challenge: URL_SAFE_NO_PAD.encode(&self.challenge),
            pub_key_cred_params: PUB_KEY_CRED_ALGORITHMS.map(|alg| CredParamJson {
                kind: "public-key",
                alg,
            }),
            authenticator_selection: SelectionJson {
                authenticator_attachment: "platform",
                resident_key: "required",
                require_resident_key: true,
                user_verification: "required",
            },
            attestation: "none",
            extensions: ExtensionsJson {
                credential_protection_policy: "userVerificationRequired",
                enforce_credential_protection_policy: false,
            },
        };
        // Serialising plain strings, numbers and booleans cannot fail.
        Zeroizing::new(serde_json::to_string(&options).unwrap_or_default())
    }
}

impl std::fmt::Debug for PasskeyRegistrationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRegistrationRequest")
            .field("rp_id", &self.rp_id)
            .field("rp_name", &self.rp_name)
            .field("user_name", &self.user_name)
            .field("user_display_name", &self.user_display_name)
            .field("challenge_len", &self.challenge.len())
            .field("user_id", &"<redacted>")
            .finish()
    }
}

/// What the platform needs to ask for the backup passkey.
///
/// * Android: [`to_json`](Self::to_json) (a `PublicKeyCredentialRequestOptionsJSON`)
///   into `GetPublicKeyCredentialOption`; pass the `authenticationResponseJson` of
///   the result to [`secret_from_assertion_json`].
/// * iOS: `createCredentialAssertionRequest(challenge:)` on the provider for
///   [`rp_id`](Self::rp_id) with `userVerificationPreference = .required`; pass the
///   credential's `rawAuthenticatorData` and `userID` to [`secret_from_assertion`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyAssertionRequest {
    rp_id: String,
    challenge: Vec<u8>,
}

impl PasskeyAssertionRequest {
    /// `rpId`: the relying-party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The challenge bytes.
    pub fn challenge(&self) -> &[u8] {
        &self.challenge
    }

    /// The request as `PublicKeyCredentialRequestOptionsJSON`: any discoverable
    /// credential of the relying-party id, user verification required.
    pub fn to_json(&self) -> String {
        let options = RequestOptionsJson {
            challenge: URL_SAFE_NO_PAD.encode(&self.challenge),
            rp_id: &self.rp_id,
            allow_credentials: [],
            user_verification: "required",
        };
        serde_json::to_string(&options).unwrap_or_default()
    }
}

/// The secret in an assertion response as Android returns it (the
/// `PublicKeyCredential` JSON: `response.authenticatorData` and
/// `response.userHandle` in base64url). `null` is [`PasskeyError::NoCredential`].
pub fn secret_from_assertion_json(json: &str) -> Result<Secret, PasskeyError> {
    if json.len() > MAX_ASSERTION_JSON_LEN {
        return Err(invalid(format!(
            "the response is larger than {MAX_ASSERTION_JSON_LEN} bytes"
        )));
    }
    let parsed: Option<AssertionJson<'_>> =
        serde_json::from_str(json).map_err(|e| invalid(format!("not an assertion: {e}")))?;
    let Some(assertion) = parsed else {
        return Err(PasskeyError::NoCredential);
    };
    if let Some(kind) = assertion.kind.as_deref() {
        if kind != "public-key" {
            return Err(invalid(format!("type is {kind:?}, not \"public-key\"")));
        }
    }
    let response = assertion
        .response
        .ok_or_else(|| invalid("no response".to_owned()))?;
    let authenticator_data = response
        .authenticator_data
        .ok_or_else(|| invalid("no authenticatorData".to_owned()))?;
    let authenticator_data = decode("authenticatorData", &authenticator_data)?;
    let user_handle = match response.user_handle.as_deref() {
        Some(text) => Some(decode("userHandle", text)?),
        None => None,
    };
    secret_from_assertion(
        &authenticator_data,
        user_handle.as_deref().map(Vec::as_slice),
    )
}

/// The secret in an assertion given as raw bytes (iOS: `rawAuthenticatorData` and
/// `userID`). Checks, in Jazz's order: authenticator data of at least 37 bytes,
/// user present and user verified flags, then a user handle of exactly 32 bytes.
pub fn secret_from_assertion(
    authenticator_data: &[u8],
    user_handle: Option<&[u8]>,
) -> Result<Secret, PasskeyError> {
    if authenticator_data.len() < MIN_AUTHENTICATOR_DATA_LEN {
        return Err(invalid(format!(
            "authenticator data is {} bytes, shorter than {MIN_AUTHENTICATOR_DATA_LEN}",
            authenticator_data.len()
        )));
    }
    let flags = authenticator_data
        .get(FLAGS_OFFSET)
        .copied()
        .unwrap_or_default();
    let required = FLAG_USER_PRESENT | FLAG_USER_VERIFIED;
    if flags & required != required {
        return Err(PasskeyError::VerificationFailed { flags });
    }
    let user_handle = user_handle.ok_or_else(|| invalid("no user handle".to_owned()))?;
    Secret::from_slice(user_handle).map_err(|_| {
        invalid(format!(
            "the user handle is {} bytes, not {SECRET_LEN}",
            user_handle.len()
        ))
    })
}

fn invalid(reason: String) -> PasskeyError {
    PasskeyError::InvalidCredential { reason }
}

/// base64url, padded or not (providers differ); the standard alphabet, whitespace
/// and set trailing bits are refused.
fn decode(field: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, PasskeyError> {
    const LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
        &URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT_PADDING
        .decode(text)
        .map(Zeroizing::new)
        .map_err(|_| invalid(format!("{field} is not base64url")))
}

fn random_challenge() -> Result<Vec<u8>, PasskeyError> {
    let mut challenge = vec![0u8; CHALLENGE_LEN];
    getrandom::getrandom(&mut challenge).map_err(|_| PasskeyError::Rng)?;
    Ok(challenge)
}

fn check_challenge(challenge: &[u8]) -> Result<(), PasskeyError> {
    if (MIN_CHALLENGE_LEN..=MAX_CHALLENGE_LEN).contains(&challenge.len()) {
        Ok(())
    } else {
        Err(PasskeyError::InvalidArgument {
            reason: format!(
                "the challenge must be {MIN_CHALLENGE_LEN} to {MAX_CHALLENGE_LEN} bytes, got {}",
                challenge.len()
            ),
        })
    }
}

fn check_name(what: &str, name: &str) -> Result<(), PasskeyError> {
    if name.trim().is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(PasskeyError::InvalidArgument {
            reason: format!(
                "the {what} must be 1 to {MAX_NAME_LEN} bytes, not blank, without control characters"
            ),
        });
    }
    Ok(())
}

/// A bare, lower-case host name: labels of letters, digits and `-` joined by `.`.
fn check_rp_id(rp_id: &str) -> Result<(), PasskeyError> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if rp_id.len() > 253 || !rp_id.split('.').all(label_ok) {
        return Err(PasskeyError::InvalidArgument {
            reason: "the relying-party id must be a lower-case host name (no scheme, port or path)"
                .to_owned(),
        });
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationOptionsJson<'a> {
    rp: RpJson<'a>,
    user: UserJson<'a>,
    challenge: String,
    pub_key_cred_params: [CredParamJson; 2],
    authenticator_selection: SelectionJson,
    attestation: &'static str,
    extensions: ExtensionsJson,
}

#[derive(Serialize)]
struct RpJson<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserJson<'a> {
    id: &'a str,
    name: &'a str,
    display_name: &'a str,
}

#[derive(Serialize)]
struct CredParamJson {
    #[serde(rename = "type")]
    kind: &'static str,
    alg: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelectionJson {
    authenticator_attachment: &'static str,
    resident_key: &'static str,
    require_resident_key: bool,
    user_verification: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtensionsJson {
    credential_protection_policy: &'static str,
    enforce_credential_protection_policy: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOptionsJson<'a> {
    challenge: String,
    rp_id: &'a str,
    allow_credentials: [(); 0],
    user_verification: &'static str,
}

#[derive(Deserialize)]
struct AssertionJson<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    response: Option<AssertionResponseJson<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionResponseJson<'a> {
    #[serde(borrow, default)]
    authenticator_data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_handle: Option<Cow<'a, str>>,
}
