//! Reads the access token from the `Authorization` header: `Bearer` (RFC 6750 §2.1) or `DPoP`
//! (RFC 9449 §7.1), both case-insensitive with `1*SP` (RFC 9110 §11).
//!
//! actix-web-httpauth's extractor matches the scheme case-sensitively and cannot tell a missing
//! header from several, so this small piece is our own. It runs on every protected request over
//! a header of ~1 KB, so it is one pass over the bytes, driven by a lookup table, with no
//! allocation.

use std::ops::Range;

use crate::error::{AuthError, InvalidRequest, Offered};
use crate::response::Scheme;

/// The one `Authorization` value of a request, among all it sent.
///
/// # Errors
/// [`AuthError::MissingToken`] without one, `invalid_request` with several.
pub(crate) fn single<T>(mut values: impl Iterator<Item = T>) -> Result<T, AuthError> {
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(InvalidRequest::SeveralHeaders));
    }
    Ok(value)
}

/// The scheme a value starts with, `Bearer` or `DPoP` in any case.
fn scheme_of(word: &[u8]) -> Option<Scheme> {
    if word.eq_ignore_ascii_case(b"bearer") {
        Some(Scheme::Bearer)
    } else if word.eq_ignore_ascii_case(b"dpop") {
        Some(Scheme::Dpop)
    } else {
        None
    }
}

/// Where the token would lie in a well-formed `Bearer <token>` or `DPoP <token>` value, found
/// without checking the token's characters: `[ws] scheme spaces token [ws]`. Enough to look
/// the token up in the verified-token cache, since every cached token passed the full check
/// (and its characters are all base64url or `.`); on a miss, [`parse`] decides.
pub(crate) fn token_candidate(value: &[u8]) -> Option<(Scheme, Range<usize>)> {
    let white = |b: &u8| CLASS[usize::from(*b)] & (SPACE | TAB) != 0;
    let start = value.iter().position(|b| !white(b))?;
    let rest = &value[start..];
    let word = rest.iter().position(|b| *b == b' ')?;
    let scheme = scheme_of(&rest[..word])?;
    let token_start = start + word + rest[word..].iter().position(|b| *b != b' ')?;
    let end = value.len() - value.iter().rev().position(|b| !white(b))?;
    (end > token_start).then_some((scheme, token_start..end))
}

/// Where the token of a `Bearer` value lies, for [`crate::bearer_token`].
///
/// # Errors
/// As [`parse`], and [`AuthError::OtherScheme`] for `DPoP`.
pub(crate) fn parse_token(value: &[u8]) -> Result<Range<usize>, AuthError> {
    match parse(value)? {
        (Scheme::Bearer, range) => Ok(range),
        (Scheme::Dpop, _) => Err(AuthError::OtherScheme(Offered::Bearer)),
    }
}

/// The token text at `range` of `value`.
pub(crate) fn token_text(value: &[u8], range: Range<usize>) -> Result<&str, AuthError> {
    // The range holds only b64token characters (ASCII), so this cannot fail.
    std::str::from_utf8(&value[range])
        .map_err(|_| AuthError::InvalidRequest(InvalidRequest::MalformedHeader))
}

/// Whether the query string carries an `access_token` parameter (RFC 6750 §2.3). Such a
/// request is refused, with or without a header: the token has already reached every log that
/// records URLs, and two methods at once are an error (§3.1).
pub(crate) fn query_has_token(query: &str) -> bool {
    !query.is_empty()
        && url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
}

/// Byte classes, one table lookup per byte.
const SPACE: u8 = 1;
const TAB: u8 = 2;
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`: the body of a b64token.
const B64: u8 = 4;
const EQUALS: u8 = 8;
/// What a header value may hold (RFC 9110 field-vchar, SP, HTAB; what `to_str` accepts).
const VISIBLE: u8 = 16;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        #[allow(clippy::cast_possible_truncation)] // byte < 256
        let b = byte as u8;
        let mut class = 0;
        if b == b'\t' || (b >= 0x20 && b < 0x7f) {
            class |= VISIBLE;
        }
        if b == b' ' {
            class |= SPACE;
        }
        if b == b'\t' {
            class |= TAB;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/') {
            class |= B64;
        }
        if b == b'=' {
            class |= EQUALS;
        }
        table[byte] = class;
        byte += 1;
    }
    table
}

/// The full check of one `Authorization` value, `Bearer <b64token>` or `DPoP <b64token>`, in one
/// pass: its scheme and where its token lies. Each part of `[ws] scheme ws token [=...] [ws]` is
/// one tight loop of table lookups. The answers, in order: a byte a header cannot hold is a
/// malformed header; a scheme other than Bearer or DPoP (any case) is another scheme; nothing
/// after it is a missing token; a tab before the token, a character outside b64token, or
/// anything after it but white space is a malformed token.
///
/// # Errors
/// [`AuthError::OtherScheme`], or [`AuthError::InvalidRequest`] as above.
pub(crate) fn parse(value: &[u8]) -> Result<(Scheme, Range<usize>), AuthError> {
    // The index of the first byte at or after `from` outside `class`.
    let skip = |from: usize, class: u8| {
        value[from..]
            .iter()
            .position(|&b| CLASS[usize::from(b)] & class == 0)
            .map_or(value.len(), |n| from + n)
    };
    let white = SPACE | TAB;
    let scheme_start = skip(0, white);
    let scheme_end = value[scheme_start..]
        .iter()
        .position(|&b| CLASS[usize::from(b)] & white != 0)
        .map_or(value.len(), |n| scheme_start + n);
    let token_start = skip(scheme_end, white);
    let body_end = skip(token_start, B64);
    let padding_end = skip(body_end, EQUALS);
    let end = skip(padding_end, white);

    let scheme = scheme_of(&value[scheme_start..scheme_end]);
    let separator = &value[scheme_end..token_start];
    if let Some(scheme) = scheme
        && body_end > token_start
        && end == value.len()
        && !separator.contains(&b'\t')
    {
        // Every byte was white space, the scheme, b64token or `=`: all visible.
        return Ok((scheme, token_start..padding_end));
    }
    Err(
        if value.iter().any(|&b| CLASS[usize::from(b)] & VISIBLE == 0) {
            AuthError::InvalidRequest(InvalidRequest::MalformedHeader)
        } else if scheme.is_none() {
            AuthError::OtherScheme(Offered::Bearer)
        } else if token_start == value.len() {
            AuthError::InvalidRequest(InvalidRequest::MissingToken)
        } else {
            AuthError::InvalidRequest(InvalidRequest::MalformedToken)
        },
    )
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};

    use super::*;
    use crate::actix::bearer_token;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    fn read(value: &str) -> Result<&str, AuthError> {
        parse(value.as_bytes()).map(|(_, range)| &value[range])
    }

    /// The parser this one replaced (several passes over a `&str`): the one-pass parser must
    /// give the same answer for every input.
    fn reference(value: &[u8]) -> Result<&str, AuthError> {
        let value = std::str::from_utf8(value)
            .ok()
            .filter(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
            .ok_or(AuthError::InvalidRequest(InvalidRequest::MalformedHeader))?;
        let value = value.trim_matches([' ', '\t']);
        let scheme_end = value.find([' ', '\t']).unwrap_or(value.len());
        let (scheme, rest) = value.split_at(scheme_end);
        if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("dpop") {
            return Err(AuthError::OtherScheme(Offered::Bearer));
        }
        if rest.is_empty() {
            return Err(AuthError::InvalidRequest(InvalidRequest::MissingToken));
        }
        if rest.starts_with(' ') && !rest.contains('\t') {
            let token = rest.trim_start_matches(' ');
            let body = token.trim_end_matches('=');
            let b64 = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            if !body.is_empty() && body.bytes().all(b64) {
                return Ok(token);
            }
        }
        Err(AuthError::InvalidRequest(InvalidRequest::MalformedToken))
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: u32::try_from(crate::tests::fuzz_cases(5_000)).unwrap_or(u32::MAX),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn the_one_pass_parser_answers_as_the_reference_does(
            parts in (
                proptest::sample::select(vec!["", " ", "\t", " \t "]),
                proptest::sample::select(vec!["Bearer", "bEARER", "DPoP", "dpop", "Basic", "Bearerx", "DPoPx", ""]),
                proptest::sample::select(vec!["", " ", "   ", "\t", " \t"]),
                proptest::collection::vec(
                    proptest::sample::select(b"abcXYZ09-._~+/== \t\",\x00\xff".to_vec()),
                    0..24,
                ),
                proptest::sample::select(vec!["", " ", "\t ", "=="]),
            )
        ) {
            let (lead, scheme, separator, body, trail) = parts;
            let value = [lead.as_bytes(), scheme.as_bytes(), separator.as_bytes(), &body, trail.as_bytes()].concat();
            let ours = parse(&value).map(|(_, range)| &value[range]);
            let theirs = reference(&value).map(str::as_bytes);
            proptest::prop_assert_eq!(ours, theirs);
            // The cache's quick look finds the same scheme and token wherever the full check
            // accepts one.
            if let Ok(parsed) = parse(&value) {
                proptest::prop_assert_eq!(token_candidate(&value), Some(parsed));
            }
        }
    }

    #[test]
    fn an_access_token_query_parameter_is_found_in_any_spelling() {
        for query in [
            "access_token=abc",
            "a=1&access_token=",
            "access%5Ftoken=abc",
            "x=1&access_token",
        ] {
            assert!(query_has_token(query), "{query}");
        }
        for query in ["", "token=abc", "access_token_x=1", "x=access_token"] {
            assert!(!query_has_token(query), "{query}");
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(read("Bearer abc.def.ghi"), Ok("abc.def.ghi"));
        assert_eq!(read("bearer abc"), Ok("abc"));
        assert_eq!(read("BEARER abc"), Ok("abc"));
    }

    #[test]
    fn dpop_scheme_is_read_case_insensitively_and_is_not_a_bearer_token() {
        for value in ["DPoP abc", "dpop abc", "DPOP   abc"] {
            assert_eq!(
                parse(value.as_bytes()).map(|(scheme, _)| scheme),
                Ok(Scheme::Dpop),
                "{value}"
            );
            assert_eq!(
                parse_token(value.as_bytes()),
                Err(AuthError::OtherScheme(Offered::Bearer))
            );
        }
        assert_eq!(
            read("DPoPabc"),
            Err(AuthError::OtherScheme(Offered::Bearer))
        );
    }

    #[test]
    fn several_spaces_and_surrounding_whitespace_are_accepted() {
        assert_eq!(read("Bearer    abc"), Ok("abc"));
        assert_eq!(read("  Bearer abc  "), Ok("abc"));
    }

    #[test]
    fn b64token_allows_its_whole_alphabet_and_trailing_padding() {
        assert_eq!(read("Bearer aZ09-._~+/=="), Ok("aZ09-._~+/=="));
    }

    #[test]
    fn missing_header_is_missing_token() {
        assert_eq!(bearer_token(&headers(&[])), Err(AuthError::MissingToken));
    }

    #[test]
    fn other_schemes_get_the_bare_challenge() {
        assert_eq!(
            read("Basic dXNlcjpwYXNz"),
            Err(AuthError::OtherScheme(Offered::Bearer))
        );
        assert_eq!(
            read("Bearerabc"),
            Err(AuthError::OtherScheme(Offered::Bearer))
        );
        assert_eq!(read(""), Err(AuthError::OtherScheme(Offered::Bearer)));
    }

    #[test]
    fn malformed_bearer_credentials_are_invalid_requests() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer\tabc",
            "Bearer \tabc",
            "Bearer abc def",
            "Bearer a\"b",
            "Bearer a,b",
            "Bearer ===",
            "Bearer =abc",
            "Bearer ab=c",
        ] {
            assert!(
                matches!(read(value), Err(AuthError::InvalidRequest(_))),
                "{value:?} gave {:?}",
                read(value)
            );
        }
    }

    #[test]
    fn two_authorization_headers_are_an_invalid_request() {
        let map = headers(&[b"Bearer abc", b"Bearer def"]);

        assert!(matches!(
            bearer_token(&map),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn non_ascii_header_is_an_invalid_request() {
        let map = headers(&[b"Bearer \xff\xfe"]);

        assert!(matches!(
            bearer_token(&map),
            Err(AuthError::InvalidRequest(_))
        ));
    }
}
