//! The TLS client configuration for fetching keys: the Mozilla root program's CAs, compiled in
//! by webpki-roots (so a binary trusts the same roots in any container, with or without an OS
//! trust store), plus any extra roots the operator gives for a private CA.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::error::ConfigError;

/// A client configuration trusting the built-in roots and every certificate in
/// `extra_roots_pem`.
///
/// # Errors
/// [`ConfigError::BadRootCertificates`] when the PEM holds no certificate, or one that cannot be
/// used as a trust anchor.
pub(crate) fn client_config(
    extra_roots_pem: Option<&[u8]>,
) -> Result<Arc<ClientConfig>, ConfigError> {
    let bad = |reason: String| ConfigError::BadRootCertificates { reason };
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = extra_roots_pem {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
        if certificates.is_empty() {
            return Err(bad("no CERTIFICATE block found".into()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_roots_must_be_pem_certificates() {
        assert!(client_config(None).is_ok());
        for bad in [
            &b""[..],
            b"not pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(
                matches!(
                    client_config(Some(bad)),
                    Err(ConfigError::BadRootCertificates { .. })
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
