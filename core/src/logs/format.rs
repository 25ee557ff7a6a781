//! LogFormat strings (mod_log_config): parsed once into pieces, rendered per
//! request into a caller's buffer with no allocation of their own.
//!
//! Parsing follows mod_log_config's `parse_log_item`: after `%` come any of
//! `!` (negate), `<` / `>` (original or final request: the same here),
//! status codes separated by `,`, and `{argument}`, then the one-letter code.
//! An item whose status condition fails logs `-`; so does an item with no
//! value. Values a client controls are escaped as `ap_escape_logitem` does.

use std::io::Write;

use super::entry::{ConnStatus, LogEntry};
use super::time::{self, LogZone};

/// A compiled LogFormat.
#[derive(Debug, Clone)]
pub struct LogFormat {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Box<[u8]>),
    Item(Item),
}

#[derive(Debug, Clone)]
struct Item {
    code: Code,
    /// Log only for these statuses (or, negated, all but these).
    statuses: Vec<u32>,
    negate: bool,
}

#[derive(Debug, Clone)]
enum Code {
    /// Items with no source here (`%l`, `%u`, `%e`, `%n`, `%f`, `%R`, `%L`, trailers).
    Dash,
    /// An unknown argument echoed back, as httpd does for `%{bogus}T`.
    Echo(Box<str>),
    RemoteHost,
    RemoteIp,
    LocalIp,
    Time {
        end: bool,
        kind: TimeKind,
    },
    RequestLine,
    Status,
    BodyBytesClf,
    BodyBytes,
    Micros,
    Millis,
    Seconds,
    Pid,
    Tid,
    HexTid,
    Keepalives,
    ConnStatus,
    RequestHeader(Box<str>),
    ResponseHeader(Box<str>),
    Cookie(Box<str>),
    VirtualHost,
    ServerName,
    CanonicalPort,
    LocalPort,
    RemotePort,
    Method,
    Path,
    Query,
    Protocol,
    /// mod_ssl's `%{VAR}x`.
    Ssl(SslVar),
}

/// The mod_ssl variables `%{...}x` logs.
#[derive(Debug, Clone, Copy)]
enum SslVar {
    /// `HTTPS`: `on` or `off`.
    Https,
    Protocol,
    Cipher,
    /// Any other name: mod_ssl logs `-` for what it cannot give.
    Unknown,
}

#[derive(Debug, Clone)]
enum TimeKind {
    Clf,
    Sec,
    Msec,
    Usec,
    MsecFrac,
    UsecFrac,
    Strftime(Box<str>),
}

/// What rendering needs besides the entry: settings fixed at open.
#[derive(Debug, Clone)]
pub(crate) struct RenderContext {
    pub zone: LogZone,
    /// UseCanonicalName On: `%V` is the ServerName, not the Host header.
    pub canonical_name: bool,
    /// `%p`: the ServerName's port, else 80 (`ap_default_port`).
    pub server_port: u16,
}

impl LogFormat {
    /// Compiles `format`, or returns httpd's message for it
    /// (`Unrecognized LogFormat directive %Z`).
    pub fn parse(format: &str) -> Result<LogFormat, String> {
        let bytes = format.as_bytes();
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let (piece, next) = parse_item(format, i + 1)?;
                pieces.push(piece);
                i = next;
            } else {
                let (literal, next) = parse_literal(bytes, i);
                pieces.push(Piece::Literal(literal.into()));
                i = next;
            }
        }
        pieces.push(Piece::Literal(b"\n"[..].into()));
        Ok(LogFormat { pieces })
    }

    /// Appends the line for `entry`, newline included, to `out`.
    pub(crate) fn render(&self, entry: &LogEntry<'_>, ctx: &RenderContext, out: &mut Vec<u8>) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Item(item) => render_item(item, entry, ctx, out),
            }
        }
    }
}

/// Text up to the next `%`, with `\\`, `\r`, `\n`, `\t` unescaped
/// (`parse_log_misc_string`); any other backslash is kept.
fn parse_literal(bytes: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    while i < bytes.len() && bytes[i] != b'%' {
        if bytes[i] == b'\\' {
            let unescaped = match bytes.get(i + 1) {
                Some(b'\\') => Some(b'\\'),
                Some(b'r') => Some(b'\r'),
                Some(b'n') => Some(b'\n'),
                Some(b't') => Some(b'\t'),
                _ => None,
            };
            match unescaped {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => {
                    out.push(b'\\');
                    i += 1;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    (out, i)
}

/// One `%` item starting after the `%` at `i`; returns it and the index after it.
fn parse_item(format: &str, mut i: usize) -> Result<(Piece, usize), String> {
    let bytes = format.as_bytes();
    if bytes.get(i) == Some(&b'%') {
        return Ok((Piece::Literal(b"%"[..].into()), i + 1));
    }
    let mut statuses = Vec::new();
    let mut negate = false;
    let mut arg = "";
    while i < bytes.len() {
        match bytes[i] {
            b'!' => {
                negate = !negate;
                i += 1;
            }
            b'<' | b'>' | b',' => i += 1,
            b'{' => {
                let rest = &format[i + 1..];
                let end = rest.find('}').unwrap_or(rest.len());
                arg = &rest[..end];
                i += 1 + (end + 1).min(rest.len());
            }
            b'0'..=b'9' => {
                let mut status: u32 = 0;
                while let Some(d @ b'0'..=b'9') = bytes.get(i) {
                    status = status.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                    i += 1;
                }
                statuses.push(status);
            }
            _ => {
                if bytes[i] == b'^' {
                    if let Some(two) = format.get(i + 1..i + 3) {
                        if two == "ti" || two == "to" {
                            return Ok((Piece::Item(Item { code: Code::Dash, statuses, negate }), i + 3));
                        }
                    }
                }
                let c = format[i..].chars().next().unwrap_or('?');
                let code =
                    code_for(c, arg).ok_or_else(|| format!("Unrecognized LogFormat directive %{c}"))?;
                return Ok((Piece::Item(Item { code, statuses, negate }), i + c.len_utf8()));
            }
        }
    }
    Err("Ran off end of LogFormat parsing args to some directive".into())
}

/// The code for letter `c` with argument `arg` (mod_log_config's handlers).
fn code_for(c: char, arg: &str) -> Option<Code> {
    let echo = || Code::Echo(arg.into());
    Some(match c {
        'h' => Code::RemoteHost,
        'a' => Code::RemoteIp,
        'A' => Code::LocalIp,
        'l' | 'u' | 'e' | 'n' | 'f' | 'R' | 'L' => Code::Dash,
        't' => time_code(arg),
        'r' => Code::RequestLine,
        's' => Code::Status,
        'b' => Code::BodyBytesClf,
        'B' => Code::BodyBytes,
        'D' => Code::Micros,
        'T' => match arg.to_ascii_lowercase().as_str() {
            "" | "s" => Code::Seconds,
            "ms" => Code::Millis,
            "us" => Code::Micros,
            _ => echo(),
        },
        'P' => match arg.to_ascii_lowercase().as_str() {
            "" | "pid" => Code::Pid,
            "tid" => Code::Tid,
            "hextid" => Code::HexTid,
            _ => echo(),
        },
        'k' => Code::Keepalives,
        'X' => Code::ConnStatus,
        'i' => Code::RequestHeader(arg.into()),
        'o' => Code::ResponseHeader(arg.into()),
        'C' => Code::Cookie(arg.into()),
        'v' => Code::VirtualHost,
        'V' => Code::ServerName,
        'p' => match arg.to_ascii_lowercase().as_str() {
            "" | "canonical" => Code::CanonicalPort,
            "local" => Code::LocalPort,
            "remote" => Code::RemotePort,
            _ => echo(),
        },
        'm' => Code::Method,
        'U' => Code::Path,
        'q' => Code::Query,
        'H' => Code::Protocol,
        'x' => Code::Ssl(match arg {
            "HTTPS" => SslVar::Https,
            "SSL_PROTOCOL" => SslVar::Protocol,
            "SSL_CIPHER" => SslVar::Cipher,
            _ => SslVar::Unknown,
        }),
        _ => return None,
    })
}

/// `%{...}t`, read as `log_request_time` reads it: an optional `begin` or
/// `end` (then `:`), then `sec`, `msec`, `usec`, `msec_frac`, `usec_frac`,
/// nothing (the CLF date) or a strftime format.
fn time_code(arg: &str) -> Code {
    let (mut rest, mut custom, mut end) = (arg, arg, false);
    let mut kind = if arg.is_empty() { Some(TimeKind::Clf) } else { None };
    if let Some(after) = rest.strip_prefix("begin") {
        rest = after;
        if after.is_empty() {
            kind = Some(TimeKind::Clf);
        } else if let Some(format) = after.strip_prefix(':') {
            (rest, custom) = (format, format);
        }
    } else if let Some(after) = rest.strip_prefix("end") {
        rest = after;
        if after.is_empty() {
            (kind, end) = (Some(TimeKind::Clf), true);
        } else if let Some(format) = after.strip_prefix(':') {
            (rest, custom, end) = (format, format, true);
        }
    }
    if let Some(after) = rest.strip_prefix("msec") {
        kind = match after {
            "" => Some(TimeKind::Msec),
            "_frac" => Some(TimeKind::MsecFrac),
            _ => kind,
        };
    } else if let Some(after) = rest.strip_prefix("usec") {
        kind = match after {
            "" => Some(TimeKind::Usec),
            "_frac" => Some(TimeKind::UsecFrac),
            _ => kind,
        };
    } else if rest == "sec" {
        kind = Some(TimeKind::Sec);
    } else if rest.is_empty() {
        kind = Some(TimeKind::Clf);
    }
    Code::Time { end, kind: kind.unwrap_or_else(|| TimeKind::Strftime(custom.into())) }
}

fn render_item(item: &Item, entry: &LogEntry<'_>, ctx: &RenderContext, out: &mut Vec<u8>) {
    if !item.statuses.is_empty() && item.statuses.contains(&u32::from(entry.status)) == item.negate {
        out.push(b'-');
        return;
    }
    let request = entry.request;
    let parsed = !request.method.is_empty();
    let _ = match &item.code {
        Code::Dash => write!(out, "-"),
        Code::Echo(arg) => write!(out, "{arg}"),
        Code::RemoteHost | Code::RemoteIp => {
            push_ip(out, entry.conn.remote.ip());
            Ok(())
        }
        Code::LocalIp => {
            push_ip(out, entry.conn.local.ip());
            Ok(())
        }
        Code::Time { end, kind } => {
            render_time(*end, kind, entry, ctx, out);
            Ok(())
        }
        Code::RequestLine => {
            push_value(out, Some(request.line.as_str()).filter(|l| !l.is_empty()));
            Ok(())
        }
        Code::Status if entry.status == 0 => write!(out, "-"),
        Code::Status => {
            push_number(out, entry.status);
            Ok(())
        }
        Code::BodyBytesClf if entry.body_bytes == 0 => write!(out, "-"),
        Code::BodyBytesClf | Code::BodyBytes => {
            push_number(out, entry.body_bytes);
            Ok(())
        }
        Code::Micros => write!(out, "{}", entry.duration.as_micros()),
        Code::Millis => write!(out, "{}", entry.duration.as_millis()),
        Code::Seconds => write!(out, "{}", entry.duration.as_secs()),
        Code::Pid => write!(out, "{}", std::process::id()),
        Code::Tid => write!(out, "{}", nix::unistd::gettid()),
        Code::HexTid => write!(out, "{:x}", nix::unistd::gettid().as_raw()),
        Code::Keepalives => write!(out, "{}", entry.keepalives),
        Code::ConnStatus => write!(
            out,
            "{}",
            match entry.conn_status {
                ConnStatus::Aborted => 'X',
                ConnStatus::KeepAlive => '+',
                ConnStatus::Close => '-',
            }
        ),
        Code::RequestHeader(name) => {
            push_request_header(out, request, name);
            Ok(())
        }
        Code::ResponseHeader(name) => {
            push_response_header(out, entry, name);
            Ok(())
        }
        Code::Cookie(name) => {
            push_value(out, cookie(request, name));
            Ok(())
        }
        Code::VirtualHost => {
            push_value(out, Some(entry.server_name));
            Ok(())
        }
        Code::ServerName => {
            push_server_name(out, entry, ctx);
            Ok(())
        }
        Code::CanonicalPort => write!(out, "{}", ctx.server_port),
        Code::LocalPort => write!(out, "{}", entry.conn.local.port()),
        Code::RemotePort => write!(out, "{}", entry.conn.remote.port()),
        Code::Method => {
            push_value(out, Some(request.method.as_str()).filter(|_| parsed));
            Ok(())
        }
        Code::Path => {
            push_path(out, request.path());
            Ok(())
        }
        Code::Query => {
            if let Some(query) = request.query() {
                out.push(b'?');
                escape_into(out, query.as_bytes());
            }
            Ok(())
        }
        Code::Ssl(var) => {
            let tls = entry.conn.tls;
            let value = match var {
                SslVar::Https => Some(if tls.is_some() { "on" } else { "off" }),
                SslVar::Protocol => tls.map(|t| t.protocol),
                SslVar::Cipher => tls.map(|t| t.cipher),
                SslVar::Unknown => None,
            };
            push_value(out, value.filter(|v| !v.is_empty()));
            Ok(())
        }
        Code::Protocol => {
            let protocol = match request.protocol.as_str() {
                "" if parsed => Some(request.version.as_str()),
                "" => None,
                p => Some(p),
            };
            push_value(out, protocol);
            Ok(())
        }
    };
}

fn render_time(end: bool, kind: &TimeKind, entry: &LogEntry<'_>, ctx: &RenderContext, out: &mut Vec<u8>) {
    let t = if end { time::after(entry.received, entry.duration) } else { entry.received };
    let micros = time::unix_micros(t);
    let _ = match kind {
        TimeKind::Clf => {
            push_clf_cached(out, t, &ctx.zone);
            Ok(())
        }
        TimeKind::Sec => write!(out, "{}", micros.div_euclid(1_000_000)),
        TimeKind::Msec => write!(out, "{}", micros.div_euclid(1_000)),
        TimeKind::Usec => write!(out, "{micros}"),
        TimeKind::MsecFrac => write!(out, "{:03}", micros.rem_euclid(1_000_000) / 1_000),
        TimeKind::UsecFrac => write!(out, "{:06}", micros.rem_euclid(1_000_000)),
        TimeKind::Strftime(format) => {
            time::push_strftime(out, format, &ctx.zone.local(t), &ctx.zone);
            Ok(())
        }
    };
}

/// The decimal digits of `n`, without `core::fmt` (the common format
/// writes three numbers per request).
fn push_number(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An address as `%a`/`%A` print it (IPv4-mapped IPv6 as IPv4).
fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_number(out, octet);
            }
        }
        v6 => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// `%t`: `[23/Nov/2026:20:00:00 +0000]`, made once a second per thread
/// (as httpd's `ap_explode_recent_localtime` caches), not per request: the
/// time zone lookup and the formatting cost more than the rest of the line.
fn push_clf_cached(out: &mut Vec<u8>, t: std::time::SystemTime, zone: &LogZone) {
    use std::cell::RefCell;
    thread_local! {
        /// (second, UTC offset, the text): the two are all the text depends on.
        static RECENT: RefCell<(i128, i32, Vec<u8>)> = const { RefCell::new((i128::MIN, 0, Vec::new())) };
    }
    let second = time::unix_micros(t).div_euclid(1_000_000);
    let offset = zone.offset_at(i64::try_from(second).unwrap_or(0));
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.0 != second || recent.1 != offset || recent.2.is_empty() {
            recent.2.clear();
            time::push_clf(&mut recent.2, &zone.local(t));
            recent.0 = second;
            recent.1 = offset;
        }
        out.extend_from_slice(&recent.2);
    });
}

/// `%{Name}i`: repeated fields joined with `, `, as httpd merges them when
/// it reads the head.
fn push_request_header(out: &mut Vec<u8>, request: &crate::http::Request, name: &str) {
    let mut values = request.headers.get_all(name);
    match values.next() {
        None => out.push(b'-'),
        Some(first) => {
            escape_into(out, first.as_bytes());
            for value in values {
                out.extend_from_slice(b", ");
                escape_into(out, value.as_bytes());
            }
        }
    }
}

/// `%{Name}o`, as `log_header_out`: Content-Type without parameters,
/// every Set-Cookie joined with `, `, else the first field.
fn push_response_header(out: &mut Vec<u8>, entry: &LogEntry<'_>, name: &str) {
    let headers = entry.response_headers;
    if name.eq_ignore_ascii_case("Set-Cookie") {
        let mut values = headers.get_all(name);
        match values.next() {
            None => out.push(b'-'),
            Some(first) => {
                escape_into(out, first.as_bytes());
                for value in values {
                    out.extend_from_slice(b", ");
                    escape_into(out, value.as_bytes());
                }
            }
        }
    } else if name.eq_ignore_ascii_case("Content-Type") {
        // ap_field_noparam: up to the first `;`, trailing blanks dropped.
        push_value(out, headers.get(name).map(|v| v.split(';').next().unwrap_or(v).trim_end()));
    } else {
        push_value(out, headers.get(name));
    }
}

/// `%{name}C`: the value of the first cookie named `name` (any case) in the
/// first Cookie field, blanks around name and value dropped (`log_cookie`).
fn cookie<'r>(request: &'r crate::http::Request, name: &str) -> Option<&'r str> {
    let cookies = request.headers.get("Cookie")?;
    cookies.split(';').find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        let v = v.trim_matches([' ', '\t']);
        (n.trim().eq_ignore_ascii_case(name) && !v.is_empty()).then_some(v)
    })
}

/// `%V`: with UseCanonicalName Off, the host the client asked for (Host
/// field or absolute target, lower-cased, no port); else the ServerName.
fn push_server_name(out: &mut Vec<u8>, entry: &LogEntry<'_>, ctx: &RenderContext) {
    let request = entry.request;
    let asked = if ctx.canonical_name { None } else { requested_host(request) };
    match asked {
        Some(host) => host.bytes().for_each(|b| escape_byte(out, b.to_ascii_lowercase())),
        None => push_value(out, Some(entry.server_name)),
    }
}

fn requested_host(request: &crate::http::Request) -> Option<&str> {
    let authority = match absolute_form(&request.target) {
        Some((authority, _)) => authority,
        None => request.headers.get("Host")?.trim(),
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    Some(host).filter(|h| !h.is_empty())
}

/// `http://authority/path` split into authority and the rest.
fn absolute_form(target: &str) -> Option<(&str, &str)> {
    let scheme_end = target.find("://")?;
    if !target[..scheme_end].eq_ignore_ascii_case("http")
        && !target[..scheme_end].eq_ignore_ascii_case("https")
    {
        return None;
    }
    let rest = &target[scheme_end + 3..];
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    Some((&rest[..path_start], &rest[path_start..]))
}

/// `%U`: the path as httpd holds it in `r->uri`, percent-decoded.
fn push_path(out: &mut Vec<u8>, path: &str) {
    let path = absolute_form(path).map_or(path, |(_, p)| if p.is_empty() { "/" } else { p });
    if path.is_empty() {
        out.push(b'-');
        return;
    }
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                escape_byte(out, (high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        escape_byte(out, bytes[i]);
        i += 1;
    }
}

/// An item's value, escaped, or `-` when there is none.
fn push_value(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => escape_into(out, v.as_bytes()),
        None => out.push(b'-'),
    }
}

/// Bytes `ap_escape_logitem` writes as they are.
fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'
}

/// `ap_escape_logitem`: `"` and `\` get a backslash; \b \n \r \t \v are
/// written so; other control bytes and every byte outside ASCII as `\xhh`.
pub(crate) fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.iter().all(|&b| is_plain(b)) {
        out.extend_from_slice(bytes);
    } else {
        bytes.iter().for_each(|&b| escape_byte(out, b));
    }
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        _ if is_plain(b) => out.push(b),
        b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
        0x08 => out.extend_from_slice(b"\\b"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x0b => out.extend_from_slice(b"\\v"),
        _ => out.extend_from_slice(&[b'\\', b'x', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
    }
}

/// The port of a `ServerName [scheme://]host[:port]`, if it names one.
pub(crate) fn server_name_port(server_name: &str) -> Option<u16> {
    let name = server_name.split_once("://").map_or(server_name, |(_, rest)| rest);
    let after_host = match name.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
        None => name.find(':').map_or("", |i| &name[i..]),
    };
    after_host.strip_prefix(':')?.parse().ok()
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn numbers_and_addresses_print_as_fmt_would() {
        let mut out = Vec::new();
        push_number(&mut out, 0u64);
        push_number(&mut out, 404u16);
        push_number(&mut out, u64::MAX);
        assert_eq!(out, format!("0404{}", u64::MAX).as_bytes());
        for ip in ["127.0.0.1", "10.255.0.9", "::1", "2001:db8::7"] {
            let mut out = Vec::new();
            push_ip(&mut out, ip.parse().unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), ip);
        }
        let mut out = Vec::new();
        push_ip(&mut out, "::ffff:192.0.2.1".parse().unwrap());
        assert_eq!(out, b"192.0.2.1", "an IPv4-mapped address prints as IPv4");
    }

    #[test]
    fn the_cached_clf_time_follows_the_second_and_the_zone() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let text = |t, zone: &LogZone| {
            let mut out = Vec::new();
            push_clf_cached(&mut out, t, zone);
            String::from_utf8(out).unwrap()
        };
        let (utc, east) = (LogZone::utc(), LogZone::fixed(3600));
        assert_eq!(text(t, &utc), "[14/Nov/2023:22:13:20 +0000]");
        // Same second, another zone: not the cached text.
        assert_eq!(text(t, &east), "[14/Nov/2023:23:13:20 +0100]");
        assert_eq!(text(t + Duration::from_millis(500), &east), "[14/Nov/2023:23:13:20 +0100]");
        assert_eq!(text(t + Duration::from_secs(1), &east), "[14/Nov/2023:23:13:21 +0100]");
        assert_eq!(text(t, &utc), "[14/Nov/2023:22:13:20 +0000]");
    }
}
