//! Requests against the real binaries on loopback: malformed and hostile
//! requests get the status Apache httpd 2.4 gives (observed on Debian's
//! 2.4.71 with the same files), path tricks never escape DocumentRoot, and
//! connections keep alive, pipeline and close as httpd's do.

use integration_tests::http::{Response, Running};
use integration_tests::{TempDir, each_server};

/// A ServerRoot with a few documents, a symlink out of the root, and logs.
fn site() -> TempDir {
    let root = TempDir::server_root(
        "ServerName localhost\n\
         TypesConfig mime.types\n\
         LimitRequestBody 1000\n\
         Timeout 5\n\
         ErrorLog logs/error_log\n\
         LogLevel info\n\
         LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined\n\
         CustomLog logs/access_log combined\n",
    );
    root.write("mime.types", "text/html html htm\ntext/plain txt\napplication/json json\n");
    root.mkdir("logs");
    root.write("htdocs/index.html", "<p>index</p>\n");
    root.write("htdocs/a.json", "{}\n");
    root.write("htdocs/big.txt", "abcdefghijklmnopqrstuvwxyz".repeat(80));
    root.write("htdocs/dir/index.html", "<p>dir</p>\n");
    root.write("htdocs/noindex/f.txt", "x\n");
    root.write("htdocs/.htaccess", "secret\n");
    root.write("outside.txt", "outside the document root\n");
    std::os::unix::fs::symlink(root.join("outside.txt"), root.join("htdocs/link-out")).unwrap();
    std::os::unix::fs::symlink(root.join("htdocs/a.json"), root.join("htdocs/link-in")).unwrap();
    root
}

fn status_of(server: &Running, request: &[u8]) -> u16 {
    let bytes = server.exchange(request);
    Response::parse_all(&bytes).first().map_or(0, |r| r.status)
}

// The statuses Apache 2.4.71 gave for each request (see the test's doc).
// Where we differ on purpose, the comment says so.
const MALFORMED: &[(&str, &[u8], u16)] = &[
    ("no Host in HTTP/1.1", b"GET /a.json HTTP/1.1\r\n\r\n", 400),
    ("two Host headers", b"GET /a.json HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    ("unknown method", b"FOO /a.json HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("lower-case method", b"get /a.json HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("PUT on a file", b"PUT /a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    ("DELETE on a file", b"DELETE /a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    ("Expect other than 100-continue", b"GET /a.json HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", 417),
    ("Content-Length over LimitRequestBody", b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413),
    (
        "chunked body over LimitRequestBody",
        b"POST /a.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n",
        413,
    ),
    ("invalid chunk size", b"POST /a.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    ("Transfer-Encoding not ending in chunked", b"POST /a.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    // Apache drops the Content-Length and reads chunked (200); an ambiguous
    // message is refused here.
    (
        "Content-Length with Transfer-Encoding",
        b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    ("two differing Content-Lengths", b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    ("two equal Content-Lengths", b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
    ("negative Content-Length", b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    // Apache joins a folded line (200); it is refused here.
    ("obs-fold", b"GET /a.json HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    ("bare CR in a header", b"GET /a.json HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    ("bare LF line ends", b"GET /a.json HTTP/1.1\nHost: x\n\n", 400),
    ("header without colon", b"GET /a.json HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n", 400),
    ("space before colon", b"GET /a.json HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("lower-case protocol", b"GET /a.json http/1.1\r\nHost: x\r\n\r\n", 400),
    ("HTTP/0.8", b"GET /a.json HTTP/0.8\r\nHost: x\r\n\r\n", 400),
    ("target without slash", b"GET a.json HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("two spaces in the request line", b"GET  /a.json HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("control character in the target", b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("bad percent escape", b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("dot-dot above the root", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("encoded dot-dot above the root", b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("encoded slash", b"GET /dir%2findex.html HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ("encoded NUL", b"GET /a.json%00 HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    ("backslash", b"GET /dir\\index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
    ("missing file", b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
    (".htaccess", b"GET /.htaccess HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 403),
    // Apache without mod_autoindex gives 404; httpd's usual 403 here.
    ("directory without index", b"GET /noindex/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 403),
    ("range not satisfiable", b"GET /big.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=5000-\r\nConnection: close\r\n\r\n", 416),
    ("If-Match that fails", b"GET /a.json HTTP/1.1\r\nHost: x\r\nIf-Match: \"nope\"\r\nConnection: close\r\n\r\n", 412),
    (
        "If-Unmodified-Since in the past",
        b"GET /a.json HTTP/1.1\r\nHost: x\r\nIf-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\nConnection: close\r\n\r\n",
        412,
    ),
];

each_server!(malformed_requests_get_httpds_status, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let mut failures = Vec::new();
    for (name, request, expected) in MALFORMED {
        let got = status_of(&running, request);
        if got != *expected {
            failures.push(format!("{name}: expected {expected}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        MALFORMED.len(),
        failures.join("\n")
    );
});

each_server!(long_request_line_and_fields_at_httpds_boundaries, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let line = |len: usize| {
        format!("GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(len - 14))
    };
    // Accepted, then refused as a file name too long for the filesystem.
    assert_eq!(status_of(&running, line(8191).as_bytes()), 403);
    assert_eq!(status_of(&running, line(8192).as_bytes()), 414);
    let field = |len: usize| {
        format!("GET /a.json HTTP/1.1\r\nHost: x\r\nX: {}\r\nConnection: close\r\n\r\n", "a".repeat(len - 3))
    };
    assert_eq!(status_of(&running, field(8191).as_bytes()), 200);
    let response = Response::parse(&running.exchange(field(8192).as_bytes()));
    assert_eq!(response.status, 400);
    assert!(response.body_text().contains("Size of a request header field exceeds server limit."));
    let mut many = String::from("GET /a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    // Host, Connection and 98 more: LimitRequestFields' 100.
    for i in 0..98 {
        many.push_str(&format!("X-{i}: a\r\n"));
    }
    assert_eq!(status_of(&running, format!("{many}\r\n").as_bytes()), 200);
    let response = Response::parse(&running.exchange(format!("{many}X-100: a\r\n\r\n").as_bytes()));
    assert_eq!(response.status, 400);
    assert!(
        response.body_text().contains("The number of request header fields exceeds this server's limit.")
    );
});

each_server!(error_pages_are_httpds_and_close_the_connection, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let response = Response::parse(&running.exchange(b"FOO /a.json HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!(response.status_line, "HTTP/1.1 501 Not Implemented");
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(response.header("Content-Type"), Some("text/html; charset=iso-8859-1"));
    assert_eq!(response.header("Allow"), Some("HEAD,GET,POST,OPTIONS,TRACE"));
    assert!(response.body_text().contains("<title>501 Not Implemented</title>"));
    assert!(response.body_text().contains("<p>FOO not supported for current URL.<br />"));
});

each_server!(path_tricks_never_escape_the_document_root, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    for target in [
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/.%2e/outside.txt",
        "/dir/../../outside.txt",
        "/dir/%2e%2e/%2e%2e/outside.txt",
        "/..%2foutside.txt",
        "/%2e%2e%2foutside.txt",
        "//..//outside.txt",
        "/..\\outside.txt",
        "/outside.txt%00",
        "/link-out",
    ] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let bytes = running.exchange(request.as_bytes());
        let response = Response::parse(&bytes);
        assert!(
            !response.body_text().contains("outside the document root"),
            "{target} escaped:\n{}",
            String::from_utf8_lossy(&bytes)
        );
        assert!([400, 403, 404].contains(&response.status), "{target}: {}", response.status_line);
    }
    // A link that stays inside is followed (Options FollowSymLinks, the default).
    let response =
        Response::parse(&running.exchange(b"GET /link-in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert_eq!((response.status, response.body_text().as_str()), (200, "{}\n"));
});

each_server!(keep_alive_and_pipelining_on_a_real_socket, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let bytes = running.exchange(
        b"GET /a.json HTTP/1.1\r\nHost: x\r\n\r\nGET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let responses = Response::parse_all(&bytes);
    let summary: Vec<(u16, String)> = responses.iter().map(|r| (r.status, r.body_text())).collect();
    assert_eq!(
        summary,
        [(200, "{}\n".to_string()), (200, "<p>dir</p>\n".to_string()), (200, "<p>index</p>\n".to_string())]
    );
    assert_eq!(responses[0].header("Connection"), None);
    assert_eq!(responses[2].header("Connection"), Some("close"));
    assert_eq!(responses[0].header("Content-Type"), Some("application/json"));

    // HEAD: the length of the GET, no body: the bytes end right after the head.
    let bytes = running.exchange(b"HEAD /a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(
        bytes.ends_with(b"Content-Type: application/json\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(Response::parse(&bytes).header("Content-Length"), Some("3"));

    let bytes = running
        .exchange(b"GET /a.json HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a.json HTTP/1.0\r\n\r\n");
    let responses = Response::parse_all(&bytes);
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].header("Keep-Alive"), Some("timeout=5, max=100"));
    assert_eq!(responses[0].header("Connection"), Some("Keep-Alive"));
    assert_eq!(responses[1].header("Connection"), Some("close"));
});

each_server!(bodies_are_read_or_discarded_so_keep_alive_stays_in_step, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let bytes = running.exchange(
        b"POST /a.json HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET /x HTTP\
          POST /a.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\nT: 1\r\n\r\n\
          GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<u16> = Response::parse_all(&bytes).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200]);
});

each_server!(expect_100_continue, |server| {
    let root = site();
    let running = Running::start(server, root.path(), &[]);
    let mut stream = std::net::TcpStream::connect(running.addr).unwrap();
    stream.set_read_timeout(Some(integration_tests::http::IO_LIMIT)).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(b"POST /a.json HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"abc").unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(Response::parse(&rest).status, 200);
});
