//! Reads the bearer token from the `Authorization` header (RFC 6750 §2.1, RFC 9110 §11).
//!
//! actix-web-httpauth's extractor matches the scheme case-sensitively and cannot tell a missing
//! header from several, so this small piece is our own.

use actix_web::http::header::{AUTHORIZATION, HeaderMap};

use crate::error::{AuthError, InvalidRequest};

/// The token of the request's single `Authorization: Bearer <token>` header.
///
/// # Errors
/// - [`AuthError::MissingToken`]: no `Authorization` header;
/// - [`AuthError::OtherScheme`]: a scheme other than Bearer;
/// - [`AuthError::InvalidRequest`]: several headers, no token, a token outside the b64token
///   syntax, or a separator other than spaces.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION);
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(InvalidRequest::SeveralHeaders));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::InvalidRequest(InvalidRequest::MalformedHeader))?;
    parse(value)
}

/// Whether the query string carries an `access_token` parameter (RFC 6750 §2.3). Such a
/// request is refused, with or without a header: the token has already reached every log that
/// records URLs, and two methods at once are an error (§3.1).
pub(crate) fn query_has_token(query: &str) -> bool {
    !query.is_empty()
        && url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
}

fn parse(value: &str) -> Result<&str, AuthError> {
    let value = value.trim_matches([' ', '\t']);
    let scheme_end = value.find([' ', '\t']).unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_end);
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::OtherScheme);
    }
    if rest.is_empty() {
        return Err(AuthError::InvalidRequest(InvalidRequest::MissingToken));
    }
    if rest.starts_with(' ') && !rest.contains('\t') {
        let token = rest.trim_start_matches(' ');
        if is_b64token(token) {
            return Ok(token);
        }
    }
    Err(AuthError::InvalidRequest(InvalidRequest::MalformedToken))
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderValue};

    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    fn read(value: &str) -> Result<&str, AuthError> {
        parse(value)
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
        assert_eq!(read("Basic dXNlcjpwYXNz"), Err(AuthError::OtherScheme));
        assert_eq!(read("Bearerabc"), Err(AuthError::OtherScheme));
        assert_eq!(read(""), Err(AuthError::OtherScheme));
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
