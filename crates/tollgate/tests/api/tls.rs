//! HTTPS served by Tollgate itself (DESIGN.md §11): certificates from a CA
//! made here, `Strict-Transport-Security` on HTTPS only, and a certificate
//! replaced on disk taken up by new connections while open ones go on.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::TestApp;

/// A CA, and certificates for `localhost` signed by it.
struct Authority {
    key: rcgen::KeyPair,
    cert: rcgen::Certificate,
}

impl Authority {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Tollgate test CA");
        let cert = params.self_signed(&key).expect("CA");
        Self { key, cert }
    }

    /// Writes a fresh `localhost` certificate and key under `dir`; its DER.
    fn issue(&self, dir: &Path, name: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("sign");
        // Written whole, then moved in place: a reload never sees half a file.
        for (file, text) in [("cert.pem", cert.pem()), ("key.pem", key.serialize_pem())] {
            let staging = dir.join(format!("{file}.new"));
            std::fs::write(&staging, text).expect("write");
            std::fs::rename(&staging, dir.join(file)).expect("rename");
        }
        cert.der().to_vec()
    }

    fn client(&self, addr: std::net::SocketAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(self.cert.pem().as_bytes()).expect("CA pem"))
            .resolve("localhost", addr)
            .build()
            .expect("client")
    }

    fn connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(self.cert.der().to_vec())).expect("root");
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

/// A TLS connection kept open: the certificate it got, and HTTP/1.1
/// requests sent on it one after another.
struct Open(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl Open {
    async fn connect(authority: &Authority, addr: std::net::SocketAddr) -> Self {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        Self(authority.connector().connect(name, tcp).await.expect("handshake"))
    }

    fn certificate(&self) -> Vec<u8> {
        self.0.get_ref().1.peer_certificates().expect("certificates")[0].to_vec()
    }

    async fn healthz(&mut self) -> String {
        self.0.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("send");
        let mut buffer = vec![0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(5), self.0.read(&mut buffer))
            .await
            .expect("in time")
            .expect("read");
        String::from_utf8_lossy(&buffer[..read]).into_owned()
    }
}

#[tokio::test]
async fn the_main_and_admin_listeners_serve_https_with_hsts() {
    let authority = Authority::new();
    let certs = tempfile::tempdir().expect("dir");
    authority.issue(certs.path(), "first");
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let app = TestApp::spawn_demo_with(|config| {
        config.tls_cert = Some(cert.clone());
        config.tls_key = Some(key.clone());
        config.admin.tls_cert = Some(cert.clone());
        config.admin.tls_key = Some(key.clone());
    })
    .await;
    let addr = app.addrs[0];
    let client = authority.client(addr);
    let reply = client.get(format!("https://localhost:{}/healthz", addr.port())).send().await.expect("https");
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let login = client
        .post(format!("https://localhost:{}/v1/login_check", addr.port()))
        .json(&serde_json::json!({ "username": "user", "password": "1234" }))
        .send()
        .await
        .expect("login over https");
    assert_eq!(login.status(), 200);

    let admin_addr: std::net::SocketAddr =
        app.admin_base.as_deref().expect("admin").trim_start_matches("http://").parse().expect("addr");
    let metrics = authority
        .client(admin_addr)
        .get(format!("https://localhost:{}/metrics", admin_addr.port()))
        .send()
        .await
        .expect("admin over https");
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers().contains_key("strict-transport-security"));

    // Plain HTTP to an HTTPS listener gets nowhere.
    assert!(reqwest::get(format!("http://{addr}/healthz")).await.map_or(true, |r| r.status() != 200));
}

#[tokio::test]
async fn plain_http_listeners_never_send_hsts() {
    let app = TestApp::spawn().await;
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("strict-transport-security").is_none());
}

#[tokio::test]
async fn a_replaced_certificate_is_served_to_new_connections_without_dropping_open_ones() {
    let authority = Authority::new();
    let certs = tempfile::tempdir().expect("dir");
    let first = authority.issue(certs.path(), "first");
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let app = TestApp::spawn_with(|config| {
        config.tls_cert = Some(cert.clone());
        config.tls_key = Some(key.clone());
    })
    .await;
    let addr = app.addrs[0];
    let mut open = Open::connect(&authority, addr).await;
    assert_eq!(open.certificate(), first);
    assert!(open.healthz().await.starts_with("HTTP/1.1 200"));

    let second = authority.issue(certs.path(), "second");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if Open::connect(&authority, addr).await.certificate() == second {
            break;
        }
        assert!(Instant::now() < deadline, "the new certificate was never served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(open.certificate(), first, "an open connection keeps its handshake");
    assert!(open.healthz().await.starts_with("HTTP/1.1 200"), "and is not dropped");

    // A broken pair is refused; the one in use stays.
    std::fs::write(&key, "not a key").expect("break");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(Open::connect(&authority, addr).await.certificate(), second);
}

#[tokio::test]
async fn a_certificate_that_does_not_load_stops_start_up_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("missing.pem");
    let database = crate::helpers::fresh_database(&dir).await;
    let mut config = tollgate::config::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        database_url: database.to_string(),
        ..Default::default()
    };
    config.admin.listen = "127.0.0.1:0".parse().expect("addr");
    config.tls_cert = Some(cert.clone());
    config.tls_key = Some(dir.path().join("key.pem"));
    let err = tollgate::server::start(&config, false).await.err().expect("refused");
    assert!(format!("{err:#}").contains("missing.pem"), "{err:#}");
}
