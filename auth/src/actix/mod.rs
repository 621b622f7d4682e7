//! The actix-web glue, all of it: [`crate::RequireAuth`] as middleware, the [`Claims`] extractor, the
//! [`AuthError`] response, and reading the `Authorization` header. The rules elsewhere in the
//! crate know no web framework; another framework's adapter would be one more module like this.

mod middleware;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

pub use middleware::Checked;

use crate::claims::Claims;
use crate::credentials::{parse_token, single, token_text};
use crate::error::AuthError;
use crate::response::{ChallengeParams, Refusal};

/// The token of the request's single `Authorization: Bearer <token>` header.
///
/// # Errors
/// - [`AuthError::MissingToken`]: no `Authorization` header;
/// - [`AuthError::OtherScheme`]: a scheme other than Bearer;
/// - [`AuthError::InvalidRequest`]: several headers, no token, a token outside the b64token
///   syntax, or a separator other than spaces.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let value = authorization(headers)?.as_bytes();
    token_text(value, parse_token(value)?)
}

/// The request's single `Authorization` value.
///
/// # Errors
/// [`AuthError::MissingToken`] without one, `invalid_request` with several.
pub(crate) fn authorization(headers: &HeaderMap) -> Result<&HeaderValue, AuthError> {
    single(headers.get_all(AUTHORIZATION))
}

/// The claims that [`crate::RequireAuth`] stored; on a route without it, a 401 (fail closed).
impl FromRequest for Claims {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Claims>()
                .cloned()
                .ok_or(AuthError::MissingToken),
        )
    }
}

impl AuthError {
    /// The whole answer: status, challenge (see [`AuthError::challenge_with`]), `Retry-After`
    /// for a 503, and the JSON body.
    pub fn response(&self, params: &ChallengeParams<'_>) -> HttpResponse {
        response(self.refusal(params))
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        self.response(&ChallengeParams::default())
    }
}

/// A refusal as an actix response, copied out as it is.
pub(crate) fn response(refusal: Refusal) -> HttpResponse {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = HttpResponse::build(status);
    for header in refusal.headers() {
        response.insert_header(header);
    }
    response.body(refusal.body)
}
