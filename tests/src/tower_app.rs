//! The API's routes behind the tower layer, on axum: what the `api` binary serves with actix,
//! with the same authenticator, policies, handlers' bodies, readiness, RFC 9728 document and
//! library metrics, so that one test body proves both adapters answer alike. The binary's own
//! middleware (CORS, request IDs, HTTP metrics) is not here: its tests run on actix alone.

use std::sync::Arc;

use api::routes::{health, messages, read_messages, whoami};
use auth::Claims;
use auth::RequireAuth;

use axum::Router;
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use settings::Settings;
use tower_layer::Layer;

/// A JSON answer.
fn json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// GET (and HEAD) answer `handler`'s; other methods a JSON 405, as the API's `routes::get`.
fn get_only<H, T>(handler: H) -> MethodRouter
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    get(handler).fallback(|| async {
        let mut answer = json(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({ "message": "Method Not Allowed" }),
        );
        answer
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(api::routes::ALLOWED));
        answer
    })
}

fn message(text: &'static str) -> MethodRouter {
    message_json(json!({ "message": text }))
}

/// GET answers 200 with `body`.
fn message_json(body: Value) -> MethodRouter {
    get_only(move || async move { json(StatusCode::OK, &body) })
}

/// Unknown paths: the API's JSON 404.
async fn not_found(_: Uri) -> Response {
    json(StatusCode::NOT_FOUND, &json!({ "message": "Not Found" }))
}

/// Serves the API's request routes for `settings` on a free loopback port; returns the port.
///
/// # Panics
/// When the authenticator does not build or the port cannot be bound.
pub(crate) async fn serve_api(settings: &Settings) -> u16 {
    let authenticator =
        api::startup::authenticator_for(settings).expect("the authenticator builds");
    let auth = || RequireAuth::new(authenticator.clone());
    let ready = authenticator.clone();
    let mut registry = Registry::default();
    authenticator.register_metrics(&mut registry);
    let registry = Arc::new(registry);
    let mut router = Router::new()
        .route("/api/public", message(messages::PUBLIC))
        // Each guard outside axum's method routing, as actix's `.wrap()` is outside the
        // resource's: a layer on the MethodRouter also wraps its 405 fallback, and axum then
        // adds its own `Allow` to the guard's refusal of any other method.
        .route_service("/api/private", auth().layer(message(messages::PRIVATE)))
        .route_service(
            "/api/private-scoped",
            auth()
                .policy(read_messages())
                .layer(message(messages::PRIVATE_SCOPED)),
        )
        .route_service(
            "/api/whoami",
            auth()
                .optional()
                .layer(get_only(|claims: Option<Claims>| async move {
                    json(StatusCode::OK, &whoami::body(claims.as_ref()))
                })),
        )
        .route("/healthz", message_json(json!({ "status": "ok" })))
        .route(
            "/metrics",
            get_only(move || async move {
                let mut body = String::new();
                encode(&mut body, &registry).expect("the metrics encode");
                ([(CONTENT_TYPE, api::metrics::CONTENT_TYPE)], body).into_response()
            }),
        )
        .route(
            "/readyz",
            get_only(move || async move {
                let (ready, body) = health::readiness(&ready).await;
                let status = if ready {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                json(status, &body)
            }),
        );
    if let Some((location, metadata)) = api::startup::resource_metadata(settings) {
        // Per request, as the API: discovery settles the issuers' exact form.
        let document = move || async move {
            json(
                StatusCode::OK,
                &api::routes::metadata::document(&metadata, &authenticator),
            )
        };
        router = router.route(&location.path, get_only(document));
    }
    serve(router.fallback(not_found)).await
}

/// What a guarded route of [`crate::serve_guarded`] answers: the caller's `sub` (or that it is
/// anonymous) and the raw path it was reached by.
fn caller(claims: Option<&Claims>, path: &str) -> Value {
    match claims {
        Some(claims) => json!({ "sub": claims.sub(), "path": path }),
        None => json!({ "anonymous": true, "path": path }),
    }
}

/// A route path of [`crate::serve_guarded`] (`/files/*` for everything under `/files/`) in
/// actix's syntax and in axum's.
fn patterns(path: &str) -> (String, String) {
    match path.strip_suffix('*') {
        Some(prefix) => (format!("{prefix}{{tail:.*}}"), format!("{prefix}{{*tail}}")),
        None => (path.to_owned(), path.to_owned()),
    }
}

/// `routes` on actix, each behind its guard, as [`crate::serve_routes`] serves them.
pub(crate) fn actix_guarded(routes: Vec<(&'static str, RequireAuth)>) -> String {
    crate::serve_routes(move |cfg| {
        for (path, guard) in &routes {
            // The API's own GET (and HEAD) resource with its JSON 405, as `get_only` on axum.
            cfg.service(
                api::routes::get(
                    &patterns(path).0,
                    |request: actix_web::HttpRequest, claims: Option<Claims>| async move {
                        actix_web::HttpResponse::Ok().json(caller(claims.as_ref(), request.path()))
                    },
                )
                .wrap(guard.clone()),
            );
        }
    })
}

/// `routes` on axum, each behind its guard.
pub(crate) async fn tower_guarded(guarded: Vec<(&'static str, RequireAuth)>) -> String {
    let mut router = Router::new();
    for (path, guard) in guarded {
        router = router.route_service(
            &patterns(path).1,
            guard.layer(get_only(|uri: Uri, claims: Option<Claims>| async move {
                json(StatusCode::OK, &caller(claims.as_ref(), uri.path()))
            })),
        );
    }
    let port = serve(router.fallback(not_found)).await;
    format!("http://127.0.0.1:{port}")
}

/// Serves `router` on a free loopback port, on the test's runtime.
async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds a free port");
    let port = listener.local_addr().expect("a bound address").port();
    actix_web::rt::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    port
}
