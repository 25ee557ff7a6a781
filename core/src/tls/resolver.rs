//! SNI: the certificate of the server a ClientHello names, among those
//! sharing the connection's address, as mod_ssl's `ssl_find_vhost` picks it
//! (ServerName, ServerAlias, wildcard aliases); no name, or a name no
//! server has, gets the address's default server's certificate.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::vhost::Identity;

/// The certificates of one address's TLS servers, the default first.
#[derive(Debug)]
pub(crate) struct SniResolver {
    pub(crate) servers: Vec<(Identity, Vec<Arc<CertifiedKey>>)>,
}

impl SniResolver {
    /// The server `name` chooses (the default when `None` or unknown).
    fn server(&self, name: Option<&str>) -> &[Arc<CertifiedKey>] {
        let chosen = name.and_then(|n| self.servers.iter().find(|(identity, _)| identity.matches(n)));
        chosen.or(self.servers.first()).map_or(&[], |(_, keys)| keys.as_slice())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let keys = self.server(hello.server_name());
        // Several certificates (RSA and ECDSA, as mod_ssl allows): the first
        // whose key signs with a scheme the client accepts.
        let schemes = hello.signature_schemes();
        keys.iter().find(|k| k.key.choose_scheme(schemes).is_some()).or(keys.first()).cloned()
    }
}
