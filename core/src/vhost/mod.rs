//! Virtual hosts as httpd selects them (server/vhost.c).
//!
//! Every server (the main server, index 0, and each `<VirtualHost>` in
//! configuration order, from 1) has an [`Identity`]: its ServerName,
//! ServerAlias names and addresses. [`VirtualHosts`] is httpd's address
//! table, built as `ap_fini_vhost_config` builds it:
//!
//! - a connection is bound by its local address ([`VirtualHosts::bind`],
//!   `ap_update_vhost_given_ip`): the vhosts listed for that exact
//!   address and port first (a port `*` matching any), then those for `*`
//!   or `_default_` on that port (or on any port), else the main server
//!   alone. The [`Binding`] is the list of servers that may answer on that
//!   address, the first listed being the default;
//! - a request is given its server when its head is complete
//!   ([`VirtualHosts::select`], `ap_update_vhost_from_headers`): when
//!   several vhosts share the address (name-based), the first whose
//!   ServerName or ServerAlias matches the request's host (case ignored,
//!   port ignored), else the first whose `<VirtualHost>` address was
//!   written as that host, else the binding's default.
//!
//! An address listed by one vhost only is IP-based: the Host header plays
//! no part. The main server answers only on addresses no vhost lists.

mod address;
mod dump;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};

pub use address::{
    AddressError, VhostAddress, is_wildcard_name, local_host_name, parse_address, request_host, reverse_name,
    wildcard_matches,
};
pub use dump::dump;

use crate::config::Location;

/// Who a server is, for the address table and `-S`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// httpd's `server_hostname`: ServerName's host; for a vhost without
    /// one, the main server's when it has a wildcard address, else the
    /// name of its first address.
    pub name: String,
    /// ServerAlias names without wildcards, then those with (`names` and
    /// `wild_names` in httpd), each in the order written.
    pub aliases: Vec<String>,
    pub wild_aliases: Vec<String>,
    /// The `<VirtualHost>` addresses; empty for the main server.
    pub addresses: Vec<VhostAddress>,
    /// The `<VirtualHost>` line; `None` for the main server.
    pub defined_at: Option<Location>,
}

impl Identity {
    /// httpd's `matches_aliases`: ServerName, then the aliases, then the
    /// wildcard aliases, all without regard to case.
    pub fn matches(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(&self.name)
            || self.aliases.iter().any(|a| host.eq_ignore_ascii_case(a))
            || self.wild_aliases.iter().any(|a| wildcard_matches(a, host))
    }

    /// Splits ServerAlias words into plain and wildcard names.
    pub fn set_aliases(&mut self, words: &[String]) {
        for word in words {
            if is_wildcard_name(word) {
                self.wild_aliases.push(word.clone());
            } else {
                self.aliases.push(word.clone());
            }
        }
    }
}

/// One vhost in a name-based list: the server and which of its addresses
/// put it there (httpd's `name_chain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameEntry {
    server: usize,
    /// The address's port (0 = any).
    port: u16,
    /// Its index in the server's `Identity::addresses`.
    address: usize,
}

/// The servers listed for one address (httpd's `ipaddr_chain`).
#[derive(Debug, Clone)]
struct Chain {
    /// The address that opened the chain.
    address: VhostAddress,
    /// The default: the first vhost in the configuration with the address.
    server: usize,
    /// The name-based candidates in configuration order; empty while only
    /// one vhost has the address (it is then IP-based).
    names: Vec<NameEntry>,
    /// The first vhost seen, kept aside until a second one makes the
    /// address name-based (httpd's `initialnames`). Build time only.
    initial: Option<NameEntry>,
}

impl Chain {
    fn new(address: &VhostAddress, server: usize) -> Chain {
        Chain { address: address.clone(), server, names: Vec::new(), initial: None }
    }

    /// `add_name_vhost_config`. The vhosts are added last first, so each
    /// one added becomes the default and goes in front.
    fn add(&mut self, entry: NameEntry) {
        let server = entry.server;
        self.server = server;
        if !self.names.is_empty() {
            self.names.insert(0, entry);
        } else if let Some(first) = self.initial.take() {
            self.names = vec![entry, first];
        } else {
            self.initial = Some(entry);
        }
    }
}

/// The address a connection came in on, resolved to the servers that may
/// answer it: an index into [`VirtualHosts::bindings`]. Stable for the life
/// of a configuration (a `ServerContext`), so per-address state (a TLS
/// configuration) can be kept by [`Binding::id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binding {
    id: u32,
}

impl Binding {
    /// The binding of an address no vhost lists: the main server alone.
    pub const MAIN: Binding = Binding { id: 0 };

    /// 0 for [`Binding::MAIN`], then 1.. for the addresses vhosts list.
    pub fn id(self) -> usize {
        self.id as usize
    }
}

/// httpd's address table: the addresses vhosts list, in the order httpd
/// keeps them (its `iphash_table` buckets, then its `default_list`).
#[derive(Debug, Clone, Default)]
pub struct VirtualHosts {
    /// Specific addresses, in bucket order.
    exact: Vec<Chain>,
    /// `*` and `_default_` addresses.
    defaults: Vec<Chain>,
    /// Each server's identity, by server index (0 = the main server).
    identities: Vec<Identity>,
}

impl VirtualHosts {
    /// The table for `identities`: index 0 is the main server, then each
    /// `<VirtualHost>` in configuration order.
    pub fn new(identities: Vec<Identity>) -> VirtualHosts {
        // httpd lists its vhosts last first and puts each new chain at the
        // head of its list; so, in the end, in configuration order.
        let mut buckets: Vec<(u8, Vec<Chain>)> = Vec::new();
        let mut defaults: Vec<Chain> = Vec::new();
        for (server, identity) in identities.iter().enumerate().skip(1).rev() {
            let mut previous: Option<&VhostAddress> = None;
            for (index, address) in identity.addresses.iter().enumerate() {
                let entry = NameEntry { server, port: address.port, address: index };
                if address.is_wildcard() {
                    let found = find_default(&defaults, address.port)
                        .filter(|&i| defaults[i].address.port == address.port);
                    match found {
                        Some(i) => {
                            // The same wildcard address twice on one line counts once.
                            let repeated =
                                previous.is_some_and(|p| p.is_wildcard() && p.port == address.port);
                            if !repeated {
                                defaults[i].add(entry);
                            }
                        }
                        None => {
                            defaults.insert(0, Chain::new(address, server));
                            defaults[0].add(entry);
                        }
                    }
                } else {
                    let key = bucket(address.ip);
                    let position = match buckets.iter().position(|(b, _)| *b == key) {
                        Some(p) => p,
                        None => {
                            let at = buckets.partition_point(|(b, _)| *b < key);
                            buckets.insert(at, (key, Vec::new()));
                            at
                        }
                    };
                    let chains = &mut buckets[position].1;
                    let found = find_exact(chains, address.ip.to_canonical(), address.port)
                        .filter(|&i| chains[i].address.port == address.port);
                    let i = match found {
                        Some(i) => i,
                        None => {
                            chains.insert(0, Chain::new(address, server));
                            0
                        }
                    };
                    chains[i].add(entry);
                }
                previous = Some(address);
            }
        }
        let exact = buckets.into_iter().flat_map(|(_, chains)| chains).collect();
        VirtualHosts { exact, defaults, identities }
    }

    /// The servers' identities, by server index.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// `ap_update_vhost_given_ip`: the binding for a connection's local
    /// address. Allocates nothing.
    pub fn bind(&self, local: SocketAddr) -> Binding {
        let ip = local.ip().to_canonical();
        if let Some(i) = find_exact(&self.exact, ip, local.port()) {
            return Binding { id: (1 + i) as u32 };
        }
        match find_default(&self.defaults, local.port()) {
            Some(i) => Binding { id: (1 + self.exact.len() + i) as u32 },
            None => Binding::MAIN,
        }
    }

    fn chain(&self, binding: Binding) -> Option<&Chain> {
        let i = binding.id().checked_sub(1)?;
        self.exact.get(i).or_else(|| self.defaults.get(i - self.exact.len()))
    }

    /// The server a connection on `binding` is given before its request
    /// names a host (httpd's `c->base_server`).
    pub fn default_server(&self, binding: Binding) -> usize {
        self.chain(binding).map_or(0, |c| c.server)
    }

    /// `ap_update_vhost_from_headers`: the server for a request on
    /// `binding` whose host (from the request line's absolute URI, else
    /// the Host header) is `host`. Allocates nothing.
    ///
    /// httpd also passes over name-based entries listed for another port
    /// than the connection's; every entry of a chain has the chain's port,
    /// which the binding matched, so none ever is.
    pub fn select(&self, binding: Binding, host: Option<&str>) -> usize {
        let Some(chain) = self.chain(binding) else { return 0 };
        let host = host.and_then(request_host);
        let (Some(host), false) = (host, chain.names.is_empty()) else { return chain.server };
        let mut by_address: Option<usize> = None;
        let mut last: Option<usize> = None;
        for entry in &chain.names {
            // A vhost is listed once per address of its that matched; its
            // names need checking once.
            if last != Some(entry.server) && self.identities[entry.server].matches(host) {
                return entry.server;
            }
            if by_address.is_none() && self.written_as(entry, host) {
                by_address = Some(entry.server);
            }
            last = Some(entry.server);
        }
        by_address.unwrap_or(chain.server)
    }

    /// Whether the address that listed this entry was written as `host`
    /// (httpd's `virthost`).
    fn written_as(&self, entry: &NameEntry, host: &str) -> bool {
        self.identities[entry.server]
            .addresses
            .get(entry.address)
            .is_some_and(|a| a.host.eq_ignore_ascii_case(host))
    }

    /// Every binding, [`Binding::MAIN`] first.
    pub fn bindings(&self) -> impl Iterator<Item = Binding> + '_ {
        (0..=self.exact.len() + self.defaults.len()).map(|id| Binding { id: id as u32 })
    }

    /// The servers that may answer on `binding`, the default first, each
    /// once: for a TLS server choosing a certificate by SNI.
    pub fn servers(&self, binding: Binding) -> Vec<usize> {
        let Some(chain) = self.chain(binding) else { return vec![0] };
        let mut out = vec![chain.server];
        for entry in &chain.names {
            if !out.contains(&entry.server) {
                out.push(entry.server);
            }
        }
        out
    }

    /// The address a binding stands for, as `-S` prints it; `None` for
    /// [`Binding::MAIN`].
    pub fn address(&self, binding: Binding) -> Option<&VhostAddress> {
        self.chain(binding).map(|c| &c.address)
    }
}

/// httpd's `hash_addr`: the last four bytes of the address folded into one
/// (XOR), which orders the specific addresses in `-S`.
fn bucket(ip: IpAddr) -> u8 {
    let bytes = match ip {
        IpAddr::V4(v4) => v4.octets(),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// `find_ipaddr`: the first chain for `ip` with this very port, else the
/// first for `ip` where either port is `*` (0).
fn find_exact(chains: &[Chain], ip: IpAddr, port: u16) -> Option<usize> {
    let same_ip = |c: &Chain| c.address.ip.to_canonical() == ip;
    chains
        .iter()
        .position(|c| c.address.port == port && same_ip(c))
        .or_else(|| chains.iter().position(|c| (c.address.port == 0 || port == 0) && same_ip(c)))
}

/// `find_default_server`: the wildcard chain for this port, else one for
/// any port.
fn find_default(chains: &[Chain], port: u16) -> Option<usize> {
    chains
        .iter()
        .position(|c| c.address.port == port)
        .or_else(|| chains.iter().position(|c| c.address.port == 0))
}
