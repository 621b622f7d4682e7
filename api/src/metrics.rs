//! `GET /metrics` in the OpenMetrics text format, which Prometheus scrapes: the authenticator's
//! metrics (see [`auth::Authenticator::register_metrics`]) and the HTTP requests, counted by
//! route pattern, method and status, with a latency histogram. The request log middleware
//! records the requests.

use std::cell::OnceCell;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use auth::Authenticator;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label `route` of requests that no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets, in seconds: 100 µs (a cached token) to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0,
];

/// The HTTP request metrics, shared by every worker.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

impl HttpMetrics {
    fn new() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
        }
    }

    /// Counts one request and its latency. `series` is the matched resource's cache of its
    /// `GET` series; without it (or for another method) the families are looked up.
    pub fn observe(
        &self,
        series: Option<&RouteSeries>,
        method: &Method,
        route: &str,
        status: u16,
        duration: Duration,
    ) {
        let seconds = duration.as_secs_f64();
        let labels = || RouteLabels {
            method: method_label(method),
            route: route.to_owned(),
        };
        let counter = |labels: RouteLabels| {
            let RouteLabels { method, route } = labels;
            self.requests.get_or_create_owned(&RequestLabels {
                method,
                route,
                status,
            })
        };
        let cached = series.filter(|_| *method == Method::GET);
        let slot = cached.and_then(|series| {
            let slot = COMMON_STATUSES.iter().position(|s| *s == status)?;
            Some(&series.requests[slot])
        });
        match cached {
            Some(series) => series
                .duration
                .get_or_init(|| self.duration.get_or_create_owned(&labels()))
                .observe(seconds),
            None => self.duration.get_or_create(&labels()).observe(seconds),
        }
        match slot {
            Some(slot) => slot.get_or_init(|| counter(labels())).inc(),
            None => counter(labels()).inc(),
        };
    }
}

/// The statuses whose `GET` counters a [`RouteSeries`] keeps.
const COMMON_STATUSES: [u16; 8] = [200, 304, 400, 401, 403, 404, 405, 503];

/// One route's `GET` series, cached per worker in the resource's app data, so that the common
/// requests skip the families' hashed lookups. Each series is created on first use: a route
/// shows only the statuses it has answered.
#[derive(Debug, Default)]
pub struct RouteSeries {
    duration: OnceCell<Histogram>,
    requests: [OnceCell<Counter>; COMMON_STATUSES.len()],
}

/// A method as a label: the standard ones by name, any other as `other`, so that a client
/// cannot create series at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The registry `/metrics` encodes, and the HTTP metrics the middleware records into.
pub struct Metrics {
    registry: web::Data<Registry>,
    http: web::Data<HttpMetrics>,
}

impl Metrics {
    /// A registry with `authenticator`'s metrics and the HTTP metrics.
    pub fn new(authenticator: &Authenticator) -> Self {
        let mut registry = Registry::default();
        authenticator.register_metrics(&mut registry);
        let http = HttpMetrics::new();
        registry.register(
            "http_requests",
            "HTTP requests, by method, route pattern and status",
            http.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to the response head, by method and route pattern",
            Unit::Seconds,
            http.duration.clone(),
        );
        Self {
            registry: web::Data::new(registry),
            http: web::Data::new(http),
        }
    }

    /// The registry, as app data for [`serve`].
    pub fn registry(&self) -> web::Data<Registry> {
        self.registry.clone()
    }

    /// The HTTP metrics, as app data for [`crate::request_log::request_log`].
    pub fn http(&self) -> web::Data<HttpMetrics> {
        self.http.clone()
    }
}

/// `GET /metrics`.
pub async fn serve(registry: web::Data<Registry>) -> HttpResponse {
    let mut body = String::new();
    match encode(&mut body, &registry) {
        Ok(()) => HttpResponse::Ok().content_type(CONTENT_TYPE).body(body),
        Err(error) => {
            log::error!("cannot encode the metrics: {error}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
