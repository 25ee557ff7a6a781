//! server-status end to end: a fabricated scoreboard, the shipped
//! `<Location /server-status>`, and the ?auto text compared line by line
//! with the samples of MPM-SPEC §11 (times, load and CPU vary per run and
//! are checked for shape only).

use std::net::SocketAddr;

use super::html::{byte_out, escape_logitem, kbyte_out};
use super::*;
use crate::config::Settings;
use crate::handler::access::tests::sections;
use crate::handler::path::Target;
use crate::handler::tests::{Reply, Site};
use crate::http::{ConnInfo, Headers, Request, Version};
use crate::mpm::MpmKind;
use crate::scoreboard::Scoreboard;
use json_reader::{Json, parse_json};

/// 2026-11-22T14:24:44Z, as in the samples.
const NOW: i64 = 1_795_357_484;
/// Pids that cannot exist (above Linux's largest pid_max), so no real
/// process's CPU time is read for them.
const PID: i32 = 4_194_400;

#[path = "tests_json.rs"]
mod json_reader;

const SHIPPED: &str = "<Location /server-status>\nSetHandler server-status\nRequire local\n</Location>";

/// A site serving as `mpm` with its default sizes and an empty scoreboard
/// that started 2 s before [`NOW`].
fn status_site(mpm: MpmKind, configure: impl FnOnce(&mut Settings)) -> (Site, &'static Scoreboard) {
    let mut site = Site::with(configure);
    site.ctx.mpm = mpm;
    site.ctx.capacity = crate::limits::capacity(mpm, &site.ctx.servers[0].settings, 1).0;
    let cap = &site.ctx.capacity;
    let board = Scoreboard::create(cap.server_limit as usize, cap.thread_limit as usize).unwrap();
    board.global().set_restart_time(NOW - 2);
    site.ctx.scoreboard = Some(board);
    site.ctx.servers[0].sections = sections(SHIPPED);
    (site, board)
}

/// Starts `children` children of `threads` Ready workers each.
fn start(board: &Scoreboard, children: usize, threads: usize, generation: u32) {
    for slot in 0..children {
        board.process(slot).set_pid(PID + slot as i32);
        board.process(slot).set_generation(generation);
        for thread in 0..threads {
            board.worker(slot, thread).set_status(WorkerStatus::Ready);
        }
    }
}

/// The three requests of the samples: 1.5 kB and 2 ms in all.
fn serve_three(board: &Scoreboard, slots: [(usize, usize); 3]) {
    for ((slot, thread), bytes) in slots.into_iter().zip([512, 512, 512]) {
        board.worker(slot, thread).count_request(bytes, 700);
    }
}

/// Asks `head` from `remote` at [`NOW`].
fn ask_from(site: &Site, head: &str, remote: &str) -> Reply {
    let mut lines = head.lines();
    let line = lines.next().unwrap();
    let mut words = line.split(' ');
    let (method, target) = (words.next().unwrap(), words.next().unwrap());
    let mut headers = Headers::new();
    for field in lines {
        let (name, value) = field.split_once(':').unwrap();
        headers.push(name, value.trim());
    }
    let req = Request {
        method: method.into(),
        target: target.into(),
        version: Version::Http11,
        protocol: "HTTP/1.1".into(),
        line: line.into(),
        headers,
    };
    let remote: SocketAddr = remote.parse().unwrap();
    let conn = ConnInfo { remote, local: "127.0.0.1:8080".parse().unwrap(), tls: None };
    let x = Exchange {
        ctx: &site.ctx,
        server: site.ctx.main(),
        conn: &conn,
        req: &req,
        target: Target::parse(&req.target),
        now_us: NOW * 1_000_000,
    };
    let outcome = crate::handler::respond(&x);
    let log = outcome.log.map(|l| format!("{} {}: {}", l.level, l.module, l.message(&conn)));
    Reply { response: outcome.response, log }
}

fn ask(site: &Site, target: &str) -> Reply {
    ask_from(site, &format!("GET {target} HTTP/1.1\nHost: 127.0.0.1:8080"), "127.0.0.1:50000")
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body()).unwrap()
}

/// Compares ?auto output with `expected` line by line; `*` stands for a
/// value that varies per run (it must still be a number, or a date).
fn check_auto(reply: &Reply, expected: &[String]) {
    assert_eq!(reply.response.status, 200);
    assert_eq!(reply.response.headers.get("Content-Type"), Some("text/plain; charset=ISO-8859-1"));
    let body = text(reply);
    assert!(body.ends_with('\n'));
    // CPULoad is there only when this test process has used CPU time.
    let got: Vec<&str> = body.lines().filter(|l| !l.starts_with("CPULoad: ")).collect();
    assert_eq!(got.len(), expected.len(), "got:\n{body}");
    for (got, want) in got.iter().zip(expected) {
        match want.strip_suffix('*') {
            Some(name) => {
                let value = got.strip_prefix(name).unwrap_or_else(|| panic!("{got} is not {want}"));
                assert!(value.trim().parse::<f64>().is_ok(), "{got}");
            }
            None => assert_eq!(got, want, "in\n{body}"),
        }
    }
    check_names(&body);
}

/// The field names of MPM-SPEC §5.2, in order.
const FIELDS: &[&str] = &[
    "ServerVersion",
    "ServerMPM",
    "Server Built",
    "CurrentTime",
    "RestartTime",
    "ParentServerConfigGeneration",
    "ParentServerMPMGeneration",
    "ServerUptimeSeconds",
    "ServerUptime",
    "Load1",
    "Load5",
    "Load15",
    "Total Accesses",
    "Total kBytes",
    "Total Duration",
    "CPUUser",
    "CPUSystem",
    "CPUChildrenUser",
    "CPUChildrenSystem",
    "CPULoad",
    "Uptime",
    "ReqPerSec",
    "BytesPerSec",
    "BytesPerReq",
    "DurationPerReq",
    "BusyWorkers",
    "GracefulWorkers",
    "IdleWorkers",
    "Processes",
    "Stopping",
    "ConnsTotal",
    "ConnsAsyncWaitIO",
    "ConnsAsyncWriting",
    "ConnsAsyncKeepAlive",
    "ConnsAsyncClosing",
    "Scoreboard",
];

/// Every line after the first is `Name: value` with a name of §5.2, each
/// once, in §5.2's order, as a monitoring tool splits them.
fn check_names(body: &str) {
    let mut next = 0;
    for line in body.lines().skip(1) {
        let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("no colon: {line}"));
        assert!(value.starts_with(' ') || value.is_empty(), "{line}");
        let at = FIELDS.iter().position(|f| *f == name).unwrap_or_else(|| panic!("unknown field {name}"));
        assert!(at >= next, "{name} out of order");
        next = at + 1;
    }
    assert_eq!(FIELDS[next - 1], "Scoreboard");
}

/// The lines every ?auto starts with (uptime 2 s, generations as given).
fn head_lines(mpm: MpmKind, config_gen: u32, mpm_gen: u32) -> Vec<String> {
    vec![
        "127.0.0.1".to_string(),
        format!("ServerVersion: {}", crate::build_info::server_version(mpm)),
        format!("ServerMPM: {}", mpm.name()),
        format!("Server Built: {}", crate::build_info::built()),
        format!("CurrentTime: {}", ht_time(NOW)),
        format!("RestartTime: {}", ht_time(NOW - 2)),
        format!("ParentServerConfigGeneration: {config_gen}"),
        format!("ParentServerMPMGeneration: {mpm_gen}"),
        "ServerUptimeSeconds: 2".into(),
        "ServerUptime: 2 seconds".into(),
        "Load1: *".into(),
        "Load5: *".into(),
        "Load15: *".into(),
    ]
}

/// The ExtendedStatus lines for the three sample requests.
fn traffic_lines() -> Vec<String> {
    [
        "Total Accesses: 3",
        "Total kBytes: 1",
        "Total Duration: 2",
        "CPUUser: *",
        "CPUSystem: *",
        "CPUChildrenUser: *",
        "CPUChildrenSystem: *",
        "Uptime: 2",
        "ReqPerSec: 1.5",
        "BytesPerSec: 512",
        "BytesPerReq: 341.333",
        "DurationPerReq: .666667",
    ]
    .map(String::from)
    .to_vec()
}

fn counts(busy: u32, graceful: u32, idle: u32) -> Vec<String> {
    vec![
        format!("BusyWorkers: {busy}"),
        format!("GracefulWorkers: {graceful}"),
        format!("IdleWorkers: {idle}"),
    ]
}

#[test]
fn auto_prefork_as_the_sample() {
    let (site, board) = status_site(MpmKind::Prefork, |_| {});
    start(board, 5, 1, 0);
    board.worker(2, 0).set_status(WorkerStatus::BusyWrite);
    serve_three(board, [(0, 0), (1, 0), (2, 0)]);
    let mut expected = head_lines(MpmKind::Prefork, 1, 0);
    expected.extend(traffic_lines());
    expected.extend(counts(1, 0, 4));
    expected.push(format!("Scoreboard: __W__{}", ".".repeat(251)));
    check_auto(&ask(&site, "/server-status?auto"), &expected);

    // ExtendedStatus Off: no traffic lines.
    let (site, board) = status_site(MpmKind::Prefork, |s| s.extended_status = false);
    start(board, 5, 1, 0);
    board.worker(2, 0).set_status(WorkerStatus::BusyWrite);
    let mut expected = head_lines(MpmKind::Prefork, 1, 0);
    expected.extend(counts(1, 0, 4));
    expected.push(format!("Scoreboard: __W__{}", ".".repeat(251)));
    check_auto(&ask(&site, "/server-status?auto"), &expected);

    // MaxRequestWorkers below ServerLimit: the slots past it are not shown
    // while empty.
    let (site, board) = status_site(MpmKind::Prefork, |s| s.max_request_workers = Some(10));
    start(board, 2, 1, 0);
    board.worker(200, 0).set_status(WorkerStatus::Graceful);
    let body = text(&ask(&site, "/server-status?auto"));
    assert!(body.ends_with(&format!("\nScoreboard: __{}G\n", ".".repeat(8))), "{body}");
}

#[test]
fn auto_worker_as_the_sample() {
    let (site, board) = status_site(MpmKind::Worker, |_| {});
    start(board, 3, 25, 0);
    board.worker(1, 2).set_status(WorkerStatus::BusyWrite);
    serve_three(board, [(0, 0), (0, 1), (1, 2)]);
    let mut expected = head_lines(MpmKind::Worker, 1, 0);
    expected.extend(traffic_lines());
    expected.extend(counts(1, 0, 74));
    let board_line = format!("{}W{}{}", "_".repeat(27), "_".repeat(47), ".".repeat(325));
    assert_eq!(board_line.len(), 400);
    expected.push(format!("Scoreboard: {board_line}"));
    check_auto(&ask(&site, "/server-status?auto"), &expected);
}

#[test]
fn auto_event_as_the_samples() {
    let (site, board) = status_site(MpmKind::Event, |_| {});
    start(board, 3, 25, 0);
    board.worker(2, 2).set_status(WorkerStatus::BusyWrite);
    serve_three(board, [(0, 0), (0, 1), (2, 2)]);
    for slot in 0..3 {
        board.process(slot).connections.store(2, RELAXED);
    }
    board.process(0).keep_alive.store(4, RELAXED);
    board.process(1).lingering_close.store(2, RELAXED);
    board.process(2).wait_io.store(1, RELAXED);
    board.process(2).write_completion.store(3, RELAXED);
    let mut expected = head_lines(MpmKind::Event, 1, 0);
    expected.extend(traffic_lines());
    expected.extend(counts(1, 0, 74));
    expected.extend(
        [
            "Processes: 3",
            "Stopping: 0",
            "ConnsTotal: 6",
            "ConnsAsyncWaitIO: 1",
            "ConnsAsyncWriting: 3",
            "ConnsAsyncKeepAlive: 4",
            "ConnsAsyncClosing: 2",
        ]
        .map(String::from),
    );
    let board_line = format!("{}W{}{}", "_".repeat(52), "_".repeat(22), ".".repeat(325));
    expected.push(format!("Scoreboard: {board_line}"));
    check_auto(&ask(&site, "/server-status?auto"), &expected);
}

#[test]
fn auto_event_after_a_graceful_restart() {
    // Generation 1: three new children; the old child in slot 3 is
    // stopping with one thread still finishing a request.
    let (site, board) = status_site(MpmKind::Event, |s| s.extended_status = false);
    board.global().set_running_generation(1);
    board.global().set_config_generation(2);
    start(board, 3, 25, 1);
    board.process(3).set_pid(PID + 3);
    board.process(3).set_quiescing(true);
    board.process(3).set_not_accepting(true);
    board.worker(3, 7).set_status(WorkerStatus::Graceful);
    let mut expected = head_lines(MpmKind::Event, 2, 1);
    expected.extend(counts(0, 0, 75));
    expected.extend(
        [
            "Processes: 4",
            "Stopping: 1",
            "ConnsTotal: 0",
            "ConnsAsyncWaitIO: 0",
            "ConnsAsyncWriting: 0",
            "ConnsAsyncKeepAlive: 0",
            "ConnsAsyncClosing: 0",
        ]
        .map(String::from),
    );
    let old_row = format!("{}G{}", ".".repeat(7), ".".repeat(17));
    expected.push(format!("Scoreboard: {}{old_row}{}", "_".repeat(75), ".".repeat(300)));
    check_auto(&ask(&site, "/server-status?auto"), &expected);

    // Ready threads of an old generation that is not stopping are not idle.
    board.process(0).set_generation(0);
    assert!(text(&ask(&site, "/server-status?auto")).contains("\nIdleWorkers: 50\n"));
    let page = text(&ask(&site, "/server-status"));
    assert!(page.contains(&format!("<tr><td>0</td><td>{PID}</td><td>no (old gen)</td>")), "{page}");
    assert!(
        page.contains(&format!(
            "<tr><td>3</td><td>{}</td><td>yes (old gen)</td><td>0</td><td>no</td>",
            PID + 3
        ))
    );
    assert!(page.contains(
        "<tr><td>Sum</td><td>4</td><td>1</td><td>0</td><td>&nbsp;</td><td>0</td><td>0</td><td>50</td>"
    ));
}

#[test]
fn access_is_checked_before_the_status_handler() {
    let (mut site, _) = status_site(MpmKind::Prefork, |_| {});
    assert_eq!(ask_from(&site, "GET /server-status HTTP/1.1\nHost: x", "[::1]:4000").response.status, 200);
    let denied = ask_from(&site, "GET /server-status?auto HTTP/1.1\nHost: x", "203.0.113.5:4000");
    assert_eq!(denied.response.status, 403);
    assert_eq!(denied.response.headers.get("Content-Type"), Some("text/html; charset=iso-8859-1"));
    let root = site.root.path().display();
    assert_eq!(
        denied.log.as_deref(),
        Some(&*format!(
            "ERROR authz_core: [client 203.0.113.5:4000] AH01630: client denied by server configuration: {root}/server-status"
        ))
    );
    // The section covers the paths below it, not a longer name.
    assert_eq!(ask_from(&site, "GET /server-status/x HTTP/1.1", "203.0.113.5:4000").response.status, 403);
    assert_eq!(ask_from(&site, "GET /server-statusx HTTP/1.1", "203.0.113.5:4000").response.status, 404);
    site.ctx.servers[0].sections = sections(&SHIPPED.replace("Require local", "Require ip 203.0.113.0/24"));
    assert_eq!(ask_from(&site, "GET /server-status HTTP/1.1", "203.0.113.5:4000").response.status, 200);
    assert_eq!(ask_from(&site, "GET /server-status HTTP/1.1", "127.0.0.1:4000").response.status, 403);
    site.ctx.servers[0].sections = sections(&SHIPPED.replace("Require local", "Require all denied"));
    assert_eq!(ask(&site, "/server-status").response.status, 403);
    // The static files behind a denying Directory are refused alike.
    site.ctx.servers[0].sections = sections("<Directory />\nRequire all denied\n</Directory>");
    assert_eq!(ask(&site, "/a.json").response.status, 403);
    assert_eq!(ask(&site, "/server-status").response.status, 403);
    // Without the section the path is an ordinary (missing) file.
    site.ctx.servers[0].sections.clear();
    assert_eq!(ask(&site, "/server-status").response.status, 404);
}

#[test]
fn methods_options_and_headers() {
    let (site, board) = status_site(MpmKind::Prefork, |_| {});
    start(board, 1, 1, 0);
    let head = ask_from(&site, "HEAD /server-status?auto HTTP/1.1\nHost: x", "127.0.0.1:1");
    assert_eq!(head.response.status, 200);
    assert_eq!(head.response.headers.get("Content-Type"), Some("text/plain; charset=ISO-8859-1"));
    // Declined by mod_status, answered by the default handler.
    let post = ask_from(&site, "POST /server-status HTTP/1.1\nHost: x", "127.0.0.1:1");
    assert_eq!(post.response.status, 404);
    assert!(post.log.unwrap().contains("AH00128: File does not exist: "));
    let options = ask_from(&site, "OPTIONS /server-status HTTP/1.1\nHost: x", "127.0.0.1:1");
    assert_eq!(
        (options.response.status, options.response.headers.get("Allow")),
        (200, Some("HEAD,GET,POST,OPTIONS,TRACE"))
    );
    assert_eq!(
        ask_from(&site, "DELETE /server-status HTTP/1.1\nHost: x", "127.0.0.1:1").response.status,
        405
    );
    // Refresh goes before the type, as httpd sends it.
    for (query, seconds) in [
        ("refresh=5", "5"),
        ("refresh", "10"),
        ("refresh=0", "10"),
        ("refresh=x", "10"),
        ("auto&refresh=3", "3"),
    ] {
        let reply = ask(&site, &format!("/server-status?{query}"));
        let names: Vec<&str> = reply.response.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Refresh", "Content-Type"], "{query}");
        assert_eq!(reply.response.headers.get("Refresh"), Some(seconds), "{query}");
    }
    assert!(ask(&site, "/server-status").response.headers.get("Refresh").is_none());
    // No scoreboard (one-process mode): 503 and why.
    let mut site = site;
    site.ctx.scoreboard = None;
    let reply = ask(&site, "/server-status?auto");
    assert_eq!(reply.response.status, 503);
    assert!(reply.log.unwrap().contains("AH01237: Server status unavailable"));
}

#[test]
fn options_are_substrings() {
    let o = |q: &str| Options::parse(q);
    assert_eq!(o(""), Options::default());
    assert!(o("auto").auto && o("x=autox").auto && !o("aut").auto);
    assert!(o("json").json && o("notable").notable);
    assert_eq!(o("refresh=7").refresh, Some(7));
    assert_eq!(o("refresh= 7x").refresh, Some(7));
    assert_eq!(o("refresh=-3").refresh, Some(10));
    assert_eq!(o("norefresh").refresh, Some(10));
    assert_eq!(o("auto").refresh, None);
}

#[test]
fn numbers_as_apr_prints_them() {
    let cases: &[(f64, usize, &str)] = &[
        (0.0, 6, "0"),
        (1.5, 6, "1.5"),
        (512.0, 6, "512"),
        (1024.0 / 3.0, 6, "341.333"),
        (2.0 / 3.0, 6, ".666667"),
        (1.0 / 3.0, 6, ".333333"),
        (0.05, 6, ".05"),
        (0.0001, 6, ".0001"),
        (0.00001, 6, "1.e-5"),
        (0.000123456, 6, ".000123456"),
        (0.0000123456, 6, "1.23456e-5"),
        (100_000.0, 6, "1.e+5"),
        (102_400.0, 6, "102400"),
        (123_456.0, 6, "123456"),
        (1_234_567.0, 6, "1234570"),
        (12_345_678_900.0, 6, "1.23457e+10"),
        (99.999996, 6, "100"),
        (-2.5, 6, "-2.5"),
        (1e100, 6, "1.e+100"),
        (4.0333, 3, "4.03"),
        (2.5149, 3, "2.51"),
        (1212.18, 6, "1212.18"),
    ];
    for &(v, precision, want) in cases {
        assert_eq!(g(v, precision), want, "{v} %.{precision}g");
    }
    assert_eq!(show_time(0), "");
    assert_eq!(show_time(1), " 1 second");
    assert_eq!(show_time(60), " 1 minute");
    assert_eq!(show_time(3661), " 1 hour 1 minute 1 second");
    assert_eq!(show_time(6 * 86_400 + 8 * 3600 + 27 * 60 + 13), " 6 days 8 hours 27 minutes 13 seconds");
    assert_eq!(show_time(2 * 86_400 + 2), " 2 days 2 seconds");
    assert_eq!([byte_out(4000), byte_out(112_538), byte_out(3_000_000)], ["4000 B", "109.9 kB", "2.9 MB"]);
    assert_eq!([kbyte_out(1), kbyte_out(2048), kbyte_out(60_293_939)], ["1 kB", "2.0 MB", "57.5 GB"]);
    assert_eq!(escape_logitem("GET /\"a\\b\x01\u{e9} x"), "GET /\\\"a\\\\b\\x01\\xc3\\xa9 x");
    let date = ht_time(NOW);
    let (day, rest) = date.split_once(", ").unwrap();
    assert!(day.ends_with("day") && rest.len() >= "22-Nov-2026 14:24:44 X".len(), "{date}");
}

#[test]
fn html_page() {
    let (site, board) = status_site(MpmKind::Prefork, |_| {});
    start(board, 70, 1, 0);
    board.worker(2, 0).set_status(WorkerStatus::BusyWrite);
    serve_three(board, [(0, 0), (1, 0), (2, 0)]);
    board.worker(2, 0).request.set("GET /<script>\"x\" HTTP/1.1", false);
    board.worker(2, 0).client.set("10.0.0.1", false);
    board.worker(2, 0).vhost.set("a&b:80", false);
    board.worker(2, 0).protocol.set("http/1.1", false);
    let reply = ask(&site, "/server-status");
    assert_eq!(reply.response.headers.get("Content-Type"), Some("text/html; charset=ISO-8859-1"));
    let page = text(&reply);
    let in_order = [
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"",
        "<title>Apache Status</title>",
        "<h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1>\n\n<dl><dt>Server Version: prefork-server/",
        "<dt>Server MPM: prefork</dt>\n<dt>Server Built: ",
        "\n</dt></dl><hr /><dl>\n<dt>Current Time: ",
        "<dt>Parent Server Config. Generation: 1</dt>\n<dt>Parent Server MPM Generation: 0</dt>\n",
        "<dt>Server uptime:  2 seconds</dt>\n<dt>Server load: ",
        "<dt>Total accesses: 3 - Total Traffic: 1 kB - Total Duration: 2</dt>\n<dt>CPU Usage: u",
        "<dt>1.5 requests/sec - 512 B/second - 341 B/request - .666667 ms/request</dt>\n",
        "<dt>1 requests currently being processed, 0 workers gracefully restarting, 69 idle workers</dt>\n</dl><pre>",
        &format!("__W{}\n{}\n", "_".repeat(61), "_".repeat(6) + &".".repeat(58)),
        &format!("{d}\n{d}\n</pre>\n<p>Scoreboard Key:<br />\n", d = ".".repeat(64)),
        "\" Open slot with no current process<br />\n</p>\n",
        "<th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n",
        &format!("<tr><td><b>0-0</b></td><td>{PID}</td><td>1/1/1</td><td>_\n</td><td>"),
        &format!("<tr><td><b>2-0</b></td><td>{}</td><td>1/1/1</td><td><b>W</b>\n</td><td>", PID + 2),
        "</td><td>0.5</td><td>0.00</td><td>0.00\n</td><td>10.0.0.1</td><td>http/1.1</td>\
         <td nowrap>a&amp;b:80</td><td nowrap>GET /&lt;script&gt;\\&quot;x\\&quot; HTTP/1.1</td></tr>",
        "<tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n </table>\n</body></html>\n",
    ];
    let mut from = 0;
    for part in in_order {
        let at = page[from..].find(part).unwrap_or_else(|| panic!("missing after {from}: {part:?}\n{page}"));
        from += at + part.len();
    }
    assert_eq!(page.matches("<tr><td><b>").count(), 3, "only slots that served or serve");

    let notable = text(&ask(&site, "/server-status?notable"));
    assert!(notable.contains("<hr /><h2>Server Details</h2>\n\n<b>Server 0-0</b> ("));
    assert!(notable.contains(": 1|1|1 [<b>Write</b>] u"));
    assert!(notable.contains(" <i>10.0.0.1 {GET /&lt;script&gt;\\&quot;x\\&quot; HTTP/1.1}</i> <i>(http/1.1)</i> <b>[a&amp;b:80]</b><br />"));
    assert!(!notable.contains("<table"));

    let (site, board) = status_site(MpmKind::Worker, |s| {
        s.extended_status = false;
        s.server_signature = crate::config::ServerSignature::On;
    });
    start(board, 1, 4, 0);
    board.worker(0, 1).set_status(WorkerStatus::BusyKeepalive);
    let page = text(&ask(&site, "/server-status"));
    let key = format!(
        "PID Key: <br />\n<pre>\n   {PID} in state: _ ,   {PID} in state: K ,   {PID} in state: _ \n   {PID} in state: _ ,\n</pre>\n"
    );
    assert!(page.contains(&key), "{page}");
    assert!(page.contains("<hr />To obtain a full report with current status information you need to use the <code>ExtendedStatus On</code> directive.\n<hr />\n<address>"));
    assert!(!page.contains("Total accesses"));
}

#[test]
fn json_has_the_same_data() {
    let (site, board) = status_site(MpmKind::Event, |_| {});
    start(board, 2, 25, 0);
    board.worker(1, 3).set_status(WorkerStatus::BusyWrite);
    serve_three(board, [(0, 0), (0, 1), (1, 3)]);
    board.worker(1, 3).request.set("GET /\"q\"\\\x01</x> HTTP/1.1", false);
    let reply = ask(&site, "/server-status?json");
    assert_eq!(reply.response.headers.get("Content-Type"), Some("application/json"));
    let doc = parse_json(&text(&reply));
    let auto = text(&ask(&site, "/server-status?auto"));
    // Every ?auto field is there under its name without spaces.
    for line in auto.lines().skip(1).filter(|l| !l.starts_with("CPU") && !l.starts_with("Load")) {
        let (name, value) = line.split_once(": ").unwrap();
        let got = doc.get(&name.replace(' ', "")).unwrap_or_else(|| panic!("{name} missing"));
        match got {
            Json::Str(s) => assert_eq!(s, value.trim_start(), "{name}"),
            Json::Num(n) => {
                assert!((n - g_parse(value)).abs() < 1e-3 * n.abs().max(1.0), "{name}: {n} vs {value}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(doc.get("ServerName"), Some(&Json::Str("127.0.0.1".into())));
    assert_eq!(doc.get("ExtendedStatus"), Some(&Json::Bool(true)));
    let Some(Json::Arr(slots)) = doc.get("slots") else { panic!("slots") };
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[1].get("busy"), Some(&Json::Num(1.0)));
    assert_eq!(slots[1].get("idle"), Some(&Json::Num(24.0)));
    let Some(Json::Arr(workers)) = doc.get("workers") else { panic!("workers") };
    assert_eq!(workers.len(), 3);
    assert_eq!(workers[2].get("status"), Some(&Json::Str("W".into())));
    assert_eq!(workers[2].get("request"), Some(&Json::Str("GET /\"q\"\\\x01</x> HTTP/1.1".into())));
    assert_eq!(workers[2].get("pid"), Some(&Json::Num(f64::from(PID + 1))));
}

/// `.666667` as a number.
fn g_parse(s: &str) -> f64 {
    s.trim().parse().unwrap()
}

#[test]
fn cpu_times_come_from_proc() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return;
    }
    // Burn a few clock ticks, then find them in this process's times.
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < std::time::Duration::from_millis(60) {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
    let me = Cpu::of(std::process::id() as i32).unwrap();
    assert!(me.user + me.system > 0, "{me:?}");
    assert!(Cpu::of(PID).is_none());
    // Not a child in the scoreboard: this process is the parent.
    let mut cache = CpuCache::default();
    assert!(total_cpu(&[PID, 0], &mut cache).total() >= me.total());
    assert!(program_name(std::process::id() as i32).is_some());
}
