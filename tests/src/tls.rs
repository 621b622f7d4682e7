//! An issuer over https: a test CA made per run (rcgen), a server certificate it signs, and
//! OIDC discovery plus the JWKS served with rustls on loopback.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use auth::testing::SigningKey;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

/// Whom the server certificate names.
#[derive(Debug, Clone, Copy)]
pub enum CertifiedName {
    /// `127.0.0.1`, where the issuer listens: a matching certificate.
    Loopback,
    /// `other.example`: a certificate for another host.
    OtherHost,
}

/// A running https issuer.
pub struct TlsIssuer {
    issuer: String,
    ca_pem: String,
}

impl TlsIssuer {
    /// Starts an issuer on `https://127.0.0.1:PORT/` that publishes `key`, with a certificate
    /// for `name` signed by a fresh CA. Must run inside an actix runtime.
    ///
    /// # Panics
    /// When a certificate cannot be made or no port bound.
    pub fn start(key: &SigningKey, name: CertifiedName) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_pem = ca_params
            .self_signed(&ca_key)
            .expect("CA certificate")
            .pem();
        let ca = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("server params");
        params.subject_alt_names = vec![match name {
            CertifiedName::Loopback => SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            CertifiedName::OtherHost => SanType::DnsName("other.example".try_into().expect("name")),
        }];
        let certificate = params
            .signed_by(&server_key, &ca)
            .expect("server certificate");
        let private_key =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der().clone()], private_key)
        .expect("server TLS configuration");

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let issuer = format!(
            "https://127.0.0.1:{}/",
            listener.local_addr().expect("address").port()
        );
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}.well-known/jwks.json"),
        });
        let jwks = json!({ "keys": [key.jwk()] });
        let server = HttpServer::new(move || {
            let (discovery, jwks) = (discovery.clone(), jwks.clone());
            App::new()
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let discovery = discovery.clone();
                        async move { HttpResponse::Ok().json(discovery) }
                    }),
                )
                .route(
                    "/.well-known/jwks.json",
                    web::get().to(move || {
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen_rustls_0_23(listener, tls)
        .expect("TLS listener")
        .run();
        actix_web::rt::spawn(server);
        Self { issuer, ca_pem }
    }

    /// `https://127.0.0.1:PORT/`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The test CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}
