//! Reading the token from the `Authorization` header (RFC 6750 §2.1).

use actix_web::http::Method;
use tests::bodies::PRIVATE;
use tests::spawn_app;

async fn missing_header_gets_the_bare_challenge() {
    let app = spawn_app().await;

    app.get("/api/private").await.assert_bare_401();
    // A route that needs a scope names it, so that a client knows what to ask for (MCP).
    app.get("/api/private-scoped")
        .await
        .assert_scoped_401("read:messages");
}

async fn other_schemes_get_the_bare_challenge() {
    let app = spawn_app().await;

    for value in [
        "Basic dXNlcjpwYXNz",
        "Digest username=x",
        "Token abc",
        "Bearerabc",
    ] {
        app.get_with_authorization("/api/private", value)
            .await
            .assert_bare_401();
    }
}

async fn bearer_scheme_is_case_insensitive_and_spaces_are_trimmed() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    for value in [
        format!("bearer {token}"),
        format!("BEARER {token}"),
        format!("Bearer    {token}"),
        format!("  Bearer {token}  "),
    ] {
        app.get_with_authorization("/api/private", &value)
            .await
            .assert_ok(PRIVATE);
    }
}

async fn malformed_bearer_credentials_are_invalid_requests() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer\t{token}"),
        format!("Bearer {token} extra"),
        "Bearer a\"b".to_owned(),
        "Bearer a,b".to_owned(),
        "Bearer ==abc".to_owned(),
    ] {
        app.get_with_authorization("/api/private", &value)
            .await
            .assert_invalid_request();
    }
}

async fn two_authorization_headers_are_an_invalid_request() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    let reply = app
        .send(
            app.request(Method::GET, "/api/private")
                .append_header(("Authorization", format!("Bearer {token}")))
                .append_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;

    reply.assert_error(400, "invalid_request", "more than one Authorization header");
}

async fn b64token_padding_is_syntax_but_not_a_jws() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    let reply = app.private(&format!("{token}==")).await;

    reply.assert_invalid_token("malformed token");
}

async fn an_access_token_in_the_query_string_is_refused_with_or_without_a_header() {
    let app = spawn_app().await;
    let token = app.valid_token(Some("read:messages"));
    let description = "access tokens are not accepted in the query string; send the token in \
                       the Authorization header";

    let with_header = app
        .get_with_token(&format!("/api/private?access_token={token}"), &token)
        .await;
    let without_header = app
        .get(&format!("/api/private-scoped?x=1&access_token={token}"))
        .await;

    with_header.assert_error(400, "invalid_request", description);
    without_header.assert_error(400, "invalid_request", description);
    app.get_with_token("/api/private?token=x", &token)
        .await
        .assert_ok(PRIVATE);
}

tests::on_both_adapters!(
    missing_header_gets_the_bare_challenge,
    other_schemes_get_the_bare_challenge,
    bearer_scheme_is_case_insensitive_and_spaces_are_trimmed,
    malformed_bearer_credentials_are_invalid_requests,
    two_authorization_headers_are_an_invalid_request,
    b64token_padding_is_syntax_but_not_a_jws,
    an_access_token_in_the_query_string_is_refused_with_or_without_a_header,
);
