//! `localfirst server`: runs the sync server until SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;
use localfirst_core::policy::PolicySet;
use localfirst_server::auth::external::{
    ExternalAuthConfig, ExternalAuthError, ExternalKeySource, JwksOptions,
};
use localfirst_server::{serve, Limits, ServerConfig, ServerError, SharedSecret, StopSignal};
use serde_json::json;

use super::{CliError, Report};
use localfirst_core::Code;

/// Largest public key file `--jwt-public-key @file` reads (a JWK set or PEM).
const MAX_KEY_FILE_BYTES: u64 = 256 * 1024;

/// Flags of `localfirst server`; each also reads a `LOCALFIRST_*` variable.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The app id: clients connect to `/sync/<APP_ID>`; the self-signed token audience.
    #[arg(env = "LOCALFIRST_APP_ID")]
    pub app_id: String,
    /// Address to bind.
    #[arg(long, env = "LOCALFIRST_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port; 0 picks a free one (printed on start).
    #[arg(long, env = "LOCALFIRST_PORT", default_value_t = 4200)]
    pub port: u16,
    /// Directory of the SQLite database.
    #[arg(long, env = "LOCALFIRST_DATA_DIR", conflicts_with = "in_memory")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory (lost on exit).
    #[arg(long, env = "LOCALFIRST_IN_MEMORY")]
    pub in_memory: bool,
    /// PostgreSQL URL (postgres://...) for a database shared by several replicas.
    #[arg(long, env = "LOCALFIRST_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Accept local-first tokens (refused with `disabled` otherwise).
    #[arg(long, env = "LOCALFIRST_ALLOW_LOCAL_FIRST_AUTH")]
    pub allow_local_first_auth: bool,
    /// JWKS endpoint for external tokens.
    #[arg(long, env = "LOCALFIRST_JWKS_URL", conflicts_with = "jwt_public_key")]
    pub jwks_url: Option<String>,
    /// Public key for external tokens: JWK JSON, PEM text, or @file.
    #[arg(long, env = "LOCALFIRST_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,
    /// Accepted `iss` of external tokens (repeat it, or separate with commas).
    #[arg(long, env = "LOCALFIRST_JWT_ISSUER", value_delimiter = ',')]
    pub jwt_issuer: Vec<String>,
    /// Accepted `aud` of external tokens (repeat it, or separate with commas).
    #[arg(long, env = "LOCALFIRST_JWT_AUDIENCE", value_delimiter = ',')]
    pub jwt_audience: Vec<String>,
    /// INSECURE: accept external tokens of any issuer whose key is trusted.
    #[arg(long, env = "LOCALFIRST_INSECURE_SKIP_ISSUER_CHECK")]
    pub insecure_skip_issuer_check: bool,
    /// INSECURE: accept external tokens issued for any audience (other apps too).
    #[arg(long, env = "LOCALFIRST_INSECURE_SKIP_AUDIENCE_CHECK")]
    pub insecure_skip_audience_check: bool,
    /// Secret enabling backend impersonation (X-Jazz-Backend-Secret; 16 bytes or more).
    #[arg(long, env = "LOCALFIRST_BACKEND_SECRET", hide_env_values = true)]
    pub backend_secret: Option<String>,
    /// Secret for /admin routes (X-Admin-Secret; 16 bytes or more).
    #[arg(long, env = "LOCALFIRST_ADMIN_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,
    /// Policy file (JSON, docs/POLICIES.md) enforced on writes and reads.
    #[arg(long, env = "LOCALFIRST_POLICIES")]
    pub policies: Option<PathBuf>,
    /// Most sync sockets one user may hold open.
    #[arg(long, env = "LOCALFIRST_MAX_CONNECTIONS_PER_USER", default_value_t = Limits::default().max_connections_per_user)]
    pub max_connections_per_user: usize,
    /// Most connections one client address may hold open (raise it behind a proxy).
    #[arg(long, env = "LOCALFIRST_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Limits::default().max_connections_per_address)]
    pub max_connections_per_address: usize,
}

/// A shared secret from `flag`, refused with the flag's name when it is short.
fn secret(value: &Option<String>, flag: &str) -> Result<Option<SharedSecret>, CliError> {
    value
        .clone()
        .map(|text| {
            SharedSecret::new(text).map_err(|e| {
                CliError::new(
                    Code::SharedSecretTooShort,
                    format!("{flag} (or LOCALFIRST_{}): {e}", flag_env(flag)),
                )
            })
        })
        .transpose()
}

/// `--backend-secret` -> `BACKEND_SECRET`.
fn flag_env(flag: &str) -> String {
    flag.trim_start_matches('-')
        .replace('-', "_")
        .to_uppercase()
}

fn config(args: &ServerArgs) -> Result<ServerConfig, CliError> {
    let mut config = ServerConfig::new(args.app_id.clone());
    config.bind = args.bind;
    config.port = args.port;
    config.data_dir = args.data_dir.clone();
    config.in_memory = args.in_memory;
    config.database_url = args.database_url.clone();
    config.allow_local_first_auth = args.allow_local_first_auth;
    config.backend_secret = secret(&args.backend_secret, "--backend-secret")?;
    config.admin_secret = secret(&args.admin_secret, "--admin-secret")?;
    config.limits.max_connections_per_user = args.max_connections_per_user;
    config.limits.max_connections_per_address = args.max_connections_per_address;
    let keys = match (&args.jwks_url, &args.jwt_public_key) {
        (Some(url), _) => Some(ExternalKeySource::Jwks {
            url: url.clone(),
            options: JwksOptions::default(),
        }),
        (None, Some(key)) => Some(ExternalKeySource::Static {
            key: match key.strip_prefix('@') {
                Some(path) => super::input::file_text(
                    std::path::Path::new(path),
                    MAX_KEY_FILE_BYTES,
                    "public key file",
                )?,
                None => key.clone(),
            },
        }),
        (None, None) => None,
    };
    config.external = keys.map(|keys| ExternalAuthConfig {
        keys,
        issuers: args.jwt_issuer.clone(),
        audiences: args.jwt_audience.clone(),
        insecure_skip_issuer_check: args.insecure_skip_issuer_check,
        insecure_skip_audience_check: args.insecure_skip_audience_check,
    });
    if let Some(path) = &args.policies {
        config.policies = Some(PolicySet::from_file(path).map_err(|e| CliError::from_error(&e))?);
    }
    Ok(config)
}

/// A start-up failure, with the flags to set when external token checks are missing.
fn start_error(error: &ServerError) -> CliError {
    let mut refused = CliError::from_error(error);
    if let ServerError::External(ExternalAuthError::ChecksNotConfigured { issuer, audience }) =
        error
    {
        let mut flags = Vec::new();
        if *issuer {
            flags.push("--jwt-issuer (or --insecure-skip-issuer-check)");
        }
        if *audience {
            flags.push("--jwt-audience (or --insecure-skip-audience-check)");
        }
        refused.message = format!("{}; set {}", refused.message, flags.join(" and "));
    }
    refused
}

/// Runs the server until SIGTERM or Ctrl-C; prints the bound address first.
pub fn run_server(args: &ServerArgs, json_output: bool) -> Result<Report, CliError> {
    // Scripts read the port from stdout: with stdout closed nobody could.
    if super::output::stdout_closed_at_start() {
        return Err(CliError::new(
            Code::Output,
            "standard output is closed, so the listening address cannot be printed; \
             redirect it (for example to /dev/null) instead of closing it",
        ));
    }
    let config = config(args)?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Code::RuntimeUnavailable, e.to_string()))?;
    runtime.block_on(async {
        // Listening before the address is printed: a script may stop the server
        // the moment it reads the line.
        let stop = StopSignal::listen();
        let server = serve(config).await.map_err(|e| start_error(&e))?;
        let addr = server.local_addr();
        let url = format!("ws://{addr}/sync/{}", args.app_id);
        let line = if json_output {
            json!({"event": "listening", "addr": addr.to_string(), "port": addr.port(), "url": url})
                .to_string()
        } else {
            format!(
                "listening  {addr}\nport       {}\nurl        {url}",
                addr.port()
            )
        };
        // Scripts read the port from this line: a failed write is a failed start.
        let mut out = std::io::stdout().lock();
        if let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            drop(out);
            // The output error is the one to report; a failed shutdown adds nothing.
            let _ = server.shutdown().await;
            return Err(CliError::new(
                Code::Output,
                format!("could not print the listening address: {error}"),
            ));
        }
        drop(out);
        server
            .run_until(stop)
            .await
            .map_err(|e| CliError::from_error(&e))?;
        Ok(Report::new().field("stopped", true))
    })
}

/// Sends the server's `tracing` events to stderr, filtered by `RUST_LOG` (default
/// `info`). Tokens and secrets are never part of an event.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Fails only when a subscriber is already installed (tests embedding the CLI).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
