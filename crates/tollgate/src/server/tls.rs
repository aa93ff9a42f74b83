//! HTTPS on a listener (DESIGN.md §11): rustls with the PEM certificate
//! chain and key of `tls_cert` / `tls_key`, reloaded when the files change
//! (checked every few seconds) or on SIGHUP. A reload changes what new
//! handshakes get; connections already open keep theirs, so none is dropped.
//! A pair that does not load is refused with a log line and the one in use
//! stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { path: PathBuf },
    #[error("the key in {path} is not one rustls can sign with")]
    UnusableKey { path: PathBuf, source: rustls::Error },
    #[error("the key in {key} does not belong to the certificate in {cert}")]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("cannot set up TLS")]
    Config(#[source] rustls::Error),
}

/// A listener's certificate files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The certificate new handshakes get, swapped whole on reload.
#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    current: ArcSwap<CertifiedKey>,
    /// The files' modification times when last loaded.
    loaded: Mutex<(Option<SystemTime>, Option<SystemTime>)>,
}

impl ReloadingCert {
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let stamps = stamps(&files);
        let key = certified_key(&files)?;
        Ok(Self { files, current: ArcSwap::from_pointee(key), loaded: Mutex::new(stamps) })
    }

    /// Loads the files again if either changed since the last load.
    pub fn reload_if_changed(&self) {
        let now = stamps(&self.files);
        let changed = self.loaded.lock().map(|loaded| *loaded != now).unwrap_or(true);
        if changed {
            self.reload();
        }
    }

    /// Loads the files again; keeps the pair in use if they do not load.
    pub fn reload(&self) {
        let stamps = stamps(&self.files);
        match certified_key(&self.files) {
            Ok(key) => {
                self.current.store(Arc::new(key));
                if let Ok(mut loaded) = self.loaded.lock() {
                    *loaded = stamps;
                }
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate loaded");
            }
            Err(err) => {
                // Not marked as loaded: a half-written pair is tried again.
                tracing::error!(error = %tollgate_core::error::report(&err), "TLS certificate not reloaded; the one in use stays");
            }
        }
    }

    /// A rustls acceptor serving this certificate, HTTP/2 and HTTP/1.1.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        // ring, as the HTTP client's rustls uses: aws-lc-rs (rustls' choice
        // for post-quantum key exchange) needs a C toolchain with cmake at
        // build time. ring's provider is deprecated for that reason only.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn stamps(files: &TlsFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

fn certified_key(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let read =
        |path: &Path| std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source });
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: files.cert.clone() });
    }
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey { path: files.key.clone() })?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|source| TlsError::UnusableKey { path: files.key.clone(), source })?;
    let certified = CertifiedKey::new(chain, signing);
    // A key of another certificate would fail every handshake: refused now.
    if certified.keys_match().is_err() {
        return Err(TlsError::Mismatch { cert: files.cert.clone(), key: files.key.clone() });
    }
    Ok(certified)
}

/// Reloads changed certificates every `every`, and all of them on SIGHUP
/// (which, with no certificates, is logged and otherwise ignored).
pub fn spawn_reloader(certs: Vec<Arc<ReloadingCert>>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            #[cfg(unix)]
            let hung_up = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await.is_some(),
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hung_up = std::future::pending::<bool>();
            tokio::select! {
                _ = tick.tick() => certs.iter().for_each(|cert| cert.reload_if_changed()),
                true = hung_up => {
                    if certs.is_empty() {
                        tracing::info!("SIGHUP: no HTTPS listener, nothing to reload");
                    } else {
                        tracing::info!("SIGHUP: reloading TLS certificates");
                        certs.iter().for_each(|cert| cert.reload());
                    }
                }
            }
        }
    })
}
