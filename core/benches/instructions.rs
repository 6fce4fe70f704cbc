//! Instruction-count harness: runs one operation N times, for a CPU-instruction counter
//! (valgrind's cachegrind) to measure. `scripts/bench-instructions.sh` runs every
//! operation and the bare primitive it wraps in one run and prints the ratios.
//!
//! ```text
//! instructions <operation> <N>   one warm-up call, then N measured calls
//! instructions                   every operation once, checking each result (a smoke run)
//! ```
//!
//! The fixture (identity, tokens, phrase) is built the same way whatever the operation
//! and N, and every operation makes one warm-up call first, so the difference between a
//! run with N calls and a run with N = 0 is exactly N steady-state calls.
//!
//! Operations, each beside its bare primitive:
//!
//! * `verify` (a returning user's token: its key is in the verifier's key cache) and
//!   `verify_first_seen` (the cache emptied before each call) beside `verify_strict`
//!   (ed25519-dalek's strict verify of the same signature, key already decompressed);
//!   `key_parse_verify_strict` decompresses the key too;
//! * `proof` (`verify_local_first_identity_proof`) beside `proof_verify_strict`;
//! * `mint` beside `sign` (Ed25519 sign of the same bytes);
//! * `phrase_decode` beside `bip39_parse` (`Mnemonic::parse_in_normalized`), `phrase_encode`
//!   beside `bip39_encode`, `derive` beside `derive_bare`;
//! * `server_session`: the two core calls the sync server makes for a self-signed bearer
//!   token (read the claims, to route by issuer and for the session; verify) beside
//!   `verify_strict`;
//! * `forget_keys` empties the key cache alone (subtracted from `verify_first_seen` by the
//!   script).

#![allow(missing_docs)]

mod bare;

use std::hint::black_box;
use std::process::ExitCode;

use bip39::{Language, Mnemonic};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::phrase::{phrase_to_secret, secret_to_phrase};
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer, VerifyOptions};

const IAT: u64 = 1_700_000_000;
const SEED: [u8; 32] = [42; 32];

/// Everything the operations use, built before any of them runs.
struct Fixture {
    secret: Secret,
    identity: Identity,
    signing_key: SigningKey,
    verifying_key: VerifyingKey,
    token: String,
    token_input: Vec<u8>,
    token_signature: Signature,
    options: VerifyOptions,
    proof: String,
    proof_input: Vec<u8>,
    proof_signature: Signature,
    clock: FixedClock,
    words: String,
}

/// The signing input and signature of a compact JWT.
fn signed_parts(jwt: &str) -> Option<(Vec<u8>, Signature)> {
    use base64::Engine as _;
    let (input, signature) = jwt.rsplit_once('.')?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .ok()?;
    let bytes: [u8; 64] = bytes.try_into().ok()?;
    Some((input.as_bytes().to_vec(), Signature::from_bytes(&bytes)))
}

impl Fixture {
    fn new() -> Result<Fixture, String> {
        let secret = Secret::from_bytes(SEED);
        let identity = Identity::from_secret(&secret);
        let signing_key = bare::signing_key(&SEED);
        let verifying_key = signing_key.verifying_key();
        let token = token::mint(&identity, Issuer::LocalFirst, "my-app", IAT, 3600)
            .map_err(|e| e.to_string())?;
        let (token_input, token_signature) = signed_parts(&token).ok_or("token shape")?;
        let proof = token::identity_proof(&secret, 300, "my-app", &FixedClock::new(IAT))
            .map_err(|e| e.to_string())?;
        let (proof_input, proof_signature) = signed_parts(&proof).ok_or("proof shape")?;
        let words = secret_to_phrase(&secret).expose().to_owned();
        Ok(Fixture {
            secret,
            identity,
            signing_key,
            verifying_key,
            token,
            token_input,
            token_signature,
            options: VerifyOptions::new("my-app"),
            proof,
            proof_input,
            proof_signature,
            clock: FixedClock::new(IAT + 1),
            words,
        })
    }

    /// Runs `operation` once; `false` when its result is not the expected success.
    fn run(&self, operation: &str) -> Option<bool> {
        let f = self;
        Some(match operation {
            "verify_strict" => black_box(&f.verifying_key)
                .verify_strict(black_box(&f.token_input), black_box(&f.token_signature))
                .is_ok(),
            "key_parse_verify_strict" => {
                VerifyingKey::from_bytes(black_box(f.verifying_key.as_bytes())).is_ok_and(|key| {
                    key.verify_strict(black_box(&f.token_input), black_box(&f.token_signature))
                        .is_ok()
                })
            }
            "verify" => token::verify(black_box(&f.token), &f.options, &f.clock)
                .is_ok_and(|verified| verified.user_id == f.identity.user_id()),
            "verify_first_seen" => {
                token::forget_cached_keys();
                token::verify(black_box(&f.token), &f.options, &f.clock)
                    .is_ok_and(|verified| verified.user_id == f.identity.user_id())
            }
            "server_session" => {
                token::decode_claims_unverified(black_box(&f.token)).is_ok_and(|claims| {
                    claims.len() == 6
                        && token::verify(black_box(&f.token), &f.options, &f.clock).is_ok()
                })
            }
            "forget_keys" => {
                token::forget_cached_keys();
                true
            }
            "proof_verify_strict" => black_box(&f.verifying_key)
                .verify_strict(black_box(&f.proof_input), black_box(&f.proof_signature))
                .is_ok(),
            "proof" => {
                token::verify_local_first_identity_proof(black_box(&f.proof), "my-app", &f.clock).ok
            }
            "sign" => {
                black_box(f.signing_key.sign(black_box(&f.token_input)));
                true
            }
            "mint" => token::mint(
                black_box(&f.identity),
                Issuer::LocalFirst,
                "my-app",
                IAT,
                3600,
            )
            .is_ok_and(|minted| minted == f.token),
            "bip39_parse" => Mnemonic::parse_in_normalized(Language::English, black_box(&f.words))
                .is_ok_and(|mnemonic| black_box(mnemonic.to_entropy_array()).0[..32] == SEED),
            "phrase_decode" => phrase_to_secret(black_box(&f.words))
                .is_ok_and(|secret| *secret.expose_bytes() == SEED),
            "bip39_encode" => Mnemonic::from_entropy_in(Language::English, black_box(&SEED))
                .is_ok_and(|mnemonic| black_box(mnemonic.to_string()).len() == f.words.len()),
            "phrase_encode" => secret_to_phrase(black_box(&f.secret)).expose() == f.words,
            "derive_bare" => {
                black_box(bare::signing_key(black_box(&SEED)).verifying_key()) == f.verifying_key
            }
            "derive" => {
                Identity::from_secret(black_box(&f.secret)).user_id() == f.identity.user_id()
            }
            _ => return None,
        })
    }
}

const OPERATIONS: &[&str] = &[
    "verify_strict",
    "key_parse_verify_strict",
    "verify",
    "verify_first_seen",
    "forget_keys",
    "server_session",
    "proof_verify_strict",
    "proof",
    "sign",
    "mint",
    "bip39_parse",
    "phrase_decode",
    "bip39_encode",
    "phrase_encode",
    "derive_bare",
    "derive",
];

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`, `cargo bench -- --test` also `--test`: flags only.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let fixture = match Fixture::new() {
        Ok(fixture) => fixture,
        Err(error) => {
            eprintln!("fixture: {error}");
            return ExitCode::FAILURE;
        }
    };
    match args.as_slice() {
        [] => {
            for operation in OPERATIONS {
                if fixture.run(operation) != Some(true) {
                    eprintln!("{operation}: unexpected result");
                    return ExitCode::FAILURE;
                }
            }
            println!(
                "instructions: {} operations ran once each",
                OPERATIONS.len()
            );
            ExitCode::SUCCESS
        }
        [operation, count] => {
            let Ok(count) = count.parse::<u64>() else {
                eprintln!("N must be a number, got {count:?}");
                return ExitCode::FAILURE;
            };
            if fixture.run(operation).is_none() {
                eprintln!("unknown operation {operation:?}; one of {OPERATIONS:?}");
                return ExitCode::FAILURE;
            }
            let mut failures = 0u64;
            for _ in 0..count {
                if fixture.run(operation) != Some(true) {
                    failures += 1;
                }
            }
            if failures > 0 {
                eprintln!("{operation}: {failures} of {count} calls gave an unexpected result");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: instructions [<operation> <N>]");
            ExitCode::FAILURE
        }
    }
}
