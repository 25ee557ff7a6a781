//! mod_status: the `server-status` handler. What the scoreboard holds is
//! read once into a [`Snapshot`] (httpd's first loop over every slot and
//! thread), then printed as the `?auto` text, the HTML page (`html`), or,
//! beyond httpd, `?json`.
//!
//! Options are found by substring search in the query string, as httpd
//! does: `auto`, `json`, `notable`, `refresh[=N]`. Only GET and HEAD reach
//! this module; httpd's handler declines other methods, which then get the
//! default handler's answer, and so they do here (see `handler::respond`).
//!
//! CPU times: httpd adds up `times(2)` samples each worker stores in the
//! scoreboard at the end of a request, plus the parent's own. Our scoreboard
//! has no such samples, so the same figures are read live from
//! `/proc/<pid>/stat` for every child in the scoreboard and for the parent
//! (whose "children" times include every child already reaped). Where /proc
//! cannot be read they are 0, and the CPU load line is left out, as httpd
//! leaves it out when its sums are 0.
//!
//! Deliberate differences: without a scoreboard (one-process mode) the
//! answer is 503 and an error-log line, where httpd answers 500 (AH01237,
//! "inetd mode"); `CPULoad` is left out when the uptime is 0 s (httpd
//! divides by zero); the PID key skips disabled slots (httpd lists them).

mod html;
mod json;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Exchange, LogLine, Outcome, dir, with_header_before_type};
use crate::clock::{Civil, MONTHS};
use crate::http::{Body, Response};
use crate::scoreboard::{Scoreboard, WorkerStatus};
use crate::server::ServerContext;

/// The handler name SetHandler gives.
pub(super) const HANDLER: &str = "server-status";

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, 100 a second on
/// every Linux architecture (what `sysconf(_SC_CLK_TCK)` returns).
const TICKS_PER_SECOND: f32 = 100.0;

/// The options of the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Options {
    pub(super) auto: bool,
    pub(super) json: bool,
    pub(super) notable: bool,
    /// The Refresh header's seconds.
    pub(super) refresh: Option<i64>,
}

impl Options {
    /// httpd's table-driven parser: each option is found anywhere in the
    /// query; `refresh=N` with N missing, invalid or below 1 means 10.
    pub(super) fn parse(query: &str) -> Options {
        let refresh = query.find("refresh").map(|at| {
            let after = &query[at + "refresh".len()..];
            let n = after.strip_prefix('=').map_or(0, atol);
            if n < 1 { 10 } else { n }
        });
        Options {
            auto: query.contains("auto"),
            json: query.contains("json"),
            notable: query.contains("notable"),
            refresh,
        }
    }
}

/// C's `atol`: leading blanks, a sign, digits; anything else ends it.
fn atol(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if negative { -n } else { n }
}

/// Answers a GET or HEAD of the status page.
pub(super) fn respond(x: &Exchange<'_>) -> Outcome {
    let Some(board) = x.ctx.scoreboard else {
        let text = "AH01237: Server status unavailable: this process has no scoreboard (one-process mode)";
        return x.error_logged(503, LogLine::error("status", text.to_string()));
    };
    let options = Options::parse(x.target.query.unwrap_or(""));
    let host = dir::server_name_port(x).0;
    let snap = Snapshot::take(x.ctx, board, x.now_us);
    let (content_type, body) = if options.json {
        ("application/json", json::json(x.ctx, &snap, &host))
    } else if options.auto {
        ("text/plain; charset=ISO-8859-1", auto(x.ctx, &snap, &host))
    } else {
        let local = x.conn.local.ip().to_string();
        let (_, port) = dir::server_name_port(x);
        let signature = x.ctx.signature(x.server, &host, port);
        let page = html::page(
            x.ctx,
            &snap,
            &html::Head { host: &host, local: &local, signature: &signature },
            options,
        );
        ("text/html; charset=ISO-8859-1", page)
    };
    let mut response = Response::with_body(200, content_type, Body::Bytes(body.into_bytes()));
    if let Some(seconds) = options.refresh {
        response = with_header_before_type(response, "Refresh", &seconds.to_string());
    }
    Outcome::quiet(response)
}

/// CPU seconds in clock ticks: user, system, children's user, children's system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cpu {
    pub(super) user: u64,
    pub(super) system: u64,
    pub(super) children_user: u64,
    pub(super) children_system: u64,
}

impl Cpu {
    fn add(&mut self, other: Cpu) {
        self.user += other.user;
        self.system += other.system;
        self.children_user += other.children_user;
        self.children_system += other.children_system;
    }

    pub(super) fn total(self) -> u64 {
        self.user + self.system + self.children_user + self.children_system
    }

    /// Ticks as seconds, computed in `float` as httpd does.
    pub(super) fn secs(ticks: u64) -> f32 {
        ticks as f32 / TICKS_PER_SECOND
    }

    /// `/proc/<pid>/stat` fields 14-17.
    fn of(pid: i32) -> Option<Cpu> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, after_name) = stat.rsplit_once(')')?;
        let mut fields = after_name.split_ascii_whitespace().skip(11).map(|f| f.parse::<u64>().ok());
        Some(Cpu {
            user: fields.next()??,
            system: fields.next()??,
            children_user: fields.next()??,
            children_system: fields.next()??,
        })
    }
}

/// One live child process (a slot with a pid).
#[derive(Debug, Clone)]
pub(super) struct Proc {
    pub(super) slot: usize,
    pub(super) pid: i32,
    pub(super) generation: u32,
    pub(super) quiescing: bool,
    pub(super) accepting: bool,
    pub(super) connections: u32,
    pub(super) wait_io: u32,
    pub(super) write_completion: u32,
    pub(super) keep_alive: u32,
    pub(super) lingering_close: u32,
    pub(super) busy: u32,
    pub(super) graceful: u32,
    pub(super) idle: u32,
}

/// One row of the per-worker table (ExtendedStatus).
#[derive(Debug, Clone)]
pub(super) struct Worker {
    pub(super) slot: usize,
    pub(super) thread: usize,
    pub(super) status: WorkerStatus,
    /// The worker's pid, or its process's (httpd shows `-` when Dead).
    pub(super) pid: i32,
    pub(super) generation: u32,
    pub(super) conn_count: u32,
    pub(super) my_access_count: u64,
    pub(super) access_count: u64,
    pub(super) conn_bytes: u64,
    pub(super) my_bytes: u64,
    pub(super) bytes: u64,
    /// Its process's CPU times.
    pub(super) cpu: Cpu,
    /// Seconds since the worker last changed to Ready or Dead.
    pub(super) since_used: i64,
    /// Milliseconds the last request took.
    pub(super) req_ms: i64,
    /// Milliseconds of all its requests.
    pub(super) duration_ms: u64,
    pub(super) client: String,
    pub(super) protocol: String,
    pub(super) vhost: String,
    pub(super) request: String,
}

/// What the page shows, read from the scoreboard in one pass.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    pub(super) now: i64,
    pub(super) restart: i64,
    pub(super) config_generation: u32,
    pub(super) mpm_generation: u32,
    pub(super) uptime: u32,
    pub(super) load: [f64; 3],
    pub(super) extended: bool,
    pub(super) busy: u32,
    pub(super) graceful: u32,
    pub(super) idle: u32,
    /// Requests, kB and ms of every slot that served or serves (ExtendedStatus).
    pub(super) count: u64,
    pub(super) kbytes: u64,
    pub(super) duration_ms: u64,
    pub(super) cpu: Cpu,
    /// One character per slot and thread; ' ' for a disabled one.
    pub(super) stat: Vec<u8>,
    pub(super) threads: usize,
    /// The pid of each slot (0 for none).
    pub(super) pids: Vec<i32>,
    pub(super) procs: Vec<Proc>,
    pub(super) workers: Vec<Worker>,
}

impl Snapshot {
    pub(super) fn take(ctx: &ServerContext, board: &Scoreboard, now_us: i64) -> Snapshot {
        let extended = ctx.main().settings.extended_status;
        let global = board.global();
        let mpm_generation = global.running_generation();
        let (servers, threads) = (board.server_limit(), board.thread_limit());
        // Slots past MaxRequestWorkers' processes or ThreadsPerChild are
        // disabled (not printed) while Dead.
        let max_servers = ctx.capacity.max_children as usize;
        let per_child = (ctx.capacity.threads_per_child as usize).max(1);
        let now = now_us.div_euclid(1_000_000);
        let mut snap = Snapshot {
            now,
            restart: global.restart_time(),
            config_generation: global.config_generation(),
            mpm_generation,
            uptime: u32::try_from(now - global.restart_time()).unwrap_or(0),
            load: load_average(),
            extended,
            busy: 0,
            graceful: 0,
            idle: 0,
            count: 0,
            kbytes: 0,
            duration_ms: 0,
            cpu: Cpu::default(),
            stat: Vec::with_capacity(servers * threads),
            threads,
            pids: Vec::with_capacity(servers),
            procs: Vec::new(),
            workers: Vec::new(),
        };
        let mut cpu_of = CpuCache::default();
        let (mut bytes, mut duration_us) = (0u64, 0u64);
        for slot in 0..servers {
            let ps = board.process(slot);
            let live = ps.pid() != 0 && !ps.quiescing();
            let mut proc = Proc {
                slot,
                pid: ps.pid(),
                generation: ps.generation(),
                quiescing: ps.quiescing(),
                accepting: !ps.not_accepting(),
                connections: ps.connections.load(RELAXED),
                wait_io: ps.wait_io.load(RELAXED),
                write_completion: ps.write_completion.load(RELAXED),
                keep_alive: ps.keep_alive.load(RELAXED),
                lingering_close: ps.lingering_close.load(RELAXED),
                busy: 0,
                graceful: 0,
                idle: 0,
            };
            for thread in 0..threads {
                let ws = board.worker(slot, thread);
                let status = ws.status();
                let disabled = (slot >= max_servers || thread >= per_child) && status == WorkerStatus::Dead;
                snap.stat.push(if disabled { b' ' } else { status.as_char() as u8 });
                if live {
                    match status {
                        WorkerStatus::Ready => {
                            if proc.generation == mpm_generation {
                                snap.idle += 1;
                            }
                            proc.idle += 1;
                        }
                        WorkerStatus::Dead | WorkerStatus::Starting | WorkerStatus::IdleKill => {}
                        WorkerStatus::Graceful => {
                            snap.graceful += 1;
                            proc.graceful += 1;
                        }
                        _ => {
                            snap.busy += 1;
                            proc.busy += 1;
                        }
                    }
                }
                let access_count = ws.access_count.load(RELAXED);
                let active = access_count != 0 || !matches!(status, WorkerStatus::Ready | WorkerStatus::Dead);
                if !extended || !active {
                    continue;
                }
                snap.count += access_count;
                bytes += ws.bytes_served.load(RELAXED);
                duration_us += ws.duration.load(RELAXED);
                let worker_pid = ws.pid.load(RELAXED);
                let (pid, generation) = if worker_pid != 0 {
                    (worker_pid, ws.generation.load(RELAXED))
                } else {
                    (ps.pid(), ps.generation())
                };
                let (start, stop) = (ws.start_time.load(RELAXED), ws.stop_time.load(RELAXED));
                let req_ms = if start == 0 { 0 } else { ((stop - start) / 1000).max(0) };
                let cpu =
                    if status == WorkerStatus::Dead || pid == 0 { Cpu::default() } else { cpu_of.get(pid) };
                snap.workers.push(Worker {
                    slot,
                    thread,
                    status,
                    pid,
                    generation,
                    conn_count: ws.conn_count.load(RELAXED),
                    my_access_count: ws.my_access_count.load(RELAXED),
                    access_count,
                    conn_bytes: ws.conn_bytes.load(RELAXED),
                    my_bytes: ws.my_bytes_served.load(RELAXED),
                    bytes: ws.bytes_served.load(RELAXED),
                    cpu,
                    since_used: now - ws.last_used.load(RELAXED),
                    req_ms,
                    duration_ms: ws.duration.load(RELAXED) / 1000,
                    client: ws.client.get(),
                    protocol: ws.protocol.get(),
                    vhost: ws.vhost.get(),
                    request: ws.request.get(),
                });
            }
            snap.pids.push(ps.pid());
            if ps.pid() != 0 {
                snap.procs.push(proc);
            }
        }
        snap.kbytes = bytes >> 10;
        snap.duration_ms = duration_us / 1000;
        if extended {
            snap.cpu = total_cpu(&snap.pids, &mut cpu_of);
        }
        snap
    }

    /// CPU load in percent of one CPU, when there is CPU time and uptime.
    pub(super) fn cpu_load(&self) -> Option<f64> {
        let ticks = self.cpu.total();
        (ticks != 0 && self.uptime > 0).then(|| f64::from(Cpu::secs(ticks) / self.uptime as f32) * 100.0)
    }
}

const RELAXED: std::sync::atomic::Ordering = std::sync::atomic::Ordering::Relaxed;

/// CPU times read once per pid.
#[derive(Default)]
struct CpuCache(Vec<(i32, Cpu)>);

impl CpuCache {
    fn get(&mut self, pid: i32) -> Cpu {
        if let Some(&(_, cpu)) = self.0.iter().find(|(p, _)| *p == pid) {
            return cpu;
        }
        let cpu = Cpu::of(pid).unwrap_or_default();
        self.0.push((pid, cpu));
        cpu
    }
}

/// Every live child's CPU time plus the parent's (whose children's times
/// cover the children already gone). This process is the parent unless it
/// is one of the children; then the parent is its parent process, when
/// that runs the same program (a `-X` server's parent is a shell).
fn total_cpu(pids: &[i32], cpu_of: &mut CpuCache) -> Cpu {
    let me = std::process::id() as i32;
    let mut total = Cpu::default();
    let mut seen: Vec<i32> = Vec::new();
    for &pid in pids.iter().filter(|&&p| p != 0) {
        if !seen.contains(&pid) {
            seen.push(pid);
            total.add(cpu_of.get(pid));
        }
    }
    let parent = if seen.contains(&me) {
        let ppid = nix::unistd::getppid().as_raw();
        (program_name(ppid).is_some() && program_name(ppid) == program_name(me)).then_some(ppid)
    } else {
        Some(me)
    };
    if let Some(parent) = parent {
        total.add(cpu_of.get(parent));
    }
    total
}

fn program_name(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let start = stat.find('(')?;
    let end = stat.rfind(')')?;
    stat.get(start + 1..end).map(str::to_string)
}

/// `/proc/loadavg`; -1 each where it cannot be read (as httpd's `ap_get_loadavg`).
fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<f64>().unwrap_or(-1.0));
    [(); 3].map(|()| fields.next().unwrap_or(-1.0))
}

/// httpd's DEFAULT_TIME_FORMAT, `%A, %d-%b-%Y %H:%M:%S %Z`, in local time.
pub(super) fn ht_time(unix: i64) -> String {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    const WEEKDAYS: [&str; 7] =
        ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    let zone = ZONE.get_or_init(|| TimeZone::try_system().unwrap_or(TimeZone::UTC));
    let (offset, abbreviation) = match Timestamp::from_second(unix) {
        Ok(ts) => {
            let info = zone.to_offset_info(ts);
            (i64::from(info.offset().seconds()), info.abbreviation().to_string())
        }
        Err(_) => (0, "UTC".to_string()),
    };
    let c = Civil::from_unix(unix + offset);
    format!(
        "{}, {:02}-{}-{} {:02}:{:02}:{:02} {abbreviation}",
        WEEKDAYS[c.weekday as usize % 7],
        c.day,
        MONTHS[(c.month as usize).saturating_sub(1) % 12],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// ` N days N hours N minutes N seconds`, zero parts left out (each part
/// with its leading space, as httpd's `show_time`).
pub(super) fn show_time(secs: u32) -> String {
    let parts = [
        (secs / 86_400, "day"),
        (secs / 3600 % 24, "hour"),
        (secs / 60 % 60, "minute"),
        (secs % 60, "second"),
    ];
    let mut out = String::new();
    for (n, unit) in parts.into_iter().filter(|(n, _)| *n != 0) {
        let _ = write!(out, " {n} {unit}{}", if n == 1 { "" } else { "s" });
    }
    out
}

/// APR's `%g` (`apr_gcvt`): `precision` significant digits, trailing
/// zeros dropped, no leading zero before the point (`.666667`), E-style
/// only when the exponent is below -4 or the digits would need more than
/// four zeros of padding (`1.e+5`).
pub(super) fn g(value: f64, precision: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "nan".into()
        } else if value < 0.0 {
            "-inf".into()
        } else {
            "inf".into()
        };
    }
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    let precision = precision.max(1);
    let (digits, mut decpt) = if value == 0.0 {
        (vec![b'0'; precision], 0i32)
    } else {
        let sci = format!("{:.*e}", precision - 1, value.abs());
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        (digits, exp.parse::<i32>().unwrap_or(0) + 1)
    };
    let mut ndigit = precision;
    while ndigit > 1 && digits[ndigit - 1] == b'0' {
        ndigit -= 1;
    }
    let n = ndigit as i32;
    if (decpt >= 0 && decpt - n > 4) || decpt < -3 {
        decpt -= 1;
        out.push(digits[0] as char);
        out.push('.');
        digits[1..ndigit].iter().for_each(|&d| out.push(d as char));
        out.push('e');
        out.push(if decpt < 0 { '-' } else { '+' });
        let e = decpt.abs();
        if e / 100 > 0 {
            out.push(char::from(b'0' + (e / 100) as u8));
        }
        if e / 10 > 0 {
            out.push(char::from(b'0' + (e % 100 / 10) as u8));
        }
        out.push(char::from(b'0' + (e % 10) as u8));
    } else {
        if decpt <= 0 {
            if digits[0] != b'0' {
                out.push('.');
            }
            (decpt..0).for_each(|_| out.push('0'));
        }
        for (i, &d) in digits[..ndigit].iter().enumerate() {
            out.push(d as char);
            if i as i32 + 1 == decpt {
                out.push('.');
            }
        }
        if n < decpt {
            (n..decpt).for_each(|_| out.push('0'));
            out.push('.');
        }
    }
    if out.ends_with('.') {
        out.pop();
    }
    out
}

/// The ?auto text, httpd's field names in httpd's order.
fn auto(ctx: &ServerContext, s: &Snapshot, host: &str) -> String {
    let mut o = String::with_capacity(1024 + s.stat.len());
    let _ = writeln!(o, "{host}");
    let _ = writeln!(o, "ServerVersion: {}", crate::build_info::server_version(ctx.mpm));
    let _ = writeln!(o, "ServerMPM: {}", ctx.mpm.name());
    let _ = writeln!(o, "Server Built: {}", crate::build_info::built());
    let _ = writeln!(o, "CurrentTime: {}", ht_time(s.now));
    let _ = writeln!(o, "RestartTime: {}", ht_time(s.restart));
    let _ = writeln!(o, "ParentServerConfigGeneration: {}", s.config_generation);
    let _ = writeln!(o, "ParentServerMPMGeneration: {}", s.mpm_generation);
    let _ = writeln!(o, "ServerUptimeSeconds: {}", s.uptime);
    let _ = writeln!(o, "ServerUptime:{}", show_time(s.uptime));
    let _ = writeln!(o, "Load1: {:.2}\nLoad5: {:.2}\nLoad15: {:.2}", s.load[0], s.load[1], s.load[2]);
    if s.extended {
        let _ = writeln!(o, "Total Accesses: {}\nTotal kBytes: {}", s.count, s.kbytes);
        let _ = writeln!(o, "Total Duration: {}", s.duration_ms);
        let c = s.cpu;
        let _ = writeln!(o, "CPUUser: {}", g(f64::from(Cpu::secs(c.user)), 6));
        let _ = writeln!(o, "CPUSystem: {}", g(f64::from(Cpu::secs(c.system)), 6));
        let _ = writeln!(o, "CPUChildrenUser: {}", g(f64::from(Cpu::secs(c.children_user)), 6));
        let _ = writeln!(o, "CPUChildrenSystem: {}", g(f64::from(Cpu::secs(c.children_system)), 6));
        if let Some(load) = s.cpu_load() {
            let _ = writeln!(o, "CPULoad: {}", g(load, 6));
        }
        let _ = writeln!(o, "Uptime: {}", s.uptime);
        let (count, kb, up) = (s.count as f32, s.kbytes as f32, s.uptime as f32);
        if s.uptime > 0 {
            let _ = writeln!(o, "ReqPerSec: {}", g(f64::from(count / up), 6));
            let _ = writeln!(o, "BytesPerSec: {}", g(f64::from(1024.0 * kb / up), 6));
        }
        if s.count > 0 {
            let _ = writeln!(o, "BytesPerReq: {}", g(f64::from(1024.0 * kb / count), 6));
            let _ = writeln!(o, "DurationPerReq: {}", g(f64::from(s.duration_ms as f32 / count), 6));
        }
    }
    let _ = writeln!(o, "BusyWorkers: {}\nGracefulWorkers: {}\nIdleWorkers: {}", s.busy, s.graceful, s.idle);
    if ctx.mpm == crate::mpm::MpmKind::Event {
        let a = Async::of(s);
        let _ =
            writeln!(o, "Processes: {}\nStopping: {}\nConnsTotal: {}", a.procs, a.stopping, a.connections);
        let _ = writeln!(o, "ConnsAsyncWaitIO: {}\nConnsAsyncWriting: {}", a.wait_io, a.write_completion);
        let _ =
            writeln!(o, "ConnsAsyncKeepAlive: {}\nConnsAsyncClosing: {}", a.keep_alive, a.lingering_close);
    }
    o.push_str("Scoreboard: ");
    o.extend(s.stat.iter().filter(|&&c| c != b' ').map(|&c| c as char));
    o.push('\n');
    o
}

/// The event MPM's sums over live processes.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Async {
    pub(super) procs: u32,
    pub(super) stopping: u32,
    pub(super) connections: u32,
    pub(super) wait_io: u32,
    pub(super) write_completion: u32,
    pub(super) keep_alive: u32,
    pub(super) lingering_close: u32,
}

impl Async {
    pub(super) fn of(s: &Snapshot) -> Async {
        let mut a = Async::default();
        for p in &s.procs {
            a.procs += 1;
            a.stopping += u32::from(p.quiescing);
            a.connections += p.connections;
            a.wait_io += p.wait_io;
            a.write_completion += p.write_completion;
            a.keep_alive += p.keep_alive;
            a.lingering_close += p.lingering_close;
        }
        a
    }
}
