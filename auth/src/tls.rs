//! The HTTP client set-up of the workspace: reqwest over rustls with the `ring` crypto
//! provider and the platform's certificate verifier (the system's roots on Linux, the
//! system verifier on macOS and Windows).
//!
//! reqwest's own `rustls` feature builds aws-lc-rs, a C crypto library compiled with
//! cmake, into every binary that fetches a JWKS (the server, the CLI, the Node addon).
//! The workspace enables reqwest's `rustls-no-provider` instead and every client is
//! built from [`client_builder`], which hands reqwest a finished rustls configuration:
//! no process-wide default provider is read or installed. (A client built from
//! `reqwest::Client::builder()` directly would look for a process-wide provider and fail
//! without one.) Why `ring`: docs/SERVER.md, "TLS".

use std::sync::Arc;

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt as _;

/// A reqwest client builder whose HTTPS is rustls with the `ring` provider (TLS 1.2 and
/// 1.3, rustls's safe defaults) and the platform's certificate verifier. Fails only when
/// the verifier cannot start, e.g. a Linux system without any CA certificate.
pub fn client_builder() -> Result<reqwest::ClientBuilder, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(reqwest::Client::builder().tls_backend_preconfigured(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_client_builds_with_the_ring_provider() {
        let client = client_builder()
            .and_then(|builder| {
                builder
                    .https_only(true)
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))
            })
            .map_err(|e| e.to_string());
        assert!(client.is_ok(), "{client:?}");
    }
}
