//! Route policies over HTTP, on routes of our own built with the `auth` crate: all-of and any-of
//! scope sets, RFC 9470 step-up rules, claim rules, and which claims grant scopes (`scp` as a
//! string and an array).

use auth::RequireAuth;
use auth::{Authenticator, Policy, ScopeClaim};
use serde_json::json;
use tests::bodies::PRIVATE_SCOPED;
use tests::{
    AUDIENCE, Reply, TestApp, TestConfig, send_to, serve_guarded, spawn_app, spawn_app_with,
};

/// Serves `/all`, `/any`, `/org` and `/combined` behind their policies, checked by an
/// authenticator of the test's issuer; answers `sub`.
async fn policy_routes(app: &TestApp) -> String {
    let authenticator = Authenticator::builder()
        .issuer(app.issuer.issuer())
        .audiences([AUDIENCE])
        .build()
        .unwrap();
    authenticator
        .wait_ready(std::time::Duration::from_secs(5))
        .await
        .expect("the keys load");
    let issuer = app.issuer.issuer().to_owned();
    let guarded = |path, policy| (path, RequireAuth::new(authenticator.clone()).policy(policy));
    serve_guarded(vec![
        guarded(
            "/all",
            Policy::all_scopes(["read:messages", "write:messages"]),
        ),
        guarded("/any", Policy::any_scope(["read:messages", "admin"])),
        guarded("/org", Policy::claim_equals("org_id", "org_1")),
        guarded("/group", Policy::claim_includes("groups", "editors")),
        guarded(
            "/verified",
            Policy::require("a verified email", |claims| {
                claims.all().get("email_verified") == Some(&json!(true))
            }),
        ),
        guarded("/mfa", Policy::acr_values([MFA])),
        guarded("/recent", Policy::max_age(300)),
        guarded("/ours", Policy::issuers([issuer])),
        guarded(
            "/theirs",
            Policy::issuers(["https://other-tenant.example/"]),
        ),
        guarded("/empty", Policy::all_scopes(Vec::<String>::new())),
        guarded(
            "/offline",
            Policy::all_scopes(["read:messages", "offline_access"]),
        ),
        guarded(
            "/combined",
            Policy::claim_equals("org_id", "org_1").and(Policy::scope("read:messages")),
        ),
    ])
    .await
}

/// An `acr` value for multi-factor authentication (`OpenID` PAPE).
const MFA: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

async fn get(base: &str, path: &str, token: &str) -> Reply {
    send_to(
        awc::Client::default()
            .get(format!("{base}{path}"))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await
}

fn token(app: &TestApp, claims: &serde_json::Value) -> String {
    let mut builder = app.token(&app.keys.rsa);
    for (name, value) in claims.as_object().unwrap() {
        builder = builder.claim(name, value.clone());
    }
    builder.sign().unwrap()
}

async fn all_of_needs_every_scope_and_its_challenge_lists_them() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    let both = token(&app, &json!({ "scope": "write:messages read:messages" }));
    let one = token(&app, &json!({ "scope": "read:messages" }));

    assert_eq!(get(&base, "/all", &both).await.status, 200);
    let refused = get(&base, "/all", &one).await;
    refused.assert_error(
        403,
        "insufficient_scope",
        "insufficient scope, requires read:messages write:messages",
    );
    assert_eq!(
        refused.challenge().param("scope"),
        Some("read:messages write:messages")
    );
}

async fn any_of_needs_one_scope_and_its_challenge_lists_the_choices() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    for scope in ["read:messages", "admin", "other admin"] {
        let reply = get(&base, "/any", &token(&app, &json!({ "scope": scope }))).await;
        assert_eq!(reply.status, 200, "{scope}: {reply:?}");
    }
    let refused = get(
        &base,
        "/any",
        &token(&app, &json!({ "scope": "write:messages" })),
    )
    .await;
    refused.assert_error(
        403,
        "insufficient_scope",
        "insufficient scope, requires one of read:messages admin",
    );
    assert_eq!(
        refused.challenge().param("scope"),
        Some("read:messages admin")
    );
}

async fn a_failed_claim_rule_is_403_without_a_challenge_and_names_the_rule_not_the_value() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    assert_eq!(
        get(&base, "/org", &token(&app, &json!({ "org_id": "org_1" })))
            .await
            .status,
        200
    );
    for claims in [
        json!({ "org_id": "org_2" }),
        json!({ "org_id": 1 }),
        json!({}),
    ] {
        let refused = get(&base, "/org", &token(&app, &claims)).await;
        assert_eq!(refused.status, 403, "{claims}");
        assert_eq!(refused.header("www-authenticate"), None, "{claims}");
        assert_eq!(
            refused.json(),
            json!({ "message": "the token does not meet this route's requirement: claim 'org_id' has the required value" })
        );
        assert!(!refused.body.contains("org_1"));
    }
}

async fn includes_reads_arrays_and_space_separated_strings() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    for groups in [json!(["readers", "editors"]), json!("readers editors")] {
        let reply = get(&base, "/group", &token(&app, &json!({ "groups": groups }))).await;
        assert_eq!(reply.status, 200, "{groups}");
    }
    for groups in [
        json!(["editor"]),
        json!("editorsx"),
        json!({ "editors": true }),
    ] {
        let reply = get(&base, "/group", &token(&app, &json!({ "groups": groups }))).await;
        assert_eq!(reply.status, 403, "{groups}");
    }
}

async fn a_closure_rule_decides_and_its_description_is_the_message() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    let verified = get(
        &base,
        "/verified",
        &token(&app, &json!({ "email_verified": true })),
    )
    .await;
    let unverified = get(
        &base,
        "/verified",
        &token(&app, &json!({ "email_verified": false })),
    )
    .await;

    assert_eq!(verified.status, 200);
    assert_eq!(unverified.status, 403);
    assert_eq!(
        unverified.json()["message"],
        "the token does not meet this route's requirement: a verified email"
    );
}

async fn step_up_rules_answer_rfc_9470_insufficient_user_authentication() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;
    let now = auth::testing::now_secs();

    assert_eq!(
        get(&base, "/mfa", &token(&app, &json!({ "acr": MFA })))
            .await
            .status,
        200
    );
    for claims in [json!({ "acr": "pwd" }), json!({})] {
        let refused = get(&base, "/mfa", &token(&app, &claims)).await;
        refused.assert_error(
            401,
            "insufficient_user_authentication",
            "a stronger or more recent authentication is required",
        );
        assert_eq!(
            refused.challenge().param("acr_values"),
            Some(MFA),
            "{claims}"
        );
    }

    let recent = token(&app, &json!({ "auth_time": now - 60 }));
    assert_eq!(get(&base, "/recent", &recent).await.status, 200);
    for claims in [
        json!({ "auth_time": now - 3600 }),
        json!({}),
        json!({ "auth_time": "x" }),
        // An authentication in the future, beyond the leeway, is no evidence of a recent one.
        json!({ "auth_time": now + 600 }),
    ] {
        let refused = get(&base, "/recent", &token(&app, &claims)).await;
        refused.assert_error(
            401,
            "insufficient_user_authentication",
            "a stronger or more recent authentication is required",
        );
        assert_eq!(
            refused.challenge().param("max_age"),
            Some("300"),
            "{claims}"
        );
    }
}

async fn scopes_are_checked_before_claims_and_a_bad_token_is_still_401() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;

    let neither = get(
        &base,
        "/combined",
        &token(&app, &json!({ "org_id": "org_2" })),
    )
    .await;
    let expired = app.token(&app.keys.rsa).expires_in(-60).sign().unwrap();

    neither.assert_error(
        403,
        "insufficient_scope",
        "insufficient scope, requires read:messages",
    );
    get(&base, "/combined", &expired)
        .await
        .assert_invalid_token("token expired");
    get(&base, "/combined", "").await.assert_invalid_request();
}

async fn scp_grants_scopes_as_a_string_or_an_array_when_configured() {
    let app = spawn_app_with(TestConfig {
        scope_claims: Some(vec![ScopeClaim::Scp]),
        ..TestConfig::default()
    })
    .await;

    for scp in [
        json!("openid read:messages"),
        json!(["openid", "read:messages"]),
    ] {
        app.private_scoped(&token(&app, &json!({ "scp": scp })))
            .await
            .assert_ok(PRIVATE_SCOPED);
    }
    // `scope` does not count when only `scp` does.
    app.private_scoped(&app.valid_token(Some("read:messages")))
        .await
        .assert_error(
            403,
            "insufficient_scope",
            "insufficient scope, requires read:messages",
        );
    // A malformed `scp` is an invalid token.
    app.private_scoped(&token(&app, &json!({ "scp": 7 })))
        .await
        .assert_invalid_token("invalid scope or permissions claim");
}

async fn scp_grants_nothing_by_default() {
    let app = spawn_app().await;

    app.private_scoped(&token(&app, &json!({ "scp": "read:messages" })))
        .await
        .assert_error(
            403,
            "insufficient_scope",
            "insufficient scope, requires read:messages",
        );
}

async fn an_issuer_rule_keeps_a_route_to_its_tenants() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;
    let token = token(&app, &json!({}));

    let ours = get(&base, "/ours", &token).await;
    let theirs = get(&base, "/theirs", &token).await;

    assert_eq!(ours.status, 200, "{ours:?}");
    theirs.assert_invalid_token("unexpected 'iss' value");
}

async fn an_empty_scope_rule_fails_closed_and_offline_access_is_never_asked_for() {
    let app = spawn_app().await;
    let base = policy_routes(&app).await;
    let everything = token(&app, &json!({ "scope": "read:messages offline_access" }));

    let empty = get(&base, "/empty", &everything).await;
    let missing = send_to(awc::Client::default().get(format!("{base}/offline"))).await;

    assert_eq!(empty.status, 403, "{empty:?}");
    assert_eq!(empty.header("www-authenticate"), None);
    assert_eq!(
        empty.json(),
        json!({ "message": "the token does not meet this route's requirement: a scope rule that names no scope" })
    );
    assert_eq!(get(&base, "/offline", &everything).await.status, 200);
    missing.assert_scoped_401("read:messages");
}

tests::on_both_adapters!(
    all_of_needs_every_scope_and_its_challenge_lists_them,
    any_of_needs_one_scope_and_its_challenge_lists_the_choices,
    a_failed_claim_rule_is_403_without_a_challenge_and_names_the_rule_not_the_value,
    includes_reads_arrays_and_space_separated_strings,
    a_closure_rule_decides_and_its_description_is_the_message,
    step_up_rules_answer_rfc_9470_insufficient_user_authentication,
    scopes_are_checked_before_claims_and_a_bad_token_is_still_401,
    scp_grants_scopes_as_a_string_or_an_array_when_configured,
    scp_grants_nothing_by_default,
    an_issuer_rule_keeps_a_route_to_its_tenants,
    an_empty_scope_rule_fails_closed_and_offline_access_is_never_asked_for,
);
