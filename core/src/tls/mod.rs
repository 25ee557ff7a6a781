//! TLS, as mod_ssl gives it, over rustls with the aws-lc-rs provider (see
//! ARCHITECTURE.md, "TLS", for why that provider).
//!
//! - `protocol.rs`, `ciphers.rs`: SSLProtocol and SSLCipherSuite mapped onto
//!   what rustls offers (checked when the configuration is read);
//! - `certs.rs`: certificates and keys, read by the parent before it drops
//!   privileges, each error naming its directive's file and line;
//! - `resolver.rs`: SNI, a certificate per name among an address's servers;
//! - `stream.rs`: a TLS connection as the engine's `Transport`;
//! - `socket.rs`: plain or TLS, as the connection's address calls for;
//! - `plain.rs`: plain HTTP sent to a TLS port (httpd's 400).
//!
//! One rustls `ServerConfig` is built per address binding whose default
//! server has `SSLEngine on`, from that server's SSLProtocol,
//! SSLCipherSuite and session settings (a connection's protocol and suites
//! are settled before its request names a vhost, in httpd too), with an
//! SNI resolver over the certificates of every server on that address.

mod certs;
pub mod ciphers;
pub mod plain;
pub mod protocol;
mod resolver;
pub mod socket;
pub mod stream;

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs;
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache};

use crate::config::{Config, ConfigError, Location, Settings};
use crate::vhost::{Binding, VirtualHosts};
use certs::{FileLine, ServerFiles};

pub use socket::Socket;

/// Only protocol rustls offers in ALPN: HTTP/1.1 (no h2 here). A client
/// that offers ALPN without it gets rustls's `no_application_protocol`.
const ALPN: &[u8] = b"http/1.1";

/// Sessions a process keeps for resumption with SSLSessionCache set
/// (rustls's cache is per process; httpd's shmcb is shared by children).
const SESSION_CACHE: usize = 1024;

/// The TLS configuration of each address binding that speaks TLS.
#[derive(Default)]
pub struct TlsContext {
    /// By `Binding::id`: the rustls configuration and the default server's
    /// `name:port` (for log lines).
    by_binding: Vec<Option<(Arc<ServerConfig>, Arc<str>)>>,
}

impl TlsContext {
    /// A new connection on `binding`: its rustls state, or `None` when the
    /// address speaks plain HTTP.
    pub fn accept(&self, binding: Binding) -> Option<(std::io::Result<rustls::ServerConnection>, Arc<str>)> {
        let (config, name) = self.by_binding.get(binding.id())?.as_ref()?;
        let conn = rustls::ServerConnection::new(Arc::clone(config)).map_err(std::io::Error::other);
        Some((conn, Arc::clone(name)))
    }

    /// Whether any address speaks TLS.
    pub fn is_enabled(&self) -> bool {
        self.by_binding.iter().any(Option::is_some)
    }

    /// Whether connections on `binding` speak TLS.
    pub fn is_tls(&self, binding: Binding) -> bool {
        self.by_binding.get(binding.id()).is_some_and(Option::is_some)
    }

    /// Reads every certificate and key and builds each TLS address's
    /// configuration (the parent does, before forking and dropping
    /// privileges).
    pub fn build(config: &Config, vhosts: &VirtualHosts) -> Result<TlsContext, ConfigError> {
        let settings: Vec<&Settings> =
            std::iter::once(&config.settings).chain(config.vhosts.iter().map(|v| &v.settings)).collect();
        if !settings.iter().any(|s| s.ssl_engine) {
            return Ok(TlsContext::default());
        }
        let provider = aws_lc_rs::default_provider();
        let identities = vhosts.identities();
        let mut keys = Vec::with_capacity(settings.len());
        for (i, s) in settings.iter().enumerate() {
            if !s.ssl_engine {
                keys.push(Vec::new());
                continue;
            }
            let name = server_name(config, vhosts, i);
            let loaded = certs::load(&server_files(config, s), &provider, &name)?;
            if loaded.is_empty() {
                return Err(ConfigError::Directive {
                    at: engine_line(config, i),
                    directive: "SSLEngine".into(),
                    message: format!(
                        "AH02572: Failed to configure at least one certificate and key for {name} \
                         (SSLEngine on needs SSLCertificateFile and SSLCertificateKeyFile)"
                    ),
                });
            }
            keys.push(loaded);
        }
        let mut by_binding = Vec::new();
        for binding in vhosts.bindings() {
            let servers = vhosts.servers(binding);
            let default = servers[0];
            if !settings[default].ssl_engine {
                by_binding.push(None);
                continue;
            }
            let resolver = resolver::SniResolver {
                servers: servers
                    .iter()
                    .filter(|&&i| settings[i].ssl_engine)
                    .map(|&i| (identities[i].clone(), keys[i].clone()))
                    .collect(),
            };
            let server_config = server_config(config, settings[default], resolver)?;
            let name: Arc<str> = Arc::from(server_name(config, vhosts, default).as_str());
            by_binding.push(Some((Arc::new(server_config), name)));
        }
        Ok(TlsContext { by_binding })
    }
}

/// Where a tagged line was written, or the configuration's main file.
fn located(config: &Config, tag: figment::value::Tag) -> Location {
    config.written_at(tag).unwrap_or_else(|| Location { file: config.main_file().to_string(), line: 0 })
}

/// The `<VirtualHost>` line of a vhost, or the main server's SSLEngine line.
fn engine_line(config: &Config, server: usize) -> Location {
    match server.checked_sub(1).and_then(|i| config.vhosts.get(i)) {
        Some(vhost) => vhost.at().clone(),
        None => config
            .provenance_location("SSLEngine")
            .unwrap_or_else(|| Location { file: config.main_file().to_string(), line: 0 }),
    }
}

/// `name:port` as mod_ssl names a server in its messages.
fn server_name(config: &Config, vhosts: &VirtualHosts, server: usize) -> String {
    let identity = &vhosts.identities()[server];
    let port = identity
        .addresses
        .first()
        .map(|a| a.port)
        .filter(|&p| p != 0)
        .or_else(|| config.settings.listen.first().map(|l| l.port))
        .unwrap_or(443);
    format!("{}:{port}", identity.name)
}

fn server_files(config: &Config, s: &Settings) -> ServerFiles {
    let line = |directive: &'static str, value: &figment::value::magic::Tagged<String>| FileLine {
        directive,
        path: certs::resolve(&s.server_root, value),
        at: located(config, value.tag()),
    };
    ServerFiles {
        certificates: s.ssl_certificate_file.iter().map(|v| line("SSLCertificateFile", v)).collect(),
        keys: s.ssl_certificate_key_file.iter().map(|v| line("SSLCertificateKeyFile", v)).collect(),
        chain: s.ssl_certificate_chain_file.as_ref().map(|v| line("SSLCertificateChainFile", v)),
    }
}

/// mod_ssl's check when each file directive is read: the file exists and
/// is not empty (made for every server, whether SSLEngine is on or not).
pub fn check_files(config: &Config) -> Result<(), ConfigError> {
    let all = std::iter::once(&config.settings).chain(config.vhosts.iter().map(|v| &v.settings));
    for s in all {
        let files = server_files(config, s);
        for file in files.certificates.iter().chain(&files.keys).chain(&files.chain) {
            file.check_exists()?;
        }
    }
    Ok(())
}

/// One address's rustls configuration, from its default server's settings.
fn server_config(
    config: &Config,
    s: &Settings,
    resolver: resolver::SniResolver,
) -> Result<ServerConfig, ConfigError> {
    let protocols = match &s.ssl_protocol {
        None => protocol::Protocols::default(),
        Some(words) => {
            let at = located(config, words.tag());
            let error =
                |message| ConfigError::Directive { at: at.clone(), directive: "SSLProtocol".into(), message };
            let (protocols, ignored) = protocol::evaluate(words).map_err(error)?;
            if !ignored.is_empty() {
                log::warn!(
                    target: "ssl",
                    "SSLProtocol: {} not supported (this server speaks TLSv1.2 and TLSv1.3): ignored (SSLProtocol at {at})",
                    ignored.join(", ")
                );
            }
            protocols
        }
    };
    let suites =
        |key: &str, parse: fn(&str) -> Result<Vec<&'static ciphers::Suite>, String>, tls13: bool| match s
            .ssl_cipher_suite
            .get(key)
        {
            None => Ok(ciphers::SUITES.iter().filter(|c| c.tls13 == tls13).collect()),
            Some(spec) => parse(spec).map_err(|message| ConfigError::Directive {
                at: located(config, spec.tag()),
                directive: "SSLCipherSuite".into(),
                message,
            }),
        };
    let tls12 = if protocols.tls12 { suites("SSL", ciphers::tls12, false)? } else { Vec::new() };
    let tls13 = if protocols.tls13 { suites("TLSv1.3", ciphers::tls13, true)? } else { Vec::new() };
    let mut versions = Vec::new();
    if !tls13.is_empty() {
        versions.push(&rustls::version::TLS13);
    }
    if !tls12.is_empty() {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        let at = s
            .ssl_cipher_suite
            .values()
            .next()
            .map(|spec| located(config, spec.tag()))
            .unwrap_or_else(|| Location { file: config.main_file().to_string(), line: 0 });
        return Err(ConfigError::Directive {
            at,
            directive: "SSLCipherSuite".into(),
            message:
                "AH01898: Unable to configure permitted SSL ciphers: no suite of an enabled protocol is left"
                    .into(),
        });
    }
    let mut provider = aws_lc_rs::default_provider();
    let chosen: Vec<rustls::CipherSuite> = tls13.iter().chain(&tls12).map(|c| c.id).collect();
    provider.cipher_suites = chosen
        .iter()
        .filter_map(|id| aws_lc_rs::ALL_CIPHER_SUITES.iter().find(|c| c.suite() == *id).copied())
        .collect();
    let builder = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .map_err(|e| ConfigError::Global { message: format!("TLS configuration: {e}") })?;
    let mut out = builder.with_no_client_auth().with_cert_resolver(Arc::new(resolver));
    out.alpn_protocols = vec![ALPN.to_vec()];
    out.ignore_client_order = s.ssl_honor_cipher_order;
    let cache = s
        .ssl_session_cache
        .as_deref()
        .filter(|c| !c.eq_ignore_ascii_case("none") && !c.eq_ignore_ascii_case("nonenotnull"));
    out.session_storage = match cache {
        Some(_) => ServerSessionMemoryCache::new(SESSION_CACHE),
        None => Arc::new(NoServerSessionStorage {}),
    };
    if s.ssl_session_tickets {
        out.ticketer = aws_lc_rs::Ticketer::new()
            .map_err(|e| ConfigError::Global { message: format!("TLS session tickets: {e}") })?;
    }
    if s.ssl_compression {
        log::warn!(target: "ssl", "SSLCompression On: TLS compression is not implemented (CRIME); ignored");
    }
    Ok(out)
}
