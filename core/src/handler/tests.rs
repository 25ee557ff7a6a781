//! The handler end to end: requests in, whole responses (status, headers,
//! body, error-log line) out, against a throwaway DocumentRoot. Expected
//! responses were checked against Apache 2.4.71 with the same files.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::config::{ServerTokens, Settings};
use crate::http::{Headers, Version};
use crate::mpm::MpmKind;

/// Every fixture file is dated Tue, 14 Nov 2023 22:13:20.123456 GMT.
const MTIME_US: i64 = 1_700_000_000_123_456;
pub(super) const LAST_MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";

/// A directory removed on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(what: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("httpd-core-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `rel` (creating directories) dated [`MTIME_US`].
    pub(super) fn write(&self, rel: &str, contents: &[u8]) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(contents).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_micros(MTIME_US as u64)).unwrap();
    }

    pub(super) fn link(&self, rel: &str, target: &Path) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A DocumentRoot laid out like the reference server's, plus the cases
/// Apache's could not show, and a ServerContext serving it.
pub(super) struct Site {
    pub(super) root: TempDir,
    _outside: TempDir,
    pub(super) ctx: ServerContext,
}

pub(super) fn big() -> Vec<u8> {
    (0..2000).map(|i| b'a' + (i % 26) as u8).collect()
}

impl Site {
    pub(super) fn new() -> Site {
        Site::with(|_| {})
    }

    pub(super) fn with(configure: impl FnOnce(&mut Settings)) -> Site {
        let root = TempDir::new("handler");
        root.write("index.html", b"<p>root</p>\n");
        root.write("a.json", b"{}\n");
        root.write("big.txt", &big());
        root.write("noext", b"zz\n");
        root.write("empty.txt", b"");
        root.write("a b.txt", b"space\n");
        root.write("back\\slash.txt", b"back\n");
        root.write("dir/index.html", b"<p>dir</p>\n");
        root.write("two/index.htm", b"htm\n");
        root.write("two/index.html", b"html\n");
        root.write("noindex/f.txt", b"f\n");
        root.write(".htaccess", b"deny\n");
        root.write(".htdir/x.txt", b"x\n");
        root.write("sub/.htpasswd", b"pw\n");
        let outside = TempDir::new("handler-outside");
        outside.write("secret.txt", b"secret\n");
        root.link("link_in", Path::new("a.json"));
        root.link("dirlink", Path::new("dir"));
        root.link("link_out", &outside.path().join("secret.txt"));
        root.link("outdir", outside.path());
        root.link("passwd", Path::new("/etc/passwd"));
        root.link("dangling", Path::new("nothing-here"));
        root.link("linkdir/index.html", Path::new("../a.json"));
        nix::unistd::mkfifo(&root.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();

        let mut settings = Settings {
            document_root: root.path().to_path_buf(),
            directory_index: vec!["index.html".into()],
            types_config: PathBuf::from("/nonexistent/mime.types"),
            server_name: Some("localhost".into()),
            ..Settings::default()
        };
        configure(&mut settings);
        let identity = crate::vhost::Identity { name: "localhost".into(), ..Default::default() };
        let main = crate::server::Server::standalone(0, identity, settings, Vec::new()).unwrap();
        let mut ctx = ServerContext::single(MpmKind::Event, main, None);
        ctx.banner = crate::server::banner(MpmKind::Event, ServerTokens::Prod);
        ctx.capacity = crate::limits::capacity(MpmKind::Event, &ctx.main().settings, 1).0;
        Site { root, _outside: outside, ctx }
    }

    /// Answers `head`: a request line and header lines, `\n`-separated.
    pub(super) fn ask(&self, head: &str) -> Reply {
        let mut lines = head.lines();
        let line = lines.next().unwrap();
        let mut words = line.split(' ');
        let (method, target) = (words.next().unwrap(), words.next().unwrap());
        let version = match words.next() {
            None => Version::Http09,
            Some("HTTP/1.0") => Version::Http10,
            Some(_) => Version::Http11,
        };
        let mut headers = Headers::new();
        for field in lines {
            let (name, value) = field.split_once(':').unwrap();
            headers.push(name, value.trim());
        }
        let req = Request {
            method: method.into(),
            target: target.into(),
            version,
            protocol: version.as_str().into(),
            line: line.into(),
            headers,
        };
        let conn = ConnInfo { remote: addr("127.0.0.1:50000"), local: addr("127.0.0.1:8080"), tls: None };
        let now_us = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64;
        let x = Exchange {
            ctx: &self.ctx,
            server: self.ctx.main(),
            conn: &conn,
            req: &req,
            target: path::Target::parse(&req.target),
            now_us,
        };
        let outcome = respond(&x);
        let log = outcome.log.map(|l| format!("{} {}: {}", l.level, l.module, l.message(&conn)));
        Reply { response: outcome.response, log }
    }
}

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) struct Reply {
    pub(super) response: Response,
    pub(super) log: Option<String>,
}

impl Reply {
    pub(super) fn body(&self) -> Vec<u8> {
        fn read(body: &Body, out: &mut Vec<u8>) {
            match body {
                Body::Empty => {}
                Body::Bytes(b) => out.extend_from_slice(b),
                Body::Shared(b) => out.extend_from_slice(b),
                Body::File { file, offset, len } => {
                    let mut buf = vec![0; *len as usize];
                    file.read_exact_at(&mut buf, *offset).unwrap();
                    out.extend_from_slice(&buf);
                }
                Body::Parts(parts) => parts.iter().for_each(|p| read(p, out)),
            }
        }
        let mut out = Vec::new();
        read(&self.response.body, &mut out);
        out
    }

    /// `status`, the header lines, a blank line, the body (or its length
    /// past 80 bytes), then the log line if any.
    pub(super) fn render(&self) -> String {
        let mut s = format!("{}\n", self.response.status);
        for (name, value) in self.response.headers.iter() {
            s.push_str(&format!("{name}: {value}\n"));
        }
        let body = self.body();
        if body.len() > 80 {
            s.push_str(&format!("\n<{} bytes>\n", body.len()));
        } else {
            s.push_str(&format!("\n{}", String::from_utf8_lossy(&body)));
        }
        if let Some(log) = &self.log {
            s.push_str(&format!("log: {log}\n"));
        }
        s
    }
}

/// Asks `head` (with `Host: x` unless a Host is given) and compares the
/// rendering whole, printing both on a mismatch.
pub(super) fn check(site: &Site, head: &str, expected: &str) {
    let head = if head.contains("\nHost:") || head.contains(" HTTP/1.0") || !head.contains(" HTTP/") {
        head.to_string()
    } else {
        let (line, rest) = head.split_once('\n').unwrap_or((head, ""));
        format!("{line}\nHost: x\n{rest}")
    };
    let got = site.ask(&head).render();
    let expected = expected.replace("{root}", &site.root.path().display().to_string());
    assert!(got == expected, "request:\n{head}\n--- expected:\n{expected}\n--- got:\n{got}");
}

/// The validators of a fixture file of `size` bytes.
pub(super) fn validators(size: u64) -> String {
    format!("Last-Modified: {LAST_MODIFIED}\nETag: \"{size:x}-{MTIME_US:x}\"\nAccept-Ranges: bytes\n")
}

const PAGE: &str = "Content-Type: text/html; charset=iso-8859-1\n";

#[test]
fn files_and_types() {
    let site = Site::new();
    let v3 = validators(3);
    check(&site, "GET /a.json HTTP/1.1", &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"));
    check(&site, "HEAD /a.json HTTP/1.1", &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"));
    check(&site, "POST /a.json HTTP/1.1", &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"));
    check(&site, "GET /noext HTTP/1.1", &format!("200\n{v3}\nzz\n"));
    check(
        &site,
        "GET /big.txt HTTP/1.1",
        &format!("200\n{}Content-Type: text/plain\n\n<2000 bytes>\n", validators(2000)),
    );
    check(&site, "GET /empty.txt HTTP/1.1", &format!("200\n{}Content-Type: text/plain\n\n", validators(0)));
    check(
        &site,
        "GET /a%20b.txt HTTP/1.1",
        &format!("200\n{}Content-Type: text/plain\n\nspace\n", validators(6)),
    );
    check(
        &site,
        "GET http://other/a.json HTTP/1.1",
        &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"),
    );
    check(&site, "GET /a.json HTTP/1.0", &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"));
    check(&site, "GET /a.json", &format!("200\n{v3}Content-Type: application/json\n\n{{}}\n"));
}

#[test]
fn mapping_and_escapes() {
    let site = Site::new();
    let v3 = validators(3);
    let json = format!("200\n{v3}Content-Type: application/json\n\n{{}}\n");
    check(&site, "GET //a.json HTTP/1.1", &json);
    check(&site, "GET /./a.json HTTP/1.1", &json);
    check(&site, "GET /dir/../a.json HTTP/1.1", &json);
    check(&site, "GET /dir/%2e%2e/a.json HTTP/1.1", &json);
    check(&site, "GET /a%2ejson HTTP/1.1", &json);
    check(
        &site,
        "GET /dir/.. HTTP/1.1",
        &format!("200\n{}Content-Type: text/html\n\n<p>root</p>\n", validators(12)),
    );
    let bad = |target: &str| {
        format!(
            "400\n{PAGE}\n<266 bytes>\nlog: ERROR core: [client 127.0.0.1:50000] AH10244: invalid URI path ({target})\n"
        )
    };
    check(&site, "GET /.. HTTP/1.1", &bad("/.."));
    check(&site, "GET /../../etc/passwd HTTP/1.1", &bad("/../../etc/passwd"));
    check(&site, "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1", &bad("/%2e%2e/%2e%2e/etc/passwd"));
    check(&site, "GET /dir/../../a.json?x HTTP/1.1", &bad("/dir/../../a.json?x"));
    check(&site, "GET /a%zz HTTP/1.1", &bad("/a%zz"));
    check(&site, "GET /a%2 HTTP/1.1", &bad("/a%2"));
    let slash = |target: &str| {
        format!(
            "404\n{PAGE}\n<236 bytes>\nlog: INFO core: [client 127.0.0.1:50000] AH00026: found %2f (encoded '/') in URI path ({target}), returning 404\n"
        )
    };
    check(&site, "GET /dir%2findex.html HTTP/1.1", &slash("/dir%2findex.html"));
    check(&site, "GET /a.json%00 HTTP/1.1", &slash("/a.json%00"));
    let missing = |path: &str, code: &str| {
        format!(
            "404\n{PAGE}\n<236 bytes>\nlog: INFO core: [client 127.0.0.1:50000] {code}: File does not exist: {{root}}{path}\n"
        )
    };
    check(&site, "GET /dir\\index.html HTTP/1.1", &missing("/dir\\index.html", "AH00128"));
    check(&site, "GET /a.json%5c HTTP/1.1", &missing("/a.json\\", "AH00128"));
    check(
        &site,
        "GET /back%5cslash.txt HTTP/1.1",
        &format!("200\n{}Content-Type: text/plain\n\nback\n", validators(5)),
    );
    check(
        &site,
        "GET /back\\slash.txt HTTP/1.1",
        &format!("200\n{}Content-Type: text/plain\n\nback\n", validators(5)),
    );
    check(&site, "GET /A.JSON HTTP/1.1", &missing("/A.JSON", "AH00128"));
    check(&site, "GET /nope/x.json HTTP/1.1", &missing("/nope/x.json", "AH00128"));
    check(&site, "GET /a.json/ HTTP/1.1", &missing("/a.json/", "AH00130"));
    check(&site, "GET /a.json/extra HTTP/1.1", &missing("/a.json/extra", "AH00130"));
    check(&site, "GET /dir/index.html/ HTTP/1.1", &missing("/dir/index.html/", "AH00130"));
}

#[test]
fn refusals() {
    let site = Site::new();
    let denied = |path: &str| {
        format!(
            "403\n{PAGE}\n<239 bytes>\nlog: ERROR authz_core: [client 127.0.0.1:50000] AH01630: client denied by server configuration: {{root}}{path}\n"
        )
    };
    check(&site, "GET /.htaccess HTTP/1.1", &denied("/.htaccess"));
    check(&site, "GET /.htaccess/ HTTP/1.1", &denied("/.htaccess/"));
    check(&site, "GET /.htnothere HTTP/1.1", &denied("/.htnothere"));
    check(&site, "GET /.htdir/x.txt HTTP/1.1", &denied("/.htdir/x.txt"));
    check(&site, "GET /sub/.htpasswd HTTP/1.1", &denied("/sub/.htpasswd"));
    check(&site, "GET /%2ehtaccess HTTP/1.1", &denied("/.htaccess"));
    check(&site, "OPTIONS /.htaccess HTTP/1.1", &denied("/.htaccess"));
    check(&site, "DELETE /.htaccess HTTP/1.1", &denied("/.htaccess"));
    let forbidden = |log: &str| format!("403\n{PAGE}\n<239 bytes>\nlog: ERROR core: {log}\n");
    check(
        &site,
        "GET /fifo HTTP/1.1",
        &forbidden(
            "[client 127.0.0.1:50000] AH00038: Forbidden: {root}/fifo doesn't point to a file or directory",
        ),
    );
    let long = "a".repeat(300);
    check(
        &site,
        &format!("GET /{long} HTTP/1.1"),
        &forbidden(&format!(
            "(36)File name too long: [client 127.0.0.1:50000] AH00036: access to /{long} failed (filesystem path '{{root}}/{long}')"
        )),
    );
    let deep = "a/".repeat(2100);
    check(
        &site,
        &format!("GET /{deep} HTTP/1.1"),
        &forbidden(&format!(
            "(36)File name too long: [client 127.0.0.1:50000] AH00127: Cannot map GET /{deep} HTTP/1.1 to file"
        )),
    );
}

#[test]
fn symlinks() {
    let link = |path: &str| {
        format!(
            "403\n{PAGE}\n<239 bytes>\nlog: ERROR core: [client 127.0.0.1:50000] AH00037: Symbolic link not allowed or link target not accessible: {{root}}{path}\n"
        )
    };
    // The type comes from the name asked for, as httpd's mod_mime reads
    // `r->filename`: `link_in` has none, whatever its target is called.
    let json = format!("200\n{}\n{{}}\n", validators(3));
    let json_as_html = format!("200\n{}Content-Type: text/html\n\n{{}}\n", validators(3));
    let dir = format!("200\n{}Content-Type: text/html\n\n<p>dir</p>\n", validators(11));
    for options in
        [vec![], vec!["FollowSymLinks"], vec!["SymLinksIfOwnerMatch"], vec!["+SymLinksIfOwnerMatch"]]
    {
        let site = Site::with(|s| s.options = options.iter().map(|o| o.to_string()).collect());
        check(&site, "GET /link_in HTTP/1.1", &json);
        check(&site, "GET /dirlink/ HTTP/1.1", &dir);
        check(&site, "GET /dirlink/index.html HTTP/1.1", &dir);
        check(&site, "GET /linkdir/ HTTP/1.1", &json_as_html);
        // Beyond httpd: never outside DocumentRoot, whatever Options say.
        check(&site, "GET /link_out HTTP/1.1", &link("/link_out"));
        check(&site, "GET /passwd HTTP/1.1", &link("/passwd"));
        check(&site, "GET /outdir/secret.txt HTTP/1.1", &link("/outdir"));
        check(&site, "GET /outdir/nothing HTTP/1.1", &link("/outdir"));
        check(&site, "GET /dangling HTTP/1.1", &link("/dangling"));
    }
    for options in [vec!["None"], vec!["-FollowSymLinks"], vec!["Indexes"]] {
        let site = Site::with(|s| s.options = options.iter().map(|o| o.to_string()).collect());
        check(&site, "GET /link_in HTTP/1.1", &link("/link_in"));
        check(&site, "GET /dirlink/ HTTP/1.1", &link("/dirlink"));
        check(&site, "GET /dir/ HTTP/1.1", &dir);
        // An index that is a symlink: the refusal is kept (mod_dir).
        check(&site, "GET /linkdir/ HTTP/1.1", &link("/linkdir/index.html"));
    }
    // SymLinksIfOwnerMatch refuses a link whose owner differs from its
    // target's; giving the link another owner needs root, so this part runs
    // only where the tests run as root.
    let site = Site::with(|s| s.options = vec!["SymLinksIfOwnerMatch".into()]);
    let nobody = nix::unistd::Uid::from_raw(65534);
    if std::os::unix::fs::lchown(site.root.path().join("link_in"), Some(nobody.as_raw()), None).is_ok() {
        check(&site, "GET /link_in HTTP/1.1", &link("/link_in"));
        let follow = Site::with(|s| s.options = vec!["FollowSymLinks".into()]);
        std::os::unix::fs::lchown(follow.root.path().join("link_in"), Some(nobody.as_raw()), None).unwrap();
        check(&follow, "GET /link_in HTTP/1.1", &json);
    }
}
