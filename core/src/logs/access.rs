//! The access logs (mod_log_config's CustomLog and TransferLog): each target
//! opened once, its format compiled once, one line per request written with
//! one `write(2)` (see [`super::sink`]).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::entry::LogEntry;
use super::format::{LogFormat, RenderContext, server_name_port};
use super::sink::{self, PipedProgram};
use super::time::LogZone;
use crate::config::{COMMON_LOG_FORMAT, Settings, UseCanonicalName};

/// Every CustomLog of a server, shared by the worker threads of a process
/// (and inherited by forked children: the descriptors are shared, and
/// O_APPEND keeps their lines whole). A `<VirtualHost>` without CustomLog
/// lines of its own writes to the main server's logs ([`AccessLog::for_server`]).
#[derive(Debug)]
pub struct AccessLog {
    logs: Arc<[Log]>,
    ctx: RenderContext,
}

#[derive(Debug)]
struct Log {
    /// As CustomLog names it: a path, or `|program`.
    target: String,
    format: LogFormat,
    /// Swapped by [`AccessLog::reopen`]; writers hold the read lock for one
    /// `write(2)`.
    file: RwLock<File>,
    /// Set while writes fail, so that the error log hears of it once.
    failing: AtomicBool,
    /// Declared after `file`, so the pipe is closed before the program is
    /// waited for.
    program: Option<PipedProgram>,
}

thread_local! {
    /// The line being built, reused by every request on the thread.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl AccessLog {
    /// Opens every CustomLog target and compiles its format. Fails with
    /// httpd's message for a bad format (`Unrecognized LogFormat directive
    /// %Z`, kind `InvalidInput`) or a file that cannot be opened
    /// (`(13)Permission denied: AH00649: could not open transfer log file /x.`).
    pub fn open(settings: &Settings) -> io::Result<AccessLog> {
        let ctx = render_context(settings, LogZone::system());
        let mut logs = Vec::with_capacity(settings.custom_log.len());
        for spec in &settings.custom_log {
            let format_string = resolve_format(settings, &spec.format);
            let format = LogFormat::parse(format_string)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let (file, program) = open_target(&spec.target)?;
            logs.push(Log {
                target: spec.target.clone(),
                format,
                file: RwLock::new(file),
                failing: AtomicBool::new(false),
                program,
            });
        }
        Ok(AccessLog { logs: logs.into(), ctx })
    }

    /// The same logs (the same descriptors and programs) for another
    /// server, whose own ServerName and UseCanonicalName are rendered: what
    /// mod_log_config does for a vhost with no CustomLog of its own.
    pub fn for_server(&self, settings: &Settings) -> AccessLog {
        AccessLog { logs: Arc::clone(&self.logs), ctx: render_context(settings, self.ctx.zone.clone()) }
    }

    /// Whether any CustomLog is configured (the engine may skip building an
    /// entry when none is).
    pub fn is_enabled(&self) -> bool {
        !self.logs.is_empty()
    }

    /// Writes `entry`'s line to every log. A failed write is reported to the
    /// error log once (until a write succeeds again); it never panics.
    pub fn log(&self, entry: &LogEntry<'_>) {
        if self.logs.is_empty() {
            return;
        }
        with_line_buffer(|line| {
            for log in self.logs.iter() {
                line.clear();
                log.format.render(entry, &self.ctx, line);
                log.write(line);
            }
        });
    }

    /// The lines `entry` would give, one per log, newline included.
    pub fn render(&self, entry: &LogEntry<'_>) -> Vec<String> {
        self.logs
            .iter()
            .map(|log| {
                let mut line = Vec::new();
                log.format.render(entry, &self.ctx, &mut line);
                String::from_utf8_lossy(&line).into_owned()
            })
            .collect()
    }

    /// Reopens the file logs (after logrotate moved them, or at a restart),
    /// swapping each descriptor atomically: a line goes wholly to the old
    /// file or wholly to the new one. Piped logs keep their program. Every
    /// file is tried; the first failure is returned.
    pub fn reopen(&self) -> io::Result<()> {
        let mut first_error = None;
        for log in self.logs.iter().filter(|log| log.program.is_none()) {
            match open_file(&log.target) {
                Ok(file) => {
                    *log.file.write().unwrap_or_else(PoisonError::into_inner) = file;
                    log.failing.store(false, Ordering::Relaxed);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// An access log writing `format` to `file`, for tests.
    #[cfg(test)]
    pub(crate) fn for_test(format: &str, file: File, zone: LogZone) -> Result<AccessLog, String> {
        Ok(AccessLog {
            logs: Arc::new([Log {
                target: "(test)".into(),
                format: LogFormat::parse(format)?,
                file: RwLock::new(file),
                failing: AtomicBool::new(false),
                program: None,
            }]),
            ctx: RenderContext { zone, canonical_name: false, server_port: 80 },
        })
    }
}

impl Log {
    fn write(&self, line: &[u8]) {
        let result = (&*self.file.read().unwrap_or_else(PoisonError::into_inner)).write_all(line);
        match result {
            Ok(()) => {
                if self.failing.load(Ordering::Relaxed) {
                    self.failing.store(false, Ordering::Relaxed);
                }
            }
            Err(e) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        target: "log_config",
                        "{}: AH00646: Error writing to {}",
                        sink::os_error(&e),
                        self.target
                    );
                }
            }
        }
    }
}

/// What a server's ServerName and UseCanonicalName give `%v`, `%V`, `%p`.
fn render_context(settings: &Settings, zone: LogZone) -> RenderContext {
    RenderContext {
        zone,
        canonical_name: settings.use_canonical_name == UseCanonicalName::On,
        server_port: settings.server_name.as_deref().and_then(server_name_port).unwrap_or(80),
    }
}

/// Runs `f` with the thread's line buffer (a fresh one if the thread-local
/// is gone or already in use), and keeps the buffer from staying huge after
/// one enormous line.
fn with_line_buffer(f: impl FnOnce(&mut Vec<u8>)) {
    let mut f = Some(f);
    let _ = LINE.try_with(|cell| {
        if let Ok(mut line) = cell.try_borrow_mut() {
            (f.take().expect("called once"))(&mut line);
            if line.capacity() > 64 * 1024 {
                *line = Vec::new();
            }
        }
    });
    if let Some(f) = f {
        f(&mut Vec::new());
    }
}

/// The format a CustomLog names: empty for the default format (`LogFormat`
/// without nickname, else the CLF), a nickname (`CLF` is predefined, as in
/// mod_log_config), or a format string.
fn resolve_format<'s>(settings: &'s Settings, format: &'s str) -> &'s str {
    if format.is_empty() {
        return settings.log_format.get("").map_or(COMMON_LOG_FORMAT, String::as_str);
    }
    match settings.log_format.get(format) {
        Some(named) => named,
        None if format == "CLF" => COMMON_LOG_FORMAT,
        None => format,
    }
}

fn open_target(target: &str) -> io::Result<(File, Option<PipedProgram>)> {
    match target.strip_prefix('|') {
        Some(program) => {
            let (pipe, child) = sink::spawn_piped(program).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{}: could not start piped log program '{}'", sink::os_error(&e), program.trim()),
                )
            })?;
            Ok((pipe, Some(child)))
        }
        None => Ok((open_file(target)?, None)),
    }
}

fn open_file(path: &str) -> io::Result<File> {
    sink::open_append(Path::new(path)).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{}: AH00649: could not open transfer log file {path}.", sink::os_error(&e)),
        )
    })
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
