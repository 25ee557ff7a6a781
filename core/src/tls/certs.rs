//! A server's certificates and keys, read by the parent before it drops
//! privileges (key files may be readable by root alone), as mod_ssl's
//! `ssl_init_server_certs` reads them: SSLCertificateFile (a chain, PEM or
//! DER), the key from the SSLCertificateKeyFile of the same rank (else from
//! the certificate file itself), SSLCertificateChainFile's certificates
//! appended to each chain, and every key checked against its certificate.
//! Each error names the file and the line of the directive at fault.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::config::{ConfigError, Location};

/// One directive line naming a file.
#[derive(Debug, Clone)]
pub(super) struct FileLine {
    pub directive: &'static str,
    pub path: PathBuf,
    pub at: Location,
}

impl FileLine {
    fn error(&self, message: String) -> ConfigError {
        ConfigError::Directive { at: self.at.clone(), directive: self.directive.into(), message }
    }

    /// mod_ssl's `ssl_cmd_check_file`: the file must exist, be a regular
    /// file, and not be empty. Made when the configuration is read, so
    /// `-t` reports it.
    pub(super) fn check_exists(&self) -> Result<(), ConfigError> {
        match std::fs::metadata(&self.path) {
            Ok(m) if m.is_file() && m.len() > 0 => Ok(()),
            _ => Err(self.error(format!(
                "{}: file '{}' does not exist or is empty",
                self.directive,
                self.path.display()
            ))),
        }
    }

    fn read(&self) -> Result<Vec<u8>, ConfigError> {
        std::fs::read(&self.path).map_err(|e| {
            self.error(format!("{}: file '{}' cannot be read: {e}", self.directive, self.path.display()))
        })
    }
}

/// Reads every certificate of `file` (PEM blocks `CERTIFICATE`, else one
/// DER certificate).
fn certificates(file: &FileLine) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let bytes = file.read()?;
    let mut chain = Vec::new();
    for item in CertificateDer::pem_slice_iter(&bytes) {
        match item {
            Ok(cert) => chain.push(cert),
            Err(e) => {
                return Err(file.error(format!(
                    "{}: file '{}' holds a malformed PEM certificate: {e}",
                    file.directive,
                    file.path.display()
                )));
            }
        }
    }
    if chain.is_empty() && bytes.first() == Some(&0x30) {
        chain.push(CertificateDer::from(bytes));
    }
    if chain.is_empty() {
        return Err(file.error(format!(
            "{}: file '{}' holds no certificate (PEM 'CERTIFICATE' block or DER)",
            file.directive,
            file.path.display()
        )));
    }
    Ok(chain)
}

/// Reads the private key of `file`; `Ok(None)` when it holds none (a
/// certificate file without its key).
fn private_key(file: &FileLine) -> Result<Option<PrivateKeyDer<'static>>, ConfigError> {
    let bytes = file.read()?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(file.error(format!(
            "{}: the private key in '{}' is encrypted, and this server asks for no pass phrase \
             (SSLPassPhraseDialog is accepted but not used): store the key decrypted \
             (openssl pkey -in KEY -out KEY.plain), readable by root alone",
            file.directive,
            file.path.display()
        )));
    }
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(Some(key)),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            // DER: PKCS#8 (what `openssl pkey -outform DER` writes).
            if bytes.first() == Some(&0x30) && !text.contains("-----BEGIN") {
                Ok(PrivateKeyDer::try_from(bytes).ok())
            } else {
                Ok(None)
            }
        }
        Err(e) => Err(file.error(format!(
            "{}: file '{}' holds a malformed private key: {e}",
            file.directive,
            file.path.display()
        ))),
    }
}

/// What one server's lines name.
#[derive(Debug, Default)]
pub(super) struct ServerFiles {
    pub certificates: Vec<FileLine>,
    pub keys: Vec<FileLine>,
    pub chain: Option<FileLine>,
}

/// Loads a server's certificate/key pairs, each key checked against its
/// certificate; `name` is how messages name the server (`host:port`).
pub(super) fn load(
    files: &ServerFiles,
    provider: &CryptoProvider,
    name: &str,
) -> Result<Vec<Arc<CertifiedKey>>, ConfigError> {
    let extra = match &files.chain {
        Some(chain) => certificates(chain)?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, cert_file) in files.certificates.iter().enumerate() {
        let mut chain = certificates(cert_file)?;
        chain.extend(extra.iter().cloned());
        let (key, key_file) = match files.keys.get(i) {
            Some(key_file) => match private_key(key_file)? {
                Some(key) => (key, key_file),
                None => {
                    return Err(key_file.error(format!(
                        "{}: file '{}' holds no private key (PEM 'PRIVATE KEY', 'RSA PRIVATE KEY' or \
                         'EC PRIVATE KEY', or PKCS#8 DER)",
                        key_file.directive,
                        key_file.path.display()
                    )));
                }
            },
            // mod_ssl's fallback: the key in the certificate file itself.
            None => match private_key(cert_file)? {
                Some(key) => (key, cert_file),
                None => {
                    return Err(cert_file.error(format!(
                        "AH02565: no private key for certificate '{}' of {name}: \
                         the file holds none and no SSLCertificateKeyFile follows it",
                        cert_file.path.display()
                    )));
                }
            },
        };
        let signing = provider.key_provider.load_private_key(key).map_err(|e| {
            key_file.error(format!(
                "{}: the private key in '{}' cannot be used: {e}",
                key_file.directive,
                key_file.path.display()
            ))
        })?;
        let certified = CertifiedKey::new(chain, signing);
        match certified.keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(_)) => {
                return Err(key_file.error(format!(
                    "AH02565: Certificate and private key {name} from {} and {} do not match",
                    cert_file.path.display(),
                    key_file.path.display()
                )));
            }
            Err(e) => {
                return Err(cert_file.error(format!(
                    "{}: the certificate in '{}' cannot be parsed: {e}",
                    cert_file.directive,
                    cert_file.path.display()
                )));
            }
        }
        out.push(Arc::new(certified));
    }
    Ok(out)
}

/// A path as written, made ServerRoot-relative.
pub(super) fn resolve(root: &Path, path: &str) -> PathBuf {
    crate::config::server_root_relative(root, Path::new(path))
}
