//! Which configuration sections apply to a request (httpd's directory,
//! file and location walks, reduced to what we use) and what their
//! `Require` lines decide (mod_authz_core with mod_authz_host's providers).
//!
//! Sections apply in httpd's merge order: `<Directory>` by depth (shorter
//! paths first, then as written), then `<Files>` (top level first, then
//! those inside the matching `<Directory>` sections), then `<Location>` as
//! written. A later section overrides an earlier one: SetHandler per
//! directive, and the authorization as a whole (httpd's default
//! `AuthMerging Off`: the last section with `Require` lines decides).
//! A `<VirtualHost>`'s server holds the main server's sections, then its
//! own, so both apply in that order, as httpd merges them. Regular-expression sections (`<LocationMatch>`,
//! `<DirectoryMatch>`, `<FilesMatch>`, and the `~` forms) are skipped: the
//! core has no regex engine, and a section we cannot match must not apply.
//!
//! The walk allocates nothing: it runs for every request.

use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt;

use crate::config::Node;
use crate::server::Server;

/// What the sections that apply to one request say.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PerDir<'a> {
    /// The handler SetHandler names (`None` when no section sets one, or
    /// the deciding one says `None`).
    pub(super) handler: Option<&'a str>,
    /// The section whose authorization directives decide, if any does.
    pub(super) authz: Option<&'a Node>,
}

/// Where a section sits in httpd's merge order; a greater key merges later.
type Order = (u8, usize, usize, usize);

/// The sections of `server` that apply to the decoded path `uri`, whose
/// file is `DocumentRoot` + `uri`.
pub(super) fn walk<'a>(server: &'a Server, uri: &[u8]) -> PerDir<'a> {
    let mut walk =
        Walk { handler: server.settings.set_handler.as_deref().map(|h| ((0, 0, 0, 0), h)), authz: None };
    let root = server.settings.document_root.as_os_str().as_bytes();
    let file = Joined { head: root.strip_suffix(b"/").unwrap_or(root), tail: uri };
    let server_root = server.settings.server_root.as_os_str().as_bytes();
    let base = uri.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    for (index, section) in server.sections.iter().enumerate() {
        let Some(arg) = section.args.first().map(String::as_bytes) else { continue };
        let kind = section.bare_name();
        if kind.eq_ignore_ascii_case("Directory") {
            let Some(depth) = directory_matches(arg, server_root, &file) else { continue };
            walk.merge((1, depth, index, 0), section);
            for (child_index, child) in section.children.iter().enumerate() {
                if child.bare_name().eq_ignore_ascii_case("Files")
                    && child.args.first().is_some_and(|a| files_match(a.as_bytes(), base))
                {
                    walk.merge((2, 1 + depth, index, child_index + 1), child);
                }
            }
        } else if kind.eq_ignore_ascii_case("Files") {
            if files_match(arg, base) {
                walk.merge((2, 0, index, 0), section);
            }
        } else if kind.eq_ignore_ascii_case("Location") && location_matches(arg, uri) {
            walk.merge((3, 0, index, 0), section);
        }
    }
    PerDir {
        handler: walk.handler.map(|(_, h)| h).filter(|h| !h.eq_ignore_ascii_case("none")),
        authz: walk.authz.map(|(_, node)| node),
    }
}

/// The winners so far, with their places in the merge order.
struct Walk<'a> {
    handler: Option<(Order, &'a str)>,
    authz: Option<(Order, &'a Node)>,
}

impl<'a> Walk<'a> {
    fn merge(&mut self, order: Order, section: &'a Node) {
        let handler = section.children.iter().rev().find(|c| c.name.eq_ignore_ascii_case("SetHandler"));
        if let Some(value) = handler.and_then(|c| c.args.first()) {
            if self.handler.is_none_or(|(o, _)| o < order) {
                self.handler = Some((order, value));
            }
        }
        if section.children.iter().any(is_authz) && self.authz.is_none_or(|(o, _)| o < order) {
            self.authz = Some((order, section));
        }
    }
}

fn is_authz(node: &Node) -> bool {
    let name = node.bare_name();
    ["Require", "RequireAll", "RequireAny", "RequireNone"].iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Two byte strings read as one (DocumentRoot and the path), so the
/// filename need not be built.
struct Joined<'b> {
    head: &'b [u8],
    tail: &'b [u8],
}

impl Joined<'_> {
    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    fn at(&self, i: usize) -> Option<u8> {
        match i.checked_sub(self.head.len()) {
            None => self.head.get(i).copied(),
            Some(j) => self.tail.get(j).copied(),
        }
    }

    fn starts_with(&self, prefix: &[u8]) -> bool {
        prefix.len() <= self.len() && prefix.iter().enumerate().all(|(i, &b)| self.at(i) == Some(b))
    }

    /// The first `n` components (`/a/b` for n = 2), copied into `buf`.
    fn components<'b>(&self, n: usize, buf: &'b mut [u8; 1024]) -> Option<&'b [u8]> {
        let mut seen = 0;
        for i in 0..self.len().min(buf.len()) {
            let b = self.at(i)?;
            if b == b'/' && i > 0 {
                seen += 1;
                if seen == n {
                    return Some(&buf[..i]);
                }
            }
            buf[i] = b;
        }
        (seen + 1 == n && self.len() <= buf.len()).then(|| &buf[..self.len()])
    }
}

/// Whether `<Directory dir>` covers `file`, and its depth (slashes in the
/// path with a trailing slash, as httpd sorts them). A relative path is
/// taken from ServerRoot.
fn directory_matches(dir: &[u8], server_root: &[u8], file: &Joined<'_>) -> Option<usize> {
    if dir == b"~" {
        return None;
    }
    let mut joined = [0u8; 1024];
    let dir = if dir.starts_with(b"/") {
        dir
    } else {
        let root = server_root.strip_suffix(b"/").unwrap_or(server_root);
        let len = root.len() + 1 + dir.len();
        let out = joined.get_mut(..len)?;
        out[..root.len()].copy_from_slice(root);
        out[root.len()] = b'/';
        out[root.len() + 1..].copy_from_slice(dir);
        out
    };
    let trimmed = trim_trailing_slashes(dir);
    let depth = trimmed.iter().filter(|&&b| b == b'/').count() + 1;
    if has_wildcard(trimmed) {
        let mut buf = [0u8; 1024];
        let part = file.components(depth - 1, &mut buf)?;
        return fnmatch(trimmed, part, true).then_some(depth);
    }
    let covered = file.starts_with(trimmed) && matches!(file.at(trimmed.len()), None | Some(b'/'));
    covered.then_some(depth)
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 0 && path[end - 1] == b'/' {
        end -= 1;
    }
    &path[..end]
}

/// `<Files pattern>` against the last path segment.
fn files_match(pattern: &[u8], base: &[u8]) -> bool {
    pattern != b"~" && !base.is_empty() && fnmatch(pattern, base, false)
}

/// `<Location path>` as httpd's location walk: a wildcard pattern matches
/// the whole path; otherwise a prefix that ends at a segment boundary
/// (`/server-status` matches `/server-status/x`, not `/server-statusx`).
/// Repeated slashes in the section's path count as one, as httpd merges them.
fn location_matches(pattern: &[u8], uri: &[u8]) -> bool {
    if pattern == b"~" {
        return false;
    }
    if has_wildcard(pattern) {
        return fnmatch(pattern, uri, true);
    }
    let mut len = 0;
    let mut prev = 0u8;
    for &b in pattern {
        if b == b'/' && prev == b'/' {
            continue;
        }
        if uri.get(len) != Some(&b) {
            return false;
        }
        len += 1;
        prev = b;
    }
    prev == b'/' || matches!(uri.get(len), None | Some(b'/'))
}

fn has_wildcard(s: &[u8]) -> bool {
    s.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// `fnmatch(3)` with `*`, `?`, `[...]` (`!` or `^` negates, ranges) and
/// `\` escapes; with `pathname`, wildcards do not match `/`.
pub(super) fn fnmatch(pattern: &[u8], text: &[u8], pathname: bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: (pattern index, text index).
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let c = text[t];
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(b'?') if !(pathname && c == b'/') => Some(1),
            // An unclosed `[` is an ordinary character.
            Some(b'[') if !(pathname && c == b'/') => match class(&pattern[p..], c) {
                Some(step) => step,
                None => (c == b'[').then_some(1),
            },
            Some(b'\\') if pattern.get(p + 1) == Some(&c) => Some(2),
            Some(&b) if b == c && b != b'\\' => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(n), _) => {
                p += n;
                t += 1;
            }
            // Let the last `*` take one more character, unless it would
            // swallow a `/` it may not cross.
            (None, Some((sp, st))) if !(pathname && text[st] == b'/') => {
                star = Some((sp, st + 1));
                p = sp;
                t = st + 1;
            }
            _ => return false,
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// A bracket expression at the start of `pattern` against `c`: the
/// expression's length if `c` is in it, `Some(None)` if not, `None` if the
/// expression is not closed.
fn class(pattern: &[u8], c: u8) -> Option<Option<usize>> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let lo = *pattern.get(i)?;
        if lo == b']' && !first {
            break;
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&hi| hi != b']') {
            let hi = pattern[i + 2];
            found |= lo <= c && c <= hi;
            i += 3;
        } else {
            found |= lo == c;
            i += 1;
        }
    }
    Some((found != negate).then_some(i + 1))
}

/// What a provider or group says, as mod_authz_core's `authz_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Authz {
    Granted,
    Denied,
    Neutral,
}

/// The facts about a request the providers look at.
#[derive(Debug, Clone, Copy)]
pub(super) struct Client<'a> {
    pub(super) remote: IpAddr,
    pub(super) local: IpAddr,
    pub(super) method: &'a str,
}

/// Whether the authorization directives of `section` let `client` in.
///
/// Its `Require` lines and groups are an implicit `<RequireAny>`. httpd
/// refuses a top-level `Require not ...` (it could never decide there); we
/// accept it as "must not match": any top-level negated line whose provider
/// matches denies, and the other lines then decide as `<RequireAny>`.
/// Negated lines alone grant nothing (as in httpd, where negation only
/// ever denies or abstains).
pub(super) fn authorize(section: &Node, client: &Client<'_>) -> bool {
    let lines = || section.children.iter().filter(|c| is_authz(c));
    let excluded =
        lines().filter_map(negated).any(|provider| provider_check(provider, client) == Authz::Granted);
    if excluded {
        return false;
    }
    let mut positive = Authz::Neutral;
    for child in lines().filter(|c| negated(c).is_none()) {
        positive = combine(Logic::Any, positive, check(child, client));
        if positive == Authz::Granted {
            break;
        }
    }
    positive == Authz::Granted
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logic {
    All,
    Any,
}

/// The words after `not` of a `Require not ...` line.
fn negated(node: &Node) -> Option<&[String]> {
    if !node.name.eq_ignore_ascii_case("Require") {
        return None;
    }
    match node.args.split_first() {
        Some((not, rest)) if not.eq_ignore_ascii_case("not") => Some(rest),
        _ => None,
    }
}

/// One `Require` line or `<Require*>` group (mod_authz_core's `check_section`).
fn check(node: &Node, client: &Client<'_>) -> Authz {
    if let Some(provider) = negated(node) {
        return negate(provider_check(provider, client));
    }
    let name = node.bare_name();
    if name.eq_ignore_ascii_case("Require") {
        return provider_check(&node.args, client);
    }
    let (logic, negated) = if name.eq_ignore_ascii_case("RequireAll") {
        (Logic::All, false)
    } else if name.eq_ignore_ascii_case("RequireAny") {
        (Logic::Any, false)
    } else {
        (Logic::Any, true)
    };
    let mut result = Authz::Neutral;
    for child in node.children.iter().filter(|c| is_authz(c)) {
        result = combine(logic, result, check(child, client));
        let decided = match logic {
            Logic::All => result == Authz::Denied,
            Logic::Any => result == Authz::Granted,
        };
        if decided {
            break;
        }
    }
    if negated { negate(result) } else { result }
}

/// Folds one child's result into a group's, as `check_section` does:
/// neutral children abstain; in an AND group a denial decides, in an OR
/// group a grant does.
fn combine(logic: Logic, so_far: Authz, child: Authz) -> Authz {
    match (logic, child) {
        (_, Authz::Neutral) => so_far,
        (Logic::All, Authz::Denied) | (Logic::Any, Authz::Granted) => child,
        _ if so_far == Authz::Neutral => child,
        _ => so_far,
    }
}

/// `Require not`: a grant becomes a denial, a denial only an abstention.
fn negate(result: Authz) -> Authz {
    match result {
        Authz::Granted => Authz::Denied,
        Authz::Denied | Authz::Neutral => Authz::Neutral,
    }
}

/// One provider with its arguments (`all granted`, `ip 10.1 ::1`, ...).
/// Providers we cannot evaluate (`env`: nothing sets variables; `expr`;
/// `host` and `forward-dns`, which need DNS lookups) deny: failing closed
/// is the safe reading of a rule we do not run.
fn provider_check(words: &[String], client: &Client<'_>) -> Authz {
    let Some((provider, args)) = words.split_first() else { return Authz::Denied };
    let granted = match provider.to_ascii_lowercase().as_str() {
        "all" => args.first().is_some_and(|a| a.eq_ignore_ascii_case("granted")),
        "local" => is_local(client),
        "ip" => args.iter().any(|spec| Subnet::parse(spec).is_some_and(|s| s.contains(client.remote))),
        "method" => args.iter().any(|m| m == client.method),
        _ => false,
    };
    if granted { Authz::Granted } else { Authz::Denied }
}

/// `Require local`: the client is the server's own address, 127.0.0.0/8 or ::1.
fn is_local(client: &Client<'_>) -> bool {
    let remote = client.remote.to_canonical();
    remote == client.local.to_canonical()
        || match remote {
            IpAddr::V4(v4) => v4.is_loopback(),
            IpAddr::V6(v6) => v6.is_loopback(),
        }
}

/// An address and mask, as APR's `apr_ipsubnet_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Subnet {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

impl Subnet {
    /// One `Require ip` argument as `apr_ipsubnet_create` reads it: a full
    /// address, `addr/bits`, `a.b.c.d/netmask`, or a partial dotted prefix
    /// (`10.1` is 10.1.0.0/16). `None` where httpd would refuse the line.
    pub(super) fn parse(spec: &str) -> Option<Subnet> {
        let (addr, mask) = match spec.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (spec, None),
        };
        let subnet = if addr.contains(':') {
            let v6: std::net::Ipv6Addr = addr.parse().ok()?;
            if v6.to_ipv4_mapped().is_some() {
                return None; // APR asks for a.b.c.d instead
            }
            Subnet::V6 { net: u128::from(v6), mask: u128::MAX }
        } else if let Ok(v4) = addr.parse::<std::net::Ipv4Addr>() {
            Subnet::V4 { net: u32::from(v4), mask: u32::MAX }
        } else if mask.is_none() {
            return partial_v4(addr);
        } else {
            return None;
        };
        let subnet = match (subnet, mask) {
            (s, None) => s,
            (Subnet::V4 { net, .. }, Some(m)) => {
                let mask = match m.parse::<u32>() {
                    Ok(bits @ 1..=32) => u32::MAX << (32 - bits),
                    Ok(_) => return None,
                    Err(_) if m.bytes().all(|b| b.is_ascii_digit()) => return None,
                    Err(_) => u32::from(m.parse::<std::net::Ipv4Addr>().ok()?),
                };
                Subnet::V4 { net, mask }
            }
            (Subnet::V6 { net, .. }, Some(m)) => match m.parse::<u32>() {
                Ok(bits @ 1..=128) => Subnet::V6 { net, mask: u128::MAX << (128 - bits) },
                _ => return None,
            },
        };
        Some(match subnet {
            Subnet::V4 { net, mask } => Subnet::V4 { net: net & mask, mask },
            Subnet::V6 { net, mask } => Subnet::V6 { net: net & mask, mask },
        })
    }

    /// Whether `addr` is inside (`apr_ipsubnet_test`): an IPv4 client
    /// reached over an IPv6 socket (`::ffff:a.b.c.d`) is tested as the IPv4
    /// address it is, and never against an IPv6 subnet.
    pub(super) fn contains(self, addr: IpAddr) -> bool {
        match (self, addr.to_canonical()) {
            (Subnet::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (Subnet::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

/// APR's `parse_network`: up to four dotted decimal octets, the rest
/// wildcards (`10.1` and `10.1.` are 10.1.0.0/16).
fn partial_v4(addr: &str) -> Option<Subnet> {
    let (mut net, mut mask) = (0u32, 0u32);
    let mut shift = 24i32;
    let mut rest = addr;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || shift < 0 {
            return None;
        }
        let octet: u32 = rest[..digits].parse().ok().filter(|&o| o <= 255)?;
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None if rest.is_empty() => {}
            None => return None,
        }
        net |= octet << shift;
        mask |= 0xff << shift;
        shift -= 8;
    }
    (mask != 0).then_some(Subnet::V4 { net, mask })
}

#[cfg(test)]
#[path = "tests_access.rs"]
pub(super) mod tests;
