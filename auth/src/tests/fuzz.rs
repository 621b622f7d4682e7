//! Generated inputs (proptest strategies): arbitrary `Authorization` header bytes always get a
//! well-formed 400 or 401, and no mutation of a valid token is ever accepted.
//!
//! `FUZZ_CASES=N cargo test --release -p auth fuzz` runs N cases of each property; CI runs a
//! smaller default.

use actix_web::http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use actix_web::test as http_test;
use actix_web::{App, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use proptest::sample::Index;
use wiremock::MockServer;

use super::*;
use crate::RequireAuth;

/// Whether `value` is `Bearer realm="api"` followed by `, name="value"` parameters whose values
/// are printable ASCII without `"` or `\` (RFC 6750 §3, RFC 9110 §11).
fn well_formed(value: &str) -> bool {
    let Some(mut rest) = value.strip_prefix("Bearer realm=\"api\"") else {
        return false;
    };
    let mut dpop_seen = false;
    while !rest.is_empty() {
        let Some(mut next) = rest.strip_prefix(", ") else {
            return false;
        };
        // The second challenge, `DPoP algs="..."`, after the Bearer one's parameters.
        if let Some(dpop) = next.strip_prefix("DPoP ").filter(|_| !dpop_seen) {
            dpop_seen = true;
            next = dpop;
        }
        let Some((name, after)) = next.split_once("=\"") else {
            return false;
        };
        let Some((param, after)) = after.split_once('"') else {
            return false;
        };
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            || param
                .bytes()
                .any(|b| !(0x20..=0x7e).contains(&b) || b == b'\\')
        {
            return false;
        }
        rest = after;
    }
    true
}

fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop::sample::select(vec![
        &b""[..],
        b"Bearer ",
        b"bearer ",
        b"Bearer\t",
        b"Bearer  ",
        b"Basic ",
        b"BEARER eyJ",
    ]);
    let tail = prop_oneof![
        // Any bytes: short, so that many are still sendable.
        prop::collection::vec(any::<u8>(), 0..12),
        // Every byte a header may carry, obs-text (0x80-0xff) included.
        prop::collection::vec(
            prop_oneof![Just(b'\t'), 0x20..=0x7e_u8, 0x80..=0xff_u8],
            0..300
        ),
        // Mostly token-like characters, so that many cases get past the header syntax.
        prop::collection::vec(
            prop::sample::select(b"ABCxyz019-_.~+/= \t\"\\".to_vec()),
            0..300
        ),
    ];
    (prefix, tail).prop_map(|(prefix, tail)| [prefix, &tail[..]].concat())
}

#[actix_web::test]
async fn arbitrary_authorization_headers_get_a_well_formed_400_or_401() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1..).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    let app = http_test::init_service(
        App::new().service(
            web::resource("/private")
                .route(web::get().to(HttpResponse::Ok))
                .wrap(RequireAuth::new(auth)),
        ),
    )
    .await;
    let cases = samples(&header_bytes(), fuzz_cases(2_000));

    let mut sent = 0;
    for bytes in &cases {
        // Bytes a header cannot carry (CR, LF, NUL...) never reach a server.
        let Ok(value) = HeaderValue::from_bytes(bytes) else {
            continue;
        };
        let request = http_test::TestRequest::get()
            .uri("/private")
            .insert_header((AUTHORIZATION, value))
            .to_request();
        let response = http_test::call_service(&app, request).await;
        sent += 1;

        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = serde_json::from_slice(&http_test::read_body(response).await)
            .unwrap_or_else(|e| panic!("{bytes:?}: body is not JSON: {e}"));
        assert!(matches!(status, 400 | 401), "{bytes:?}: status {status}");
        assert!(
            challenge.as_deref().is_some_and(well_formed),
            "{bytes:?}: challenge {challenge:?}"
        );
        assert!(body["message"].is_string(), "{bytes:?}: body {body}");
    }
    // Two of the three generators make only sendable values.
    assert!(
        sent * 2 > cases.len(),
        "too few cases were sendable: {sent}"
    );
}

/// One way to change a token.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Swap two of the three segments.
    Swap(usize, usize),
    /// Re-encode one segment in another base64 alphabet (standard, or padded base64url).
    Alphabet(usize, bool),
    /// Cut the token short.
    Truncate(Index),
    /// Insert one byte.
    Insert(Index, u8),
    /// Change one claim and re-sign with a key the issuer does not publish (same `kid`).
    Resign(&'static str, i64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1..=255_u8).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        (0..3_usize, 0..3_usize).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (0..3_usize, any::<bool>())
            .prop_map(|(segment, standard)| Mutation::Alphabet(segment, standard)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        (
            prop::sample::select(vec!["sub", "scope", "exp", "aud", "iss", "admin"]),
            any::<i64>()
        )
            .prop_map(|(claim, value)| Mutation::Resign(claim, value)),
    ]
}

fn apply(token: &str, mutation: &Mutation, rogue: &SigningKey) -> String {
    let segments: Vec<&str> = token.split('.').collect();
    match mutation {
        Mutation::Flip(at, mask) => {
            let mut bytes = token.as_bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::Swap(a, b) => {
            let mut swapped = segments.clone();
            swapped.swap(*a, *b);
            swapped.join(".")
        }
        Mutation::Alphabet(segment, standard) => {
            let raw = URL_SAFE_NO_PAD.decode(segments[*segment]).unwrap();
            let encoded = if *standard {
                STANDARD.encode(raw)
            } else {
                URL_SAFE.encode(raw)
            };
            let mut changed = segments.clone();
            changed[*segment] = &encoded;
            changed.join(".")
        }
        Mutation::Truncate(at) => token[..at.index(token.len())].to_owned(),
        Mutation::Insert(at, byte) => {
            let mut bytes = token.as_bytes().to_vec();
            bytes.insert(at.index(bytes.len() + 1), *byte);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::Resign(claim, value) => valid(rogue)
            .claim("scope", "read:messages")
            .claim(claim, *value)
            .sign()
            .unwrap(),
    }
}

#[actix_web::test]
async fn no_mutation_of_a_valid_token_is_accepted() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1..).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    let original = valid(&rsa(1, "k1"))
        .claim("scope", "read:messages")
        .sign()
        .unwrap();
    let rogue = rsa(3, "k1");
    assert!(auth.verify_token(&original).await.is_ok());

    for mutation in samples(&mutation(), fuzz_cases(2_000)) {
        let mutated = apply(&original, &mutation, &rogue);

        let accepted = auth.verify_token(&mutated).await.is_ok();

        assert_eq!(
            accepted,
            mutated == original,
            "{mutation:?} gave {mutated:?}"
        );
    }
}

#[test]
fn the_challenge_check_itself_rejects_malformed_challenges() {
    assert!(well_formed(r#"Bearer realm="api""#));
    assert!(well_formed(
        r#"Bearer realm="api", error="invalid_token", error_description="token expired""#
    ));
    for bad in [
        "Bearer",
        r#"Bearer realm="api" error="x""#,
        r#"Bearer realm="api", error="a"b""#,
        "Bearer realm=\"api\", error=\"\u{7f}\"",
        r#"Basic realm="api""#,
    ] {
        assert!(!well_formed(bad), "{bad}");
    }
}
