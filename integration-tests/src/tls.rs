//! TLS for the tests: a certificate authority made at test time (rcgen),
//! certificates it signs for given names, and a rustls client that trusts
//! it, so a test sees which certificate a server presents by the name it
//! verifies against.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::http::IO_LIMIT;

/// A test CA.
pub struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Default for Authority {
    fn default() -> Self {
        Authority::new()
    }
}

impl Authority {
    pub fn new() -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "integration-tests CA");
        let key = KeyPair::generate().expect("a CA key");
        Authority { issuer: CertifiedIssuer::self_signed(params, key).expect("the CA certificate") }
    }

    /// A certificate for `names` and its key, as PEM.
    pub fn issue(&self, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("certificate parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.issuer).expect("signing a certificate");
        (cert.pem(), key.serialize_pem())
    }

    /// Writes a certificate for `names` to `dir/<stem>.crt` and its key to
    /// `dir/<stem>.key`.
    pub fn write(&self, dir: &Path, stem: &str, names: &[&str]) {
        let (cert, key) = self.issue(names);
        std::fs::write(dir.join(format!("{stem}.crt")), cert).expect("writing a certificate");
        std::fs::write(dir.join(format!("{stem}.key")), key).expect("writing a key");
    }

    /// A client trusting this CA, offering ALPN `http/1.1` and the
    /// protocol versions given.
    pub fn client(&self, versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.issuer.der().clone()).expect("the CA as a root");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// [`Authority::client`] with TLS 1.2 and 1.3.
    pub fn default_client(&self) -> Arc<ClientConfig> {
        self.client(rustls::DEFAULT_VERSIONS)
    }
}

/// A blocking TLS connection as a test client holds it.
pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// Connects to `addr` and completes the handshake for `name` (SNI and the
/// name verified); `Err` carries rustls's or the socket's error.
pub fn try_connect(addr: SocketAddr, name: &str, config: &Arc<ClientConfig>) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(IO_LIMIT))?;
    let server_name = ServerName::try_from(name.to_string()).map_err(std::io::Error::other)?;
    let conn = ClientConnection::new(Arc::clone(config), server_name).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

#[track_caller]
pub fn connect(addr: SocketAddr, name: &str, config: &Arc<ClientConfig>) -> Tls {
    try_connect(addr, name, config).unwrap_or_else(|e| panic!("TLS handshake with {addr} as {name}: {e}"))
}

/// Sends `request` and reads until the server closes (close_notify, or
/// the socket's end).
#[track_caller]
pub fn exchange(tls: &mut Tls, request: &[u8]) -> Vec<u8> {
    tls.write_all(request).expect("writing over TLS");
    tls.flush().expect("flushing TLS");
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match tls.read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            // A close without close_notify still ends the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return out,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("reading over TLS after {:?}: {e}", String::from_utf8_lossy(&out)),
        }
    }
}

/// The protocol and suite a handshake settled on, as rustls names them.
pub fn negotiated(tls: &Tls) -> (Option<rustls::ProtocolVersion>, Option<rustls::CipherSuite>) {
    (tls.conn.protocol_version(), tls.conn.negotiated_cipher_suite().map(|s| s.suite()))
}
