//! Tests of LogFormat rendering (every `%` code, conditions, escaping, errors)
//! and of AccessLog's files: open, reopen, pipes, whole lines under load.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::config::CustomLogSpec;
use crate::http::{ConnInfo, Headers, Request, Version};
use crate::logs::entry::ConnStatus;

const COMBINED: &str = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"";

/// What a [`LogEntry`] borrows.
struct Fixture {
    conn: ConnInfo,
    request: Request,
    response_headers: Headers,
    status: u16,
    body_bytes: u64,
    received: SystemTime,
    duration: Duration,
    keepalives: u32,
    conn_status: ConnStatus,
    server_name: String,
}

impl Fixture {
    /// `GET /a.json` from curl at 2026-11-23T17:19:36.25Z, served in 1.5 s.
    fn new() -> Fixture {
        let mut request = Request::new();
        request.method = "GET".into();
        request.target = "/a.json".into();
        request.protocol = "HTTP/1.1".into();
        request.line = "GET /a.json HTTP/1.1".into();
        request.headers.push("Host", "Example.COM:8080");
        request.headers.push("User-Agent", "curl/8.0");
        request.headers.push("Cookie", "a=1; session = abc ; b=2");
        let mut response_headers = Headers::new();
        response_headers.push("Content-Type", "application/json; charset=utf-8");
        response_headers.push("ETag", "\"3-abc\"");
        response_headers.push("Set-Cookie", "x=1");
        response_headers.push("Set-Cookie", "y=2");
        Fixture {
            conn: ConnInfo { remote: addr("127.0.0.1:39636"), local: addr("127.0.0.2:8080"), tls: None },
            request,
            response_headers,
            status: 200,
            body_bytes: 3,
            received: UNIX_EPOCH + Duration::from_micros(1_795_454_376_250_000),
            duration: Duration::from_micros(1_500_000),
            keepalives: 2,
            conn_status: ConnStatus::KeepAlive,
            server_name: "www.example.com".into(),
        }
    }

    fn entry(&self) -> LogEntry<'_> {
        LogEntry {
            conn: &self.conn,
            request: &self.request,
            status: self.status,
            response_headers: &self.response_headers,
            body_bytes: self.body_bytes,
            received: self.received,
            duration: self.duration,
            keepalives: self.keepalives,
            conn_status: self.conn_status,
            server_name: &self.server_name,
        }
    }

    /// The line `format` gives for this entry (UTC), without its newline.
    fn render(&self, format: &str) -> String {
        let format = LogFormat::parse(format).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let ctx = RenderContext { zone: LogZone::utc(), canonical_name: false, server_port: 80 };
        let mut line = Vec::new();
        format.render(&self.entry(), &ctx, &mut line);
        let line = String::from_utf8(line).expect("escaped lines are ASCII");
        line.strip_suffix('\n').expect("a line ends with a newline").to_string()
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

fn check(format: &str, expected: &str) {
    assert_eq!(Fixture::new().render(format), expected, "format {format:?}");
}

fn check_with(change: impl FnOnce(&mut Fixture), format: &str, expected: &str) {
    let mut fixture = Fixture::new();
    change(&mut fixture);
    assert_eq!(fixture.render(format), expected, "format {format:?}");
}

#[test]
fn every_code() {
    let tid = nix::unistd::gettid().as_raw();
    let cases: &[(&str, String)] = &[
        ("%%", "%".into()),
        ("100%% sure", "100% sure".into()),
        ("%h %a %{c}a %A", "127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.2".into()),
        ("%l %u", "- -".into()),
        ("%t", "[23/Nov/2026:17:19:36 +0000]".into()),
        ("%{begin}t|%{end}t", "[23/Nov/2026:17:19:36 +0000]|[23/Nov/2026:17:19:37 +0000]".into()),
        ("%{sec}t %{msec}t %{usec}t", "1795454376 1795454376250 1795454376250000".into()),
        ("%{msec_frac}t %{usec_frac}t %{end:usec_frac}t", "250 250000 750000".into()),
        ("%{end:sec}t", "1795454377".into()),
        ("%{%Y-%m-%dT%H:%M:%S}t", "2026-11-23T17:19:36".into()),
        ("%{begin:%d/%b}t %{end:%S}t", "23/Nov 37".into()),
        ("%r", "GET /a.json HTTP/1.1".into()),
        ("%s %>s %<s", "200 200 200".into()),
        ("%b %B", "3 3".into()),
        ("%D %T %{s}T %{ms}T %{us}T %{MS}T", "1500000 1 1 1500 1500000 1500".into()),
        ("%{bogus}T %{bogus}P %{bogus}p", "bogus bogus bogus".into()),
        ("%P %{pid}P", format!("{0} {0}", std::process::id())),
        ("%{tid}P %{hextid}P", format!("{tid} {tid:x}")),
        ("%k %X", "2 +".into()),
        ("%{User-Agent}i %{user-agent}i %{Referer}i", "curl/8.0 curl/8.0 -".into()),
        ("%{Content-Type}o", "application/json".into()),
        ("%{etag}o %{Set-Cookie}o %{Location}o", "\\\"3-abc\\\" x=1, y=2 -".into()),
        ("%{session}C %{SESSION}C %{a}C %{b}C %{none}C", "abc abc 1 2 -".into()),
        ("%v %V", "www.example.com example.com".into()),
        ("%p %{canonical}p %{local}p %{remote}p", "80 80 8080 39636".into()),
        ("%m %U %q %H", "GET /a.json  HTTP/1.1".into()),
        ("%e %{X}e %{X}n %f %R %L %{X}^ti %{X}^to", "- - - - - - - -".into()),
    ];
    for (format, expected) in cases {
        check(format, expected);
    }
}

#[test]
fn common_and_combined_are_apaches_lines() {
    check(COMMON_LOG_FORMAT, "127.0.0.1 - - [23/Nov/2026:17:19:36 +0000] \"GET /a.json HTTP/1.1\" 200 3");
    check(
        COMBINED,
        "127.0.0.1 - - [23/Nov/2026:17:19:36 +0000] \"GET /a.json HTTP/1.1\" 200 3 \"-\" \"curl/8.0\"",
    );
    check_with(
        |f| {
            f.status = 304;
            f.body_bytes = 0;
            f.request.headers.push("Referer", "http://a/b");
        },
        COMBINED,
        "127.0.0.1 - - [23/Nov/2026:17:19:36 +0000] \"GET /a.json HTTP/1.1\" 304 - \"http://a/b\" \"curl/8.0\"",
    );
}

#[test]
fn values_that_vary() {
    check_with(|f| f.body_bytes = 0, "%b %B", "- 0");
    check_with(|f| f.conn_status = ConnStatus::Close, "%X", "-");
    check_with(|f| f.conn_status = ConnStatus::Aborted, "%X", "X");
    check_with(|f| f.status = 0, "%s", "-");
    check_with(|f| f.request.target = "/a?x=1&y".into(), "%U|%q", "/a|?x=1&y");
    check_with(|f| f.request.target = "/a?".into(), "%U|%q", "/a|?");
    check_with(|f| f.request.target = "http://h.example/p?q".into(), "%U%q", "/p?q");
    check_with(|f| f.request.headers.push("user-agent", "second"), "%{User-Agent}i", "curl/8.0, second");
    check_with(|f| f.request.headers.set("Host", "[::1]:80"), "%V", "::1");
    check_with(|f| f.request.headers.remove("Host"), "%V", "www.example.com");
    check_with(|f| f.response_headers.remove("Set-Cookie"), "%{Set-Cookie}o", "-");
    check_with(|f| f.conn.remote = addr("[::1]:5555"), "%h %{remote}p", "::1 5555");
    check_with(|f| f.conn.remote = addr("[::ffff:10.0.0.1]:5555"), "%a", "10.0.0.1");
    check_with(|f| f.duration = Duration::from_micros(999), "%D %T %{ms}T", "999 0 0");
}

#[test]
fn the_canonical_name_and_port_come_from_settings() {
    let fixture = Fixture::new();
    let format = LogFormat::parse("%V %p").unwrap();
    let ctx = RenderContext { zone: LogZone::utc(), canonical_name: true, server_port: 8443 };
    let mut line = Vec::new();
    format.render(&fixture.entry(), &ctx, &mut line);
    assert_eq!(line, b"www.example.com 8443\n");
    assert_eq!(server_name_port("www.example.com:8443"), Some(8443));
    assert_eq!(server_name_port("https://[::1]:9"), Some(9));
    assert_eq!(server_name_port("www.example.com"), None);
}

#[test]
fn the_local_zone_shows_in_t() {
    let fixture = Fixture::new();
    let format = LogFormat::parse("%t %{%z}t").unwrap();
    let ctx =
        RenderContext { zone: LogZone::fixed(-(4 * 3600 + 1800)), canonical_name: false, server_port: 80 };
    let mut line = Vec::new();
    format.render(&fixture.entry(), &ctx, &mut line);
    assert_eq!(String::from_utf8(line).unwrap(), "[23/Nov/2026:12:49:36 -0430] -0430\n");
}

#[test]
fn status_conditions() {
    check("%200{User-Agent}i", "curl/8.0");
    check("%404{User-Agent}i", "-");
    check("%!200{User-Agent}i", "-");
    check("%!404,500{User-Agent}i", "curl/8.0");
    check("%200,304>s %<404s", "200 -");
    check_with(|f| f.status = 501, "%400,501{User-agent}i", "curl/8.0");
    check_with(|f| f.status = 302, "%400,501{User-agent}i", "-");
}

#[test]
fn client_text_is_escaped() {
    let hostile = "a\"b\\c\u{1}\n\t\r\u{8}\u{b}\u{7f}é";
    let escaped = r#"a\"b\\c\x01\n\t\r\b\v\x7f\xc3\xa9"#;
    check_with(|f| f.request.headers.set("User-Agent", hostile), "%{User-Agent}i", escaped);
    check_with(|f| f.response_headers.set("Location", hostile), "%{Location}o", escaped);
    check_with(
        |f| f.request.line = format!("GET /{hostile} HTTP/1.1"),
        "%r",
        &format!("GET /{escaped} HTTP/1.1"),
    );
    check_with(|f| f.request.method = hostile.into(), "%m", escaped);
    check_with(|f| f.request.target = format!("/?{hostile}"), "%q", &format!("?{escaped}"));
    check_with(|f| f.request.protocol = hostile.into(), "%H", escaped);
    check_with(|f| f.server_name = hostile.into(), "%v", escaped);
    // %U is the decoded path, escaped after decoding; a bad escape stays.
    check_with(|f| f.request.target = "/a%20b%22%0a%ff%zz%4".into(), "%U", r#"/a b\"\n\xff%zz%4"#);
}

#[test]
fn requests_that_did_not_parse() {
    let unparsed = |line: &str| {
        let line = line.to_string();
        move |f: &mut Fixture| {
            f.request = Request::new();
            f.request.line = line;
            f.status = 400;
        }
    };
    check_with(
        unparsed("GARBAGE\u{1}"),
        "\"%r\" %m %U [%q] %H %{Host}i %>s",
        "\"GARBAGE\\x01\" - - [] - - 400",
    );
    // A connection closed before a request line: httpd logs "-" 408.
    check_with(unparsed(""), "\"%r\" %>s", "\"-\" 400");
    check_with(
        |f| {
            f.request.line = "GET /".into();
            f.request.protocol = String::new();
            f.request.version = Version::Http09;
        },
        "%r|%H",
        "GET /|HTTP/0.9",
    );
}

#[test]
fn literal_text_and_its_escapes() {
    check(r"a\tb\nc\\d\qe", "a\tb\nc\\d\\qe");
    check(r"end\", "end\\");
    check("ünïcode %>s", "ünïcode 200");
}

#[test]
fn format_errors_are_httpds() {
    let cases = [
        ("%Z", "Unrecognized LogFormat directive %Z"),
        ("%h %I", "Unrecognized LogFormat directive %I"),
        ("%O", "Unrecognized LogFormat directive %O"),
        ("%{x}^xx", "Unrecognized LogFormat directive %^"),
        ("%é", "Unrecognized LogFormat directive %é"),
        ("%", "Ran off end of LogFormat parsing args to some directive"),
        ("%{User-Agent", "Ran off end of LogFormat parsing args to some directive"),
        ("%400,", "Ran off end of LogFormat parsing args to some directive"),
    ];
    for (format, message) in cases {
        assert_eq!(LogFormat::parse(format).unwrap_err(), message, "format {format:?}");
    }
}

/// Splits a combined-format line the way log analysers do, as the pattern
/// `^(\S+) (\S+) (\S+) \[([^]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\S+) "(...)" "(...)"$`
/// reads it (quoted fields may hold `\"`).
fn parse_combined(line: &str) -> Option<[String; 9]> {
    fn token<'a>(rest: &mut &'a str) -> Option<&'a str> {
        let end = rest.find(' ').unwrap_or(rest.len());
        let (field, after) = rest.split_at(end);
        *rest = after.strip_prefix(' ').unwrap_or(after);
        (!field.is_empty()).then_some(field)
    }
    fn delimited<'a>(rest: &mut &'a str, open: char, close: char) -> Option<&'a str> {
        let inner = rest.strip_prefix(open)?;
        let mut escaped = false;
        let end = inner.char_indices().find_map(|(i, c)| {
            let found = !escaped && c == close;
            escaped = !escaped && c == '\\' && open == '"';
            found.then_some(i)
        })?;
        let after = &inner[end + 1..];
        *rest = after.strip_prefix(' ').unwrap_or(after);
        Some(&inner[..end])
    }
    let mut rest = line.strip_suffix('\n')?;
    let fields = [
        token(&mut rest)?,
        token(&mut rest)?,
        token(&mut rest)?,
        delimited(&mut rest, '[', ']')?,
        delimited(&mut rest, '"', '"')?,
        token(&mut rest).filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))?,
        token(&mut rest)?,
        delimited(&mut rest, '"', '"')?,
        delimited(&mut rest, '"', '"')?,
    ];
    rest.is_empty().then(|| fields.map(String::from))
}

#[test]
fn a_combined_line_parses_field_by_field() {
    let dir = TempDir::new("combined");
    let path = dir.path("access_log");
    let mut settings = Settings::default();
    settings.log_format.insert("combined".into(), COMBINED.into());
    settings.custom_log.push(CustomLogSpec { target: path.display().to_string(), format: "combined".into() });
    let log = AccessLog::open(&settings).unwrap();
    let mut fixture = Fixture::new();
    fixture.request.headers.set("User-Agent", "Mozilla/5.0 (X11) \"quoted\" \\ agent");
    fixture.request.headers.push("Referer", "http://example.com/a b");
    log.log(&fixture.entry());
    let text = fs::read_to_string(&path).unwrap();
    let fields = parse_combined(&text).unwrap_or_else(|| panic!("unparsable: {text:?}"));
    assert_eq!(fields[0], "127.0.0.1");
    assert_eq!((fields[1].as_str(), fields[2].as_str()), ("-", "-"));
    // The date is local time, in whatever zone the test runs.
    let (date, zone) = fields[3].split_once(' ').unwrap();
    assert_eq!(date.len(), "23/Nov/2026:17:19:36".len(), "{date}");
    assert!(zone.len() == 5 && (zone.starts_with('+') || zone.starts_with('-')), "{zone}");
    assert_eq!(fields[4], "GET /a.json HTTP/1.1");
    assert_eq!((fields[5].as_str(), fields[6].as_str()), ("200", "3"));
    assert_eq!(fields[7], "http://example.com/a b");
    assert_eq!(fields[8], r#"Mozilla/5.0 (X11) \"quoted\" \\ agent"#);
}

#[test]
fn open_resolves_nicknames_and_defaults() {
    let dir = TempDir::new("nicknames");
    let target = |name: &str| dir.path(name).display().to_string();
    let mut settings = Settings::default();
    settings.log_format.insert("short".into(), "%>s %b".into());
    settings.custom_log = vec![
        CustomLogSpec { target: target("a"), format: "short".into() },
        CustomLogSpec { target: target("b"), format: String::new() },
        CustomLogSpec { target: target("c"), format: "CLF".into() },
        CustomLogSpec { target: target("d"), format: "%m %U".into() },
    ];
    let log = AccessLog::open(&settings).unwrap();
    let clf = "127.0.0.1 - - [23/Nov/2026:17:19:36 +0000] \"GET /a.json HTTP/1.1\" 200 3\n";
    let lines: Vec<String> = log
        .render(&Fixture::new().entry())
        .into_iter()
        .map(|l| l.replace(&local_clf_date(), clf_date()))
        .collect();
    assert_eq!(lines, ["200 3\n", clf, clf, "GET /a.json\n"]);
    // LogFormat without a nickname replaces the default.
    settings.log_format.insert(String::new(), "%h".into());
    let lines = AccessLog::open(&settings).unwrap().render(&Fixture::new().entry());
    assert_eq!(lines[1], "127.0.0.1\n");
    assert!(AccessLog::open(&Settings::default()).unwrap().render(&Fixture::new().entry()).is_empty());
}

/// The fixture's `%t` in the test's own zone, and in UTC.
fn local_clf_date() -> String {
    let mut out = Vec::new();
    super::super::time::push_clf(&mut out, &LogZone::system().local(Fixture::new().received));
    String::from_utf8(out).unwrap()
}

fn clf_date() -> &'static str {
    "[23/Nov/2026:17:19:36 +0000]"
}

#[test]
fn open_reports_httpds_errors() {
    let dir = TempDir::new("errors");
    let mut settings = Settings::default();
    settings
        .custom_log
        .push(CustomLogSpec { target: dir.path("x").display().to_string(), format: "%h %Z".into() });
    let e = AccessLog::open(&settings).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "Unrecognized LogFormat directive %Z");
    let missing = dir.path("no/such/dir/access_log").display().to_string();
    settings.custom_log = vec![CustomLogSpec { target: missing.clone(), format: String::new() }];
    let e = AccessLog::open(&settings).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("(2)No such file or directory: AH00649: could not open transfer log file {missing}.")
    );
}

#[test]
fn reopen_follows_a_rotated_file() {
    let dir = TempDir::new("rotate");
    let path = dir.path("access_log");
    let mut settings = Settings::default();
    settings.custom_log.push(CustomLogSpec { target: path.display().to_string(), format: "%>s".into() });
    let log = AccessLog::open(&settings).unwrap();
    log.log(&Fixture::new().entry());
    fs::rename(&path, dir.path("access_log.1")).unwrap();
    log.log(&Fixture::new().entry());
    log.reopen().unwrap();
    log.log(&Fixture::new().entry());
    assert_eq!(fs::read_to_string(dir.path("access_log.1")).unwrap(), "200\n200\n");
    assert_eq!(fs::read_to_string(&path).unwrap(), "200\n");
}

#[test]
fn piped_logs_get_every_line_before_they_stop() {
    let dir = TempDir::new("pipe");
    let (shell_out, exec_out) = (dir.path("shell"), dir.path("exec"));
    let settings = Settings {
        custom_log: vec![
            CustomLogSpec {
                target: format!("|$cat | cat > '{}'", shell_out.display()),
                format: "%>s %k".into(),
            },
            CustomLogSpec { target: format!("|cat > '{}'", exec_out.display()), format: "%U".into() },
        ],
        ..Settings::default()
    };
    let log = AccessLog::open(&settings).unwrap();
    for keepalives in 0..100 {
        let mut fixture = Fixture::new();
        fixture.keepalives = keepalives;
        log.log(&fixture.entry());
    }
    drop(log); // closes the pipes and waits for the programs
    let expected: String = (0..100).map(|k| format!("200 {k}\n")).collect();
    assert_eq!(fs::read_to_string(&shell_out).unwrap(), expected);
    assert_eq!(fs::read_to_string(&exec_out).unwrap(), "/a.json\n".repeat(100));
}

#[test]
fn a_failing_log_does_not_panic() {
    let log = AccessLog::for_test("%>s", fs::File::open("/dev/null").unwrap(), LogZone::utc()).unwrap();
    log.log(&Fixture::new().entry()); // opened read-only: EBADF, reported once
    log.log(&Fixture::new().entry());
    assert!(log.logs[0].failing.load(Ordering::Relaxed));
}

#[test]
fn many_threads_write_whole_lines() {
    const THREADS: usize = 8;
    const LINES: u32 = 1000;
    let dir = TempDir::new("threads");
    let path = dir.path("access_log");
    let file = sink::open_append(&path).unwrap();
    // Long lines, so that a torn write would show.
    let log = AccessLog::for_test("%{X-Thread}i %k %{User-Agent}i %>s", file, LogZone::utc()).unwrap();
    let agent = "x".repeat(700);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (log, agent) = (&log, &agent);
            scope.spawn(move || {
                let mut fixture = Fixture::new();
                fixture.request.headers.push("X-Thread", thread.to_string());
                fixture.request.headers.set("User-Agent", agent.as_str());
                for k in 0..LINES {
                    fixture.keepalives = k;
                    log.log(&fixture.entry());
                }
            });
        }
    });
    let text = fs::read_to_string(&path).unwrap();
    let mut seen = vec![vec![false; LINES as usize]; THREADS];
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert!(matches!(fields[..], [_, _, ua, "200"] if ua == agent), "torn line: {line:.80}");
        let (thread, k): (usize, usize) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
        assert!(!seen[thread][k], "line {thread} {k} twice");
        seen[thread][k] = true;
    }
    assert_eq!(text.lines().count(), THREADS * LINES as usize);
    assert!(seen.iter().flatten().all(|&s| s));
}

#[test]
fn access_log_is_shared_by_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AccessLog>();
}

/// A directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("httpd-logs-{}-{n}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
