//! The Host header as the engine reads it: httpd's check of its shape, and
//! the name and port an error page's signature gives.

use super::message::ConnInfo;
use crate::server::Server;

/// A Host header httpd accepts (its `fix_hostname`): a name of letters,
/// digits, `-`, `.` and `_`, or a bracketed IPv6 address, then an optional
/// `:port` of digits.
pub(super) fn valid_host(host: &str) -> bool {
    let (name_ok, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, port)) => {
                (!v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'), port)
            }
            None => return false,
        },
        None => {
            let (name, port) = match host.split_once(':') {
                Some((n, p)) => (n, &host[n.len()..][..p.len() + 1]),
                None => (host, ""),
            };
            (name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)), port)
        }
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => !digits.is_empty() && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()),
    };
    name_ok && port_ok
}

/// The host part of a Host header, or ServerName.
pub(super) fn host_name<'a>(host: &'a str, server: &'a Server) -> &'a str {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if name.is_empty() { server.settings.server_host().unwrap_or("localhost") } else { name }
}

/// The port of a Host header; the scheme's (80, or 443 over TLS) when it
/// names none, as httpd's signature.
pub(super) fn host_port(host: &str, info: &ConnInfo) -> u16 {
    let after = host.rsplit_once(']').map_or(host, |(_, rest)| rest);
    after.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(info.default_port())
}
