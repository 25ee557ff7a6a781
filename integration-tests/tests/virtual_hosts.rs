//! `<VirtualHost>` as httpd serves it: name-based vhosts chosen by the Host
//! header (ServerName, then ServerAlias with wildcards; an unknown host gets
//! the first), an IP-based vhost beside them, and each vhost's own
//! DocumentRoot, CustomLog (`%v`), ErrorLog, ErrorDocument, sections and
//! KeepAlive; then `-S` printed as Apache's `apache2 -S` prints it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use integration_tests::http::{Response, Running, connect, read_response, read_to_close};
use integration_tests::{TempDir, each_server, wait_for};

/// Two name-based vhosts on every address and port (`*:*`: the test's
/// port is the kernel's choice): `a` first (the default), then `b` with
/// its own logs, error document, sections and KeepAlive Off.
const VHOSTS: &str = "ServerName main.example
ServerTokens Prod
TypesConfig mime.types
ErrorLog logs/error_log
LogLevel info
DocumentRoot htdocs
LogFormat \"%v %h \\\"%r\\\" %>s\" vhost
CustomLog logs/access_log vhost
<VirtualHost *:*>
    ServerName a.example
    DocumentRoot a
</VirtualHost>
<VirtualHost *:*>
    ServerName b.example
    ServerAlias *.b.example www.b?.example
    DocumentRoot b
    CustomLog logs/b_access vhost
    ErrorLog logs/b_error
    ErrorDocument 404 /oops.html
    KeepAlive Off
    <Location /private>
        Require all denied
    </Location>
    <Directory b/secret>
        Require all denied
    </Directory>
</VirtualHost>
";

fn site(conf: &str) -> TempDir {
    let root = TempDir::server_root(conf);
    root.write("mime.types", "text/html html\ntext/plain txt\n");
    root.mkdir("logs");
    root.write("htdocs/index.html", "main\n");
    for name in ["a", "b", "ip"] {
        root.write(format!("{name}/index.html"), format!("site {name}\n"));
        root.write(format!("{name}/private/p.txt"), "private\n");
        root.write(format!("{name}/secret/s.txt"), "secret\n");
    }
    root.write("b/oops.html", "<p>b has no such page</p>\n");
    root
}

/// `GET target` with `host` (none if `None`), HTTP/1.1 and Connection: close.
fn ask(addr: SocketAddr, host: Option<&str>, target: &str) -> Response {
    let host = host.map_or(String::new(), |h| format!("Host: {h}\r\n"));
    let request = format!("GET {target} HTTP/1.1\r\n{host}Connection: close\r\n\r\n");
    Response::parse(&integration_tests::http::exchange(addr, request.as_bytes()))
}

fn page(addr: SocketAddr, host: &str, target: &str) -> String {
    let response = ask(addr, Some(host), target);
    assert_eq!(response.status, 200, "{host}{target}: {}", response.status_line);
    response.body_text()
}

/// The lines of `path` once it has at least `n` (polling, with a deadline).
fn lines_of(path: &Path, n: usize) -> Vec<String> {
    wait_for(&format!("{n} lines in {}", path.display()), Duration::from_secs(10), || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (lines.len() >= n).then_some(lines)
    })
}

each_server!(name_based_vhosts_serve_their_own_document_root, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    assert_eq!(page(running.addr, "a.example", "/"), "site a\n");
    assert_eq!(page(running.addr, "b.example", "/"), "site b\n");
    // Case and the Host header's port play no part.
    assert_eq!(page(running.addr, "B.Example:8080", "/"), "site b\n");
    assert_eq!(page(running.addr, "b.example.", "/"), "site b\n");
    // An absolute URI's host wins over the Host header.
    let response = ask(running.addr, Some("a.example"), "http://b.example/");
    assert_eq!(response.body_text(), "site b\n");
});

each_server!(an_unknown_host_gets_the_first_vhost, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    assert_eq!(page(running.addr, "nobody.example", "/"), "site a\n");
    // Not the main server, which answers only addresses no vhost lists.
    assert_eq!(page(running.addr, "main.example", "/"), "site a\n");
    let response = Response::parse(&running.exchange(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!((response.status, response.body_text().as_str()), (200, "site a\n"));
});

each_server!(server_alias_wildcards_match, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    assert_eq!(page(running.addr, "x.b.example", "/"), "site b\n");
    assert_eq!(page(running.addr, "deep.x.B.EXAMPLE", "/"), "site b\n");
    assert_eq!(page(running.addr, "www.b1.example", "/"), "site b\n");
    // `?` is one character.
    assert_eq!(page(running.addr, "www.b12.example", "/"), "site a\n");
});

each_server!(an_ip_based_vhost_answers_its_address_whatever_the_host, |server| {
    let conf = format!(
        "{VHOSTS}<VirtualHost 127.0.0.2:*>\n    ServerName ip.example\n    DocumentRoot ip\n</VirtualHost>\n"
    );
    let root = site(&conf);
    // The harness listens on 127.0.0.1; a second listener on 127.0.0.2.
    let running = Running::start(server, root.path(), &["-c", "Listen 127.0.0.2:0"]);
    let second = running.next_addr();
    assert_eq!(second.ip().to_string(), "127.0.0.2");
    assert_eq!(page(second, "b.example", "/"), "site ip\n");
    assert_eq!(page(second, "ip.example", "/"), "site ip\n");
    assert_eq!(page(running.addr, "b.example", "/"), "site b\n");
    assert_eq!(page(running.addr, "ip.example", "/"), "site a\n");
});

each_server!(each_vhost_logs_to_its_own_custom_log, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    page(running.addr, "a.example", "/");
    page(running.addr, "b.example", "/");
    page(running.addr, "nobody.example", "/");
    page(running.addr, "x.b.example", "/");
    let main = lines_of(&root.join("logs/access_log"), 2);
    assert_eq!(
        main,
        ["a.example 127.0.0.1 \"GET / HTTP/1.1\" 200", "a.example 127.0.0.1 \"GET / HTTP/1.1\" 200"]
    );
    let b = lines_of(&root.join("logs/b_access"), 2);
    assert_eq!(
        b,
        ["b.example 127.0.0.1 \"GET / HTTP/1.1\" 200", "b.example 127.0.0.1 \"GET / HTTP/1.1\" 200"]
    );
});

each_server!(error_documents_and_sections_are_per_vhost, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    let missing = ask(running.addr, Some("b.example"), "/missing");
    assert_eq!((missing.status, missing.body_text().as_str()), (404, "<p>b has no such page</p>\n"));
    let missing = ask(running.addr, Some("a.example"), "/missing");
    assert_eq!(missing.status, 404);
    assert!(missing.body_text().contains("<h1>Not Found</h1>"), "{}", missing.body_text());
    // b's <Location> and <Directory> refuse; a has neither.
    assert_eq!(ask(running.addr, Some("b.example"), "/private/p.txt").status, 403);
    assert_eq!(ask(running.addr, Some("b.example"), "/secret/s.txt").status, 403);
    assert_eq!(page(running.addr, "a.example", "/private/p.txt"), "private\n");
    assert_eq!(page(running.addr, "a.example", "/secret/s.txt"), "secret\n");
});

each_server!(keep_alive_is_per_vhost, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    // a keeps the connection open: a second request on it is answered.
    let mut stream = connect(running.addr);
    for _ in 0..2 {
        std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n").unwrap();
        let response = read_response(&mut stream);
        assert_eq!(response.body_text(), "site a\n");
        assert_eq!(response.header("Connection"), None, "{:?}", response.headers);
    }
    // On the same connection, a request for b (KeepAlive Off) ends it.
    std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: b.example\r\n\r\n").unwrap();
    let response = read_response(&mut stream);
    assert_eq!(response.body_text(), "site b\n");
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(read_to_close(&mut stream).is_empty());
});

each_server!(a_vhosts_error_log_gets_its_requests_lines, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    ask(running.addr, Some("b.example"), "/nothing-in-b");
    ask(running.addr, Some("a.example"), "/nothing-in-a");
    let find = |file: &str, what: &str| {
        wait_for(&format!("{what} in {file}"), Duration::from_secs(10), || {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            text.lines().find(|l| l.contains(what)).map(str::to_string)
        })
    };
    let b_line = find("logs/b_error", "AH00128");
    assert!(b_line.contains("[core:info]"), "{b_line}");
    assert!(
        b_line.ends_with(&format!("AH00128: File does not exist: {}", root.join("b/nothing-in-b").display())),
        "{b_line}"
    );
    find("logs/error_log", "nothing-in-a");
    let main = std::fs::read_to_string(root.join("logs/error_log")).unwrap();
    assert!(!main.contains("nothing-in-b"), "b's line went to the main ErrorLog:\n{main}");
    let b = std::fs::read_to_string(root.join("logs/b_error")).unwrap();
    assert!(!b.contains("nothing-in-a"), "a's line went to b's ErrorLog:\n{b}");
});

each_server!(http_1_1_without_host_is_refused, |server| {
    let root = site(VHOSTS);
    let running = Running::start(server, root.path(), &[]);
    let response = Response::parse(&running.exchange(b"GET / HTTP/1.1\r\n\r\n"));
    assert_eq!(response.status, 400);
    assert_eq!(response.header("Connection"), Some("close"));
});

/// The `<VirtualHost>` sample both `-S` are run on, httpd.conf-style.
const DUMPED: &str = "ServerName main.example
Listen 80
ErrorLog logs/error_log
PidFile logs/httpd.pid
DocumentRoot htdocs
<VirtualHost *:80>
    ServerName a.example
    ServerAlias www.a.example *.a.example b?.a.example
</VirtualHost>
<VirtualHost *:80>
    ServerName b.example:8080
    ServerAlias www.b.example
</VirtualHost>
<VirtualHost 127.0.0.1:80 [::1]:80>
    ServerName ip.example
</VirtualHost>
<VirtualHost *:81>
    ServerName single.example
</VirtualHost>
<VirtualHost *:*>
</VirtualHost>
<VirtualHost 127.0.0.2:*>
    ServerName w
</VirtualHost>
<VirtualHost _default_:82>
    ServerName d
</VirtualHost>
<VirtualHost 127.0.0.1:80>
    ServerName ip2.example
</VirtualHost>
<VirtualHost 10.0.0.1:80>
    ServerName ten
</VirtualHost>
<VirtualHost *>
    ServerName star
</VirtualHost>
";

/// From `VirtualHost configuration:` to the line before `ServerRoot:`.
fn vhost_part(stdout: &str) -> Vec<String> {
    let lines = stdout.lines().skip_while(|l| *l != "VirtualHost configuration:");
    lines.take_while(|l| !l.starts_with("ServerRoot:")).map(str::to_string).collect()
}

each_server!(dash_s_prints_the_vhost_table_as_apache, |server| {
    let root = TempDir::server_root(DUMPED);
    root.mkdir("logs");
    let conf = root.conf();
    let ours = server.run(&["-d", root.path().to_str().unwrap(), "-f", &conf, "-S"], &[]);
    ours.assert_code(0);
    let ours = vhost_part(&ours.stdout);
    assert_eq!(ours.first().map(String::as_str), Some("VirtualHost configuration:"));
    assert!(
        ours.iter().any(|l| l == &format!("*:81                   single.example ({conf}:17)")),
        "{ours:#?}"
    );

    let Some((apache, modules)) = apache() else {
        println!("skipped the comparison with Apache: no apache2 (or httpd) 2.4 with mod_mpm_event.so");
        return;
    };
    // Apache needs an MPM loaded; our binaries skip the block (no mod_so).
    let apache_root = TempDir::server_root(&format!(
        "<IfModule so_module>\n    LoadModule mpm_event_module {}/mod_mpm_event.so\n</IfModule>\n{DUMPED}",
        modules.display()
    ));
    apache_root.mkdir("logs");
    let ours_again =
        server.run(&["-d", apache_root.path().to_str().unwrap(), "-f", &apache_root.conf(), "-S"], &[]);
    let out = Command::new(&apache)
        .args(["-d", apache_root.path().to_str().unwrap(), "-f", &apache_root.conf(), "-S"])
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", apache.display()));
    assert!(out.status.success(), "apache2 -S failed: {}", String::from_utf8_lossy(&out.stderr));
    let theirs = vhost_part(&String::from_utf8_lossy(&out.stdout));
    let ours = vhost_part(&ours_again.stdout);
    assert!(theirs.len() > 10, "apache2 printed no table: {theirs:#?}");
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        assert_eq!(b, a, "line {i} differs; Apache's:\n{}\nours:\n{}", theirs.join("\n"), ours.join("\n"));
    }
    assert_eq!(ours.len(), theirs.len(), "Apache's:\n{}\nours:\n{}", theirs.join("\n"), ours.join("\n"));
});

/// Apache httpd 2.4 (`apache2` or `httpd` on PATH or in /usr/sbin) and the
/// directory holding its mod_mpm_event.so.
fn apache() -> Option<(PathBuf, PathBuf)> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(PathBuf::from("/usr/sbin"));
    let binary = ["apache2", "httpd"]
        .iter()
        .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()))?;
    let version = Command::new(&binary).arg("-v").output().ok()?;
    if !String::from_utf8_lossy(&version.stdout).contains("Apache/2.4") {
        return None;
    }
    let modules = [
        "/usr/lib/apache2/modules",
        "/usr/lib64/httpd/modules",
        "/usr/lib/httpd/modules",
        "/usr/local/apache2/modules",
        "/usr/libexec/apache2",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|d| d.join("mod_mpm_event.so").is_file())?;
    Some((binary, modules))
}
