//! `localfirst identity|token|phrase`: the identity core from the command line.

use clap::{Args, Subcommand, ValueEnum};
use localfirst_core::clock::{Clock, FixedClock, SystemClock};
use localfirst_core::identity::Identity;
use localfirst_core::phrase::{phrase_to_secret, secret_to_phrase};
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer, TokenError, VerifyOptions};
use serde_json::Value;
use zeroize::Zeroizing;

use super::{input, read_sensitive, CliError, Report};

/// `localfirst identity ...`
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create a fresh identity: secret, user id, public key and recovery phrase.
    New,
    /// Show the user id and public key of a secret.
    Derive {
        /// The secret as unpadded base64url, or `-` to read it from stdin.
        #[arg(long, allow_hyphen_values = true)]
        secret: String,
    },
}

/// Token issuer names on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IssuerArg {
    /// `urn:jazz:local-first`
    LocalFirst,
    /// `urn:jazz:anonymous`
    Anonymous,
}

/// `localfirst token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a self-signed token.
    Mint {
        /// The secret as unpadded base64url, or `-` to read it from stdin.
        #[arg(long, allow_hyphen_values = true)]
        secret: String,
        /// The audience (an app id or UUID; normalised).
        #[arg(long, allow_hyphen_values = true)]
        audience: String,
        /// Lifetime in seconds (at least 1; a negative value is refused with `invalid-ttl`).
        #[arg(long, default_value_t = token::DEFAULT_TTL_SECONDS as i64, allow_hyphen_values = true)]
        ttl: i64,
        /// Issue time (Unix seconds); defaults to now.
        #[arg(long, allow_hyphen_values = true)]
        iat: Option<u64>,
        /// The issuer.
        #[arg(long, value_enum, default_value_t = IssuerArg::LocalFirst)]
        issuer: IssuerArg,
    },
    /// Verify a self-signed token.
    Verify {
        /// The token, its audience and the time.
        #[command(flatten)]
        check: TokenCheck,
        /// Maximum accepted lifetime in seconds.
        #[arg(long, default_value_t = token::DEFAULT_MAX_TTL_SECONDS, allow_hyphen_values = true)]
        max_ttl: u64,
    },
    /// Verify an identity proof as an app backend does: local-first issuer only, a
    /// lifetime of at most `--max-ttl` seconds.
    VerifyProof {
        /// The proof, its audience and the time.
        #[command(flatten)]
        check: TokenCheck,
        /// Longest accepted proof lifetime in seconds, 1 to 3600 (Jazz's verifier
        /// accepts up to 3600).
        #[arg(long, default_value_t = token::DEFAULT_PROOF_MAX_TTL_SECONDS, allow_hyphen_values = true)]
        max_ttl: u64,
    },
}

/// What `token verify` and `token verify-proof` check, and when.
#[derive(Debug, Clone, Args)]
pub struct TokenCheck {
    /// The token, or `-` to read it from stdin.
    #[arg(long, allow_hyphen_values = true)]
    pub token: String,
    /// The expected audience.
    #[arg(long, allow_hyphen_values = true)]
    pub audience: String,
    /// The verifier's time (Unix seconds); defaults to now.
    #[arg(long, allow_hyphen_values = true)]
    pub now: Option<u64>,
}

/// `localfirst phrase ...`
#[derive(Debug, Subcommand)]
pub enum PhraseCommand {
    /// Encode a secret as its 24-word recovery phrase.
    Encode {
        /// The secret as unpadded base64url, or `-` to read it from stdin.
        #[arg(long, allow_hyphen_values = true)]
        secret: String,
    },
    /// Decode a 24-word recovery phrase into its secret.
    Decode {
        /// The 24 words (quoted), or `-` to read them from stdin: all of it, words
        /// separated by any whitespace, newlines included (one word per line works).
        #[arg(long, allow_hyphen_values = true)]
        phrase: String,
    },
}

/// Parses a `--secret` argument (value or `-` for stdin).
pub fn secret_arg(value: &str) -> Result<Secret, CliError> {
    let text = read_sensitive(value, "secret")?;
    Secret::parse_base64url(&text).map_err(|e| CliError::from_error(&e))
}

fn identity_fields(report: Report, identity: &Identity) -> Report {
    report
        .field("user_id", identity.user_id().to_string())
        .field("public_key", identity.public_key().to_base64url())
}

/// Runs `localfirst identity ...`.
pub fn run_identity(command: &IdentityCommand) -> Result<Report, CliError> {
    match command {
        IdentityCommand::New => {
            let secret = Secret::generate().map_err(|e| CliError::from_error(&e))?;
            let identity = Identity::from_secret(&secret);
            let phrase = secret_to_phrase(&secret);
            Ok(identity_fields(Report::new(), &identity)
                .field("secret", secret.to_base64url().as_str())
                .field("phrase", phrase.expose()))
        }
        IdentityCommand::Derive { secret } => {
            let secret = secret_arg(secret)?;
            Ok(identity_fields(
                Report::new(),
                &Identity::from_secret(&secret),
            ))
        }
    }
}

/// Runs `localfirst token ...`.
pub fn run_token(command: &TokenCommand) -> Result<Report, CliError> {
    match command {
        TokenCommand::Mint {
            secret,
            audience,
            ttl,
            iat,
            issuer,
        } => {
            let ttl =
                u64::try_from(*ttl).map_err(|_| CliError::from_error(&TokenError::InvalidTtl))?;
            let secret = secret_arg(secret)?;
            let identity = Identity::from_secret(&secret);
            let issuer = match issuer {
                IssuerArg::LocalFirst => Issuer::LocalFirst,
                IssuerArg::Anonymous => Issuer::Anonymous,
            };
            let iat = iat.unwrap_or_else(|| SystemClock.now_unix());
            let jwt = token::mint(&identity, issuer, audience, iat, ttl)
                .map_err(|e| CliError::from_error(&e))?;
            Ok(Report::new()
                .field("token", jwt)
                .field("user_id", identity.user_id().to_string())
                .field("iat", iat)
                .field("exp", iat.saturating_add(ttl)))
        }
        TokenCommand::Verify { check, max_ttl } => {
            let jwt = check.read("token")?;
            let options = VerifyOptions::new(&check.audience).with_max_ttl(*max_ttl);
            match token::verify(&jwt, &options, check.clock().as_ref()) {
                Ok(verified) => Ok(Report::new()
                    .field("ok", true)
                    .field("id", verified.user_id.to_string())
                    .field("error", Value::Null)
                    .field("code", Value::Null)
                    .field("issuer", verified.issuer.as_str())
                    .field("exp", verified.expires_at)),
                Err(error) => Err(rejected(CliError::from_error(&error))),
            }
        }
        TokenCommand::VerifyProof { check, max_ttl } => {
            let proof = check.read("proof")?;
            let outcome = token::verify_local_first_identity_proof_with_max_ttl(
                &proof,
                &check.audience,
                *max_ttl,
                check.clock().as_ref(),
            );
            match (outcome.id, outcome.code) {
                (Some(id), None) if outcome.ok => Ok(Report::new()
                    .field("ok", true)
                    .field("id", id)
                    .field("error", Value::Null)
                    .field("code", Value::Null)),
                (_, code) => Err(rejected(CliError::new(
                    code.unwrap_or(localfirst_core::Code::Internal),
                    outcome.error.unwrap_or_default(),
                ))),
            }
        }
    }
}

/// A refusal in the shape of a rejected token (`ok: false`, `id: null`): every
/// failure of `token verify` and `token verify-proof`, stdin included.
fn rejected(error: CliError) -> CliError {
    error.with_field("ok", false).with_field("id", Value::Null)
}

impl TokenCheck {
    /// The token (`what` names it in errors), read from stdin for `-`.
    fn read(&self, what: &str) -> Result<Zeroizing<String>, CliError> {
        read_sensitive(&self.token, what).map_err(rejected)
    }

    /// A clock stopped at `--now`, or the system clock.
    fn clock(&self) -> Box<dyn Clock> {
        match self.now {
            Some(now) => Box::new(FixedClock::new(now)),
            None => Box::new(SystemClock),
        }
    }
}

/// Runs `localfirst phrase ...`.
pub fn run_phrase(command: &PhraseCommand) -> Result<Report, CliError> {
    match command {
        PhraseCommand::Encode { secret } => {
            let secret = secret_arg(secret)?;
            let identity = Identity::from_secret(&secret);
            Ok(Report::new()
                .field("phrase", secret_to_phrase(&secret).expose())
                .field("user_id", identity.user_id().to_string()))
        }
        PhraseCommand::Decode { phrase } => {
            let text = if phrase == "-" {
                input::stdin_all("phrase")?
            } else {
                Zeroizing::new(phrase.clone())
            };
            let secret = phrase_to_secret(&text).map_err(|e| CliError::from_error(&e))?;
            let identity = Identity::from_secret(&secret);
            Ok(Report::new()
                .field("secret", secret.to_base64url().as_str())
                .field("user_id", identity.user_id().to_string()))
        }
    }
}
