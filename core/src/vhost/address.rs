//! The addresses of a `<VirtualHost>` line (httpd's `server_addr_rec`, read
//! by vhost.c's `get_addresses`), and the host names a request is matched
//! against: ServerName, ServerAlias (wildcards `*` and `?` as
//! `ap_strcasecmp_match`), the Host header as `fix_hostname` reduces it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// One address of a `<VirtualHost>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhostAddress {
    /// The address; unspecified (`0.0.0.0`) for `*` and `_default_`, which
    /// httpd treats alike since 2.4.
    pub ip: IpAddr,
    /// 0 for any port (`:*`, or no port when the main server's ServerName
    /// names none).
    pub port: u16,
    /// The host as written (httpd's `virthost`): `*`, `_default_`, an
    /// address, or a name. A request's host equal to it selects the vhost
    /// when no ServerName or ServerAlias matches.
    pub host: String,
}

impl VhostAddress {
    /// `*`, `_default_`, `0.0.0.0`, `[::]`: any address (httpd's default list).
    pub fn is_wildcard(&self) -> bool {
        self.ip.is_unspecified()
    }

    /// As `-S` prints it: `*:80`, `*:*`, `127.0.0.1:80`, `[::1]:*`.
    pub fn label(&self) -> String {
        let port = if self.port == 0 { "*".to_string() } else { self.port.to_string() };
        match self.ip {
            _ if self.is_wildcard() => format!("*:{port}"),
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        }
    }
}

impl fmt::Display for VhostAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Why a word of a `<VirtualHost>` line gives no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// httpd's error for the line (the section is refused).
    Invalid(&'static str),
    /// A name that does not resolve: httpd logs AH00547 and ignores the word.
    Unresolved(String),
}

/// The addresses one word of a `<VirtualHost>` line names, as vhost.c's
/// `get_addresses`: `host[:port]`, `[v6][:port]`, `*`, `_default_`, port `*`
/// for any; no port means `default_port` (the main server's, from its
/// ServerName, 0 = any). A name is resolved, and gives each of its addresses.
pub fn parse_address(word: &str, default_port: u16) -> Result<Vec<VhostAddress>, AddressError> {
    const INVALID: AddressError = AddressError::Invalid("The address or port is invalid");
    let (rest, wild_port) = match word.strip_suffix(":*") {
        Some(rest) => (rest, true),
        None if word == "*" => ("*", false),
        None => (word, false),
    };
    let (host, port) = split_host_port(rest).ok_or(INVALID)?;
    if host.is_empty() {
        return Err(AddressError::Invalid("Missing address for VirtualHost"));
    }
    let port = match (port, wild_port) {
        (_, true) => 0,
        (Some(p), false) => p,
        (None, false) => default_port,
    };
    let one = |ip: IpAddr| Ok(vec![VhostAddress { ip, port, host: host.to_string() }]);
    if host == "*" || host.eq_ignore_ascii_case("_default_") {
        return one(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return one(ip);
    }
    // A name: each address it resolves to, as apr_sockaddr_info_get lists them.
    let resolved: Vec<SocketAddr> = (host, port).to_socket_addrs().map(Iterator::collect).unwrap_or_default();
    if resolved.is_empty() {
        return Err(AddressError::Unresolved(format!(
            "AH00547: Could not resolve host name {host} -- ignoring!"
        )));
    }
    let mut out: Vec<VhostAddress> = Vec::new();
    for a in resolved {
        let address = VhostAddress { ip: a.ip(), port, host: host.to_string() };
        if !out.contains(&address) {
            out.push(address);
        }
    }
    Ok(out)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` as apr_parse_addr_port reads
/// them: the port is 1-65535; `None` when the word is malformed.
fn split_host_port(word: &str) -> Option<(&str, Option<u16>)> {
    let port = |digits: &str| -> Option<u16> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u16>().ok().filter(|p| *p > 0)
    };
    if let Some(inner) = word.strip_prefix('[') {
        let (v6, after) = inner.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        return match after.strip_prefix(':') {
            None if after.is_empty() => Some((v6, None)),
            None => None,
            Some(p) => Some((v6, Some(port(p)?))),
        };
    }
    if word.bytes().all(|b| b.is_ascii_digit()) {
        // A bare number is a port with no address.
        port(word)?;
        return Some(("", None));
    }
    match word.rsplit_once(':') {
        // An IPv6 address needs its brackets.
        Some((host, _)) if host.contains(':') => None,
        Some((host, p)) => Some((host, Some(port(p)?))),
        None => Some((word, None)),
    }
}

/// A request's host as vhost.c's `fix_hostname` leaves it for matching:
/// the port and an IPv6 literal's brackets removed, a trailing dot
/// dropped (case is ignored by the comparisons). `None` for an empty host.
pub fn request_host(authority: &str) -> Option<&str> {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// Whether ServerAlias `name` has httpd's wildcards (`ap_is_matchexp`).
pub fn is_wildcard_name(name: &str) -> bool {
    name.contains(['*', '?'])
}

/// `ap_strcasecmp_match`: `*` matches any run of characters, `?` any one;
/// letters compare without regard to case. Allocates nothing.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and the name position it is now matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&n[ni]) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The name httpd gives a server whose address has no ServerName and is
/// not a wildcard (vhost.c reverse-resolves it with `apr_getnameinfo`):
/// the first name /etc/hosts lists for the address, else the address.
/// DNS is not asked.
pub fn reverse_name(ip: IpAddr) -> String {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let address: IpAddr = words.next()?.parse().ok()?;
            (address == ip).then(|| words.next().map(str::to_string)).flatten()
        })
        .unwrap_or_else(|| ip.to_string())
}

/// The name httpd guesses for a main server with no ServerName
/// (`ap_get_local_host`): the host name if it has a dot, else the address
/// /etc/hosts gives it, else `127.0.0.1`. httpd also asks the resolver
/// for a fully qualified name; we ask no DNS server, so a start never
/// waits on one.
pub fn local_host_name() -> String {
    let Ok(name) = nix::unistd::gethostname() else { return "127.0.0.1".into() };
    let name = name.to_string_lossy().into_owned();
    if name.contains('.') {
        return name;
    }
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let address = words.next()?.parse::<IpAddr>().ok()?;
            words.any(|w| w.eq_ignore_ascii_case(&name)).then(|| address.to_string())
        })
        .unwrap_or_else(|| "127.0.0.1".into())
}
