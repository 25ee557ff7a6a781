//! The HTML status page, in the order and markup of httpd 2.4's mod_status
//! (the titles keep httpd's wording, which page scrapers look for).

use std::fmt::Write as _;

use super::{Async, Cpu, Options, Snapshot, Worker, g, ht_time, show_time};
use crate::http::status::escape_html;
use crate::mpm::MpmKind;
use crate::scoreboard::WorkerStatus;
use crate::server::ServerContext;

const KBYTE: u64 = 1024;
const MBYTE: u64 = 1_048_576;
const GBYTE: u64 = 1_073_741_824;

/// What the page says about the request that asked for it.
pub(super) struct Head<'a> {
    /// The server name from the request (ap_get_server_name).
    pub(super) host: &'a str,
    /// The address the connection came in on.
    pub(super) local: &'a str,
    /// `<address>...</address>` per ServerSignature, or empty.
    pub(super) signature: &'a str,
}

pub(super) fn page(ctx: &ServerContext, s: &Snapshot, head: &Head<'_>, options: Options) -> String {
    let mut o = String::with_capacity(8192 + s.workers.len() * 400);
    o.push_str(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
         <html><head>\n<title>Apache Status</title>\n</head><body>\n<h1>Apache Server Status for ",
    );
    let _ = write!(o, "{} (via {})</h1>\n\n", escape_html(head.host), head.local);
    let _ = writeln!(o, "<dl><dt>Server Version: {}</dt>", crate::build_info::server_version(ctx.mpm));
    let _ = writeln!(o, "<dt>Server MPM: {}</dt>", ctx.mpm.name());
    let _ = writeln!(o, "<dt>Server Built: {}\n</dt></dl><hr /><dl>", crate::build_info::built());
    let _ = writeln!(o, "<dt>Current Time: {}</dt>", ht_time(s.now));
    let _ = writeln!(o, "<dt>Restart Time: {}</dt>", ht_time(s.restart));
    let _ = writeln!(o, "<dt>Parent Server Config. Generation: {}</dt>", s.config_generation);
    let _ = writeln!(o, "<dt>Parent Server MPM Generation: {}</dt>", s.mpm_generation);
    let _ = writeln!(o, "<dt>Server uptime: {}</dt>", show_time(s.uptime));
    let _ = writeln!(o, "<dt>Server load: {:.2} {:.2} {:.2}</dt>", s.load[0], s.load[1], s.load[2]);
    if s.extended {
        totals(&mut o, s);
    }
    let _ = writeln!(
        o,
        "<dt>{} requests currently being processed, {} workers gracefully restarting, {} idle workers</dt>",
        s.busy, s.graceful, s.idle
    );
    o.push_str("</dl>");
    if ctx.mpm == MpmKind::Event {
        processes(&mut o, s);
    }
    o.push_str("<pre>");
    let visible = s.stat.iter().filter(|&&c| c != b' ');
    for (written, &c) in visible.enumerate() {
        o.push(c as char);
        if written % 64 == 63 {
            o.push('\n');
        }
    }
    o.push_str(
        "</pre>\n<p>Scoreboard Key:<br />\n\
         \"<b><code>_</code></b>\" Waiting for Connection, \n\
         \"<b><code>S</code></b>\" Starting up, \n\
         \"<b><code>R</code></b>\" Reading Request,<br />\n\
         \"<b><code>W</code></b>\" Sending Reply, \n\
         \"<b><code>K</code></b>\" Keepalive (read), \n\
         \"<b><code>D</code></b>\" DNS Lookup,<br />\n\
         \"<b><code>C</code></b>\" Closing connection, \n\
         \"<b><code>L</code></b>\" Logging, \n\
         \"<b><code>G</code></b>\" Gracefully finishing,<br /> \n\
         \"<b><code>I</code></b>\" Idle cleanup of worker, \n\
         \"<b><code>.</code></b>\" Open slot with no current process<br />\n\
         </p>\n",
    );
    if s.extended {
        workers(&mut o, s, options.notable);
    } else {
        pid_key(&mut o, s);
        o.push_str(
            "<hr />To obtain a full report with current status information you need to use the \
             <code>ExtendedStatus On</code> directive.\n",
        );
    }
    if !head.signature.is_empty() {
        let _ = writeln!(o, "<hr />\n{}", head.signature);
    }
    o.push_str("</body></html>\n");
    o
}

/// The three ExtendedStatus lines: totals, CPU, rates.
fn totals(o: &mut String, s: &Snapshot) {
    let _ = writeln!(
        o,
        "<dt>Total accesses: {} - Total Traffic: {} - Total Duration: {}</dt>",
        s.count,
        kbyte_out(s.kbytes),
        s.duration_ms
    );
    let c = s.cpu;
    let secs = |ticks| g(f64::from(Cpu::secs(ticks)), 6);
    let _ = write!(
        o,
        "<dt>CPU Usage: u{} s{} cu{} cs{}",
        secs(c.user),
        secs(c.system),
        secs(c.children_user),
        secs(c.children_system)
    );
    match s.cpu_load() {
        Some(load) => {
            let _ = writeln!(o, " - {}% CPU load</dt>", g(load, 3));
        }
        None => o.push_str("</dt>\n"),
    }
    o.push_str("<dt>");
    let (count, kb, up) = (s.count as f32, s.kbytes as f32, s.uptime as f32);
    if s.uptime > 0 {
        let _ = write!(o, "{} requests/sec - ", g(f64::from(count / up), 3));
        let _ = write!(o, "{}/second", byte_out((1024.0 * kb / up) as u64));
    }
    if s.count > 0 {
        if s.uptime > 0 {
            o.push_str(" - ");
        }
        let per_request = g(f64::from(s.duration_ms as f32 / count), 6);
        let _ = write!(o, "{}/request - {per_request} ms/request", byte_out((1024.0 * kb / count) as u64));
    }
    o.push_str("</dt>\n");
}

/// The event MPM's table of processes, with a `Sum` row.
fn processes(o: &mut String, s: &Snapshot) {
    o.push_str(
        "\n\n<table rules=\"all\" cellpadding=\"1%\">\n\
         <tr><th rowspan=\"2\">Slot</th><th rowspan=\"2\">PID</th><th rowspan=\"2\">Stopping</th>\
         <th colspan=\"2\">Connections</th>\n\
         <th colspan=\"3\">Threads</th><th colspan=\"4\">Async connections</th></tr>\n\
         <tr><th>total</th><th>accepting</th><th>busy</th><th>graceful</th><th>idle</th>\
         <th>wait-io</th><th>writing</th><th>keep-alive</th><th>closing</th></tr>\n",
    );
    for p in &s.procs {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.slot,
            p.pid,
            if p.quiescing { "yes" } else { "no" },
            if p.generation != s.mpm_generation { " (old gen)" } else { "" },
            p.connections,
            if p.accepting { "yes" } else { "no" },
            p.busy,
            p.graceful,
            p.idle,
            p.wait_io,
            p.write_completion,
            p.keep_alive,
            p.lingering_close
        );
    }
    let a = Async::of(s);
    let _ = writeln!(
        o,
        "<tr><td>Sum</td><td>{}</td><td>{}</td><td>{}</td><td>&nbsp;</td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n</table>",
        a.procs,
        a.stopping,
        a.connections,
        s.busy,
        s.graceful,
        s.idle,
        a.wait_io,
        a.write_completion,
        a.keep_alive,
        a.lingering_close
    );
}

/// ExtendedStatus Off: `<pid> in state: <c>`, three to a line.
fn pid_key(o: &mut String, s: &Snapshot) {
    o.push_str("PID Key: <br />\n<pre>\n");
    let mut k = 0;
    for (i, &c) in s.stat.iter().enumerate() {
        if c == b'.' || c == b' ' {
            continue;
        }
        let pid = s.pids.get(i / s.threads.max(1)).copied().unwrap_or(0);
        let _ = write!(o, "   {pid} in state: {} ", c as char);
        k += 1;
        if k >= 3 {
            o.push('\n');
            k = 0;
        } else {
            o.push(',');
        }
    }
    o.push_str("\n</pre>\n");
}

/// The per-worker table and its legend, or with `notable` one paragraph each.
fn workers(o: &mut String, s: &Snapshot, notable: bool) {
    if notable {
        o.push_str("<hr /><h2>Server Details</h2>\n\n");
    } else {
        o.push_str(
            "\n\n<table border=\"0\"><tr><th>Srv</th><th>PID</th><th>Acc</th><th>M</th><th>CPU\n</th>\
             <th>SS</th><th>Req</th><th>Dur</th><th>Conn</th><th>Child</th><th>Slot</th>\
             <th>Client</th><th>Protocol</th><th>VHost</th><th>Request</th></tr>\n\n",
        );
    }
    for w in &s.workers {
        if notable { worker_paragraph(o, w) } else { worker_row(o, w) }
    }
    if !notable {
        o.push_str(
            "</table>\n <hr /> <table>\n \
             <tr><th>Srv</th><td>Child Server number - generation</td></tr>\n \
             <tr><th>PID</th><td>OS process ID</td></tr>\n \
             <tr><th>Acc</th><td>Number of accesses this connection / this child / this slot</td></tr>\n \
             <tr><th>M</th><td>Mode of operation</td></tr>\n\
             <tr><th>CPU</th><td>CPU usage, number of seconds</td></tr>\n\
             <tr><th>SS</th><td>Seconds since beginning of most recent request</td></tr>\n \
             <tr><th>Req</th><td>Milliseconds required to process most recent request</td></tr>\n \
             <tr><th>Dur</th><td>Sum of milliseconds required to process all requests</td></tr>\n \
             <tr><th>Conn</th><td>Kilobytes transferred this connection</td></tr>\n \
             <tr><th>Child</th><td>Megabytes transferred this child</td></tr>\n \
             <tr><th>Slot</th><td>Total megabytes transferred this slot</td></tr>\n \
             </table>\n",
        );
    }
}

fn pid_text(w: &Worker) -> String {
    if w.status == WorkerStatus::Dead { "-".to_string() } else { w.pid.to_string() }
}

fn worker_row(o: &mut String, w: &Worker) {
    let _ = write!(
        o,
        "<tr><td><b>{}-{}</b></td><td>{}</td><td>{}/{}/{}",
        w.slot,
        w.generation,
        pid_text(w),
        w.conn_count,
        w.my_access_count,
        w.access_count
    );
    let mode = match w.status {
        WorkerStatus::Ready | WorkerStatus::Dead | WorkerStatus::Graceful | WorkerStatus::IdleKill => {
            w.status.as_char().to_string()
        }
        other => format!("<b>{}</b>", other.as_char()),
    };
    let _ = write!(
        o,
        "</td><td>{mode}\n</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}",
        f64::from(Cpu::secs(w.cpu.total())),
        w.since_used,
        w.req_ms,
        w.duration_ms
    );
    let _ = writeln!(
        o,
        "</td><td>{:.1}</td><td>{:.2}</td><td>{:.2}",
        w.conn_bytes as f32 / KBYTE as f32,
        w.my_bytes as f32 / MBYTE as f32,
        w.bytes as f32 / MBYTE as f32
    );
    let _ = write!(
        o,
        "</td><td>{}</td><td>{}</td><td nowrap>{}</td><td nowrap>{}</td></tr>\n\n",
        escape_html(&w.client),
        escape_html(&w.protocol),
        escape_html(&w.vhost),
        escape_html(&escape_logitem(&w.request))
    );
}

fn worker_paragraph(o: &mut String, w: &Worker) {
    let pid = if w.status == WorkerStatus::Dead { "-".to_string() } else { w.pid.to_string() };
    let _ = write!(
        o,
        "<b>Server {}-{}</b> ({pid}): {}|{}|{} [",
        w.slot, w.generation, w.conn_count, w.my_access_count, w.access_count
    );
    o.push_str(match w.status {
        WorkerStatus::Ready => "Ready",
        WorkerStatus::Starting => "Starting",
        WorkerStatus::BusyRead => "<b>Read</b>",
        WorkerStatus::BusyWrite => "<b>Write</b>",
        WorkerStatus::BusyKeepalive => "<b>Keepalive</b>",
        WorkerStatus::BusyLog => "<b>Logging</b>",
        WorkerStatus::BusyDns => "<b>DNS lookup</b>",
        WorkerStatus::Closing => "<b>Closing</b>",
        WorkerStatus::Dead => "Dead",
        WorkerStatus::Graceful => "Graceful",
        WorkerStatus::IdleKill => "Dying",
    });
    let secs = |ticks| g(f64::from(Cpu::secs(ticks)), 6);
    let _ = write!(
        o,
        "] u{} s{} cu{} cs{}\n {} {} {}({}|{}|{})\n",
        secs(w.cpu.user),
        secs(w.cpu.system),
        secs(w.cpu.children_user),
        secs(w.cpu.children_system),
        w.since_used,
        w.req_ms,
        w.duration_ms,
        byte_out(w.conn_bytes),
        byte_out(w.my_bytes),
        byte_out(w.bytes)
    );
    let _ = write!(
        o,
        " <i>{} {{{}}}</i> <i>({})</i> <b>[{}]</b><br />\n\n",
        escape_html(&w.client),
        escape_html(&escape_logitem(&w.request)),
        escape_html(&w.protocol),
        escape_html(&w.vhost)
    );
}

/// httpd's `format_byte_out`.
pub(super) fn byte_out(bytes: u64) -> String {
    if bytes < 5 * KBYTE {
        format!("{bytes} B")
    } else if bytes < MBYTE / 2 {
        format!("{:.1} kB", bytes as f32 / KBYTE as f32)
    } else if bytes < GBYTE / 2 {
        format!("{:.1} MB", bytes as f32 / MBYTE as f32)
    } else {
        format!("{:.1} GB", bytes as f32 / GBYTE as f32)
    }
}

/// httpd's `format_kbyte_out`.
pub(super) fn kbyte_out(kbytes: u64) -> String {
    if kbytes < KBYTE {
        format!("{kbytes} kB")
    } else if kbytes < MBYTE {
        format!("{:.1} MB", kbytes as f32 / KBYTE as f32)
    } else {
        format!("{:.1} GB", kbytes as f32 / MBYTE as f32)
    }
}

/// `ap_escape_logitem`: quotes, backslashes and control bytes escaped, so
/// a request line cannot forge markup or lines once HTML-escaped too.
pub(super) fn escape_logitem(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x08' => out.push_str("\\b"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\x0b' => out.push_str("\\v"),
            b' '..=b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}
