//! The static file handler: what httpd's core (`default_handler`), mod_dir,
//! mod_mime and http_core's TRACE make of a valid request. [`handle`] is
//! the entry point the connection engine calls; [`mime::MimeTypes`] is
//! loaded once with the configuration.
//!
//! A request goes through the steps of httpd's `ap_process_request_internal`:
//! the path is normalized and decoded (`path`), TRACE is answered before
//! any file is looked at, `.ht*` names are refused, the sections' `Require`
//! lines are checked (`access`), `SetHandler server-status` is answered by
//! mod_status (`status_page`), the path is walked under DocumentRoot, a
//! directory is redirected or resolved to its index
//! (`dir`), and a file is sent with its validators, conditionals and
//! ranges (`static_files`). Every refusal carries the error-log line httpd
//! writes, logged here with the client in front as httpd does.
//!
//! Deliberate differences from httpd 2.4.71, each explained where it lives:
//! a symbolic link is followed only to a target inside DocumentRoot
//! (`path`); every path segment starting with `.ht` is refused, not only
//! the last (`path`); FileETag's `+`/`-` keywords modify the documented
//! default (`etag`); a directory without index answers 403 as if
//! mod_autoindex were loaded, and `Options Indexes` lists nothing yet
//! (`dir`); a Host-less request with no ServerName gets a redirect to the
//! local address and port (`dir`); TRACE and 416 responses have a
//! Content-Length where httpd streams them. Of the sections, only
//! SetHandler and the authorization directives are read (`access`); the
//! other directives apply as the main server's settings.

mod access;
mod conditional;
mod dir;
pub mod error_document;
mod etag;
pub mod mime;
mod path;
mod range;
mod static_files;
mod status_page;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_http;

use std::borrow::Cow;
use std::cell::Cell;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::http::status::{ErrorContext, error_response};
use crate::http::{Body, ConnInfo, Request, Response};
use crate::server::{Server, ServerContext};
use path::{BadPath, Mapped, Target};
use static_files::{Content, Resource};

/// The Allow header httpd sends with OPTIONS, 405 and 501 on a static file.
const ALLOW: &str = "HEAD,GET,POST,OPTIONS,TRACE";

/// Answers one request. Never fails: every problem becomes the response
/// httpd would give, and its error-log line is written here.
pub fn handle(ctx: &ServerContext, server: &Server, conn: &ConnInfo, req: &Request) -> Response {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let x = Exchange { ctx, server, conn, req, target: Target::parse(&req.target), now_us };
    let Outcome { response, log } = respond(&x);
    if let Some(line) = log {
        line.emit(conn);
    }
    response
}

/// The `host[:port]` of a request target that is an absolute URI
/// (`GET http://host/ HTTP/1.1`), which takes the place of the Host header.
pub fn request_authority(target: &str) -> Option<&str> {
    Target::parse(target).authority
}

/// The buffers a request is answered in, one set per thread and reused,
/// so that the hit path allocates nothing.
#[derive(Default)]
struct Scratch {
    /// The decoded path (httpd's `r->uri`).
    uri: Vec<u8>,
    /// The DirectoryIndex candidates.
    index: dir::IndexScratch,
}

thread_local! {
    static SCRATCH: Cell<Option<Scratch>> = const { Cell::new(None) };
}

/// One request being answered.
struct Exchange<'a> {
    ctx: &'a ServerContext,
    /// The server the request was given (its settings, sections, logs).
    server: &'a Server,
    conn: &'a ConnInfo,
    req: &'a Request,
    target: Target<'a>,
    /// When the request is answered, in microseconds since the epoch.
    now_us: i64,
}

/// A response and the error-log line that goes with it.
struct Outcome {
    response: Response,
    log: Option<LogLine>,
}

impl Outcome {
    fn quiet(response: Response) -> Outcome {
        Outcome { response, log: None }
    }

    fn logged(response: Response, log: LogLine) -> Outcome {
        Outcome { response, log: Some(log) }
    }
}

/// One error-log line as httpd writes it for a request. `module` is the
/// log target (`core`, `authz_core`, `autoindex`), so the error log can
/// print `[core:error]` and LogLevel can filter per module as httpd's does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogLine {
    level: log::Level,
    module: &'static str,
    /// An OS error httpd prints first: `(36)File name too long: `.
    errno: Option<i32>,
    text: String,
}

impl LogLine {
    fn error(module: &'static str, text: String) -> LogLine {
        LogLine { level: log::Level::Error, module, errno: None, text }
    }

    fn info(module: &'static str, text: String) -> LogLine {
        LogLine { level: log::Level::Info, module, errno: None, text }
    }

    fn with_errno(mut self, errno: i32) -> LogLine {
        self.errno = Some(errno);
        self
    }

    /// The message after httpd's `[date] [module:level] [pid]` prefix.
    fn message(&self, conn: &ConnInfo) -> String {
        let errno = self.errno.map_or(String::new(), |code| {
            let text = std::io::Error::from_raw_os_error(code).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("({code}){text}: ")
        });
        format!("{errno}[client {}] {}", conn.remote, self.text)
    }

    fn emit(&self, conn: &ConnInfo) {
        log::log!(target: self.module, self.level, "{}", self.message(conn));
    }
}

/// What a method may do to a static file, as httpd's method numbers sort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// GET and HEAD (httpd's `M_GET`).
    Get,
    Post,
    Options,
    Trace,
    /// A method httpd knows that a static file does not allow: 405.
    NotAllowed,
    /// Anything else, `get` included (methods are case-sensitive): 501.
    Unknown,
}

impl Method {
    fn of(name: &str) -> Method {
        match name {
            "GET" | "HEAD" => Method::Get,
            "POST" => Method::Post,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            // The rest of httpd's registered methods (http_protocol.c).
            "PUT" | "DELETE" | "CONNECT" | "PATCH" | "PROPFIND" | "PROPPATCH" | "MKCOL" | "COPY" | "MOVE"
            | "LOCK" | "UNLOCK" | "VERSION-CONTROL" | "CHECKOUT" | "UNCHECKOUT" | "CHECKIN" | "UPDATE"
            | "LABEL" | "REPORT" | "MKWORKSPACE" | "MKACTIVITY" | "BASELINE-CONTROL" | "MERGE" => {
                Method::NotAllowed
            }
            _ => Method::Unknown,
        }
    }
}

impl Exchange<'_> {
    fn method(&self) -> Method {
        Method::of(&self.req.method)
    }

    /// httpd's error page for `status`, with ServerSignature.
    fn error_page(&self, status: u16) -> Response {
        self.error_page_at(status, "")
    }

    fn error_page_at(&self, status: u16, location: &str) -> Response {
        let (host, port) = dir::server_name_port(self);
        let signature = self.ctx.signature(self.server, &host, port);
        let cx = ErrorContext {
            method: &self.req.method,
            path: self.target.path,
            location,
            signature: &signature,
            admin: self.server.settings.server_admin.as_deref().unwrap_or(""),
            ..ErrorContext::default()
        };
        error_response(status, &cx)
    }

    fn error(&self, status: u16) -> Outcome {
        Outcome::quiet(self.error_page(status))
    }

    fn error_logged(&self, status: u16, log: LogLine) -> Outcome {
        Outcome::logged(self.error_page(status), log)
    }

    /// 405, or 501 with httpd's AH00135 line; both carry Allow.
    fn method_refused(&self) -> Outcome {
        if self.method() == Method::Unknown {
            let log = LogLine::error("core", format!("AH00135: Invalid method in request {}", self.req.line));
            Outcome::logged(with_header_before_type(self.error_page(501), "Allow", ALLOW), log)
        } else {
            Outcome::quiet(with_header_before_type(self.error_page(405), "Allow", ALLOW))
        }
    }

    /// OPTIONS on a resource: 200, Allow, and the resource's type if any.
    fn options(&self, content_type: Option<&str>) -> Outcome {
        let mut r = Response::new(200);
        r.headers.push("Allow", ALLOW);
        if let Some(t) = content_type {
            r.headers.push("Content-Type", t);
        }
        Outcome::quiet(r)
    }
}

/// `r` with `name: value` moved in front of its Content-Type, where httpd
/// prints it (Allow, Location).
fn with_header_before_type(mut r: Response, name: &str, value: &str) -> Response {
    let content_type = r.headers.get("Content-Type").map(str::to_string);
    r.headers.remove("Content-Type");
    r.headers.push(name, value);
    if let Some(t) = content_type {
        r.headers.push("Content-Type", t);
    }
    r
}

/// Every field named `name`, joined with `, ` as httpd merges repeated
/// request fields.
fn joined<'a>(req: &'a Request, name: &'a str) -> Option<Cow<'a, str>> {
    let mut values = req.headers.get_all(name);
    let first = values.next()?;
    match values.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut all = format!("{first}, {second}");
            for v in values {
                all.push_str(", ");
                all.push_str(v);
            }
            Some(Cow::Owned(all))
        }
    }
}

/// `word` in lower case, made on the stack (the keywords of Options and
/// FileETag are short; a longer word matches none of them).
fn lowercase_keyword<'b>(word: &str, buf: &'b mut [u8; 32]) -> &'b str {
    let Some(lowered) = buf.get_mut(..word.len()) else { return "" };
    lowered.copy_from_slice(word.as_bytes());
    lowered.make_ascii_lowercase();
    std::str::from_utf8(lowered).unwrap_or("")
}

fn respond(x: &Exchange<'_>) -> Outcome {
    // Taken rather than borrowed: an ErrorDocument's local document is
    // answered by a nested call, which then starts with buffers of its own.
    let mut scratch = SCRATCH.with(Cell::take).unwrap_or_default();
    let outcome = respond_in(x, &mut scratch);
    SCRATCH.with(|s| s.set(Some(scratch)));
    outcome
}

fn respond_in(x: &Exchange<'_>, scratch: &mut Scratch) -> Outcome {
    let req = x.req;
    let Scratch { uri, index } = scratch;
    if req.target == "*" {
        // OPTIONS * : 200 with no Allow and no type (observed); any other
        // method may not name the server as a whole.
        return if req.method == "OPTIONS" { Outcome::quiet(Response::new(200)) } else { x.error(400) };
    }
    match path::decode_into(x.target.path, uri) {
        Ok(()) => {}
        Err(BadPath::Invalid) => {
            return x.error_logged(
                400,
                LogLine::error("core", format!("AH10244: invalid URI path ({})", req.target)),
            );
        }
        Err(BadPath::EncodedSlashOrNul) => {
            let text =
                format!("AH00026: found %2f (encoded '/') in URI path ({}), returning 404", req.target);
            return x.error_logged(404, LogLine::info("core", text));
        }
    }
    let uri: &[u8] = uri;
    // httpd answers TRACE from map_to_storage, before any file lookup.
    if x.method() == Method::Trace {
        return trace(x);
    }
    let docroot = &x.server.settings.document_root;
    if path::has_ht_segment(uri) {
        let text = format!(
            "AH01630: client denied by server configuration: {}",
            path::filename(docroot, uri).display()
        );
        return x.error_logged(403, LogLine::error("authz_core", text));
    }
    // The sections that apply (mod_authz_core's Require, SetHandler);
    // httpd checks access after TRACE, before any handler.
    let per_dir = access::walk(x.server, uri);
    if let Some(section) = per_dir.authz {
        let client =
            access::Client { remote: x.conn.remote.ip(), local: x.conn.local.ip(), method: &req.method };
        if !access::authorize(section, &client) {
            let text = format!(
                "AH01630: client denied by server configuration: {}",
                path::filename(docroot, uri).display()
            );
            return x.error_logged(403, LogLine::error("authz_core", text));
        }
    }
    // mod_status answers GET (and HEAD); it declines other methods, which
    // the default handler then answers as for any file.
    if per_dir.handler.is_some_and(|h| h.eq_ignore_ascii_case(status_page::HANDLER))
        && x.method() == Method::Get
    {
        return status_page::respond(x);
    }
    if x.server.embedded_docroot {
        return embedded(x, uri);
    }
    let options = path::Options::from_settings(&x.server.settings);
    let root_dir = x.server.document_root_dir();
    match path::map(docroot, root_dir.as_deref().map(AsFd::as_fd), uri, options, &req.line) {
        Err(refused) => x.error_logged(refused.status, refused.log),
        Ok(Mapped::Dir) => dir::directory(x, uri, options, index),
        Ok(Mapped::Opened { file: f, facts }) => file(x, Found::Open { uri, file: f, facts }),
        Ok(Mapped::File { path, meta }) => file(x, Found::File(&path, &meta)),
        Ok(Mapped::Missing { filename, full, path_info }) => {
            file(x, Found::Nothing { filename: &filename, full: &full, path_info })
        }
    }
}

/// What a path names, for the method dispatch of `default_handler`.
enum Found<'a> {
    /// A regular file the lookup opened; `uri` names it (for its type).
    Open {
        uri: &'a [u8],
        file: File,
        facts: etag::FileFacts,
    },
    /// A regular file the walk found, opened (and checked) for GET.
    File(&'a Path, &'a Metadata),
    /// The embedded default page.
    Embedded,
    Nothing {
        filename: &'a Path,
        full: &'a Path,
        path_info: bool,
    },
}

/// `default_handler`'s method dispatch for a file (or nothing).
fn file(x: &Exchange<'_>, found: Found<'_>) -> Outcome {
    let mime = &*x.server.mime;
    match (x.method(), found) {
        (Method::Get | Method::Post, Found::Nothing { full, path_info, .. }) => {
            let code = if path_info { "AH00130" } else { "AH00128" };
            x.error_logged(
                404,
                LogLine::info("core", format!("{code}: File does not exist: {}", full.display())),
            )
        }
        (Method::Get | Method::Post, Found::File(path, meta)) => match static_files::open(path, meta) {
            Err((status, log)) => x.error_logged(status, log),
            Ok((file, facts)) => {
                send(x, Resource { content: Content::File(file), facts, content_type: mime.lookup(path) })
            }
        },
        (Method::Get | Method::Post, Found::Open { uri, file, facts }) => {
            send(x, Resource { content: Content::File(file), facts, content_type: mime.lookup(as_path(uri)) })
        }
        (Method::Get | Method::Post, Found::Embedded) => send(x, embedded_page()),
        (Method::Options, Found::Open { uri, .. }) => x.options(mime.lookup(as_path(uri))),
        (Method::Options, Found::File(path, _)) => x.options(mime.lookup(path)),
        (Method::Options, Found::Nothing { filename, .. }) => x.options(mime.lookup(filename)),
        (Method::Options, Found::Embedded) => x.options(Some("text/html")),
        _ => x.method_refused(),
    }
}

/// A decoded path as a `Path`, for its file name (mod_mime's extensions):
/// the walk's file name is the path's last segment too.
fn as_path(uri: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(uri))
}

fn send(x: &Exchange<'_>, res: Resource<'_>) -> Outcome {
    let parts = etag::ETagParts::from_settings(&x.server.settings);
    match static_files::serve(x.req, parts, res, x.now_us) {
        Ok(r) => Outcome::quiet(r),
        Err(status) => x.error(status),
    }
}

/// The binary's embedded configuration runs without a DocumentRoot on
/// disk: `/` and `/index.html` are the embedded default page.
fn embedded(x: &Exchange<'_>, uri: &[u8]) -> Outcome {
    if uri == b"/" || uri == b"/index.html" {
        return file(x, Found::Embedded);
    }
    let full = path::filename(&x.server.settings.document_root, uri);
    file(x, Found::Nothing { filename: &full, full: &full, path_info: false })
}

/// The embedded page, dated when the binary was built (a stable ETag).
fn embedded_page() -> Resource<'static> {
    static PAGE: OnceLock<Arc<[u8]>> = OnceLock::new();
    let bytes = PAGE.get_or_init(|| Arc::from(shared_conf::INDEX_HTML.as_bytes()));
    let built: i64 = env!("HTTPD_BUILT_EPOCH").parse().unwrap_or(0);
    Resource {
        facts: etag::FileFacts {
            inode: 0,
            size: bytes.len() as u64,
            mtime_us: built.saturating_mul(1_000_000),
        },
        content: Content::Shared(Arc::clone(bytes)),
        content_type: Some("text/html"),
    }
}

/// TRACE as http_core's `ap_send_http_trace` (TraceEnable On, httpd's
/// default): the request line and header fields echoed as `message/http`;
/// a request with a body is refused with 413.
fn trace(x: &Exchange<'_>) -> Outcome {
    let req = x.req;
    let has_body = req.headers.contains("Transfer-Encoding")
        || req.headers.get("Content-Length").is_some_and(|v| v.trim() != "0");
    if has_body {
        return x.error(413);
    }
    let mut fields: Vec<(&str, String)> = Vec::with_capacity(req.headers.len());
    for (name, value) in req.headers.iter() {
        match fields.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, merged)) => {
                merged.push_str(", ");
                merged.push_str(value);
            }
            None => fields.push((name, value.to_string())),
        }
    }
    let mut echo = format!("{}\r\n", req.line);
    for (name, value) in fields {
        echo.push_str(&format!("{name}: {value}\r\n"));
    }
    echo.push_str("\r\n");
    Outcome::quiet(Response::with_body(200, "message/http", Body::Bytes(echo.into_bytes())))
}
