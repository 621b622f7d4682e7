//! `iss`, `aud`, and the dates, around the 5 s leeway.

use auth::testing::now_secs;
use serde_json::{Value, json};
use tests::bodies::PRIVATE;
use tests::{AUDIENCE, TestApp, TestConfig, spawn_app, spawn_app_with};

async fn with_claim(app: &TestApp, name: &str, value: Value) -> tests::Reply {
    let token = app.token(&app.keys.rsa).claim(name, value).sign().unwrap();
    app.private(&token).await
}

async fn without_claim(app: &TestApp, name: &str) -> tests::Reply {
    let token = app.token(&app.keys.rsa).without_claim(name).sign().unwrap();
    app.private(&token).await
}

async fn wrong_issuer_in_every_variant_is_rejected() {
    let app = spawn_app().await;
    let issuer = app.issuer.issuer();

    // RFC 9068 §4: exactly. Issue #17 withdrew #13's trailing-slash convenience from tokens;
    // it holds only between the configuration and the discovery document.
    for iss in [
        json!(issuer.trim_end_matches('/')),
        json!(format!("{issuer}/")),
        json!(issuer.to_uppercase()),
        json!(issuer.replace("http://", "https://")),
        json!("https://evil.example/"),
        json!([issuer]),
        json!(""),
        json!(null),
    ] {
        with_claim(&app, "iss", iss)
            .await
            .assert_invalid_token("unexpected 'iss' value");
    }
    without_claim(&app, "iss")
        .await
        .assert_invalid_token("unexpected 'iss' value");
}

async fn audience_as_string_or_array_containing_ours_is_accepted() {
    let app = spawn_app().await;

    for aud in [
        json!(AUDIENCE),
        json!([AUDIENCE]),
        json!(["https://other", AUDIENCE]),
    ] {
        with_claim(&app, "aud", aud).await.assert_ok(PRIVATE);
    }
}

async fn wrong_audience_in_every_variant_is_rejected() {
    let app = spawn_app().await;

    for aud in [
        json!("https://other"),
        json!(format!("{AUDIENCE}/")),
        json!(AUDIENCE.to_uppercase()),
        json!(["https://other"]),
        json!([]),
        json!(""),
        json!(42),
        json!([AUDIENCE, 42]),
        json!({ "aud": AUDIENCE }),
    ] {
        with_claim(&app, "aud", aud)
            .await
            .assert_invalid_token("unexpected 'aud' value");
    }
    without_claim(&app, "aud")
        .await
        .assert_invalid_token("unexpected 'aud' value");
}

async fn expiry_is_enforced_with_the_leeway() {
    let app = spawn_app().await;
    let now = now_secs();

    with_claim(&app, "exp", json!(now - 2))
        .await
        .assert_ok(PRIVATE);
    for exp in [now - 10, now - 86_400, 0] {
        with_claim(&app, "exp", json!(exp))
            .await
            .assert_invalid_token("token expired");
    }
    without_claim(&app, "exp")
        .await
        .assert_invalid_token("missing 'exp' claim");
}

async fn a_token_whose_exp_is_now_is_expired() {
    // RFC 7519 4.1.4: the current time MUST be before `exp`.
    let app = spawn_app_with(TestConfig {
        leeway_secs: 0,
        ..TestConfig::default()
    })
    .await;

    let reply = with_claim(&app, "exp", json!(now_secs())).await;

    reply.assert_invalid_token("token expired");
    with_claim(&app, "exp", json!(now_secs() + 60))
        .await
        .assert_ok(PRIVATE);
}

async fn not_before_is_enforced_with_the_leeway() {
    let app = spawn_app().await;
    let now = now_secs();

    with_claim(&app, "nbf", json!(now + 2))
        .await
        .assert_ok(PRIVATE);
    with_claim(&app, "nbf", json!(now - 60))
        .await
        .assert_ok(PRIVATE);
    for nbf in [now + 10, now + 86_400] {
        with_claim(&app, "nbf", json!(nbf))
            .await
            .assert_invalid_token("token not yet valid");
    }
}

async fn issued_at_in_the_past_or_future_is_accepted_when_numeric() {
    let app = spawn_app().await;
    let now = now_secs();

    for iat in [now - 3600, now, now + 2] {
        with_claim(&app, "iat", json!(iat)).await.assert_ok(PRIVATE);
    }
}

async fn non_numeric_dates_are_rejected() {
    let app = spawn_app().await;
    let later = (now_secs() + 3600).to_string();

    for (claim, description) in [
        ("exp", "invalid 'exp' claim"),
        ("nbf", "invalid 'nbf' claim"),
        ("iat", "invalid 'iat' claim"),
    ] {
        for value in [
            json!(later),
            json!("2099-01-01T00:00:00Z"),
            json!(true),
            json!(null),
            json!([1]),
        ] {
            with_claim(&app, claim, value)
                .await
                .assert_invalid_token(description);
        }
    }
}

async fn a_bound_token_is_refused_as_a_bearer_token_every_time() {
    let app = spawn_app().await;

    for (cnf, description) in [
        (
            json!({ "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }),
            "the token is DPoP-bound (cnf.jkt); send it with the DPoP scheme and a DPoP proof",
        ),
        (
            json!({ "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }),
            "the token is bound to a client certificate (cnf.x5t#S256), which this API cannot check: no client certificate header is configured (auth.mtls.certificate_header)",
        ),
        (json!("not an object"), "invalid 'cnf' claim"),
        (json!({ "jkt": 1 }), "invalid 'cnf' claim"),
    ] {
        let token = app.token(&app.keys.rsa).claim("cnf", cnf).sign().unwrap();
        // Twice: the second answer may come from the token cache, and must be the same.
        for _ in 0..2 {
            app.private(&token).await.assert_invalid_token(description);
        }
    }
}

async fn require_at_jwt_refuses_tokens_typed_jwt_such_as_id_tokens() {
    let app = spawn_app_with(TestConfig {
        customize: |settings| settings.auth.require_at_jwt = true,
        ..TestConfig::default()
    })
    .await;
    let typed = |typ: &str| app.token(&app.keys.rsa).header("typ", typ).sign().unwrap();

    app.private(&typed("at+jwt")).await.assert_ok(PRIVATE);
    for typ in ["JWT", "jwt"] {
        app.private(&typed(typ))
            .await
            .assert_invalid_token("unsupported token type");
    }
}

tests::on_both_adapters!(
    wrong_issuer_in_every_variant_is_rejected,
    audience_as_string_or_array_containing_ours_is_accepted,
    wrong_audience_in_every_variant_is_rejected,
    expiry_is_enforced_with_the_leeway,
    a_token_whose_exp_is_now_is_expired,
    not_before_is_enforced_with_the_leeway,
    issued_at_in_the_past_or_future_is_accepted_when_numeric,
    non_numeric_dates_are_rejected,
    a_bound_token_is_refused_as_a_bearer_token_every_time,
    require_at_jwt_refuses_tokens_typed_jwt_such_as_id_tokens,
);
