//! Configuration errors, shaped like httpd's so that users and tools recognise them.
//!
//! httpd reports two kinds (MPM-SPEC §8.4). A directive that fails when it is
//! executed gives `AH00526: Syntax error on line N of FILE:` and the message on
//! the next line. An error found while *reading* (containers, `Include`,
//! `LoadModule`, `Define`) gives `httpd: Syntax error on line N of FILE: MESSAGE`
//! on one line, nested once per `Include` that led to the file.

use std::fmt;

/// Where a directive was written: a file and a line, or the `-C`/`-c` pseudo-file,
/// or an `HTTPD_*` environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's path, `-c/-C directives`, or `environment variable HTTPD_X`.
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 { write!(f, "{}", self.file) } else { write!(f, "{}:{}", self.file, self.line) }
    }
}

/// A configuration error a user can act on: it names the file, the line and
/// the directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A directive failed when it was executed (AH00526 form).
    Directive { at: Location, directive: String, message: String },
    /// An error found while reading the files: `includes` lists, outermost
    /// first, each `Include` that led to the failing file.
    Read { includes: Vec<Location>, at: Location, directive: String, message: String },
    /// An `HTTPD_*` environment variable whose value a directive rejects.
    Environment { variable: String, directive: String, message: String },
    /// An error that belongs to no single line (a file that cannot be opened,
    /// no MPM, a figment extraction failure).
    Global { message: String },
}

impl ConfigError {
    /// The message alone, without the location.
    pub fn message(&self) -> &str {
        match self {
            ConfigError::Directive { message, .. }
            | ConfigError::Read { message, .. }
            | ConfigError::Environment { message, .. }
            | ConfigError::Global { message } => message,
        }
    }

    /// The innermost location, if the error has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Directive { at, .. } | ConfigError::Read { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The error as the binary prints it on stderr; `program` is the binary's
    /// base name, which httpd puts where it says `httpd:`.
    pub fn render(&self, program: &str) -> String {
        match self {
            ConfigError::Directive { .. } => self.to_string(),
            _ => format!("{program}: {self}"),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Directive { at, message, .. } => {
                write!(f, "AH00526: Syntax error on line {} of {}:\n{message}", at.line, at.file)
            }
            ConfigError::Read { includes, at, message, .. } => {
                for outer in includes {
                    write!(f, "Syntax error on line {} of {}: ", outer.line, outer.file)?;
                }
                write!(f, "Syntax error on line {} of {}: {message}", at.line, at.file)
            }
            ConfigError::Environment { variable, message, .. } => {
                write!(f, "Syntax error in environment variable {variable}: {message}")
            }
            ConfigError::Global { message } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: usize) -> Location {
        Location { file: file.into(), line }
    }

    #[test]
    fn directive_error_has_httpd_two_line_shape() {
        let e = ConfigError::Directive {
            at: at("/a/httpd.conf", 7),
            directive: "Foo".into(),
            message: "Invalid command 'Foo'".into(),
        };
        assert_eq!(
            e.render("event-server"),
            "AH00526: Syntax error on line 7 of /a/httpd.conf:\nInvalid command 'Foo'"
        );
    }

    #[test]
    fn read_error_nests_per_include() {
        let e = ConfigError::Read {
            includes: vec![at("/a/httpd.conf", 31)],
            at: at("/a/extra.conf", 2),
            directive: "<Directory".into(),
            message: "<Directory> was not closed.".into(),
        };
        assert_eq!(
            e.render("prefork-server"),
            "prefork-server: Syntax error on line 31 of /a/httpd.conf: \
             Syntax error on line 2 of /a/extra.conf: <Directory> was not closed."
        );
    }
}
