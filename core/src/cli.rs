//! httpd's command line (MPM-SPEC §7), shared by the three binaries.
//!
//! Options are read as `apr_getopt` reads them: flags may be grouped (`-tS`),
//! an option's argument may be attached (`-DFOREGROUND`) or follow
//! (`-D FOREGROUND`).

use std::path::PathBuf;

use crate::config::ENV_PREFIX;

/// What the invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Start the server (or send a `-k` signal).
    Run,
    /// `-h`: the usage text.
    Help,
    /// `-v`.
    Version,
    /// `-V`.
    CompileSettings,
    /// `-l`.
    ListModules,
    /// `-L`.
    ListDirectives,
    /// `-t`: check the configuration, print `Syntax OK`.
    ConfigTest,
    /// `-S`, `-M`, `-D DUMP_*`: print what the configuration holds.
    ConfigDump,
}

/// `-k` commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Start,
    Stop,
    Restart,
    Graceful,
    GracefulStop,
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub mode: Mode,
    /// `-D` names, in order (`-S`, `-M` and `-X` add theirs).
    pub defines: Vec<String>,
    /// `-d`.
    pub server_root: Option<PathBuf>,
    /// `-f`.
    pub config_file: Option<PathBuf>,
    /// `-C`.
    pub pre_commands: Vec<String>,
    /// `-c`.
    pub post_commands: Vec<String>,
    /// `-e`: the level of startup messages shown.
    pub startup_log_level: Option<String>,
    /// `-E`: where startup messages go.
    pub startup_log_file: Option<PathBuf>,
    /// `-k`.
    pub signal: Option<Signal>,
    /// `-T`.
    pub skip_document_root_check: bool,
}

/// A command line httpd would answer with its usage text (exit 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub Option<String>);

/// The dump names that turn `-D` into a configuration dump, as httpd's main.c.
pub const DUMP_DEFINES: [&str; 5] =
    ["DUMP_VHOSTS", "DUMP_RUN_CFG", "DUMP_MODULES", "DUMP_INCLUDES", "DUMP_MPM"];

impl CommandLine {
    /// Parses the arguments after the program name.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<CommandLine, UsageError> {
        let mut cl = CommandLine {
            mode: Mode::Run,
            defines: Vec::new(),
            server_root: None,
            config_file: None,
            pre_commands: Vec::new(),
            post_commands: Vec::new(),
            startup_log_level: None,
            startup_log_file: None,
            signal: None,
            skip_document_root_check: false,
        };
        // The first of -h -v -V -l -L wins: httpd acts on it as it reads it.
        let mut exit_mode: Option<Mode> = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
                return Err(UsageError(Some(format!("unexpected argument '{arg}'"))));
            };
            for (i, flag) in flags.char_indices() {
                if "CcDdEefk".contains(flag) {
                    let attached = &flags[i + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        args.next().ok_or_else(|| {
                            UsageError(Some(format!("option requires an argument -- {flag}")))
                        })?
                    } else {
                        attached.to_string()
                    };
                    cl.take_value(flag, value)?;
                    break;
                }
                match flag {
                    'h' | '?' => exit_mode = exit_mode.or(Some(Mode::Help)),
                    'v' => exit_mode = exit_mode.or(Some(Mode::Version)),
                    'V' => exit_mode = exit_mode.or(Some(Mode::CompileSettings)),
                    'l' => exit_mode = exit_mode.or(Some(Mode::ListModules)),
                    'L' => exit_mode = exit_mode.or(Some(Mode::ListDirectives)),
                    // As httpd's main.c: -t sets test mode only if no dump
                    // was asked for, so `-D DUMP_X -t` stays a dump.
                    't' if cl.mode == Mode::Run => cl.mode = Mode::ConfigTest,
                    't' => {}
                    'T' => cl.skip_document_root_check = true,
                    'S' => {
                        cl.mode = Mode::ConfigDump;
                        cl.defines.extend(["DUMP_VHOSTS".to_string(), "DUMP_RUN_CFG".to_string()]);
                    }
                    'M' => {
                        cl.mode = Mode::ConfigDump;
                        cl.defines.push("DUMP_MODULES".into());
                    }
                    'X' => cl.defines.push("DEBUG".into()),
                    other => return Err(UsageError(Some(format!("illegal option -- {other}")))),
                }
            }
        }
        if let Some(mode) = exit_mode {
            cl.mode = mode;
        }
        Ok(cl)
    }

    fn take_value(&mut self, flag: char, value: String) -> Result<(), UsageError> {
        match flag {
            'C' => self.pre_commands.push(value),
            'c' => self.post_commands.push(value),
            'D' => {
                if DUMP_DEFINES.contains(&value.as_str()) {
                    self.mode = Mode::ConfigDump;
                }
                self.defines.push(value);
            }
            'd' => self.server_root = Some(PathBuf::from(value)),
            'f' => self.config_file = Some(PathBuf::from(value)),
            'E' => self.startup_log_file = Some(PathBuf::from(value)),
            'e' => {
                if !crate::config::LOG_LEVELS.contains(&value.to_ascii_lowercase().as_str()) {
                    return Err(UsageError(Some(format!("invalid log level '{value}'"))));
                }
                self.startup_log_level = Some(value.to_ascii_lowercase());
            }
            'k' => {
                self.signal = Some(match value.as_str() {
                    "start" => Signal::Start,
                    "stop" => Signal::Stop,
                    "restart" => Signal::Restart,
                    "graceful" => Signal::Graceful,
                    "graceful-stop" => Signal::GracefulStop,
                    _ => return Err(UsageError(Some(format!("unknown -k command '{value}'")))),
                });
            }
            _ => unreachable!("only flags taking a value reach take_value"),
        }
        Ok(())
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.defines.iter().any(|d| d == name)
    }
}

/// httpd's usage text, for `program`.
pub fn usage(program: &str) -> String {
    let pad = " ".repeat(program.len() + 7);
    format!(
        "Usage: {program} [-D name] [-d directory] [-f file]\n\
         {pad} [-C \"directive\"] [-c \"directive\"]\n\
         {pad} [-k start|restart|graceful|graceful-stop|stop]\n\
         {pad} [-v] [-V] [-h] [-l] [-L] [-t] [-T] [-S] [-X]\n\
         Options:\n\
         \x20 -D name            : define a name for use in <IfDefine name> directives\n\
         \x20 -d directory       : specify an alternate initial ServerRoot\n\
         \x20 -f file            : specify an alternate ServerConfigFile\n\
         \x20 -C \"directive\"     : process directive before reading config files\n\
         \x20 -c \"directive\"     : process directive after reading config files\n\
         \x20 -e level           : show startup errors of level (see LogLevel)\n\
         \x20 -E file            : log startup errors to file\n\
         \x20 -v                 : show version number\n\
         \x20 -V                 : show compile settings\n\
         \x20 -h                 : list available command line options (this page)\n\
         \x20 -l                 : list compiled in modules\n\
         \x20 -L                 : list available configuration directives\n\
         \x20 -t -D DUMP_VHOSTS  : show parsed vhost settings\n\
         \x20 -t -D DUMP_RUN_CFG : show parsed run settings\n\
         \x20 -S                 : a synonym for -t -D DUMP_VHOSTS -D DUMP_RUN_CFG\n\
         \x20 -t -D DUMP_MODULES : show all loaded modules \n\
         \x20 -M                 : a synonym for -t -D DUMP_MODULES\n\
         \x20 -t -D DUMP_INCLUDES: show all included configuration files\n\
         \x20 -t -D DUMP_MPM     : show the capacity this configuration gives the MPM\n\
         \x20 -t                 : run syntax check for config files\n\
         \x20 -T                 : start without DocumentRoot(s) check\n\
         \x20 -X                 : debug mode (only one worker, do not detach)\n\
         Environment:\n\
         \x20 {ENV_PREFIX}<Directive>=value: set a directive above httpd.conf, below -C/-c\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CommandLine, UsageError> {
        CommandLine::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn no_arguments_runs() {
        let cl = parse(&[]).unwrap();
        assert_eq!(cl.mode, Mode::Run);
        assert!(cl.defines.is_empty());
    }

    #[test]
    fn values_attached_or_separate() {
        let cl =
            parse(&["-DFOREGROUND", "-D", "X", "-f", "/a.conf", "-d/root", "-C", "Listen 1", "-cTimeout 5"])
                .unwrap();
        assert_eq!(cl.defines, ["FOREGROUND", "X"]);
        assert_eq!(cl.config_file, Some(PathBuf::from("/a.conf")));
        assert_eq!(cl.server_root, Some(PathBuf::from("/root")));
        assert_eq!(cl.pre_commands, ["Listen 1"]);
        assert_eq!(cl.post_commands, ["Timeout 5"]);
    }

    #[test]
    fn grouped_flags() {
        let cl = parse(&["-tT"]).unwrap();
        assert_eq!(cl.mode, Mode::ConfigTest);
        assert!(cl.skip_document_root_check);
        let cl = parse(&["-tDDUMP_INCLUDES"]).unwrap();
        assert_eq!(cl.mode, Mode::ConfigDump);
        assert_eq!(cl.defines, ["DUMP_INCLUDES"]);
    }

    #[test]
    fn synonyms() {
        let cl = parse(&["-S"]).unwrap();
        assert_eq!(cl.mode, Mode::ConfigDump);
        assert_eq!(cl.defines, ["DUMP_VHOSTS", "DUMP_RUN_CFG"]);
        assert_eq!(parse(&["-M"]).unwrap().defines, ["DUMP_MODULES"]);
        assert_eq!(parse(&["-X"]).unwrap().defines, ["DEBUG"]);
    }

    #[test]
    fn a_dump_wins_over_test() {
        assert_eq!(parse(&["-D", "DUMP_MPM", "-t"]).unwrap().mode, Mode::ConfigDump);
        assert_eq!(parse(&["-S", "-t"]).unwrap().mode, Mode::ConfigDump);
        assert_eq!(parse(&["-t", "-D", "DUMP_MPM"]).unwrap().mode, Mode::ConfigDump);
    }

    #[test]
    fn first_exiting_flag_wins() {
        assert_eq!(parse(&["-l", "-v"]).unwrap().mode, Mode::ListModules);
        assert_eq!(parse(&["-t", "-V"]).unwrap().mode, Mode::CompileSettings);
        assert_eq!(parse(&["-h"]).unwrap().mode, Mode::Help);
    }

    #[test]
    fn k_commands() {
        assert_eq!(parse(&["-k", "graceful-stop"]).unwrap().signal, Some(Signal::GracefulStop));
        assert_eq!(parse(&["-kstop"]).unwrap().signal, Some(Signal::Stop));
        assert!(parse(&["-k", "reload"]).is_err());
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        assert!(parse(&["-z"]).is_err());
        assert!(parse(&["-f"]).is_err());
        assert!(parse(&["stray"]).is_err());
        assert!(parse(&["-e", "loud"]).is_err());
        assert_eq!(parse(&["-e", "INFO"]).unwrap().startup_log_level.as_deref(), Some("info"));
    }
}
