//! Tests of the error log: line shape, targets to modules and levels,
//! LogLevel filtering, and the ErrorLog targets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use log::{Log, Metadata, Record};

use super::*;

/// 2026-11-23T17:18:31.123456Z, a Monday.
fn moment() -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(1_795_454_311_123_456)
}

fn parts<'a>(zone: &'a LogZone, module: &'a str, level: &'a str) -> LineParts<'a> {
    LineParts { time: moment(), zone, module, level, pid: 9500, tid: 9501, source: None }
}

#[test]
fn line_shape() {
    let zone = LogZone::utc();
    let line = format_line(
        &parts(&zone, "mpm_event", "notice"),
        format_args!("AH00489: {} configured -- resuming normal operations", "event-server/0.1.0"),
    );
    assert_eq!(
        line,
        "[Mon Nov 23 17:18:31.123456 2026] [mpm_event:notice] [pid 9500:tid 9501] \
         AH00489: event-server/0.1.0 configured -- resuming normal operations\n"
    );
    let debug =
        LineParts { source: Some(("core/src/handler/static_files.rs", 42)), ..parts(&zone, "core", "debug") };
    assert_eq!(
        format_line(&debug, format_args!("[client 127.0.0.1:39636] AH00128: File does not exist: /x")),
        "[Mon Nov 23 17:18:31.123456 2026] [core:debug] [pid 9500:tid 9501] static_files.rs(42): \
         [client 127.0.0.1:39636] AH00128: File does not exist: /x\n"
    );
    let east = LogZone::fixed(3600);
    assert!(
        format_line(&parts(&east, "core", "error"), format_args!("x"))
            .starts_with("[Mon Nov 23 18:18:31.123456")
    );
}

#[test]
fn messages_stay_on_one_line() {
    let zone = LogZone::utc();
    let line = format_line(&parts(&zone, "core", "error"), format_args!("a\"b\\c\nd\te\u{1}é"));
    assert!(line.ends_with("] a\"b\\\\c\\nd\\te\\x01\\xc3\\xa9\n"), "{line}");
    let long = format_line(&parts(&zone, "core", "error"), format_args!("{}", "x".repeat(10_000)));
    assert_eq!(long.len(), MAX_LINE);
    assert!(long.ends_with("xx\n"));
}

#[test]
fn targets_name_modules_and_levels() {
    let cases = [
        ("core", Level::Error, MpmKind::Event, ("core", "error")),
        ("http", Level::Info, MpmKind::Event, ("http", "info")),
        ("notice:mpm", Level::Warn, MpmKind::Event, ("mpm_event", "notice")),
        ("notice:mpm", Level::Warn, MpmKind::Prefork, ("mpm_prefork", "notice")),
        ("mpm", Level::Debug, MpmKind::Worker, ("mpm_worker", "debug")),
        ("crit:core", Level::Error, MpmKind::Event, ("core", "crit")),
        ("emerg:mpm_worker", Level::Error, MpmKind::Event, ("mpm_worker", "emerg")),
        ("trace4:http", Level::Trace, MpmKind::Event, ("http", "trace4")),
        ("http", Level::Trace, MpmKind::Event, ("http", "trace1")),
        ("httpd_core::logs::access", Level::Warn, MpmKind::Event, ("log_config", "warn")),
        ("httpd_core::handler::static_files", Level::Info, MpmKind::Event, ("core", "info")),
        ("httpd_core::handler::mime", Level::Debug, MpmKind::Event, ("mime", "debug")),
        ("httpd_core::handler::dir", Level::Debug, MpmKind::Event, ("dir", "debug")),
        ("httpd_core", Level::Error, MpmKind::Event, ("core", "error")),
        ("event_server", Level::Info, MpmKind::Event, ("mpm_event", "info")),
        ("worker_server::child", Level::Trace, MpmKind::Worker, ("mpm_worker", "trace1")),
        ("figment::value", Level::Warn, MpmKind::Event, ("core", "warn")),
        ("unknown:thing", Level::Error, MpmKind::Event, ("unknown:thing", "error")),
    ];
    for (target, level, mpm, expected) in cases {
        assert_eq!(module_and_level(target, level, mpm), expected, "target {target:?}");
    }
}

/// A logger for LogLevel `levels` (`"info ssl:warn"`) writing to a buffer.
fn logger(levels: &str, mpm: MpmKind) -> (env_logger::Logger, SharedBuffer) {
    let mut map = BTreeMap::new();
    for word in levels.split_whitespace() {
        let (module, level) = word.rsplit_once(':').unwrap_or(("", word));
        map.insert(module.to_string(), level.to_string());
    }
    let buffer = SharedBuffer::default();
    let target = env_logger::Target::Pipe(Box::new(buffer.clone()));
    (builder(&map, mpm, LogZone::utc(), target).build(), buffer)
}

#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Checks which (target, level) records `levels` lets through.
fn check_filter(levels: &str, cases: &[(&str, Level, bool)]) {
    let (logger, _) = logger(levels, MpmKind::Event);
    for &(target, level, expected) in cases {
        let metadata = Metadata::builder().target(target).level(level).build();
        assert_eq!(logger.enabled(&metadata), expected, "LogLevel {levels}: {level} record for {target:?}");
    }
}

#[test]
fn loglevel_filters_as_httpd() {
    use Level::{Debug, Error, Info, Trace, Warn};
    check_filter(
        "warn",
        &[
            ("core", Error, true),
            ("core", Warn, true),
            ("core", Info, false),
            ("notice:mpm", Warn, true),
            ("crit:core", Error, true),
            ("core", Trace, false),
            ("trace5:core", Trace, false),
        ],
    );
    check_filter(
        "crit",
        &[
            ("core", Error, false),
            ("core", Warn, false),
            ("crit:core", Error, true),
            ("alert:core", Error, true),
            ("notice:mpm", Warn, true),
        ],
    );
    check_filter(
        "alert",
        &[("crit:core", Error, false), ("alert:core", Error, true), ("emerg:x", Error, true)],
    );
    check_filter(
        "emerg",
        &[("alert:core", Error, false), ("emerg:x", Error, true), ("notice:core", Warn, true)],
    );
    check_filter(
        "trace3",
        &[
            ("core", Trace, true),
            ("trace3:core", Trace, true),
            ("trace4:core", Trace, false),
            ("trace8:http", Trace, false),
            ("core", Debug, true),
        ],
    );
}

#[test]
fn per_module_levels() {
    use Level::{Debug, Error, Info, Trace, Warn};
    check_filter(
        "info ssl:warn core:trace2 mpm_event:debug",
        &[
            ("ssl", Info, false),
            ("ssl", Warn, true),
            ("notice:ssl", Warn, true),
            ("http", Info, true),
            ("http", Debug, false),
            ("core", Trace, true),
            ("trace2:core", Trace, true),
            ("trace3:core", Trace, false),
            ("trace2:http", Trace, false),
            ("httpd_core::handler::static_files", Trace, true),
            ("httpd_core::logs::access", Debug, false),
            ("httpd_core::logs::access", Info, true),
            ("mpm", Debug, true),
            ("mpm", Trace, false),
            ("event_server::main", Debug, true),
            ("worker_server", Debug, false),
            ("crit:ssl", Error, true),
        ],
    );
    check_filter("warn mod_ssl.c:debug dir_module:info", &[("ssl", Debug, true), ("dir", Info, true)]);
    check_filter(
        "crit core:info",
        &[
            ("core", Info, true),
            ("core", Error, true),
            ("http", Error, false),
            ("crit:http", Error, true),
            ("alert:core", Error, true),
            ("httpd_core::x", Info, true),
        ],
    );
    check_filter(
        "trace8 http:warn",
        &[("http", Info, false), ("trace1:http", Trace, false), ("trace8:core", Trace, true)],
    );
}

#[test]
fn records_become_httpd_lines() {
    let (warn_logger, buffer) = logger("warn", MpmKind::Prefork);
    let log = |target: &str, level: Level, message: fmt::Arguments<'_>| {
        warn_logger.log(
            &Record::builder()
                .target(target)
                .level(level)
                .file(Some("core/src/x.rs"))
                .line(Some(7))
                .args(message)
                .build(),
        );
    };
    log("notice:mpm", Level::Warn, format_args!("AH00163: resuming"));
    log("core", Level::Info, format_args!("filtered out"));
    log("crit:core", Level::Error, format_args!("AH00000: bad"));
    let (debug_logger, debug_buffer) = logger("debug", MpmKind::Prefork);
    debug_logger.log(
        &Record::builder()
            .target("httpd_core::handler::static_files")
            .level(Level::Debug)
            .file(Some("core/src/handler/static_files.rs"))
            .line(Some(12))
            .args(format_args!("served"))
            .build(),
    );
    let ids = format!("[pid {}:tid {}]", std::process::id(), nix::unistd::gettid());
    let lines: Vec<String> =
        buffer.text().lines().map(|l| l.split_once("] ").unwrap().1.to_string()).collect();
    assert_eq!(
        lines,
        [format!("[mpm_prefork:notice] {ids} AH00163: resuming"), format!("[core:crit] {ids} AH00000: bad")]
    );
    assert!(debug_buffer.text().ends_with(&format!("] [core:debug] {ids} static_files.rs(12): served\n")));
    assert!(buffer.text().starts_with('['));
}

#[test]
fn error_log_targets() {
    let dir = std::env::temp_dir().join(format!("httpd-error-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (sink, warning) = open_sink("syslog:local7", MpmKind::Event).unwrap();
    assert!(matches!(sink, Sink::Stderr));
    assert_eq!(warning.unwrap(), "ErrorLog syslog:local7: syslog is not supported yet; logging to stderr");
    let missing = dir.join("no/error_log").display().to_string();
    let Err(e) = open_sink(&missing, MpmKind::Event) else { panic!("opened {missing}") };
    assert_eq!(
        e,
        format!(
            "(2)No such file or directory: AH00091: event-server: could not open error log file {missing}."
        )
    );
    let file_target = dir.join("error_log").display().to_string();
    let out = dir.join("piped");
    for target in [file_target.clone(), format!("|cat > '{}'", out.display())] {
        let (sink, warning) = open_sink(&target, MpmKind::Event).unwrap();
        assert!(warning.is_none());
        let Sink::File { file, .. } = &sink else { panic!("{target} is not a file") };
        (&*file).write_all(b"a line\n").unwrap();
        drop(sink); // a piped program is waited for
    }
    assert_eq!(std::fs::read_to_string(&file_target).unwrap(), "a line\n");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a line\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_twice_is_an_error() {
    let mut settings = Settings::default();
    settings.log_level.insert(String::new(), "emerg".into());
    // The first call may fail if a test installed another logger first.
    let _ = init_stderr(&settings, MpmKind::Event);
    assert_eq!(init_stderr(&settings, MpmKind::Event).unwrap_err(), "the error log is already started");
}

#[test]
fn the_notice_macro_expands_to_a_notice_target() {
    // Expands to `log::warn!(target: "notice:core", ...)`. Not called: with
    // the global logger of `init_twice_is_an_error` it would reach stderr.
    let _never_called = || crate::notice!(target: "core", "AH00000: a test notice {}", 1);
}
