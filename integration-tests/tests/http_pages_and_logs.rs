//! What the real binaries write besides files: ErrorDocument, ServerSignature,
//! the access log in Apache's combined format, and httpd's error-log lines.

use std::time::{Duration, Instant};

use integration_tests::http::{Response, Running};
use integration_tests::{TempDir, each_server};

fn site(extra: &str) -> TempDir {
    let root = TempDir::server_root(&format!(
        "ServerName localhost\n\
         ServerTokens Prod\n\
         TypesConfig mime.types\n\
         ErrorLog logs/error_log\n\
         LogLevel info\n\
         LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{{Referer}}i\\\" \\\"%{{User-Agent}}i\\\"\" combined\n\
         CustomLog logs/access_log combined\n\
         {extra}\n"
    ));
    root.write("mime.types", "text/html html\napplication/json json\n");
    root.mkdir("logs");
    root.write("htdocs/a.json", "{}\n");
    root.write("htdocs/oops.html", "<p>custom not found</p>\n");
    root
}

/// Waits (polling, with a deadline) until `path` has at least `n` lines.
fn lines_of(path: &std::path::Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut pause = Duration::from_millis(1);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} lines, expected {n}:\n{text}",
            path.display(),
            lines.len()
        );
        std::thread::sleep(pause); // back-off between checks
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Splits a combined-format line as Apache log tools read it:
/// `host ident user [time] "request" status bytes "referer" "agent"`.
fn combined_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let (field, after) = match rest.as_bytes()[0] {
            b'[' => {
                let end = rest.find(']').expect("closing ]");
                (&rest[1..end], &rest[end + 1..])
            }
            b'"' => {
                // Quotes inside are escaped as \" by httpd.
                let bytes = rest.as_bytes();
                let mut end = 1;
                while bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                (&rest[1..end], &rest[end + 1..])
            }
            _ => {
                let end = rest.find(' ').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        fields.push(field.to_string());
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    fields
}

each_server!(access_log_lines_parse_as_apaches_combined_format, |server| {
    let root = site("");
    let running = Running::start(server, root.path(), &[]);
    running.exchange(
        b"GET /a.json?x=1 HTTP/1.1\r\nHost: x\r\nReferer: http://example.com/\r\nUser-Agent: test \"agent\"/1.0\r\nConnection: close\r\n\r\n",
    );
    running.exchange(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let lines = lines_of(&root.join("logs/access_log"), 2);
    let first = combined_fields(&lines[0]);
    assert_eq!(first.len(), 9, "{}", lines[0]);
    assert_eq!(&first[0], "127.0.0.1");
    assert_eq!((&first[1][..], &first[2][..]), ("-", "-"));
    // [23/Nov/2026:17:19:36 +0000]
    let time = &first[3];
    assert_eq!(time.len(), 26, "{time}");
    assert_eq!((&time[2..3], &time[6..7], &time[11..12], &time[20..21]), ("/", "/", ":", " "));
    assert_eq!(&first[4], "GET /a.json?x=1 HTTP/1.1");
    assert_eq!((&first[5][..], &first[6][..]), ("200", "3"));
    assert_eq!(&first[7], "http://example.com/");
    assert_eq!(&first[8], "test \\\"agent\\\"/1.0");
    let second = combined_fields(&lines[1]);
    assert_eq!((&second[4][..], &second[5][..], &second[7][..]), ("GET /nope HTTP/1.1", "404", "-"));
});

each_server!(error_log_lines_have_httpds_shape, |server| {
    let root = site("");
    let running = Running::start(server, root.path(), &[]);
    running.exchange(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let path = root.join("logs/error_log");
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains("AH00128")) {
            break l.to_string();
        }
        assert!(Instant::now() < deadline, "no AH00128 line in:\n{text}");
        std::thread::sleep(Duration::from_millis(20)); // polling interval
    };
    // [Mon Nov 23 17:18:31.123456 2026] [core:info] [pid N:tid T] [client 127.0.0.1:P] AH00128: File does not exist: ...
    assert!(line.starts_with('['), "{line}");
    assert!(line.contains("] [core:info] [pid "), "{line}");
    // The pid is the serving process's: the server's own, or a child's.
    let pid_field = line.split("[pid ").nth(1).and_then(|r| r.split(']').next()).unwrap_or("");
    let (pid, tid) = pid_field.split_once(":tid ").unwrap_or(("", ""));
    assert!(pid.parse::<u32>().is_ok() && tid.parse::<u32>().is_ok(), "{line}");
    assert!(running.pid() > 0);
    assert!(line.contains("] [client 127.0.0.1:"), "{line}");
    assert!(
        line.ends_with(&format!("AH00128: File does not exist: {}", root.join("htdocs/nope").display())),
        "{line}"
    );
});

each_server!(error_document_text_local_and_redirect, |server| {
    let root = site(
        "ErrorDocument 404 /oops.html\nErrorDocument 403 \"go away\"\nErrorDocument 405 http://example.com/help\n\
         ErrorDocument 416 default",
    );
    root.write("htdocs/.htsecret", "x");
    let running = Running::start(server, root.path(), &[]);
    let r = Response::parse(&running.exchange(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert_eq!((r.status, r.body_text().as_str()), (404, "<p>custom not found</p>\n"));
    let r = Response::parse(
        &running.exchange(b"GET /.htsecret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!((r.status, r.body_text().as_str()), (403, "go away"));
    let r =
        Response::parse(&running.exchange(b"PUT /a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert_eq!((r.status, r.header("Location")), (302, Some("http://example.com/help")));
});

each_server!(server_signature_on_error_pages, |server| {
    let root = site("ServerSignature On");
    let running = Running::start(server, root.path(), &[]);
    let r = Response::parse(
        &running.exchange(b"GET /nope HTTP/1.1\r\nHost: www.example.com:8123\r\nConnection: close\r\n\r\n"),
    );
    let address = format!("<address>{} Server at www.example.com Port 8123</address>", server.binary_name());
    assert!(r.body_text().contains(&format!("<hr>\n{address}\n</body></html>")), "{}", r.body_text());
    assert_eq!(r.header("Server"), Some(server.binary_name()));
});
