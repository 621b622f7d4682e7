//! mTLS-bound tokens (RFC 8705 §3): the SHA-256 thumbprint of the client certificate that a TLS
//! proxy in front of the API forwards in a header, to compare with a token's `cnf.x5t#S256`.

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
    /// More than one certificate: the header twice, an Envoy header of several elements or
    /// with `Cert` twice, or a PEM of several certificates. Which one the proxy vouches for
    /// cannot be told, so none is taken.
    #[error("more than one client certificate was forwarded")]
    Several,
}

/// The base64url SHA-256 of the DER certificate in `header`: URL-encoded PEM, as nginx's
/// `$ssl_client_escaped_cert` gives it (or plain PEM), or Envoy's `X-Forwarded-Client-Cert`
/// of exactly one element with exactly one `Cert` (Envoy's `SANITIZE_SET`). The Envoy form is
/// read by its grammar: elements split on commas outside quotes, `;`-separated `key=value`
/// pairs, quoted values with `\"` escapes.
///
/// # Errors
/// [`CertificateError::Missing`] for an empty value, [`CertificateError::Several`] for more
/// than one certificate, [`CertificateError::Unreadable`] for anything else that is not one
/// PEM certificate.
pub fn certificate_thumbprint(header: &str) -> Result<String, CertificateError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(CertificateError::Missing);
    }
    if header.len() > MAX_CERTIFICATE_HEADER_BYTES {
        return Err(CertificateError::Unreadable);
    }
    let pem = if is_pem_form(header) {
        // A comma is never in PEM, escaped or not: two header values joined.
        if header.contains(',') {
            return Err(CertificateError::Several);
        }
        percent_decode(header)
    } else {
        percent_decode(&xfcc_cert(header)?)
    }
    .ok_or(CertificateError::Unreadable)?;
    let der = only_certificate(&pem)?;
    Ok(URL_SAFE_NO_PAD.encode(digest(&SHA256, &der)))
}

/// Whether the value is PEM, plain or percent-encoded (nginx leaves `-` as it is), rather than
/// an Envoy `X-Forwarded-Client-Cert`.
fn is_pem_form(header: &str) -> bool {
    header.starts_with("-----")
        || header
            .get(..3)
            .is_some_and(|start| start.eq_ignore_ascii_case("%2D"))
}

/// The `Cert` value of an Envoy `X-Forwarded-Client-Cert` of one element, unquoted.
fn xfcc_cert(header: &str) -> Result<String, CertificateError> {
    let elements = split_outside_quotes(header, ',')?;
    let [element] = elements.as_slice() else {
        return Err(CertificateError::Several);
    };
    let mut certs = split_outside_quotes(element, ';')?
        .into_iter()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("cert")
                .then_some(value.trim())
        });
    match (certs.next(), certs.next()) {
        (Some(value), None) => unquote(value),
        (Some(_), Some(_)) => Err(CertificateError::Several),
        (None, _) => Err(CertificateError::Unreadable),
    }
}

/// `text` split on `separator` where it stands outside double quotes; a backslash inside
/// quotes escapes the next character. An unterminated quote is unreadable.
fn split_outside_quotes(text: &str, separator: char) -> Result<Vec<&str>, CertificateError> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    if quoted || escaped {
        return Err(CertificateError::Unreadable);
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// A value without its surrounding quotes and with its `\"` escapes undone; an unquoted value
/// as it is.
fn unquote(value: &str) -> Result<String, CertificateError> {
    let Some(inner) = value.strip_prefix('"') else {
        return Ok(value.to_owned());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or(CertificateError::Unreadable)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().ok_or(CertificateError::Unreadable)?
        } else {
            c
        });
    }
    Ok(out)
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

/// The DER bytes of the one `CERTIFICATE` block of `pem`.
fn only_certificate(pem: &str) -> Result<Vec<u8>, CertificateError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).ok_or(CertificateError::Unreadable)? + BEGIN.len();
    let end = start + pem[start..].find(END).ok_or(CertificateError::Unreadable)?;
    if pem[end..].contains(BEGIN) {
        return Err(CertificateError::Several);
    }
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|_| CertificateError::Unreadable)?;
    if der.is_empty() {
        return Err(CertificateError::Unreadable);
    }
    Ok(der)
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
            "By=spiffe://api;Hash=abc;Cert=\"{}\";Subject=\"CN=test, \\\"client\\\"\";URI=",
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

    #[test]
    fn several_certificates_are_refused_never_one_of_them_taken() {
        let cert = escaped(PEM);
        for several in [
            // Envoy's APPEND_FORWARD: the client's element, then the proxy's.
            format!("By=a;Cert=\"{cert}\",By=b;Cert=\"{cert}\""),
            format!("By=a;Cert=\"{cert}\";Cert=\"{cert}\""),
            // Two nginx values joined by an intermediary.
            format!("{cert}, {cert}"),
            escaped(&format!("{PEM}{PEM}")),
        ] {
            assert_eq!(
                certificate_thumbprint(&several),
                Err(CertificateError::Several),
                "{several:.60}"
            );
        }
    }

    #[test]
    fn a_certificate_is_never_found_inside_a_quoted_value_or_another_key() {
        let cert = escaped(PEM);
        for hidden in [
            // Before the fix, a quoted comma let the scan find a forged Cert in Subject.
            format!("By=a;Subject=\"x, Cert={cert}\""),
            format!("By=a;Hash=\"Cert={cert}\""),
            format!("By=a;Cert=\"{cert}"),
            format!("By=a;Certificate=\"{cert}\""),
        ] {
            assert_eq!(
                certificate_thumbprint(&hidden),
                Err(CertificateError::Unreadable),
                "{hidden:.60}"
            );
        }
    }
}
