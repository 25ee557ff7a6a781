//! The tls-* scenarios' set-up: a certificate made once per run with the `openssl` command (the
//! same files for every server), the httpd directives that turn TLS on, and the load
//! generator's rustls client.
//!
//! Every handshake is the same for every server: TLS 1.3 only, the client offering one key
//! exchange group (X25519) and one cipher suite (TLS_AES_128_GCM_SHA256), so no server is
//! measured doing more expensive cryptography than another because it chose differently.
//!
//! The client must stay cheaper than the servers it measures, and a full handshake costs a
//! client more than a server: measured with rustls on both sides, a client checking the chain
//! and the handshake signature (two ECDSA verifications) spent 2.6 times the server's CPU per
//! handshake, one checking only the signature 1.8 times, one checking neither about as much
//! as the server. So the client pins the certificate (the server must present exactly the
//! generated one) and verifies the server's handshake signature on one handshake in
//! [`VERIFY_EVERY`], which still catches a server that signs wrongly within a run.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

/// What every handshake uses, whichever the server: for the scenario descriptions.
pub(crate) const PARAMETERS: &str =
    "X25519, TLS_AES_128_GCM_SHA256, ALPN http/1.1, an ECDSA P-256 certificate";
/// The name the client asks for (SNI); the certificate names it.
const SERVER_NAME: &str = "localhost";
/// The client verifies the server's handshake signature once in this many handshakes.
const VERIFY_EVERY: u32 = 16;

/// A self-signed certificate and its key, PEM files in the run's directory.
pub(crate) struct Certificate {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    der: CertificateDer<'static>,
}

/// `openssl req -x509` with a new P-256 key. An end-entity certificate (CA:FALSE, which
/// webpki insists on; openssl's default would be a CA) naming localhost and 127.0.0.1.
pub(crate) fn generate(dir: &Path) -> Result<Certificate> {
    std::fs::create_dir_all(dir)?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(req_args())
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .context("running openssl (the tls-* scenarios make their certificate with it)")?;
    if !out.status.success() {
        bail!("openssl req failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    let der = CertificateDer::from_pem_file(&cert).with_context(|| format!("reading {}", cert.display()))?;
    Ok(Certificate { cert, key, der })
}

fn req_args() -> [&'static str; 15] {
    [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]
}

/// What turns TLS on, word for word the same for Apache and ours (after `Listen ... https`).
/// Session caching and tickets are left at each server's default: the scenarios that measure
/// full handshakes have a client that never resumes.
pub(crate) fn directives(c: &Certificate) -> Vec<String> {
    vec![
        "SSLEngine on".to_owned(),
        format!("SSLCertificateFile \"{}\"", c.cert.display()),
        format!("SSLCertificateKeyFile \"{}\"", c.key.display()),
        "SSLProtocol -all +TLSv1.3".to_owned(),
    ]
}

/// The load generator's side: one configuration per run (a resuming client's session cache
/// must not carry one server's tickets to the next).
pub(crate) struct Client {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl Client {
    /// A client accepting only `cert` (see [`Pinned`]); `resume`: TLS 1.3 session resumption
    /// from the tickets the server sends, otherwise none (a full handshake every time).
    pub(crate) fn new(cert: &Certificate, resume: bool) -> Result<Client> {
        let defaults = aws_lc_rs::default_provider();
        let pinned = Pinned {
            cert: cert.der.clone(),
            algorithms: defaults.signature_verification_algorithms,
            handshakes: AtomicU32::new(0),
        };
        let provider = CryptoProvider {
            cipher_suites: vec![aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256],
            kx_groups: vec![aws_lc_rs::kx_group::X25519],
            ..defaults
        };
        let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .context("TLS 1.3 with X25519 and AES-128-GCM")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pinned))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        if !resume {
            config.resumption = rustls::client::Resumption::disabled();
        }
        let name = ServerName::try_from(SERVER_NAME).context("server name")?;
        Ok(Client { config: Arc::new(config), name })
    }

    /// A new client connection: its ClientHello is queued, to go out with the first write.
    pub(crate) fn connection(&self) -> io::Result<ClientConnection> {
        ClientConnection::new(Arc::clone(&self.config), self.name.clone()).map_err(io::Error::other)
    }
}

/// Accepts the server if it presents exactly the generated certificate, alone; verifies its
/// handshake signature (CertificateVerify) on the first handshake and one in VERIFY_EVERY
/// after, shared by the client's threads.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
    handshakes: AtomicU32,
}

impl Pinned {
    fn verify_this_one(&self) -> bool {
        self.handshakes.fetch_add(1, Ordering::Relaxed) % VERIFY_EVERY == 0
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() && intermediates.is_empty() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if self.verify_this_one() {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        } else {
            Ok(HandshakeSignatureValid::assertion())
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// For tests: a certificate whose files need not exist.
#[cfg(test)]
pub(crate) fn named(cert: &str, key: &str) -> Certificate {
    Certificate { cert: cert.into(), key: key.into(), der: CertificateDer::from(vec![]) }
}

/// For tests: a certificate in a scratch directory (removed on drop), or None (and a line
/// saying so) when the openssl command is missing.
#[cfg(test)]
pub(crate) fn scratch(name: &str) -> Option<Scratch> {
    let dir = std::env::temp_dir().join(format!("xtask-tls-{name}-{}", std::process::id()));
    match generate(&dir) {
        Ok(c) => Some(Scratch(c)),
        Err(e) if missing_openssl(&e) => {
            eprintln!("skipped: no openssl command to make a certificate with");
            None
        }
        Err(e) => panic!("{e:#}"),
    }
}

#[cfg(test)]
pub(crate) struct Scratch(Certificate);

#[cfg(test)]
impl std::ops::Deref for Scratch {
    type Target = Certificate;
    fn deref(&self) -> &Certificate {
        &self.0
    }
}

#[cfg(test)]
impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.cert.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether `generate` failed only because there is no openssl command.
pub(crate) fn missing_openssl(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::NotFound)
}

/// For tests: a rustls server with `c` (its default session handling: an in-memory cache, two
/// TLS 1.3 tickets after each handshake, which a resuming client can use).
#[cfg(test)]
pub(crate) fn server_config(c: &Certificate) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::PrivateKeyDer;
    let key = PrivateKeyDer::from_pem_file(&c.key).expect("the generated key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_no_client_auth()
        .with_single_cert(vec![c.der.clone()], key)
        .expect("the generated certificate and key");
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directives_name_the_files() {
        let c = named("/w/tls/cert.pem", "/w/tls/key.pem");
        assert_eq!(
            directives(&c),
            [
                "SSLEngine on",
                "SSLCertificateFile \"/w/tls/cert.pem\"",
                "SSLCertificateKeyFile \"/w/tls/key.pem\"",
                "SSLProtocol -all +TLSv1.3",
            ]
        );
    }

    #[test]
    fn the_client_pins_the_certificate_and_samples_signatures() {
        let Some(c) = scratch("pinned") else { return };
        let Some(other) = scratch("pinned-other") else { return };
        let pinned = Pinned {
            cert: c.der.clone(),
            algorithms: aws_lc_rs::default_provider().signature_verification_algorithms,
            handshakes: AtomicU32::new(0),
        };
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let check = |ee: &CertificateDer<'_>, more: &[CertificateDer<'_>]| {
            pinned.verify_server_cert(ee, more, &name, &[], UnixTime::now()).is_ok()
        };
        assert!(check(&c.der, &[]));
        assert!(!check(&other.der, &[]), "another certificate");
        assert!(!check(&c.der, std::slice::from_ref(&other.der)), "a chain");
        let sampled: Vec<u32> = (0..2 * VERIFY_EVERY + 1).filter(|_| pinned.verify_this_one()).collect();
        assert_eq!(
            sampled,
            [0, VERIFY_EVERY, 2 * VERIFY_EVERY],
            "the first handshake and one in {VERIFY_EVERY}"
        );
    }

    #[test]
    fn the_certificate_is_a_p256_end_entity_for_localhost() {
        let Some(c) = scratch("cert") else { return };
        let text = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(&c.cert).output();
        let text = String::from_utf8(text.unwrap().stdout).unwrap();
        for part in ["NIST CURVE: P-256", "DNS:localhost", "IP Address:127.0.0.1", "CA:FALSE"] {
            assert!(text.contains(part), "{part} missing from\n{text}");
        }
        assert!(std::fs::read_to_string(&c.key).unwrap().contains("PRIVATE KEY"));
        // rustls takes it as the server's certificate (the load tests' server).
        server_config(&c);
    }
}
