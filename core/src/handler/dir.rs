//! mod_dir: a directory named without its trailing slash is redirected
//! (301, with the absolute URL httpd's `ap_construct_url` builds), one named
//! with it is answered by its first DirectoryIndex file; and the server
//! name and port httpd derives from the request, for those URLs and for
//! ServerSignature.

use super::path::{self, Mapped, Options, Refused};
use super::{Exchange, Found, LogLine, Method, Outcome, with_header_before_type};
use crate::config::{Settings, UseCanonicalName};
use std::os::fd::AsFd;

/// The buffers a DirectoryIndex candidate is made in, reused per thread.
#[derive(Debug, Default)]
pub(super) struct IndexScratch {
    escaped: String,
    uri: Vec<u8>,
}

/// The directory at `uri` (decoded, and known to be a directory).
pub(super) fn directory(
    x: &Exchange<'_>,
    uri: &[u8],
    options: Options,
    scratch: &mut IndexScratch,
) -> Outcome {
    let settings = &x.server.settings;
    if !uri.ends_with(b"/") {
        if settings.directory_slash {
            return redirect(x, uri);
        }
        return no_index(x, uri, "none");
    }
    // As mod_dir's fixup_dir: the first name that maps to a regular file
    // wins; a refusal other than "not found" is kept and answered if no
    // name is found, so an index the server may not send never turns into
    // a listing.
    let mut refusal: Option<Refused> = None;
    for name in &settings.directory_index {
        let Some(candidate) = index_uri(uri, name, scratch) else { continue };
        if path::has_ht_segment(candidate) {
            let file = path::filename(&settings.document_root, candidate);
            let log = format!("AH01630: client denied by server configuration: {}", file.display());
            refusal = Some(Refused { status: 403, log: LogLine::error("authz_core", log) });
            continue;
        }
        let root_dir = x.server.document_root_dir();
        match path::map(
            &settings.document_root,
            root_dir.as_deref().map(AsFd::as_fd),
            candidate,
            options,
            &x.req.line,
        ) {
            Ok(Mapped::Opened { file, facts }) => {
                return super::file(x, Found::Open { uri: candidate, file, facts });
            }
            Ok(Mapped::File { path, meta }) => return super::file(x, Found::File(&path, &meta)),
            Ok(_) => {}
            Err(refused) => refusal = Some(refused),
        }
    }
    if let Some(refused) = refusal {
        return x.error_logged(refused.status, refused.log);
    }
    no_index(x, uri, &settings.directory_index.join(","))
}

/// A DirectoryIndex name as the sub-request httpd makes for it: relative to
/// the directory, or from the root when it starts with `/`; percent-encoded
/// like any URL path. Made in `scratch`.
fn index_uri<'s>(dir: &[u8], name: &str, scratch: &'s mut IndexScratch) -> Option<&'s [u8]> {
    scratch.escaped.clear();
    if !name.starts_with('/') {
        escape_path_into(dir, &mut scratch.escaped);
    }
    scratch.escaped.push_str(name);
    path::decode_into(&scratch.escaped, &mut scratch.uri).ok()?;
    Some(&scratch.uri)
}

/// A directory without an index file, as httpd with mod_autoindex loaded
/// (Debian's default) answers it: GET is refused with AH01276, POST meets
/// `default_handler`'s "Attempt to serve directory" (404), OPTIONS succeeds
/// with httpd's directory type.
///
/// httpd without mod_autoindex answers GET with 404; listings (`Options
/// Indexes`) are not implemented, so a directory is never listed and the
/// GET stays a 403 with or without Indexes.
fn no_index(x: &Exchange<'_>, uri: &[u8], names: &str) -> Outcome {
    let filename = path::filename(&x.server.settings.document_root, uri);
    match x.method() {
        Method::Get => {
            let text = format!(
                "AH01276: Cannot serve directory {}: No matching DirectoryIndex ({names}) found, and \
                 server-generated directory index forbidden by Options directive",
                filename.display()
            );
            x.error_logged(403, LogLine::error("autoindex", text))
        }
        Method::Post => {
            let text = format!("AH00129: Attempt to serve directory: {}", filename.display());
            x.error_logged(404, LogLine::info("core", text))
        }
        Method::Options => x.options(Some("httpd/unix-directory")),
        _ => x.method_refused(),
    }
}

/// 301 to the directory with its slash, the query string kept (mod_dir's
/// DirectorySlash), for every method.
fn redirect(x: &Exchange<'_>, uri: &[u8]) -> Outcome {
    let mut target = escape_path(uri);
    target.push('/');
    if let Some(query) = x.target.query {
        target.push('?');
        target.push_str(query);
    }
    let url = construct_url(x, &target);
    Outcome::quiet(with_header_before_type(x.error_page_at(301, &url), "Location", &url))
}

/// `ap_construct_url`: `http://host[:port]` and `path` (`https://` over
/// TLS), the port left out when it is the scheme's.
fn construct_url(x: &Exchange<'_>, path: &str) -> String {
    let (host, port) = server_name_port(x);
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let scheme = x.conn.scheme();
    if port == x.conn.default_port() {
        format!("{scheme}://{host}{path}")
    } else {
        format!("{scheme}://{host}:{port}{path}")
    }
}

/// The server name and port of a request, as httpd's `ap_get_server_name`
/// and `ap_get_server_port` give them with UseCanonicalName Off (the
/// default; DNS is treated as Off): the absolute URI's or Host header's
/// host and port, the port falling back to ServerName's, then 80. With
/// UseCanonicalName On, ServerName's.
///
/// With neither a Host nor a ServerName, httpd would use a name it guessed
/// at start-up and port 80; we use the address and port the request came
/// in on, which at least reach this server.
pub(super) fn server_name_port(x: &Exchange<'_>) -> (String, u16) {
    let settings = &x.server.settings;
    let (conf_host, conf_port) = configured_name(settings);
    let local = || (x.conn.local.ip().to_string(), x.conn.local.port());
    if settings.use_canonical_name == UseCanonicalName::On {
        return match conf_host {
            Some(host) => (host, conf_port.unwrap_or(x.conn.default_port())),
            None => local(),
        };
    }
    let from_request = x.target.authority.or_else(|| x.req.headers.get("Host")).map(split_host);
    match (from_request, conf_host) {
        (Some((host, port)), _) if !host.is_empty() => {
            (host, port.or(conf_port).unwrap_or(x.conn.default_port()))
        }
        (_, Some(host)) => (host, conf_port.unwrap_or(x.conn.default_port())),
        _ => local(),
    }
}

/// ServerName's host and port (`[scheme://]host[:port]`).
fn configured_name(settings: &Settings) -> (Option<String>, Option<u16>) {
    let Some(name) = settings.server_name.as_deref() else { return (None, None) };
    let name = name.split_once("://").map_or(name, |(_, rest)| rest);
    let (host, port) = split_host(name);
    (Some(host).filter(|h| !h.is_empty()), port)
}

/// `host[:port]` or `[v6]:port` as httpd's `fix_hostname` reads it: lower
/// case, trailing dots dropped.
fn split_host(authority: &str) -> (String, Option<u16>) {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => (rest, None),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port =
        port.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).and_then(|p| p.parse().ok());
    (host.trim_end_matches('.').to_ascii_lowercase(), port)
}

/// `ap_os_escape_path` (partial): bytes outside httpd's safe set become
/// `%xx` in lower-case hex.
pub(super) fn escape_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    escape_path_into(path, &mut out);
    out
}

fn escape_path_into(path: &[u8], out: &mut String) {
    use std::fmt::Write as _;
    for &b in path {
        if b.is_ascii_alphanumeric() || b"$-_.+!*'(),:;@&=/~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let check = |authority: &str, host: &str, port: Option<u16>| {
            assert_eq!(split_host(authority), (host.to_string(), port), "{authority}");
        };
        check("x", "x", None);
        check("EXAMPLE.com.", "example.com", None);
        check("example.com:8080", "example.com", Some(8080));
        check("example.com:", "example.com", None);
        check("[::1]:8080", "::1", Some(8080));
        check("[::1]", "::1", None);
        check("h:99999", "h", None);
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_path(b"/a b/%/\xff~$"), "/a%20b/%25/%ff~$");
        assert_eq!(escape_path(b"/dir"), "/dir");
    }

    #[test]
    fn index_names() {
        let mut scratch = IndexScratch::default();
        let mut check = |dir: &[u8], name: &str, expected: Option<&[u8]>| {
            assert_eq!(index_uri(dir, name, &mut scratch), expected, "{name}");
        };
        check(b"/dir/", "index.html", Some(b"/dir/index.html"));
        check(b"/a b/", "i.html", Some(b"/a b/i.html"));
        check(b"/dir/", "/top.html", Some(b"/top.html"));
        check(b"/dir/", "../x.html", Some(b"/x.html"));
        check(b"/", "../x.html", None);
        check(b"/", "a%2fb", None);
    }
}
