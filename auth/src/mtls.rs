//! mTLS-bound tokens (RFC 8705 §3): the SHA-256 thumbprint of the client certificate that a TLS
//! proxy in front of the API forwards in a header, to compare with a token's `cnf.x5t#S256`.
//! The framework-free core; the middleware does not use it yet.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The longest header value looked at: a certificate chain this long is not a client's.
pub const MAX_CERTIFICATE_HEADER_BYTES: usize = 16 * 1024;

/// Why a forwarded certificate cannot be read. Each is a 401 `invalid_token` for a bound token:
/// a binding that cannot be checked is never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The header is absent or empty.
    #[error("no client certificate was presented")]
    Missing,
    /// Too long, not percent-encoded text, or not a PEM certificate.
    #[error("the client certificate cannot be read")]
    Unreadable,
}

/// The base64url SHA-256 of the DER certificate in `header`: URL-encoded PEM, as nginx's
/// `$ssl_client_escaped_cert` gives it, or Envoy's `X-Forwarded-Client-Cert` with its `Cert=`
/// element (the first one, the client's).
///
/// # Errors
/// [`CertificateError::Missing`] for an empty value, [`CertificateError::Unreadable`] for one
/// that holds no PEM certificate.
pub fn certificate_thumbprint(header: &str) -> Result<String, CertificateError> {
    if header.trim().is_empty() {
        return Err(CertificateError::Missing);
    }
    if header.len() > MAX_CERTIFICATE_HEADER_BYTES {
        return Err(CertificateError::Unreadable);
    }
    let encoded = xfcc_cert(header).unwrap_or(header);
    let pem = percent_decode(encoded).ok_or(CertificateError::Unreadable)?;
    let der = first_certificate(&pem).ok_or(CertificateError::Unreadable)?;
    Ok(URL_SAFE_NO_PAD.encode(digest(&SHA256, &der)))
}

/// The `Cert="..."` (or unquoted `Cert=...`) value of the first element of an Envoy
/// `X-Forwarded-Client-Cert` header, if it is one.
fn xfcc_cert(header: &str) -> Option<&str> {
    let first = header.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        name.eq_ignore_ascii_case("cert")
            .then(|| value.trim_matches('"'))
    })
}

/// Percent-decoding, where `+` stays `+` (it is base64, not a space).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The DER bytes of the first `CERTIFICATE` block of `pem`.
fn first_certificate(pem: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let end = start + pem[start..].find(END)?;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD.decode(body).ok()?;
    (!der.is_empty()).then_some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../fixtures/client-cert.pem");
    /// Computed by OpenSSL (see `fixtures/README.md`), not by this code.
    const THUMBPRINT: &str = "vRLo11FhkZFyt-FTOCydvLuSyP8qipnf5rCLatzttUI";

    /// Percent-encodes every byte outside unreserved characters, as nginx does.
    fn escaped(text: &str) -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[test]
    fn nginx_and_envoy_forms_give_the_certificates_thumbprint() {
        let nginx = escaped(PEM);
        let envoy = format!(
            "By=spiffe://api;Hash=abc;Cert=\"{}\";Subject=\"CN=test client\",By=other;Cert=\"x\"",
            escaped(PEM)
        );

        assert_eq!(certificate_thumbprint(&nginx).as_deref(), Ok(THUMBPRINT));
        assert_eq!(certificate_thumbprint(&envoy).as_deref(), Ok(THUMBPRINT));
        assert_eq!(certificate_thumbprint(PEM).as_deref(), Ok(THUMBPRINT));
    }

    #[test]
    fn no_certificate_or_garbage_is_never_a_thumbprint() {
        assert_eq!(certificate_thumbprint(""), Err(CertificateError::Missing));
        assert_eq!(certificate_thumbprint("  "), Err(CertificateError::Missing));
        for garbage in [
            "not a certificate".to_owned(),
            "%ZZ".to_owned(),
            escaped("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
            escaped("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
            "x".repeat(MAX_CERTIFICATE_HEADER_BYTES + 1),
        ] {
            assert_eq!(
                certificate_thumbprint(&garbage),
                Err(CertificateError::Unreadable),
                "{garbage:.40}"
            );
        }
    }
}
