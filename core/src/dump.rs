//! What `-v`, `-V`, `-l`, `-L`, `-M`, `-S` and `-D DUMP_*` print, in httpd's
//! shapes. Each function returns the text; [`crate::run`] decides where it goes.

use std::fmt::Write;

use crate::build_info;
use crate::config::{self, Config};
use crate::limits::Capacity;
use crate::modules;
use crate::mpm::MpmKind;

/// `-v`.
pub fn version(mpm: MpmKind) -> String {
    format!("Server version: {}\nServer built:   {}\n", build_info::server_version(mpm), build_info::built())
}

/// `-V`: the version, the MPM lines, and the compile-time defaults.
pub fn compile_settings(mpm: MpmKind) -> String {
    let mut out = version(mpm);
    let threaded = if mpm.is_threaded() { "yes (fixed thread count)" } else { "no" };
    let _ = writeln!(out, "Architecture:   {}-bit", usize::BITS);
    let _ = writeln!(out, "Server MPM:     {}", mpm.name());
    let _ = writeln!(out, "  threaded:     {threaded}");
    let _ = writeln!(out, "    forked:     yes (variable process count)");
    let _ = writeln!(out, "Server compiled with....");
    let _ = writeln!(out, " -D HTTPD_ROOT=\"{}\"", build_info::default_server_root(mpm).display());
    let _ = writeln!(out, " -D SERVER_CONFIG_FILE=\"{}\"", build_info::default_config_file().display());
    let defaults = config::Settings::default();
    let _ = writeln!(out, " -D DEFAULT_PIDLOG=\"{}\"", defaults.pid_file.display());
    let _ = writeln!(out, " -D DEFAULT_ERRORLOG=\"{}\"", defaults.error_log);
    let _ = writeln!(out, " -D AP_TYPES_CONFIG_FILE=\"{}\"", defaults.types_config.display());
    let _ = writeln!(
        out,
        " -D EMBEDDED_CONFIG_FALLBACK (used when SERVER_CONFIG_FILE is missing and -f is not given)"
    );
    out
}

/// `-l`.
pub fn compiled_modules(mpm: MpmKind) -> String {
    let mut out = String::from("Compiled in modules:\n");
    for m in modules::compiled_in(mpm) {
        let _ = writeln!(out, "  {}", m.source);
    }
    out
}

/// `-L`.
pub fn directives(mpm: MpmKind) -> String {
    let mut out = String::new();
    for d in config::DIRECTIVES.iter().filter(|d| d.exists_in(mpm)) {
        let _ = writeln!(out, "{} ({})", d.name, d.module_source(mpm));
        let _ = writeln!(out, "\t{}", d.description);
        let _ = writeln!(out, "\t{}", d.context.allowed_in());
    }
    out
}

/// `-D DUMP_MODULES` (`-M`).
pub fn loaded_modules(mpm: MpmKind) -> String {
    let mut out = String::from("Loaded Modules:\n");
    for m in modules::compiled_in(mpm) {
        let _ = writeln!(out, " {} (static)", m.id);
    }
    out
}

/// `-D DUMP_INCLUDES`: the main file, then each included file indented by
/// its depth with the line of the Include that read it.
pub fn includes(config: &Config) -> String {
    let mut out = String::from("Included configuration files:\n");
    for f in &config.includes {
        let indent = "  ".repeat(f.depth + 1);
        if f.depth == 0 {
            let _ = writeln!(out, "{indent}(*) {}", f.path);
        } else {
            let _ = writeln!(out, "{indent}({}) {}", f.line, f.path);
        }
    }
    out
}

/// `-D DUMP_VHOSTS`: the address table as vhost.c's `dump_vhost_config`.
pub fn vhosts(config: &Config) -> String {
    crate::vhost::dump(&config.virtual_hosts())
}

/// `-D DUMP_RUN_CFG`.
pub fn run_config(config: &Config) -> String {
    let s = &config.settings;
    let mut out = String::new();
    let _ = writeln!(out, "ServerRoot: \"{}\"", s.server_root.display());
    let _ = writeln!(out, "Main DocumentRoot: \"{}\"", s.document_root.display());
    let _ = writeln!(out, "Main ErrorLog: \"{}\"", s.error_log);
    let _ =
        writeln!(out, "Mutex default: dir=\"{}/\" mechanism=default ", s.server_root.join("logs").display());
    let _ = writeln!(out, "PidFile: \"{}\"", s.pid_file.display());
    for d in &config.defines {
        match &d.value {
            Some(v) => writeln!(out, "Define: {}={v}", d.name),
            None => writeln!(out, "Define: {}", d.name),
        }
        .ok();
    }
    let _ = writeln!(out, "User: name=\"{}\" id={}", s.user, user_id(&s.user));
    let _ = writeln!(out, "Group: name=\"{}\" id={}", s.group, group_id(&s.group));
    out
}

fn user_id(name: &str) -> String {
    match name.strip_prefix('#') {
        Some(n) => n.to_string(),
        None => nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map_or_else(|| "?".into(), |u| u.uid.to_string()),
    }
}

fn group_id(name: &str) -> String {
    match name.strip_prefix('#') {
        Some(n) => n.to_string(),
        None => nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map_or_else(|| "?".into(), |g| g.gid.to_string()),
    }
}

/// `-D DUMP_MPM` (not in httpd): the capacity this configuration gives the
/// MPM, each directive with where its value was set.
pub fn mpm_capacity(config: &Config, cap: &Capacity) -> String {
    let mpm = cap.mpm;
    let from = |directive: &str| match config.provenance(directive) {
        Some(at) => format!("  (set at {at})"),
        None => "  (default)".to_string(),
    };
    let mut out = format!("Server MPM: {} ({})\n", mpm.name(), mpm.source());
    let mut line = |label: &str, value: String, note: String| {
        let _ = writeln!(out, "  {label:<26}{value}{note}");
    };
    line("ServerLimit:", cap.server_limit.to_string(), from("ServerLimit"));
    if mpm.is_threaded() {
        line("ThreadLimit:", cap.thread_limit.to_string(), from("ThreadLimit"));
    }
    line(
        "StartServers:",
        cap.start_children.to_string(),
        format!("{}; children at start", from("StartServers")),
    );
    line("MaxRequestWorkers:", cap.max_request_workers.to_string(), from("MaxRequestWorkers"));
    line("children at most:", cap.max_children.to_string(), String::new());
    if mpm.is_threaded() {
        line("ThreadsPerChild:", cap.threads_per_child.to_string(), from("ThreadsPerChild"));
        line("MinSpareThreads:", cap.min_spare_threads.to_string(), from("MinSpareThreads"));
        line("MaxSpareThreads:", cap.max_spare_threads.to_string(), from("MaxSpareThreads"));
    } else {
        line("MinSpareServers:", cap.min_spare_servers.to_string(), from("MinSpareServers"));
        line("MaxSpareServers:", cap.max_spare_servers.to_string(), from("MaxSpareServers"));
    }
    line("total workers:", cap.total_workers().to_string(), String::new());
    if let (Some(factor), Some(conns)) = (cap.async_request_worker_factor, cap.connections_per_child()) {
        line("AsyncRequestWorkerFactor:", factor.to_string(), from("AsyncRequestWorkerFactor"));
        line(
            "connections per child:",
            conns.to_string(),
            "  (at most: ThreadsPerChild + AsyncRequestWorkerFactor x idle workers)".into(),
        );
        line("connections in all:", (conns * cap.max_children).to_string(), String::new());
    }
    let per_child = match cap.max_connections_per_child {
        0 => "0 (unlimited)".to_string(),
        n => n.to_string(),
    };
    line("MaxConnectionsPerChild:", per_child, from("MaxConnectionsPerChild"));
    line("listener buckets:", cap.buckets.to_string(), from("ListenCoresBucketsRatio"));
    out
}
