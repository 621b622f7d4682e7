//! An issuer over https: a test CA made per run (rcgen), a server certificate it signs, and
//! OIDC discovery plus the JWKS served with rustls on loopback.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use auth::testing::SigningKey;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
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

/// A fresh test CA and a server certificate it signed, as PEM and DER.
pub struct TestCertificates {
    /// The CA's certificate, to trust.
    pub ca_pem: String,
    /// The server's certificate.
    pub certificate_pem: String,
    /// The server's private key (PKCS#8).
    pub key_pem: String,
    certificate_der: rustls::pki_types::CertificateDer<'static>,
    key_der: PrivateKeyDer<'static>,
}

impl TestCertificates {
    /// A CA made now, and a certificate it signs for `name`.
    ///
    /// # Panics
    /// When a certificate cannot be made.
    pub fn make(name: CertifiedName) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Names of their own: with rcgen's one default name, OpenSSL clients (redis-cli) would take
        // the server's certificate for a self-signed one.
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "test CA");
        let ca_pem = ca_params
            .self_signed(&ca_key)
            .expect("CA certificate")
            .pem();
        let ca = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "test server");
        params.subject_alt_names = vec![match name {
            CertifiedName::Loopback => SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            CertifiedName::OtherHost => SanType::DnsName("other.example".try_into().expect("name")),
        }];
        let certificate = params
            .signed_by(&server_key, &ca)
            .expect("server certificate");
        Self {
            ca_pem,
            certificate_pem: certificate.pem(),
            key_pem: server_key.serialize_pem(),
            certificate_der: certificate.der().clone(),
            key_der: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        }
    }
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
        let made = TestCertificates::make(name);
        let ca_pem = made.ca_pem.clone();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![made.certificate_der], made.key_der)
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
