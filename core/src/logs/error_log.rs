//! ErrorLog and LogLevel: records of the `log` macros, filtered and written by
//! env_logger as httpd's error-log lines:
//!
//! ```text
//! [Mon Nov 23 17:18:31.123456 2026] [mpm_event:notice] [pid 9500:tid 9500] AH00489: ...
//! ```
//!
//! # Targets
//!
//! A record's target names the httpd module shown in the line: `core`,
//! `http`, `mime`, `dir`, `log_config`, `status`, `authz_core`, `mpm_prefork`,
//! `mpm_worker`, `mpm_event`, or `mpm` for whichever MPM the binary embeds.
//! A record with no explicit target has its Rust module path as target; that
//! maps to a module too (`httpd_core::logs::*` to `log_config`,
//! `httpd_core::handler::mime` to `mime`, `event_server::*` to `mpm_event`,
//! anything else to `core`).
//!
//! httpd has levels `log` lacks. A target may start with one and a colon; the
//! line then shows that level:
//!
//! - `notice:module` with `log::warn!` (or the [`notice!`](crate::notice)
//!   macro): httpd's `notice`, written whatever LogLevel says, as
//!   `log_error_core` always lets APLOG_NOTICE through (startup, restart and
//!   shutdown messages).
//! - `emerg:`, `alert:`, `crit:` with `log::error!`.
//! - `trace2:` .. `trace8:` with `log::trace!` (plain `trace!` is trace1).
//!
//! # Levels
//!
//! `LogLevel` maps onto env_logger filters exactly: `warn` passes error and
//! warn records (and every notice); `crit` passes only `crit:`, `alert:`,
//! `emerg:` records and notices; `trace3` passes trace1..trace3. A
//! `module:level` pair (`LogLevel info ssl:warn`) applies to that module's
//! targets and module paths; `mod_ssl.c` and `ssl_module` name `ssl`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use log::{Level, LevelFilter};

use super::sink::{self, PipedProgram};
use super::time::{self, LogZone};
use crate::config::{LOG_LEVELS, Settings};
use crate::mpm::MpmKind;

#[doc(hidden)]
pub use log as __log;

/// Logs at httpd's `notice` level: `notice!(target: "mpm", "AH00489: ...")`.
/// Always written, whatever LogLevel says (see the module docs).
#[macro_export]
macro_rules! notice {
    (target: $module:literal, $($arg:tt)+) => {
        $crate::logs::error_log::__log::warn!(target: concat!("notice:", $module), $($arg)+)
    };
}

// Indexes into LOG_LEVELS (httpd's APLOG_* numbers).
const ERROR: usize = 3;
const WARN: usize = 4;
const NOTICE: usize = 5;
const INFO: usize = 6;
const DEBUG: usize = 7;

/// The longest line httpd writes (MAX_STRING_LEN), newline included.
const MAX_LINE: usize = 8192;

/// Rust module paths and the httpd module their records belong to; the
/// longest matching prefix wins. `mpm` is added for the running MPM.
const MODULE_PATHS: [(&str, &str); 9] = [
    ("httpd_core::logs", "log_config"),
    ("httpd_core::handler::mime", "mime"),
    ("httpd_core::handler::dir", "dir"),
    ("httpd_core::handler::status", "status"),
    ("httpd_core::status", "status"),
    ("prefork_server", "mpm_prefork"),
    ("worker_server", "mpm_worker"),
    ("event_server", "mpm_event"),
    ("httpd_core", "core"),
];

/// Where lines go; swapped by [`reopen`].
enum Sink {
    Stderr,
    File {
        file: File,
        /// Set for a file target, which [`reopen`] opens again.
        path: Option<String>,
        _program: Option<PipedProgram>,
    },
}

static SINK: RwLock<Sink> = RwLock::new(Sink::Stderr);
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// A `<VirtualHost>`'s own ErrorLog: the lines about its requests go there
/// instead of to the main ErrorLog, as httpd's `ap_log_rerror` writes to
/// `r->server`'s log. Opened with the server's other logs; a restart opens
/// it anew.
pub struct ServerErrorLog {
    sink: Sink,
}

impl fmt::Debug for ServerErrorLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sink {
            Sink::File { path: Some(path), .. } => write!(f, "ServerErrorLog({path})"),
            _ => f.write_str("ServerErrorLog(piped)"),
        }
    }
}

impl ServerErrorLog {
    /// Opens `target` (a path or `|program`). `Ok(None)` for syslog, which
    /// is not supported yet (the lines stay in the main ErrorLog, said with
    /// a warning).
    pub fn open(target: &str, mpm: MpmKind) -> Result<Option<Arc<ServerErrorLog>>, String> {
        let (sink, warning) = open_sink(target, mpm)?;
        if let Some(warning) = warning {
            log::warn!(target: "core", "{warning}");
        }
        Ok(match sink {
            Sink::Stderr => None,
            sink => Some(Arc::new(ServerErrorLog { sink })),
        })
    }
}

thread_local! {
    /// The ErrorLog of the server whose request this thread is serving,
    /// when it has one of its own (see [`serve_for`]).
    static CURRENT: RefCell<Option<Arc<ServerErrorLog>>> = const { RefCell::new(None) };
}

/// Sends this thread's error-log lines to `log` (a server's own ErrorLog)
/// until the next call; `None` for the main ErrorLog. The connection engine
/// calls it whenever the server it serves for changes, and with `None`
/// when it returns. Allocates nothing.
pub fn serve_for(log: Option<&Arc<ServerErrorLog>>) {
    let _ = CURRENT.try_with(|current| {
        if let Ok(mut current) = current.try_borrow_mut() {
            let same = match (&*current, log) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if !same {
                *current = log.cloned();
            }
        }
    });
}

/// env_logger's pipe: each record arrives whole in one `write_all`, which
/// leaves in one `write(2)` (O_APPEND for a file; stderr is unbuffered).
/// A line goes to the current server's own ErrorLog if it has one.
struct SinkWriter;

impl SinkWriter {
    /// One whole line in one `write(2)` (a short write is finished, as `write_all`).
    fn write_to(sink: &Sink, line: &[u8]) -> io::Result<()> {
        match sink {
            Sink::Stderr => io::stderr().write_all(line),
            Sink::File { file, .. } => (&*file).write_all(line),
        }
    }
}

impl SinkWriter {
    fn write_some(sink: &Sink, buf: &[u8]) -> io::Result<usize> {
        match sink {
            Sink::Stderr => io::stderr().write(buf),
            Sink::File { file, .. } => (&*file).write(buf),
        }
    }
}

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let to_server_log = CURRENT.try_with(|current| {
            let current = current.try_borrow().ok()?;
            Some(SinkWriter::write_some(&current.as_ref()?.sink, buf))
        });
        if let Ok(Some(written)) = to_server_log {
            return written;
        }
        match &*SINK.read().unwrap_or_else(PoisonError::into_inner) {
            Sink::Stderr => io::stderr().write(buf),
            Sink::File { file, .. } => (&*file).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts the error log on `settings.error_log` (a path, `|program`, or
/// `syslog[:facility]`, which is not supported yet and falls back to stderr
/// with a warning) at `settings.log_level`. Call once per process, before
/// the first fork: children inherit the logger (each line reads its own pid).
/// A second call returns an error.
pub fn init(settings: &Settings, mpm: MpmKind) -> Result<(), String> {
    install(settings, mpm, Some(&settings.error_log))
}

/// [`init`], writing to stderr whatever ErrorLog says (tests, and runs that
/// should keep the log on the terminal).
pub fn init_stderr(settings: &Settings, mpm: MpmKind) -> Result<(), String> {
    install(settings, mpm, None)
}

fn install(settings: &Settings, mpm: MpmKind, target: Option<&str>) -> Result<(), String> {
    if INITIALIZED.swap(true, Ordering::SeqCst) {
        return Err("the error log is already started".into());
    }
    let opened = match target {
        None => Ok((Sink::Stderr, None)),
        Some(target) => open_sink(target, mpm),
    };
    let (sink, warning) = opened.inspect_err(|_| INITIALIZED.store(false, Ordering::SeqCst))?;
    *SINK.write().unwrap_or_else(PoisonError::into_inner) = sink;
    builder(&settings.log_level, mpm, LogZone::system(), env_logger::Target::Pipe(Box::new(SinkWriter)))
        .try_init()
        .map_err(|e| format!("cannot start the error log: {e}"))?;
    if let Some(warning) = warning {
        log::warn!(target: "core", "{warning}");
    }
    Ok(())
}

/// Opens the ErrorLog target; a warning to log once the logger runs.
fn open_sink(target: &str, mpm: MpmKind) -> Result<(Sink, Option<String>), String> {
    if let Some(program) = target.strip_prefix('|') {
        let (file, program_handle) = sink::spawn_piped(program).map_err(|e| {
            format!("{}: AH00089: Couldn't start ErrorLog process '{}'.", sink::os_error(&e), program.trim())
        })?;
        return Ok((Sink::File { file, path: None, _program: Some(program_handle) }, None));
    }
    if target == "syslog" || target.starts_with("syslog:") {
        let warning = format!("ErrorLog {target}: syslog is not supported yet; logging to stderr");
        return Ok((Sink::Stderr, Some(warning)));
    }
    let file = open_error_file(target, mpm)?;
    Ok((Sink::File { file, path: Some(target.to_string()), _program: None }, None))
}

fn open_error_file(path: &str, mpm: MpmKind) -> Result<File, String> {
    sink::open_append(Path::new(path)).map_err(|e| {
        format!("{}: AH00091: {}: could not open error log file {path}.", sink::os_error(&e), mpm.binary())
    })
}

/// Reopens a file ErrorLog (logrotate, restart), swapping the descriptor
/// atomically. Stderr and piped logs stay as they are.
pub fn reopen(mpm: MpmKind) -> Result<(), String> {
    let mut sink = SINK.write().unwrap_or_else(PoisonError::into_inner);
    if let Sink::File { file, path: Some(path), .. } = &mut *sink {
        *file = open_error_file(path, mpm)?;
    }
    Ok(())
}

/// Whether [`init`] (or [`init_stderr`]) has started the error log.
pub(super) fn is_started() -> bool {
    INITIALIZED.load(Ordering::SeqCst)
}

/// Writes one line for `module` at `level` straight to ErrorLog, whatever
/// LogLevel says and without env_logger (whose lock the caller may hold: a
/// panic inside a log call). Returns false when the line could not be
/// written: the error log is not started, or this thread holds the sink's
/// write lock ([`reopen`]), or the write failed.
pub(super) fn write_unfiltered(module: &str, level: &str, message: fmt::Arguments<'_>) -> bool {
    if !is_started() {
        return false;
    }
    let parts = LineParts {
        time: SystemTime::now(),
        zone: &LogZone::system(),
        module,
        level,
        pid: std::process::id(),
        tid: nix::unistd::gettid().as_raw(),
        source: None,
    };
    let mut line = Vec::with_capacity(256);
    render_line(&mut line, &parts, message);
    // Another thread holds the write lock only while it swaps a descriptor;
    // this one may hold it (a panic in `reopen`), so never block on it.
    for _ in 0..100 {
        match SINK.try_read() {
            Ok(sink) => return SinkWriter::write_to(&sink, &line).is_ok(),
            Err(std::sync::TryLockError::Poisoned(sink)) => {
                return SinkWriter::write_to(&sink.into_inner(), &line).is_ok();
            }
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
        }
    }
    false
}

/// The env_logger builder for `levels` (LogLevel), writing httpd's lines to
/// `target` in `zone`.
pub(crate) fn builder(
    levels: &BTreeMap<String, String>,
    mpm: MpmKind,
    zone: LogZone,
    target: env_logger::Target,
) -> env_logger::Builder {
    let mut builder = env_logger::Builder::new();
    for (name, level) in directives(levels, mpm) {
        builder.filter(name.as_deref(), level);
    }
    builder.target(target).write_style(env_logger::WriteStyle::Never).format(move |buf, record| {
        let (module, level) = module_and_level(record.target(), record.level(), mpm);
        let verbose = LOG_LEVELS.iter().position(|l| *l == level).is_some_and(|i| i >= DEBUG);
        let parts = LineParts {
            time: SystemTime::now(),
            zone: &zone,
            module,
            level,
            pid: std::process::id(),
            tid: nix::unistd::gettid().as_raw(),
            source: record.file().zip(record.line()).filter(|_| verbose),
        };
        let mut line = Vec::with_capacity(256);
        render_line(&mut line, &parts, *record.args());
        buf.write_all(&line)
    });
    builder
}

/// The level a record at `p` (an index into LOG_LEVELS) has in `log`'s terms,
/// as a filter: the least filter that lets it through.
fn record_filter(p: usize) -> LevelFilter {
    match p {
        0..=ERROR => LevelFilter::Error,
        WARN | NOTICE => LevelFilter::Warn,
        INFO => LevelFilter::Info,
        DEBUG => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// The filter for targets with no level prefix under LogLevel `configured`.
fn plain_filter(configured: usize) -> LevelFilter {
    if configured < ERROR { LevelFilter::Off } else { record_filter(configured) }
}

/// `mod_ssl.c`, `ssl_module` and `ssl` all name `ssl`.
fn normalize_module(name: &str) -> &str {
    let name = name.strip_suffix(".c").map_or(name, |n| n.strip_prefix("mod_").unwrap_or(n));
    name.strip_suffix("_module").unwrap_or(name)
}

/// env_filter directives (name prefix, most verbose level) for LogLevel
/// `levels`; longest matching name wins.
fn directives(levels: &BTreeMap<String, String>, mpm: MpmKind) -> Vec<(Option<String>, LevelFilter)> {
    let index = |level: &str| LOG_LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level));
    let global = levels.get("").and_then(|l| index(l)).unwrap_or(WARN);
    let prefixed = || (0..LOG_LEVELS.len()).filter(|&p| p != NOTICE);
    let mut out = vec![(None, plain_filter(global)), (Some("notice:".to_string()), LevelFilter::Warn)];
    // A `level:` target passes when its level is within LogLevel; the
    // catch-all directive decides by the record's `log` level, which for
    // crit/alert/emerg and trace2..8 is not the same.
    for p in prefixed() {
        let (wanted, natural) = (p <= global, plain_filter(global) >= record_filter(p));
        if wanted != natural {
            out.push((
                Some(format!("{}:", LOG_LEVELS[p])),
                if wanted { record_filter(p) } else { LevelFilter::Off },
            ));
        }
    }
    let per_module: BTreeMap<&str, usize> = levels
        .iter()
        .filter(|(module, _)| !module.is_empty())
        .filter_map(|(module, level)| Some((normalize_module(module), index(level)?)))
        .collect();
    if per_module.is_empty() {
        return out;
    }
    let mut names: Vec<(&str, &str)> = per_module.keys().map(|m| (*m, *m)).collect();
    names.extend(MODULE_PATHS);
    names.push(("mpm", mpm.log_module()));
    for (name, module) in names {
        let level = per_module.get(module).copied().unwrap_or(global);
        out.push((Some(name.to_string()), plain_filter(level)));
        for p in prefixed().filter(|&p| (p <= level) != (p <= global)) {
            let filter = if p <= level { record_filter(p) } else { LevelFilter::Off };
            out.push((Some(format!("{}:{name}", LOG_LEVELS[p])), filter));
        }
    }
    out
}

/// The httpd module and level a record shows, from its target and `log` level.
pub fn module_and_level(target: &str, level: Level, mpm: MpmKind) -> (&str, &'static str) {
    let prefix = target
        .split_once(':')
        .filter(|(_, rest)| !rest.starts_with(':'))
        .and_then(|(prefix, rest)| Some((*LOG_LEVELS.iter().find(|l| **l == prefix)?, rest)));
    let (level, module_target) = prefix.unwrap_or((
        match level {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace1",
        },
        target,
    ));
    (module_name(module_target, mpm), level)
}

fn module_name(target: &str, mpm: MpmKind) -> &str {
    if target == "mpm" {
        return mpm.log_module();
    }
    let is_under = |prefix: &str| {
        target.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    };
    match MODULE_PATHS.iter().find(|(prefix, _)| is_under(prefix)) {
        Some((_, module)) => module,
        None if target.contains("::") => "core",
        None => target,
    }
}

/// What an error-log line says besides its message.
#[derive(Debug, Clone, Copy)]
pub struct LineParts<'a> {
    pub time: SystemTime,
    pub zone: &'a LogZone,
    pub module: &'a str,
    pub level: &'a str,
    pub pid: u32,
    pub tid: i32,
    /// Source file and line, shown at debug and trace levels as httpd does.
    pub source: Option<(&'a str, u32)>,
}

/// One error-log line, newline included:
/// `[Mon Nov 23 17:18:31.123456 2026] [core:error] [pid 1:tid 2] message`.
pub fn format_line(parts: &LineParts<'_>, message: fmt::Arguments<'_>) -> String {
    let mut line = Vec::new();
    render_line(&mut line, parts, message);
    String::from_utf8_lossy(&line).into_owned()
}

fn render_line(out: &mut Vec<u8>, parts: &LineParts<'_>, message: fmt::Arguments<'_>) {
    out.push(b'[');
    time::push_ctime_usec(out, &parts.zone.local(parts.time));
    let _ = write!(out, "] [{}:{}] [pid {}:tid {}] ", parts.module, parts.level, parts.pid, parts.tid);
    if let Some((file, line)) = parts.source {
        let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
        let _ = write!(out, "{base}({line}): ");
    }
    let limit = MAX_LINE - 1;
    let _ = fmt::write(&mut Escaper { out: &mut *out, limit }, message);
    out.truncate(limit);
    out.push(b'\n');
}

/// Escapes a message as `ap_escape_errorlog_item`: control bytes and bytes
/// outside ASCII as `\xhh` (\b \n \r \t \v by name), `\` doubled, `"` kept;
/// so a message is always one line. Stops at `limit` bytes.
struct Escaper<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in s.as_bytes() {
            if self.out.len() >= self.limit {
                return Err(fmt::Error);
            }
            match b {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x0b => self.out.extend_from_slice(b"\\v"),
                0x20..0x7f => self.out.push(b),
                _ => self.out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "error_log_tests.rs"]
mod tests;
