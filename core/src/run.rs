//! The entry point every binary calls: command line, configuration, then the
//! action asked for.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::build_info;
use crate::cli::{self, CommandLine, Mode, Signal};
use crate::config::{Config, LoadOptions, Source};
use crate::dump;
use crate::limits;
use crate::mpm::{Mpm, MpmKind, ProcessModel};

/// How a binary serves once its configuration is loaded.
pub type Starter = fn(&str, Config, LoadOptions) -> ExitCode;

/// Runs a binary whose MPM has no process model yet: it serves in one
/// process, as httpd's `-X`.
pub fn run<M: Mpm>() -> ExitCode {
    let (program, args, env) = invocation(M::KIND);
    run_with(M::KIND, &program, args, env, one_process)
}

/// Runs the binary that embeds `M` under core's supervisor:
/// `fn main() -> ExitCode { httpd_core::run_supervised::<PreforkMpm>() }`.
pub fn run_supervised<M: ProcessModel>() -> ExitCode {
    let (program, args, env) = invocation(M::KIND);
    run_with(M::KIND, &program, args, env, supervised::<M>)
}

fn invocation(mpm: MpmKind) -> (String, std::env::Args, Vec<(String, String)>) {
    let mut args = std::env::args();
    let program = args
        .next()
        .and_then(|a| Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| mpm.binary().to_string());
    (program, args, std::env::vars().collect())
}

/// [`run`] with its inputs made explicit.
pub fn run_with(
    mpm: MpmKind,
    program: &str,
    args: impl IntoIterator<Item = String>,
    env: Vec<(String, String)>,
    start: Starter,
) -> ExitCode {
    // A panic is written to the error log once it is started (logs::panics).
    crate::logs::panics::install_hook();
    let cl = match CommandLine::parse(args) {
        Ok(cl) => cl,
        Err(cli::UsageError(reason)) => {
            if let Some(reason) = reason {
                eprintln!("{program}: {reason}");
            }
            eprint!("{}", cli::usage(program));
            return ExitCode::FAILURE;
        }
    };
    let mut startup = StartupLog::new(&cl);

    // These need no configuration, as with a statically linked httpd.
    match cl.mode {
        Mode::Help => {
            eprint!("{}", cli::usage(program));
            return ExitCode::FAILURE;
        }
        Mode::Version => return print(&dump::version(mpm)),
        Mode::CompileSettings => return print(&dump::compile_settings(mpm)),
        Mode::ListModules => return print(&dump::compiled_modules(mpm)),
        Mode::ListDirectives => return print(&dump::directives(mpm)),
        _ => {}
    }

    let options = load_options(mpm, &cl, env);
    let config = match Config::load(&options) {
        Ok(config) => config,
        Err(e) => {
            startup.emit("emerg", &e.render(program));
            return ExitCode::FAILURE;
        }
    };
    for warning in &config.warnings {
        startup.emit("warn", warning);
    }
    for note in &config.notes {
        startup.emit("info", note);
    }
    for notice in &config.notices {
        startup.emit("notice", notice);
    }
    let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let (capacity, mpm_warnings) = limits::capacity(mpm, &config.settings, online_cpus);
    for warning in &mpm_warnings {
        startup.emit("warn", warning);
    }

    match cl.mode {
        Mode::ConfigTest | Mode::ConfigDump => {
            let mut out = String::new();
            if cl.is_defined("DUMP_INCLUDES") {
                out.push_str(&dump::includes(&config));
            }
            if cl.is_defined("DUMP_VHOSTS") {
                out.push_str(&dump::vhosts(&config));
            }
            if cl.is_defined("DUMP_RUN_CFG") {
                out.push_str(&dump::run_config(&config));
            }
            if cl.is_defined("DUMP_MODULES") {
                out.push_str(&dump::loaded_modules(mpm));
            }
            if cl.is_defined("DUMP_MPM") {
                out.push_str(&dump::mpm_capacity(&config, &capacity));
            }
            print(&out);
            if cl.mode == Mode::ConfigTest {
                startup.emit("emerg", "Syntax OK");
            }
            ExitCode::SUCCESS
        }
        _ => match cl.signal {
            Some(signal) => signal_running_server(program, config, options, signal, start),
            None => start(program, config, options),
        },
    }
}

fn load_options(mpm: MpmKind, cl: &CommandLine, env: Vec<(String, String)>) -> LoadOptions {
    let server_root = cl.server_root.clone().unwrap_or_else(|| build_info::default_server_root(mpm));
    let server_root = absolute(&server_root);
    // As httpd, an explicit -f must exist; with no -f, a missing default
    // file means "use the embedded configuration", so a binary installed with
    // no files at all still runs.
    let source = match &cl.config_file {
        Some(file) => Source::File(file.clone()),
        None => {
            let default = server_root.join(build_info::default_config_file());
            if default.exists() { Source::File(default) } else { Source::Embedded }
        }
    };
    let mut options = LoadOptions::new(mpm, server_root, source);
    options.defines = cl.defines.clone();
    options.pre_commands = cl.pre_commands.clone();
    options.post_commands = cl.post_commands.clone();
    options.check_document_root = !cl.skip_document_root_check;
    options.env = env;
    options
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// One process serving one connection at a time (httpd's `-X`), for MPMs
/// whose process model is not built yet.
fn one_process(program: &str, config: Config, _options: LoadOptions) -> ExitCode {
    if !config.is_defined("DEBUG") {
        eprintln!(
            "{program}: the {} MPM's process model is not built yet; serving in one process, as with -X",
            config.mpm.name()
        );
    }
    match crate::serve::one_process(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The parent and its children; `-X` (DEBUG, ONE_PROCESS) runs the child's
/// loop in this very process.
fn supervised<M: ProcessModel>(program: &str, config: Config, options: LoadOptions) -> ExitCode {
    if config.is_defined("DEBUG") || config.is_defined("ONE_PROCESS") {
        return crate::serve::debug_child::<M>(program, config);
    }
    let foreground = config.is_defined("FOREGROUND");
    crate::supervisor::run::<M>(program, config, options, foreground)
}

/// `-k`: finds the running parent through PidFile and signals it (MPM-SPEC §6.4).
fn signal_running_server(
    program: &str,
    config: Config,
    options: LoadOptions,
    signal: Signal,
    start: Starter,
) -> ExitCode {
    use nix::sys::signal::{Signal as Sig, kill};
    use nix::unistd::Pid;

    let pid_file = &config.settings.pid_file;
    let pid = std::fs::read_to_string(pid_file).ok().and_then(|s| s.trim().parse::<i32>().ok());
    let running =
        pid.filter(|&p| p > 0 && p != std::process::id() as i32 && kill(Pid::from_raw(p), None).is_ok());
    let send = |sig: Sig, pid: i32| match kill(Pid::from_raw(pid), sig) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: could not send {sig} to pid {pid}: {}", e.desc());
            ExitCode::FAILURE
        }
    };
    match (signal, running) {
        (Signal::Start, Some(p)) => {
            println!("{program} (pid {p}) already running");
            ExitCode::SUCCESS
        }
        (Signal::Start, None) => start(program, config, options),
        (Signal::Stop, Some(p)) => send(Sig::SIGTERM, p),
        (Signal::GracefulStop, Some(p)) => send(Sig::SIGWINCH, p),
        (Signal::Restart, Some(p)) => send(Sig::SIGHUP, p),
        (Signal::Graceful, Some(p)) => send(Sig::SIGUSR1, p),
        (Signal::Stop | Signal::GracefulStop, None) => {
            match pid {
                Some(p) => println!("{program} (pid {p}?) not running"),
                None => println!("{program} (no pid file) not running"),
            }
            ExitCode::SUCCESS
        }
        (Signal::Restart | Signal::Graceful, None) => {
            println!("{program} not running, trying to start");
            start(program, config, options)
        }
    }
}

fn print(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Startup messages: stderr, or the `-E` file; shown from the `-e` level up
/// (warn by default, LogLevel's default).
struct StartupLog {
    threshold: usize,
    file: Option<std::fs::File>,
}

impl StartupLog {
    fn new(cl: &CommandLine) -> Self {
        let threshold = level_rank(cl.startup_log_level.as_deref().unwrap_or("warn"));
        let file = cl
            .startup_log_file
            .as_ref()
            .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
        StartupLog { threshold, file }
    }

    /// Writes `message` if `level` is at or above the threshold. Errors and
    /// `Syntax OK` use `emerg` so they always show; notices always show too,
    /// as httpd lets APLOG_NOTICE through at start-up.
    fn emit(&mut self, level: &str, message: &str) {
        if level != "notice" && level_rank(level) > self.threshold {
            return;
        }
        let line = format!("{message}\n");
        match &mut self.file {
            Some(file) => {
                let _ = file.write_all(line.as_bytes());
            }
            None => eprint!("{line}"),
        }
    }
}

fn level_rank(level: &str) -> usize {
    crate::config::LOG_LEVELS.iter().position(|l| *l == level).unwrap_or(4)
}
