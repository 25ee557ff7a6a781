//! Reading httpd.conf into a tree: what httpd does in `ap_build_config`.
//!
//! While reading, the reader acts at once on what httpd runs `EXEC_ON_READ`:
//! `${VAR}` substitution, `Define`/`UnDefine`, `ServerRoot`, `LoadModule`,
//! `Include`/`IncludeOptional` and the conditional sections `<IfModule>`,
//! `<IfDefine>`, `<IfFile>`, `<IfDirective>`, `<IfSection>`. A true
//! conditional's contents join the enclosing level; a false one is skipped to
//! its end tag. Every other line becomes a [`Node`]. Errors found here have
//! httpd's one-line "Syntax error on line N of FILE: ..." shape, nested once per
//! `Include`.

use std::path::{Path, PathBuf};

use super::directives;
use super::error::{ConfigError, Location};
use super::lexer::{self, Line};
use super::tree::{IncludedFile, Node, Origin};
use crate::modules;
use crate::mpm::MpmKind;

/// httpd's AP_MAX_INCLUDE_DEPTH.
const MAX_INCLUDE_DEPTH: usize = 128;

/// Sections (conditionals included) open at once, across Includes. httpd
/// sets no limit and recurses once per level, so a deep enough nest (a
/// generated or hostile file) overflows its stack; no real configuration
/// nests more than a handful.
const MAX_SECTION_NESTING: usize = 128;

/// The pseudo-file name httpd gives `-C` and `-c` directives.
pub const COMMAND_LINE_FILE: &str = "-c/-C directives";

/// A `Define`d name, with its value if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Define {
    pub name: String,
    pub value: Option<String>,
}

/// What reading produced.
#[derive(Debug, Default)]
pub(crate) struct ReadOutput {
    pub(crate) nodes: Vec<Node>,
    pub(crate) includes: Vec<IncludedFile>,
    pub(crate) defines: Vec<Define>,
    /// The ServerRoot in force at the end, and the line that set it.
    pub(crate) server_root: PathBuf,
    pub(crate) server_root_at: Option<Location>,
    /// Warnings httpd prints at startup (undefined `${VAR}`, duplicate LoadModule).
    pub(crate) warnings: Vec<String>,
}

/// Reads configuration text for the binary that embeds `mpm`.
pub(crate) struct Reader<'e> {
    mpm: MpmKind,
    env: &'e dyn Fn(&str) -> Option<String>,
    out: ReadOutput,
    /// Canonical paths of the files being read, outermost first (cycle check).
    reading: Vec<PathBuf>,
    /// The `Include` lines that led to the file being read, outermost first.
    include_chain: Vec<Location>,
    loaded_modules: Vec<String>,
    /// Sections open at the line being read, across Includes.
    nesting: usize,
}

impl<'e> Reader<'e> {
    /// `defines` come from `-D`; `env` looks up `${VAR}` when no Define has it.
    pub(crate) fn new(
        mpm: MpmKind,
        server_root: PathBuf,
        defines: &[String],
        env: &'e dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let mut out = ReadOutput { server_root, ..ReadOutput::default() };
        for name in defines {
            out.defines.push(Define { name: name.clone(), value: None });
        }
        Reader {
            mpm,
            env,
            out,
            reading: Vec::new(),
            include_chain: Vec::new(),
            loaded_modules: Vec::new(),
            nesting: 0,
        }
    }

    /// Reads `-C`/`-c` directives, one per entry.
    pub(crate) fn read_commands(&mut self, commands: &[String], origin: Origin) -> Result<(), ConfigError> {
        let lines: Vec<Line> = commands
            .iter()
            .enumerate()
            .map(|(i, text)| Line { number: i + 1, text: text.trim().to_string() })
            .filter(|l| !l.text.is_empty())
            .collect();
        let mut nodes = Vec::new();
        self.block(&mut lines.iter(), COMMAND_LINE_FILE, origin, &mut nodes, None, 0)?;
        self.out.nodes.extend(nodes);
        Ok(())
    }

    /// Reads the main configuration file from disk.
    pub(crate) fn read_main_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let path = self.absolute(path);
        let text = read_config_file(&path)?;
        self.out.includes.push(IncludedFile { depth: 0, line: 0, path: path.display().to_string() });
        self.reading.push(path.canonicalize().unwrap_or_else(|_| path.clone()));
        let result = self.read_text(&text, &path.display().to_string(), Origin::File);
        self.reading.pop();
        result
    }

    /// Reads configuration text that is not on disk (the embedded default).
    pub(crate) fn read_main_text(&mut self, text: &str, name: &str) -> Result<(), ConfigError> {
        self.out.includes.push(IncludedFile { depth: 0, line: 0, path: name.to_string() });
        self.read_text(text, name, Origin::File)
    }

    pub(crate) fn finish(self) -> ReadOutput {
        self.out
    }

    fn read_text(&mut self, text: &str, file: &str, origin: Origin) -> Result<(), ConfigError> {
        let lines =
            lexer::logical_lines(text).map_err(|(line, message)| self.read_error(file, line, "", message))?;
        let mut nodes = Vec::new();
        self.block(&mut lines.iter(), file, origin, &mut nodes, None, 0)?;
        self.out.nodes.extend(nodes);
        Ok(())
    }

    /// Reads lines into `out` until the end tag of `open` (a section or a true
    /// conditional started at the given location), or the end of the file.
    fn block<'l>(
        &mut self,
        lines: &mut impl Iterator<Item = &'l Line>,
        file: &str,
        origin: Origin,
        out: &mut Vec<Node>,
        open: Option<(&str, &Location)>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        while let Some(line) = lines.next() {
            let text = self.substitute(&line.text);
            let at = Location { file: file.to_string(), line: line.number };
            let (word, rest) = lexer::split_directive(&text);

            if let Some(closing) = word.strip_prefix("</") {
                let closing = closing.trim_end_matches('>');
                return match open {
                    Some((name, _)) if name.eq_ignore_ascii_case(closing) => Ok(()),
                    Some((name, _)) => Err(self.read_error(
                        file,
                        line.number,
                        word,
                        format!("Expected </{name}> but saw </{closing}>"),
                    )),
                    None => Err(self.read_error(
                        file,
                        line.number,
                        word,
                        format!("</{closing}> without matching <{closing}> section"),
                    )),
                };
            }

            if word.starts_with('<') {
                let (name, args) = self.section_head(&text, file, line.number)?;
                let args = lexer::words(&args).map_err(|m| self.read_error(file, line.number, &name, m))?;
                if self.nesting >= MAX_SECTION_NESTING {
                    let message = format!("<{name}> is nested more than {MAX_SECTION_NESTING} sections deep");
                    return Err(self.read_error(file, line.number, &name, message));
                }
                if is_conditional(&name) {
                    if self.condition_holds(&name, &args, file, line.number)? {
                        self.nesting += 1;
                        let read = self.block(lines, file, origin, out, Some((&name, &at)), depth);
                        self.nesting -= 1;
                        read?;
                    } else {
                        skip_to_end(lines, &name, MAX_SECTION_NESTING - self.nesting)
                            .map_err(|(n, m)| self.read_error(file, n.unwrap_or(line.number), &name, m))?;
                    }
                } else {
                    let mut node =
                        Node { name: format!("<{name}"), args, at: at.clone(), origin, children: Vec::new() };
                    self.nesting += 1;
                    let read = self.block(lines, file, origin, &mut node.children, Some((&name, &at)), depth);
                    self.nesting -= 1;
                    read?;
                    out.push(node);
                }
                continue;
            }

            let args = lexer::words(rest).map_err(|m| self.read_error(file, line.number, word, m))?;
            let canonical = directives::lookup(word, self.mpm)
                .filter(|d| matches!(d.effect, directives::Effect::ReadTime))
                .map(|d| d.name);
            match canonical {
                Some(name) => self.read_time(name, &args, &at, origin, out, depth)?,
                None => out.push(Node { name: word.to_string(), args, at, origin, children: Vec::new() }),
            }
        }
        match open {
            Some((name, at)) => {
                Err(self.read_error(&at.file, at.line, name, format!("<{name}> was not closed.")))
            }
            None => Ok(()),
        }
    }

    /// Splits `<Name args>` into the name and the raw arguments.
    fn section_head(&self, text: &str, file: &str, line: usize) -> Result<(String, String), ConfigError> {
        let inner = &text[1..];
        let name_end = inner.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(inner.len());
        let name = inner[..name_end].to_string();
        let Some(close) = inner.rfind('>') else {
            return Err(self.read_error(
                file,
                line,
                &name,
                format!("<{name}> directive missing closing '>'"),
            ));
        };
        let args = inner[name_end..close.max(name_end)].trim().to_string();
        if args.is_empty() {
            return Err(self.read_error(
                file,
                line,
                &name,
                format!("<{name}> directive requires additional arguments"),
            ));
        }
        Ok((name, args))
    }

    /// Evaluates `<IfModule>`, `<IfDefine>`, `<IfFile>`, `<IfDirective>`, `<IfSection>`.
    fn condition_holds(
        &self,
        name: &str,
        args: &[String],
        file: &str,
        line: usize,
    ) -> Result<bool, ConfigError> {
        let [arg] = args else {
            return Err(self.read_error(file, line, name, format!("<{name}> takes one argument")));
        };
        let (negate, subject) = match arg.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, arg.as_str()),
        };
        let holds = match name.to_ascii_lowercase().as_str() {
            "ifmodule" => modules::is_compiled_in(self.mpm, subject),
            "ifdefine" => self.out.defines.iter().any(|d| d.name == subject),
            "iffile" => self.absolute(Path::new(subject)).exists(),
            "ifdirective" => directives::lookup(subject, self.mpm).is_some_and(|d| !d.name.starts_with('<')),
            "ifsection" => directives::lookup(&format!("<{subject}"), self.mpm).is_some(),
            _ => unreachable!("is_conditional admitted only these"),
        };
        Ok(holds != negate)
    }

    /// Acts on a directive httpd runs while reading.
    fn read_time(
        &mut self,
        name: &'static str,
        args: &[String],
        at: &Location,
        origin: Origin,
        out: &mut Vec<Node>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let spec = directives::lookup(name, self.mpm).expect("read-time directive is in the table");
        spec.args
            .check(name, spec.description, args)
            .map_err(|m| self.read_error(&at.file, at.line, name, m))?;
        match name {
            "Define" => {
                if args[0].contains(':') {
                    return Err(self.read_error(
                        &at.file,
                        at.line,
                        name,
                        "Variable name must not contain ':'".into(),
                    ));
                }
                self.out.defines.retain(|d| d.name != args[0]);
                self.out.defines.push(Define { name: args[0].clone(), value: args.get(1).cloned() });
            }
            "UnDefine" => self.out.defines.retain(|d| d.name != args[0]),
            "ServerRoot" => {
                let root = self.absolute_from_cwd(Path::new(&args[0]));
                if !root.is_dir() {
                    return Err(self.read_error(
                        &at.file,
                        at.line,
                        name,
                        "ServerRoot must be a valid directory".into(),
                    ));
                }
                self.out.server_root = root;
                self.out.server_root_at = Some(at.clone());
            }
            "LoadModule" => self.load_module(&args[0], &args[1], at)?,
            "Include" | "IncludeOptional" => {
                self.include(&args[0], name == "IncludeOptional", at, origin, out, depth)?
            }
            _ => unreachable!("{name} is not a read-time directive"),
        }
        Ok(())
    }

    /// `LoadModule id file`: there is no dynamic loading here. The embedded
    /// MPM and the other compiled-in modules are accepted as already present;
    /// another MPM is httpd's "More than one MPM loaded", naming the binary that
    /// has it; anything else cannot be loaded.
    fn load_module(&mut self, id: &str, file: &str, at: &Location) -> Result<(), ConfigError> {
        if let Some(other) = MpmKind::from_module_id(id).filter(|k| *k != self.mpm) {
            return Err(self.read_error(
                &at.file,
                at.line,
                "LoadModule",
                format!(
                    "More than one MPM loaded: this server embeds the {} MPM; {id} is provided by {}",
                    self.mpm.name(),
                    other.binary()
                ),
            ));
        }
        if !modules::compiled_in(self.mpm).iter().any(|m| m.id == id) {
            return Err(self.read_error(
                &at.file,
                at.line,
                "LoadModule",
                format!(
                    "Cannot load {file} into server: {id} is not compiled into {}, \
                     which loads no dynamic modules",
                    self.mpm.binary()
                ),
            ));
        }
        if self.loaded_modules.iter().any(|m| m == id) {
            self.out.warnings.push(format!("module {id} is already loaded, skipping"));
        } else {
            self.loaded_modules.push(id.to_string());
        }
        Ok(())
    }

    /// `Include`/`IncludeOptional` of a file, a directory or a wildcard.
    fn include(
        &mut self,
        pattern: &str,
        optional: bool,
        at: &Location,
        origin: Origin,
        out: &mut Vec<Node>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let full = self.absolute(Path::new(pattern));
        let files = if has_wildcard(&full) {
            // The fixed directory before the first wildcard must exist.
            let fixed: PathBuf =
                full.components().take_while(|c| !has_wildcard(Path::new(c.as_os_str()))).collect();
            if !fixed.is_dir() && !optional {
                return Err(self.read_error(
                    &at.file,
                    at.line,
                    "Include",
                    format!(
                        "Include/IncludeOptional: Could not open directory {}: No such file or directory",
                        fixed.display()
                    ),
                ));
            }
            let matches = wildcard_matches(&full);
            if matches.is_empty() {
                if optional {
                    return Ok(());
                }
                let dir = full.parent().map(|p| p.display().to_string()).unwrap_or_default();
                let last = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                return Err(self.read_error(
                    &at.file,
                    at.line,
                    "Include",
                    format!(
                        "Include/IncludeOptional: No matches for the wildcard '{last}' in '{dir}', failing"
                    ),
                ));
            }
            matches.iter().flat_map(|p| files_under(p)).collect()
        } else if full.exists() {
            files_under(&full)
        } else if optional {
            return Ok(());
        } else {
            return Err(self.read_error(
                &at.file,
                at.line,
                "Include",
                format!("Could not open configuration file {}: No such file or directory", full.display()),
            ));
        };
        for path in files {
            self.include_file(&path, at, origin, out, depth + 1)?;
        }
        Ok(())
    }

    fn include_file(
        &mut self,
        path: &Path,
        at: &Location,
        origin: Origin,
        out: &mut Vec<Node>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(self.read_error(
                &at.file,
                at.line,
                "Include",
                format!(
                    "Exceeded the maximum include directory nesting level of {MAX_INCLUDE_DEPTH}. \
                     You have probably a recursion somewhere."
                ),
            ));
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(pos) = self.reading.iter().position(|p| *p == canonical) {
            let cycle: Vec<String> = self.reading[pos..]
                .iter()
                .map(|p| p.display().to_string())
                .chain([canonical.display().to_string()])
                .collect();
            return Err(self.read_error(
                &at.file,
                at.line,
                "Include",
                format!("Include cycle: {}", cycle.join(" includes ")),
            ));
        }
        let text = read_config_file(path)
            .map_err(|e| self.read_error(&at.file, at.line, "Include", e.message().to_string()))?;
        let file = path.display().to_string();
        self.out.includes.push(IncludedFile { depth, line: at.line, path: file.clone() });
        let lines = lexer::logical_lines(&text).map_err(|(n, m)| self.read_error(&file, n, "", m))?;
        self.reading.push(canonical);
        self.include_chain.push(at.clone());
        let result = self.block(&mut lines.iter(), &file, origin, out, None, depth);
        self.include_chain.pop();
        self.reading.pop();
        result
    }

    /// Replaces `${NAME}` by a Define's value, else the environment's; an
    /// undefined name stays as written, with httpd's warning.
    fn substitute(&mut self, text: &str) -> String {
        if !text.contains("${") {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            let value = if name.contains(':') {
                None
            } else {
                self.out
                    .defines
                    .iter()
                    .rev()
                    .find(|d| d.name == name)
                    .and_then(|d| d.value.clone())
                    .or_else(|| (self.env)(name))
            };
            match value {
                Some(v) => out.push_str(&v),
                None => {
                    if !name.contains(':') {
                        self.out
                            .warnings
                            .push(format!("AH00111: Config variable ${{{name}}} is not defined"));
                    }
                    out.push_str(&rest[start..start + 2 + end + 1]);
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A ServerRoot-relative path made absolute.
    fn absolute(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.out.server_root.join(path) }
    }

    fn absolute_from_cwd(&self, path: &Path) -> PathBuf {
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        joined.canonicalize().unwrap_or(joined)
    }

    fn read_error(&self, file: &str, line: usize, directive: &str, message: String) -> ConfigError {
        ConfigError::Read {
            includes: self.include_chain.clone(),
            at: Location { file: file.to_string(), line },
            directive: directive.to_string(),
            message,
        }
    }
}

fn is_conditional(name: &str) -> bool {
    ["IfModule", "IfDefine", "IfFile", "IfDirective", "IfSection"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
}

/// Skips a false conditional up to its end tag, checking that sections nested
/// inside it are balanced, as httpd's `ap_soak_end_container`; at most `room`
/// more levels deep. An error about a nested line carries that line's number.
fn skip_to_end<'l>(
    lines: &mut impl Iterator<Item = &'l Line>,
    name: &str,
    room: usize,
) -> Result<(), (Option<usize>, String)> {
    let mut open: Vec<&str> = vec![name];
    for line in lines {
        let (word, _) = lexer::split_directive(&line.text);
        let innermost = open.last().copied().unwrap_or(name);
        if let Some(closing) = word.strip_prefix("</") {
            let closing = closing.trim_end_matches('>');
            if !closing.eq_ignore_ascii_case(innermost) {
                return Err((None, format!("Expected </{innermost}> but saw </{closing}>")));
            }
            open.pop();
            if open.is_empty() {
                return Ok(());
            }
        } else if let Some(nested) = word.strip_prefix('<') {
            if open.len() > room {
                let nested = nested.trim_end_matches('>');
                let message = format!("<{nested}> is nested more than {MAX_SECTION_NESTING} sections deep");
                return Err((Some(line.number), message));
            }
            open.push(nested.trim_end_matches('>'));
        }
    }
    let innermost = open.last().copied().unwrap_or(name);
    Err((None, format!("Expected </{innermost}> before end of configuration")))
}

fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Err(ConfigError::Global {
            message: format!("Could not open configuration file {}: {}", path.display(), os_error_text(&e)),
        }),
    }
}

/// An I/O error as `strerror` words it, without Rust's "(os error N)".
pub(crate) fn os_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

fn has_wildcard(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// Paths matching a wildcard pattern, sorted; wildcards do not match a
/// leading dot (httpd passes APR_FNM_PERIOD).
fn wildcard_matches(pattern: &Path) -> Vec<PathBuf> {
    let options = glob::MatchOptions { require_literal_leading_dot: true, ..Default::default() };
    let mut found: Vec<PathBuf> = match glob::glob_with(&pattern.to_string_lossy(), options) {
        Ok(paths) => paths.filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    };
    found.sort();
    found
}

/// A file itself, or every file in a directory and its subdirectories, sorted.
fn files_under(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(dir) => dir.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    entries.iter().flat_map(|p| files_under(p)).collect()
}
