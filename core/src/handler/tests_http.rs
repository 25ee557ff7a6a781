//! The handler end to end, continued: directories, methods, validators,
//! conditionals and ranges (fixture and helpers in `tests`).

use std::time::SystemTime;

use super::tests::{LAST_MODIFIED, Site, TempDir, big, check, validators};
use crate::config::{ServerSignature, UseCanonicalName};

const PAGE: &str = "Content-Type: text/html; charset=iso-8859-1\n";
const ALLOW: &str = "Allow: HEAD,GET,POST,OPTIONS,TRACE\n";

fn moved(location: &str) -> String {
    // httpd's page names the location once: 248 bytes and the URL.
    format!("301\nLocation: {location}\n{PAGE}\n<{} bytes>\n", 248 + location.len())
}

#[test]
fn directory_redirects() {
    let site = Site::new();
    let check_location = |site: &Site, head: &str, location: &str| {
        let reply = site.ask(head);
        assert_eq!(reply.response.status, 301, "{head}");
        assert_eq!(reply.response.headers.get("Location"), Some(location), "{head}");
        let page = String::from_utf8(reply.body()).unwrap();
        assert!(page.contains(&format!("<a href=\"{location}\">here</a>")), "{page}");
    };
    check_location(&site, "GET /dir HTTP/1.1\nHost: example.com", "http://example.com/dir/");
    check_location(&site, "GET /dir?q=1 HTTP/1.1\nHost: example.com", "http://example.com/dir/?q=1");
    check_location(&site, "GET /dir? HTTP/1.1\nHost: example.com", "http://example.com/dir/?");
    check_location(&site, "GET /dir HTTP/1.1\nHost: example.com:18081", "http://example.com:18081/dir/");
    check_location(&site, "GET /dir HTTP/1.1\nHost: example.com:80", "http://example.com/dir/");
    check_location(&site, "GET /dir HTTP/1.1\nHost: EXAMPLE.com.", "http://example.com/dir/");
    check_location(&site, "GET /dir HTTP/1.1\nHost: [::1]:8080", "http://[::1]:8080/dir/");
    check_location(&site, "GET http://other:99/dir?a=b HTTP/1.1\nHost: x", "http://other:99/dir/?a=b");
    check_location(&site, "GET /d%69r HTTP/1.1\nHost: x", "http://x/dir/");
    check_location(&site, "GET /dir/./../dir HTTP/1.1\nHost: x", "http://x/dir/");
    // Every method is redirected, an unknown one too (mod_dir's fixup runs first).
    for method in ["HEAD", "POST", "OPTIONS", "DELETE", "FOO"] {
        check_location(&site, &format!("{method} /dir HTTP/1.1\nHost: x"), "http://x/dir/");
    }
    // No Host: ServerName, port 80 unless ServerName names one.
    check_location(&site, "GET /dir HTTP/1.0", "http://localhost/dir/");
    let named = Site::with(|s| s.server_name = Some("https://www.example.com:8443".into()));
    check_location(&named, "GET /dir HTTP/1.0", "http://www.example.com:8443/dir/");
    check_location(&named, "GET /dir HTTP/1.1\nHost: x", "http://x:8443/dir/");
    // Neither: the local address and port (where httpd guesses a name).
    let anonymous = Site::with(|s| s.server_name = None);
    check_location(&anonymous, "GET /dir HTTP/1.0", "http://127.0.0.1:8080/dir/");
    let canonical = Site::with(|s| s.use_canonical_name = UseCanonicalName::On);
    check_location(&canonical, "GET /dir HTTP/1.1\nHost: x:81", "http://localhost/dir/");
    // A name needing escapes is escaped in the URL.
    let spaced = TempDir::new("handler-spaced");
    let site = Site::with(|s| s.document_root = spaced.path().to_path_buf());
    std::fs::create_dir_all(spaced.path().join("a b")).unwrap();
    check_location(&site, "GET /a%20b HTTP/1.1\nHost: x", "http://x/a%20b/");
    check(&Site::new(), "GET /dir HTTP/1.1\nHost: x", &moved("http://x/dir/"));
}

#[test]
fn directory_indexes() {
    let site = Site::new();
    let root_index = format!("200\n{}Content-Type: text/html\n\n<p>root</p>\n", validators(12));
    check(&site, "GET / HTTP/1.1", &root_index);
    check(
        &site,
        "GET /dir/ HTTP/1.1",
        &format!("200\n{}Content-Type: text/html\n\n<p>dir</p>\n", validators(11)),
    );
    check(
        &site,
        "GET /dir/?x=1 HTTP/1.1",
        &format!("200\n{}Content-Type: text/html\n\n<p>dir</p>\n", validators(11)),
    );
    let no_index = |names: &str, path: &str| {
        format!(
            "403\n{PAGE}\n<239 bytes>\nlog: ERROR autoindex: [client 127.0.0.1:50000] AH01276: Cannot serve directory {{root}}{path}: No matching DirectoryIndex ({names}) found, and server-generated directory index forbidden by Options directive\n"
        )
    };
    check(&site, "GET /noindex/ HTTP/1.1", &no_index("index.html", "/noindex/"));
    check(&site, "HEAD /noindex/ HTTP/1.1", &no_index("index.html", "/noindex/"));
    check(
        &site,
        "POST /noindex/ HTTP/1.1",
        &format!(
            "404\n{PAGE}\n<236 bytes>\nlog: INFO core: [client 127.0.0.1:50000] AH00129: Attempt to serve directory: {{root}}/noindex/\n"
        ),
    );
    check(
        &site,
        "OPTIONS /noindex/ HTTP/1.1",
        &format!("200\n{ALLOW}Content-Type: httpd/unix-directory\n\n"),
    );
    check(&site, "OPTIONS /dir/ HTTP/1.1", &format!("200\n{ALLOW}Content-Type: text/html\n\n"));
    check(&site, "DELETE /noindex/ HTTP/1.1", &format!("405\n{ALLOW}{PAGE}\n<263 bytes>\n"));
    // Several names: the first that exists wins.
    let htm = format!("200\n{}Content-Type: text/html\n\nhtm\n", validators(4));
    let html = format!("200\n{}Content-Type: text/html\n\nhtml\n", validators(5));
    let both =
        |names: &[&str]| Site::with(|s| s.directory_index = names.iter().map(|n| n.to_string()).collect());
    check(&both(&["index.html", "index.htm"]), "GET /two/ HTTP/1.1", &html);
    check(&both(&["index.htm", "index.html"]), "GET /two/ HTTP/1.1", &htm);
    check(&both(&["missing.html", "index.htm"]), "GET /two/ HTTP/1.1", &htm);
    check(
        &both(&["/a.json"]),
        "GET /noindex/ HTTP/1.1",
        &format!("200\n{}Content-Type: application/json\n\n{{}}\n", validators(3)),
    );
    check(&both(&["x.html", "y.html"]), "GET /noindex/ HTTP/1.1", &no_index("x.html,y.html", "/noindex/"));
    check(
        &both(&[".htindex", "nothing"]),
        "GET /noindex/ HTTP/1.1",
        &format!(
            "403\n{PAGE}\n<239 bytes>\nlog: ERROR authz_core: [client 127.0.0.1:50000] AH01630: client denied by server configuration: {{root}}/noindex/.htindex\n"
        ),
    );
    // DirectorySlash Off: no redirect, and no index either.
    let off = Site::with(|s| s.directory_slash = false);
    check(&off, "GET /dir HTTP/1.1", &no_index("none", "/dir"));
    check(
        &off,
        "GET /dir/ HTTP/1.1",
        &format!("200\n{}Content-Type: text/html\n\n<p>dir</p>\n", validators(11)),
    );
    // Options Indexes lists nothing (yet): still 403.
    let indexes = Site::with(|s| s.options = vec!["Indexes".into()]);
    check(&indexes, "GET /noindex/ HTTP/1.1", &no_index("index.html", "/noindex/"));
}

#[test]
fn methods() {
    let site = Site::new();
    let json = format!("200\n{}Content-Type: application/json\n\n{{}}\n", validators(3));
    check(&site, "POST /a.json HTTP/1.1", &json);
    check(&site, "OPTIONS /a.json HTTP/1.1", &format!("200\n{ALLOW}Content-Type: application/json\n\n"));
    check(
        &site,
        "OPTIONS /a.json HTTP/1.1\nIf-Match: \"zz\"",
        &format!("200\n{ALLOW}Content-Type: application/json\n\n"),
    );
    check(&site, "OPTIONS /nonexist HTTP/1.1", &format!("200\n{ALLOW}\n"));
    check(&site, "OPTIONS /nope.json/x HTTP/1.1", &format!("200\n{ALLOW}Content-Type: application/json\n\n"));
    check(&site, "OPTIONS * HTTP/1.1", "200\n\n");
    check(&site, "GET * HTTP/1.1", &format!("400\n{PAGE}\n<266 bytes>\n"));
    let not_allowed = |method: &str| format!("405\n{ALLOW}{PAGE}\n<{} bytes>\n", 257 + method.len());
    for method in [
        "PUT",
        "DELETE",
        "PATCH",
        "CONNECT",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "MERGE",
        "VERSION-CONTROL",
    ] {
        check(&site, &format!("{method} /a.json HTTP/1.1"), &not_allowed(method));
        check(&site, &format!("{method} /nonexist HTTP/1.1"), &not_allowed(method));
    }
    let unknown = |method: &str, target: &str| {
        format!(
            "501\n{ALLOW}{PAGE}\n<{} bytes>\nlog: ERROR core: [client 127.0.0.1:50000] AH00135: Invalid method in request {method} {target} HTTP/1.1\n",
            239 + method.len()
        )
    };
    for method in ["get", "FOO", "Get", "BREW"] {
        check(&site, &format!("{method} /a.json HTTP/1.1"), &unknown(method, "/a.json"));
        check(&site, &format!("{method} /nonexist HTTP/1.1"), &unknown(method, "/nonexist"));
    }
    let reply = site.ask("get /a.json HTTP/1.1\nHost: x");
    assert!(reply.response.close, "501 closes the connection");
    assert!(!site.ask("DELETE /a.json HTTP/1.1\nHost: x").response.close);
}

#[test]
fn trace() {
    let site = Site::new();
    check(
        &site,
        "TRACE / HTTP/1.1\nHost: x\nConnection: close",
        "200\nContent-Type: message/http\n\nTRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    check(
        &site,
        "TRACE /nonexist?q=1 HTTP/1.1\nHost: x\nX-Foo: bar\nconnection: close\nx-foo: baz",
        "200\nContent-Type: message/http\n\nTRACE /nonexist?q=1 HTTP/1.1\r\nHost: x\r\nX-Foo: bar, baz\r\nconnection: close\r\n\r\n",
    );
    check(&site, "TRACE /dir HTTP/1.0", "200\nContent-Type: message/http\n\nTRACE /dir HTTP/1.0\r\n\r\n");
    check(
        &site,
        "TRACE /.htaccess HTTP/1.0",
        "200\nContent-Type: message/http\n\nTRACE /.htaccess HTTP/1.0\r\n\r\n",
    );
    check(
        &site,
        "TRACE /../x HTTP/1.0",
        &format!(
            "400\n{PAGE}\n<266 bytes>\nlog: ERROR core: [client 127.0.0.1:50000] AH10244: invalid URI path (/../x)\n"
        ),
    );
    check(
        &site,
        "TRACE / HTTP/1.1\nHost: x\nContent-Length: 0",
        "200\nContent-Type: message/http\n\nTRACE / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    for body in ["Content-Length: 3", "Transfer-Encoding: chunked"] {
        let reply = site.ask(&format!("TRACE / HTTP/1.1\nHost: x\n{body}"));
        assert_eq!(reply.response.status, 413);
        assert!(String::from_utf8(reply.body()).unwrap().contains("request data with TRACE requests"));
        assert!(reply.response.close);
    }
}

#[test]
fn etags() {
    let file_etag =
        |words: &[&str]| Site::with(|s| s.file_etag = words.iter().map(|w| w.to_string()).collect());
    let site = file_etag(&["INode", "MTime", "Size"]);
    let inode = std::fs::metadata(site.root.path().join("a.json"))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    let reply = site.ask("GET /a.json HTTP/1.1\nHost: x");
    assert_eq!(reply.response.headers.get("ETag"), Some(format!("\"{inode:x}-3-60a2418202240\"").as_str()));
    let reply = file_etag(&["None"]).ask("GET /a.json HTTP/1.1\nHost: x");
    assert_eq!(reply.response.headers.get("ETag"), None);
    assert_eq!(reply.response.headers.get("Last-Modified"), Some(LAST_MODIFIED));
    let reply = file_etag(&["Digest"]).ask("GET /a.json HTTP/1.1\nHost: x");
    assert_eq!(reply.response.headers.get("ETag"), Some("\"Xzay6ikGRe402UMiChS1TuXqW+U=\""));
    // A file changed under a second ago has a weak ETag; one dated in the
    // future is said to be modified now.
    let site = Site::new();
    let fresh = std::fs::File::options().write(true).open(site.root.path().join("noext")).unwrap();
    fresh.set_modified(SystemTime::now()).unwrap();
    let reply = site.ask("GET /noext HTTP/1.1\nHost: x");
    assert!(reply.response.headers.get("ETag").unwrap().starts_with("W/\"3-"));
    fresh.set_modified(SystemTime::now() + std::time::Duration::from_secs(86_400 * 365)).unwrap();
    let reply = site.ask("GET /noext HTTP/1.1\nHost: x");
    let last_modified =
        crate::http::date::parse(reply.response.headers.get("Last-Modified").unwrap()).unwrap();
    let now = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - 2..=now).contains(&last_modified), "{last_modified} vs {now}");
    assert!(reply.response.headers.get("ETag").unwrap().starts_with("W/\"3-"));
}

#[test]
fn conditionals() {
    let site = Site::new();
    let v3 = validators(3);
    let etag = "\"3-60a2418202240\"";
    let ok = format!("200\n{v3}Content-Type: application/json\n\n{{}}\n");
    let not_modified = format!("304\n{v3}\n");
    let failed = format!("412\n{v3}Content-Type: application/json\n\n");
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    let future = "Mon, 01 Jan 2035 00:00:00 GMT";
    let cases: &[(&str, &str, &String)] = &[
        ("GET", &format!("If-None-Match: {etag}"), &not_modified),
        ("HEAD", &format!("If-None-Match: {etag}"), &not_modified),
        ("GET", &format!("If-None-Match: W/{etag}"), &not_modified),
        ("GET", "If-None-Match: *", &not_modified),
        ("GET", "If-None-Match: \"other\"", &ok),
        ("POST", &format!("If-None-Match: {etag}"), &failed),
        ("GET", &format!("If-Modified-Since: {LAST_MODIFIED}"), &not_modified),
        ("GET", &format!("If-Modified-Since: {old}"), &ok),
        ("GET", &format!("If-Modified-Since: {future}"), &ok),
        ("POST", &format!("If-Modified-Since: {LAST_MODIFIED}"), &ok),
        ("GET", &format!("If-None-Match: {etag}\nIf-Modified-Since: {old}"), &ok),
        ("GET", "If-Match: \"nope\"", &failed),
        ("GET", &format!("If-Match: {etag}"), &ok),
        ("GET", "If-Match: *", &ok),
        ("POST", "If-Match: \"nope\"", &failed),
        ("GET", &format!("If-Unmodified-Since: {old}"), &failed),
        ("GET", &format!("If-Unmodified-Since: {LAST_MODIFIED}"), &ok),
        ("GET", &format!("If-None-Match: \"a\"\nIf-None-Match: {etag}"), &not_modified),
    ];
    for (method, headers, expected) in cases {
        check(&site, &format!("{method} /a.json HTTP/1.1\n{headers}"), expected);
    }
    // No conditional makes a missing file exist.
    check(
        &site,
        "GET /nonexist HTTP/1.1\nIf-Match: *",
        &format!(
            "404\n{PAGE}\n<236 bytes>\nlog: INFO core: [client 127.0.0.1:50000] AH00128: File does not exist: {{root}}/nonexist\n"
        ),
    );
}

#[test]
fn ranges() {
    let site = Site::new();
    let v = validators(2000);
    let single = |range: &str, content_range: &str, body: &str| {
        check(
            &site,
            &format!("GET /big.txt HTTP/1.1\nRange: {range}"),
            &format!("206\n{v}Content-Range: bytes {content_range}\nContent-Type: text/plain\n\n{body}"),
        );
    };
    single("bytes=0-9", "0-9/2000", "abcdefghij");
    single("bytes=-5", "1995-1999/2000", "tuvwx");
    single("bytes=1998-", "1998-1999/2000", "wx");
    single("bytes=0-2,1-5", "0-5/2000", "abcdef");
    single("bytes=5000-,0-1", "0-1/2000", "ab");
    check(
        &site,
        "HEAD /big.txt HTTP/1.1\nRange: bytes=0-2",
        &format!("206\n{v}Content-Range: bytes 0-2/2000\nContent-Type: text/plain\n\nabc"),
    );
    check(
        &site,
        "POST /big.txt HTTP/1.1\nRange: bytes=0-2",
        &format!("206\n{v}Content-Range: bytes 0-2/2000\nContent-Type: text/plain\n\nabc"),
    );
    let full = format!("200\n{v}Content-Type: text/plain\n\n<2000 bytes>\n");
    for range in ["bytes=x-y", "bytes=-0", "bytes=0-2, 5-6", "items=0-1", "bytes=5-2"] {
        check(&site, &format!("GET /big.txt HTTP/1.1\nRange: {range}"), &full);
    }
    check(&site, "GET /big.txt HTTP/1.1\nRequest-Range: bytes=0-2", &full);
    check(
        &site,
        "GET /empty.txt HTTP/1.1\nRange: bytes=0-0",
        &format!("200\n{}Content-Type: text/plain\n\n", validators(0)),
    );
    check(
        &site,
        "GET /big.txt",
        "200\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\nETag: \"7d0-60a2418202240\"\nAccept-Ranges: bytes\nContent-Type: text/plain\n\n<2000 bytes>\n",
    );
    // 416: httpd's page and nothing else.
    let reply = site.ask("GET /big.txt HTTP/1.1\nHost: x\nRange: bytes=5000-");
    assert_eq!(reply.render(), format!("416\n{PAGE}\n<354 bytes>\n"));
    assert!(!reply.response.close);
    // A 304 wins over the range, unless If-Range is there too.
    let etag = "\"7d0-60a2418202240\"";
    check(
        &site,
        &format!("GET /big.txt HTTP/1.1\nRange: bytes=0-1\nIf-None-Match: {etag}"),
        &format!("304\n{v}\n"),
    );
    // If-Range: the range only for the current ETag, or Last-Modified exactly.
    let ranged = format!("206\n{v}Content-Range: bytes 0-2/2000\nContent-Type: text/plain\n\nabc");
    for (if_range, expected) in [
        (etag.to_string(), &ranged),
        (LAST_MODIFIED.to_string(), &ranged),
        ("Tuesday, 14-Nov-23 22:13:20 GMT".to_string(), &ranged),
        ("\"7d0-xx\"".to_string(), &full),
        (format!("W/{etag}"), &full),
        ("Tue, 14 Nov 2023 22:13:21 GMT".to_string(), &full),
        ("garbage".to_string(), &full),
    ] {
        check(
            &site,
            &format!("GET /big.txt HTTP/1.1\nRange: bytes=0-2\nIf-Range: {if_range}\nIf-None-Match: {etag}"),
            expected,
        );
    }
}

#[test]
fn multipart_layout() {
    let site = Site::new();
    let boundary = super::range::boundary();
    let reply = site.ask("GET /big.txt HTTP/1.1\nHost: x\nRange: bytes=10-12,0-2");
    assert_eq!(reply.response.status, 206);
    assert_eq!(
        reply.response.headers.get("Content-Type"),
        Some(format!("multipart/byteranges; boundary={boundary}").as_str())
    );
    assert_eq!(reply.response.headers.get("Content-Range"), None);
    let expected = format!(
        "\r\n--{boundary}\r\nContent-type: text/plain\r\nContent-range: bytes 10-12/2000\r\n\r\nklm\
         \r\n--{boundary}\r\nContent-type: text/plain\r\nContent-range: bytes 0-2/2000\r\n\r\nabc\
         \r\n--{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8(reply.body()).unwrap(), expected);
    // Apache's Content-Length for the same request is 194: the body's length.
    assert_eq!(reply.response.body.len(), 194);
    let crate::http::Body::Parts(parts) = &reply.response.body else { panic!("parts") };
    assert!(matches!(parts[1], crate::http::Body::File { offset: 10, len: 3, .. }));
    // Without a type, no Content-type line (httpd: 130 bytes for this).
    let reply = site.ask("GET /noext HTTP/1.1\nHost: x\nRange: bytes=0-0,2-2");
    let expected = format!(
        "\r\n--{boundary}\r\nContent-range: bytes 0-0/3\r\n\r\nz\r\n--{boundary}\r\nContent-range: bytes 2-2/3\r\n\r\n\n\r\n--{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8(reply.body()).unwrap(), expected);
    assert_eq!(reply.response.body.len(), 130);
    assert_eq!(&reply.body()[..], expected.as_bytes());
    assert_eq!(big()[10..13], *b"klm");
}

#[test]
fn embedded_page() {
    let mut site = Site::new();
    site.ctx.servers[0].embedded_docroot = true;
    let reply = site.ask("GET / HTTP/1.1\nHost: x");
    assert_eq!(reply.response.status, 200);
    assert_eq!(reply.body(), shared_conf::INDEX_HTML.as_bytes());
    assert_eq!(reply.response.headers.get("Content-Type"), Some("text/html"));
    let etag = reply.response.headers.get("ETag").unwrap().to_string();
    assert!(etag.starts_with(&format!("\"{:x}-", shared_conf::INDEX_HTML.len())), "{etag}");
    assert_eq!(
        site.ask("GET /index.html HTTP/1.1\nHost: x").response.headers.get("ETag"),
        Some(etag.as_str())
    );
    let again = site.ask(&format!("GET / HTTP/1.1\nHost: x\nIf-None-Match: {etag}"));
    assert_eq!(again.response.status, 304);
    let ranged = site.ask("GET / HTTP/1.1\nHost: x\nRange: bytes=0-14");
    assert_eq!((ranged.response.status, ranged.body()), (206, b"<!DOCTYPE html>".to_vec()));
    assert_eq!(site.ask("GET /a.json HTTP/1.1\nHost: x").response.status, 404);
    assert_eq!(site.ask("GET /.htaccess HTTP/1.1\nHost: x").response.status, 403);
    assert_eq!(
        site.ask("OPTIONS / HTTP/1.1\nHost: x").response.headers.get("Allow"),
        Some("HEAD,GET,POST,OPTIONS,TRACE")
    );
}

#[test]
fn signature_and_logging() {
    let site = Site::with(|s| s.server_signature = ServerSignature::On);
    let page = String::from_utf8(site.ask("GET /nonexist HTTP/1.1\nHost: example.com:81").body()).unwrap();
    assert!(
        page.ends_with(
            "<hr>\n<address>event-server Server at example.com Port 81</address>\n</body></html>\n"
        ),
        "{page}"
    );
    let page = String::from_utf8(site.ask("GET /nonexist HTTP/1.0").body()).unwrap();
    assert!(page.contains("Server at localhost Port 80</address>"), "{page}");
    // handle() itself: the response as respond() makes it, the line logged.
    let conn = crate::http::ConnInfo {
        remote: super::tests::addr("10.0.0.1:1"),
        local: super::tests::addr("10.0.0.2:80"),
        tls: None,
    };
    let mut req = crate::http::Request::new();
    req.method = "GET".into();
    req.target = "/a.json".into();
    req.line = "GET /a.json HTTP/1.1".into();
    req.headers.push("Host", "x");
    let r = super::handle(&site.ctx, site.ctx.main(), &conn, &req);
    assert_eq!((r.status, r.body.len()), (200, 3));
}
