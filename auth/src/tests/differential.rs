//! The differential check: our hand-written verification (aws-lc-rs) against
//! `jsonwebtoken::decode`, the library the project was designed around, on generated valid and
//! near-valid tokens over every supported algorithm. They must agree, except where we are
//! deliberately stricter; each such difference is listed in [`Case::stricter`] and the README.

use jsonwebtoken::{DecodingKey, Validation, decode};
use proptest::prelude::*;
use wiremock::MockServer;

use super::*;

/// Seconds far from every boundary: time edges are unit-tested, not compared here.
const FAR: i64 = 3600;
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Copy)]
enum Time {
    Absent,
    Past,
    Future,
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // One flag per generated variation.
struct Case {
    /// Which key and algorithm: an index into [`signers`].
    signer: usize,
    /// Sign with an unpublished key under the same `kid`.
    rogue: bool,
    /// Flip a byte in the middle of the signature.
    corrupt: bool,
    iss: Option<&'static str>,
    aud: Option<Value>,
    exp: Time,
    nbf: Time,
    /// `typ` header: we accept only JWT and access-token types (RFC 8725 §3.11).
    typ: Option<&'static str>,
    /// A `crit` header: we implement no extension, so we refuse any.
    crit: bool,
    /// `iat` as a string: we require NumericDate claims to be numbers.
    iat_string: bool,
}

impl Case {
    /// Whether the case carries something we refuse on purpose and jsonwebtoken does not check.
    fn stricter(&self) -> bool {
        self.typ.is_some_and(|typ| typ == "id_token") || self.crit || self.iat_string
    }
}

/// (key, algorithm) pairs covering every algorithm that jsonwebtoken verifies too: all of ours
/// but ES512 and the fully specified `Ed25519`, which it does not know (the Wycheproof vectors
/// and the unit tests cover those).
fn signers() -> Vec<(SigningKey, Algorithm)> {
    let p384 = || {
        SigningKey::p384_from_pem("k-es384", include_str!("../../fixtures/ec-p384.pem")).unwrap()
    };
    let mut signers: Vec<(SigningKey, Algorithm)> = Algorithm::ALL
        .into_iter()
        .filter(|alg| alg.is_rsa())
        .map(|alg| (rsa(1, "k-rsa"), alg))
        .collect();
    signers.push((p256("k-es256"), Algorithm::ES256));
    signers.push((p384(), Algorithm::ES384));
    signers.push((ed25519("k-ed"), Algorithm::EdDSA));
    signers
}

fn time() -> impl Strategy<Value = Time> {
    prop_oneof![Just(Time::Absent), Just(Time::Past), Just(Time::Future)]
}

/// Weighted towards valid values, so that a run of a few hundred cases surely reaches both
/// verdicts.
fn mostly<T: Clone + std::fmt::Debug + 'static>(
    valid: T,
    others: Vec<T>,
) -> impl Strategy<Value = T> {
    prop_oneof![3 => Just(valid), 2 => prop::sample::select(others)]
}

fn case(signers: usize) -> impl Strategy<Value = Case> {
    let claims = (
        mostly(Some(ISSUER), vec![Some("https://evil.example/"), None]),
        mostly(
            Some(json!(AUDIENCE)),
            vec![
                Some(json!(["https://other", AUDIENCE])),
                Some(json!("https://other")),
                Some(json!([])),
                None,
            ],
        ),
        mostly(Time::Future, vec![Time::Past, Time::Absent]),
        time(),
    );
    let header = (
        prop::option::of(prop::sample::select(vec!["JWT", "at+jwt", "id_token"])),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    );
    (
        0..signers,
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        claims,
        header,
    )
        .prop_map(
            |(signer, rogue, corrupt, (iss, aud, exp, nbf), (typ, crit, iat_string))| Case {
                signer,
                rogue,
                corrupt,
                iss,
                aud,
                exp,
                nbf,
                typ,
                crit,
                iat_string,
            },
        )
}

fn mint(case: &Case, key: &SigningKey, alg: Algorithm) -> String {
    let now = crate::testing::now_secs();
    let at = |time: Time| match time {
        Time::Absent => None,
        Time::Past => Some(now - FAR),
        Time::Future => Some(now + FAR),
    };
    let rogue = rsa(3, key.kid());
    let signer = if case.rogue && alg.is_rsa() {
        &rogue
    } else {
        key
    };
    let mut token = signer
        .token()
        .header("alg", alg.as_str())
        .claim("sub", "user-1")
        .without_header("typ");
    for (name, value) in [
        ("iss", case.iss.map(Value::from)),
        ("aud", case.aud.clone()),
        ("exp", at(case.exp).map(Value::from)),
        ("nbf", at(case.nbf).map(Value::from)),
    ] {
        if let Some(value) = value {
            token = token.claim(name, value);
        }
    }
    if let Some(typ) = case.typ {
        token = token.header("typ", typ);
    }
    if case.crit {
        token = token.header("crit", json!(["exp"]));
    }
    token = token.claim(
        "iat",
        if case.iat_string {
            json!(now.to_string())
        } else {
            json!(now)
        },
    );
    let mut compact = token.sign().unwrap();
    if case.corrupt {
        let middle = compact.len() - 20;
        let flipped = if &compact[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        compact.replace_range(middle..=middle, flipped);
    }
    compact
}

fn reference(token: &str, key: &SigningKey, alg: Algorithm) -> bool {
    let mut jwk = key.jwk();
    jwk.as_object_mut().unwrap().remove("alg");
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let alg: jsonwebtoken::Algorithm = alg.as_str().parse().unwrap();
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    // We require `iss` and `aud`; jsonwebtoken checks them only when present unless told to.
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    decode::<Value>(token, &key, &validation).is_ok()
}

#[actix_web::test]
async fn our_verdicts_match_jsonwebtoken_except_where_we_are_stricter_on_purpose() {
    let signers = signers();
    let published: Vec<Value> = signers
        .iter()
        .map(|(key, _)| {
            let mut jwk = key.jwk();
            // No JWK `alg`, so one RSA key serves all six RSA algorithms, as in jsonwebtoken.
            jwk.as_object_mut().unwrap().remove("alg");
            jwk
        })
        .collect();
    let server = MockServer::start().await;
    serve_jwks(&server, &json!({ "keys": published }), 1..).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .algorithms(Algorithm::ALL)
        .leeway(Duration::from_secs(LEEWAY_SECS))
        .token_cache_capacity(0)
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;

    let (mut accepted, mut stricter) = (0, 0);
    for case in samples(&case(signers.len()), fuzz_cases(600)) {
        let (key, alg) = &signers[case.signer];
        let token = mint(&case, key, *alg);

        let ours = auth.verify_token(&token).await.is_ok();
        let theirs = reference(&token, key, *alg);

        if case.stricter() {
            stricter += 1;
            assert!(!ours, "we must refuse {case:?}");
        } else {
            assert_eq!(ours, theirs, "ours {ours}, jsonwebtoken {theirs}: {case:?}");
        }
        accepted += usize::from(ours);
    }
    // The generator must reach both verdicts, and the listed differences.
    assert!(
        accepted > 0 && stricter > 0,
        "{accepted} accepted, {stricter} stricter"
    );
}
