//! The catalogue itself: [`error_codes!`](crate::error_codes) holds the list of
//! codes, and `catalogue!` turns it into [`Code`]. Other crates replay the same list
//! (the UniFFI bindings declare their `ErrorCode` enum with it), so no copy of the
//! list exists anywhere else.

use super::UnknownCode;

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )+) => {
        /// Every error code the library and the CLI can return, each once.
        ///
        /// Compare with a string directly (`code == "expired"`), print it with
        /// `Display`, and parse it back with [`str::parse`]. The enum is exhaustive, so
        /// the bindings convert it without a catch-all arm (docs/ERRORS.md, "At the
        /// boundaries"); a later version may add codes, never change one's meaning.
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

/// Replays the catalogue: calls `$callback! { ... }` with every code, in catalogue order,
/// as `#[doc = "..."] Variant = "text",` (the variant's doc comments, its name in
/// [`Code`](crate::error::Code), its text).
///
/// The one list of codes: this crate builds [`Code`](crate::error::Code) from it, and the
/// bindings build their exported code enum from it, so a code added here reaches every
/// language without a second list to keep in step.
///
/// ```
/// macro_rules! count {
///     ($( $(#[$doc:meta])* $variant:ident = $text:literal, )+) => {
///         [$( $text ),+].len()
///     };
/// }
/// assert_eq!(localfirst_core::error_codes!(count), localfirst_core::Code::ALL.len());
/// ```
#[macro_export]
macro_rules! error_codes {
    ($callback:ident) => {
        $callback! {
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

            // Recovery phrases (PhraseError).
            /// A recovery phrase does not have 24 words.
            InvalidLength = "invalid-length",
            /// A word of a recovery phrase is not in the word list.
            InvalidWord = "invalid-word",
            /// A recovery phrase's checksum does not match.
            InvalidChecksum = "invalid-checksum",
            /// The data does not carry a 32-byte secret.
            InvalidSecret = "invalid-secret",

            // Passkey backup (PasskeyError; also returned by the platform layers).
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

            // Self-signed tokens (TokenError).
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

            // Server rejections of a credential (AuthFailure).
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

            // The sync protocol (docs/PROTOCOL.md): the codes of the server's `error` frames and
            // rejections, of the client's own protocol checks, and of the server's HTTP refusals.
            // The texts are on the wire: they never change.
            /// A frame is not JSON, or a field has the wrong type.
            MalformedFrame = "malformed-frame",
            /// A frame's `type` is not one the server knows.
            UnknownMessage = "unknown-message",
            /// A binary frame (the protocol uses text frames only).
            UnsupportedFrame = "unsupported-frame",
            /// A frame above the frame limit, or a server announcing a limit outside 16 KiB to 16 MiB.
            FrameTooLarge = "frame-too-large",
            /// A push with more entries than the server takes in one batch.
            BatchTooLarge = "batch-too-large",
            /// A message other than `hello` before the handshake.
            HelloRequired = "hello-required",
            /// No `hello` within the server's handshake timeout.
            HandshakeTimeout = "handshake-timeout",
            /// A `hello` with a protocol version the server does not speak.
            UnsupportedVersion = "unsupported-version",
            /// A `hello` with an unusable client id.
            InvalidClientId = "invalid-client-id",
            /// The sync server's storage failed while answering a frame.
            Storage = "storage",
            /// The sync server cut off a client that did not read its answers in time.
            SlowConsumer = "slow-consumer",
            /// The sync server is shutting down (an `error` frame, a close, or an HTTP refusal).
            ShuttingDown = "shutting-down",
            /// A rejected insert: the server holds a row with this id.
            RowExists = "row-exists",
            /// A rejected entry whose shape is not valid.
            InvalidEntry = "invalid-entry",
            /// A rejected entry: another device writes under this client id (a copied data directory).
            ClientIdReused = "client-id-reused",
            /// A `changes` page that does not move past the cursor the client asked from.
            CursorNotAdvancing = "cursor-not-advancing",
            /// A cursor above 2^53 - 1, or a page cursor below the one the client asked from.
            CursorOutOfRange = "cursor-out-of-range",
            /// An `ack` with no push in flight, or naming an entry not sent in it.
            UnexpectedAck = "unexpected-ack",
            /// A `rejected` frame for an entry not in the push in flight.
            UnexpectedRejection = "unexpected-rejection",
            /// A `changes` frame that is neither live nor the answer to a `pull`.
            UnexpectedChanges = "unexpected-changes",
            /// A sync run that would send more pulls than its limit.
            TooManyPulls = "too-many-pulls",
            /// The sync server refused a connection: its connection limit is reached.
            ServerBusy = "server-busy",
            /// The sync server serves another app id than the one in the URL.
            UnknownApp = "unknown-app",

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
    };
}

error_codes!(catalogue);
