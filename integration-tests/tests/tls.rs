//! TLS as mod_ssl gives it, over rustls, in each binary: two vhosts on one
//! port presenting their own certificate by SNI (the client verifies the
//! name, so the wrong certificate fails the handshake), keep-alive and
//! pipelining over TLS, `%{SSL_PROTOCOL}x` and `%{SSL_CIPHER}x`, plain HTTP
//! answered with httpd's 400, a truncated or garbage handshake closed while
//! the server goes on serving; SSLProtocol, ALPN and the configuration
//! errors (unknown suite, SSLv3, a key that does not match, a missing file);
//! a key readable by root alone, read before the children drop privileges.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use integration_tests::http::{Response, Running, read_response, read_to_close};
use integration_tests::tls::{self, Authority};
use integration_tests::{Server, TempDir, each_server, wait_for};

/// Two name-based TLS vhosts on the one (kernel-chosen) port: `a` first,
/// the default, whose certificate also names 127.0.0.1 (what a client
/// without SNI verifies), then `b` with an alias.
const VHOSTS: &str = "ServerName main.test
ServerTokens Prod
TypesConfig mime.types
ErrorLog logs/error_log
LogLevel info
DocumentRoot htdocs
LogFormat \"%v \\\"%r\\\" %>s %{SSL_PROTOCOL}x %{SSL_CIPHER}x %{HTTPS}x\" tls
CustomLog logs/access_log tls
SSLProtocol all -SSLv3
SSLCipherSuite HIGH:!aNULL
SSLSessionCache none
SSLSessionTickets off
SSLRandomSeed startup builtin
<VirtualHost *:*>
    ServerName a.test
    DocumentRoot a
    SSLEngine on
    SSLCertificateFile a.crt
    SSLCertificateKeyFile a.key
</VirtualHost>
<VirtualHost *:*>
    ServerName b.test
    ServerAlias www.b.test
    DocumentRoot b
    SSLEngine on
    SSLCertificateFile b.crt
    SSLCertificateKeyFile b.key
    <FilesMatch \"\\.php$\">
        SSLOptions +StdEnvVars
    </FilesMatch>
</VirtualHost>
";

fn site(ca: &Authority, conf: &str) -> TempDir {
    let root = TempDir::server_root(conf);
    root.write("mime.types", "text/html html\ntext/plain txt\n");
    root.mkdir("logs");
    for name in ["a", "b"] {
        root.write(format!("{name}/index.html"), format!("site {name}\n"));
        root.write(format!("{name}/dir/index.html"), format!("dir of {name}\n"));
    }
    ca.write(root.path(), "a", &["a.test", "127.0.0.1"]);
    ca.write(root.path(), "b", &["b.test", "www.b.test"]);
    root
}

fn get(host: &str, target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

/// The lines of `path` once one of them contains `needle` (polling).
fn log_with(path: &Path, needle: &str) -> String {
    wait_for(&format!("{needle:?} in {}", path.display()), Duration::from_secs(10), || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.contains(needle).then_some(text)
    })
}

/// A request over TLS still answered: the server is serving.
fn still_serves(addr: SocketAddr, ca: &Authority) {
    let mut conn = tls::connect(addr, "a.test", &ca.default_client());
    conn.write_all(&get("a.test", "/")).unwrap();
    let response = read_response(&mut conn);
    assert_eq!((response.status, response.body_text().as_str()), (200, "site a\n"));
}

each_server!(sni_chooses_the_certificate_and_keep_alive_and_pipelining_work, |server| {
    let ca = Authority::new();
    let root = site(&ca, VHOSTS);
    let httpd = Running::start(server, root.path(), &[]);
    let client = ca.default_client();

    // Each name gets its own vhost's certificate (the client verifies it
    // against the name), and the request its vhost's page.
    for (name, page) in [("a.test", "site a\n"), ("b.test", "site b\n"), ("www.b.test", "site b\n")] {
        let mut conn = tls::connect(httpd.addr, name, &client);
        conn.write_all(&get(name, "/")).unwrap();
        let response = read_response(&mut conn);
        assert_eq!((response.status, response.body_text().as_str()), (200, page), "{name}");
    }
    // No SNI (an address as the name): the default vhost's certificate.
    let mut conn = tls::connect(httpd.addr, "127.0.0.1", &client);
    conn.write_all(&get("a.test", "/")).unwrap();
    assert_eq!(read_response(&mut conn).status, 200);
    // b's certificate does not name c.test: an unknown name gets a's,
    // which the client refuses as not its name.
    let refused = tls::try_connect(httpd.addr, "c.test", &client).expect_err("a's certificate for c.test");
    assert!(refused.to_string().contains("not valid for name \"c.test\""), "{refused}");

    // Keep-alive: several requests, one connection; then three pipelined.
    let mut conn = tls::connect(httpd.addr, "b.test", &client);
    for target in ["/", "/dir/", "/"] {
        conn.write_all(&get("b.test", target)).unwrap();
        let response = read_response(&mut conn);
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.header("Connection"), None, "kept alive");
    }
    let mut pipelined = Vec::new();
    for target in ["/", "/dir/", "/nothing-here"] {
        pipelined.extend(get("b.test", target));
    }
    conn.write_all(&pipelined).unwrap();
    // The three answers may come in one record: read until all are there.
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while Response::parse_all(&bytes)
        .iter()
        .filter(|r| r.body.len() >= r.header("Content-Length").map_or(0, |l| l.parse().unwrap()))
        .count()
        < 3
    {
        let n = std::io::Read::read(&mut conn, &mut chunk).expect("reading pipelined answers");
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&chunk[..n]);
    }
    let statuses: Vec<u16> = Response::parse_all(&bytes).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 404]);
    // mod_dir's redirect names the https scheme, and the port is the
    // request's (no port is left out: it is not 443).
    conn.write_all(&get(&format!("b.test:{}", httpd.addr.port()), "/dir")).unwrap();
    let response = read_response(&mut conn);
    assert_eq!(response.status, 301);
    assert_eq!(
        response.header("Location"),
        Some(format!("https://b.test:{}/dir/", httpd.addr.port()).as_str())
    );

    let (protocol, _) = tls::negotiated(&conn);
    assert_eq!(protocol, Some(rustls::ProtocolVersion::TLSv1_3));
    let log = log_with(&root.join("logs/access_log"), "\"GET /dir HTTP/1.1\" 301");
    assert!(
        log.lines()
            .any(|l| l.starts_with("b.test \"GET /dir/ HTTP/1.1\" 200 TLSv1.3 TLS_") && l.ends_with(" on")),
        "{log}"
    );

    // TLS 1.2 too, with the OpenSSL name of its suite logged.
    let mut conn = tls::connect(httpd.addr, "a.test", &ca.client(&[&rustls::version::TLS12]));
    conn.write_all(&get("a.test", "/dir/index.html")).unwrap();
    assert_eq!(read_response(&mut conn).status, 200);
    let log = log_with(&root.join("logs/access_log"), "GET /dir/index.html HTTP/1.1\" 200 TLSv1.2");
    assert!(log.contains("200 TLSv1.2 ECDHE-"), "{log}");
});

each_server!(bad_input_on_a_tls_port_is_answered_or_closed_and_serving_goes_on, |server| {
    let ca = Authority::new();
    let root = site(&ca, VHOSTS);
    let httpd = Running::start(server, root.path(), &[]);

    // Plain HTTP: mod_ssl's 400 in clear text, for a faked GET /.
    let answer = httpd.exchange(b"GET /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n");
    let response = Response::parse(&answer);
    assert_eq!(response.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(response.header("Connection"), Some("close"));
    let page = response.body_text();
    assert!(
        page.contains(
            "<p>Your browser sent a request that this server could not understand.<br />\n\
             Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n \
             Instead use the HTTPS scheme to access this URL, please.<br />\n</p>"
        ),
        "{page}"
    );
    log_with(&root.join("logs/access_log"), "a.test \"GET / HTTP/1.0\" 400 ");
    log_with(&root.join("logs/error_log"), "AH01996: SSL handshake failed: HTTP spoken on HTTPS port");
    still_serves(httpd.addr, &ca);

    // A ClientHello cut short, then the client's end: closed, no answer.
    let mut cut = TcpStream::connect(httpd.addr).unwrap();
    cut.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    cut.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]).unwrap();
    cut.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut cut), b"");
    still_serves(httpd.addr, &ca);

    // Garbage in a handshake record (a ClientHello with an empty body): an
    // alert (record type 21), then the close.
    let mut garbage = TcpStream::connect(httpd.addr).unwrap();
    garbage.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    garbage.write_all(&[0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]).unwrap();
    let alert = read_to_close(&mut garbage);
    assert_eq!(alert.first(), Some(&21), "{alert:?}");
    log_with(&root.join("logs/error_log"), "AH02008: SSL library error 1 in handshake");
    still_serves(httpd.addr, &ca);

    // A client that offers only h2: rustls's no_application_protocol alert.
    let mut h2 = (*ca.default_client()).clone();
    h2.alpn_protocols = vec![b"h2".to_vec()];
    let refused =
        tls::try_connect(httpd.addr, "a.test", &std::sync::Arc::new(h2)).expect_err("no common ALPN");
    assert!(refused.to_string().contains("NoApplicationProtocol"), "{refused}");
    still_serves(httpd.addr, &ca);
});

/// One TLS server (main-server level, as httpd allows) with `extra` lines.
fn main_level(ca: &Authority, extra: &str) -> TempDir {
    site(
        ca,
        &format!(
            "ServerName a.test\nTypesConfig mime.types\nErrorLog logs/error_log\nLogLevel info\n\
             DocumentRoot a\nListen 127.0.0.1:0 https\nSSLEngine on\nSSLCertificateFile a.crt\n\
             SSLCertificateKeyFile a.key\n{extra}"
        ),
    )
}

#[test]
fn ssl_protocol_tls13_only_refuses_a_tls12_client() {
    let ca = Authority::new();
    let root = main_level(&ca, "SSLProtocol -all +TLSv1.3\n");
    let httpd = Running::start(Server::Event, root.path(), &[]);
    let refused = tls::try_connect(httpd.addr, "a.test", &ca.client(&[&rustls::version::TLS12]))
        .expect_err("a TLS 1.2 client refused");
    assert!(refused.to_string().contains("ProtocolVersion"), "{refused}");
    let conn = tls::connect(httpd.addr, "a.test", &ca.default_client());
    assert_eq!(tls::negotiated(&conn).0, Some(rustls::ProtocolVersion::TLSv1_3));
}

#[test]
fn configuration_errors_name_the_file_and_line() {
    let ca = Authority::new();
    let check = |extra: &str| {
        let root = main_level(&ca, extra);
        let out = Server::Worker.check(root.path(), &[], &[]);
        (root, out)
    };
    // Line 10 is the first of `extra`.
    let (root, out) = check("SSLCipherSuite HIGH:BOGUS-SUITE\n");
    assert_eq!(out.code(), Some(1), "{}", out.describe());
    assert!(
        out.stderr.starts_with(&format!(
            "AH00526: Syntax error on line 10 of {}:\nSSLCipherSuite: unknown cipher suite or keyword 'BOGUS-SUITE'",
            root.conf()
        )),
        "{}",
        out.describe()
    );
    let (root, out) = check("SSLProtocol all +SSLv3\n");
    assert!(
        out.stderr.starts_with(&format!(
            "AH00526: Syntax error on line 10 of {}:\nSSLProtocol: SSLv3 is not supported",
            root.conf()
        )),
        "{}",
        out.describe()
    );
    let (root, out) = check("<VirtualHost *:*>\nSSLCertificateFile missing.crt\n</VirtualHost>\n");
    assert_eq!(
        out.stderr,
        format!(
            "AH00526: Syntax error on line 11 of {}:\nSSLCertificateFile: file '{}' does not exist or is empty\n",
            root.conf(),
            root.join("missing.crt").display()
        ),
        "{}",
        out.describe()
    );

    // A key of another certificate: found when the server starts (as in
    // httpd, whose -t reads no key), naming the key's line.
    let root = main_level(&ca, "");
    ca.write(root.path(), "other", &["other.test"]);
    let conf = std::fs::read_to_string(root.join("httpd.conf")).unwrap().replace("a.key", "other.key");
    root.write("httpd.conf", conf);
    assert_eq!(Server::Worker.check(root.path(), &[], &[]).code(), Some(0));
    let out = Server::Worker.run_in(root.path(), &["-DFOREGROUND"], &[]);
    assert_ne!(out.code(), Some(0), "{}", out.describe());
    assert!(
        out.stderr.contains(&format!(
            "AH00526: Syntax error on line 9 of {}:\nAH02565: Certificate and private key a.test:0 from {} and {} do not match",
            root.conf(),
            root.join("a.crt").display(),
            root.join("other.key").display()
        )),
        "{}",
        out.describe()
    );
}

#[test]
fn a_key_readable_by_root_alone_is_read_before_the_privilege_drop() {
    use std::os::unix::fs::PermissionsExt;

    let ca = Authority::new();
    let root = main_level(&ca, "User nobody\nGroup nogroup\n");
    std::fs::set_permissions(root.join("a.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: User is ignored, so this checks only that the key loads");
    }
    // The children serve (as nobody, when root) with the key read by the parent.
    for &dir in &["", "a"] {
        std::fs::set_permissions(root.join(dir), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let httpd = Running::start(Server::Prefork, root.path(), &[]);
    still_serves(httpd.addr, &ca);
}
