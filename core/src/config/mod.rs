//! Configuration in httpd.conf syntax, from text to typed settings.
//!
//! ```text
//! -C lines, httpd.conf (+ Includes), -c lines
//!   --lexer-->  logical lines and words
//!   --reader--> tree of Nodes (IfModule/IfDefine/Include/Define applied)
//!   --walk-->   checked directives; top-level values as Contributions
//!   --figment-> defaults < files < HTTPD_* < -C/-c  ==>  Settings
//! ```
//!
//! [`Config::load`] runs the whole pipeline. Every error names the file, the
//! line and the directive ([`ConfigError`]).

mod directives;
mod error;
mod lexer;
mod provider;
mod reader;
mod settings;
mod tree;
mod values;
mod virtual_host;
mod walk;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::Serialized;

pub use directives::{Args, Context, DirectiveSpec, TABLE as DIRECTIVES};
pub use error::{ConfigError, Location};
pub use provider::ENV_PREFIX;
pub use reader::{COMMAND_LINE_FILE, Define};
pub use settings::{
    COMMON_LOG_FORMAT, CustomLogSpec, HostnameLookups, ListenSpec, ServerSignature, ServerTokens, Settings,
    UseCanonicalName,
};
pub use tree::{IncludedFile, Node, Origin};
pub use values::LOG_LEVELS;
pub use virtual_host::VirtualHostConfig;

use crate::mpm::MpmKind;

/// Where the main configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk (ServerRoot-relative if relative).
    File(PathBuf),
    /// The default configuration embedded in the binary (shared-conf).
    Embedded,
}

/// The name errors give the embedded configuration.
pub const EMBEDDED_NAME: &str = "(embedded) httpd.conf";

/// Everything [`Config::load`] needs; the command line fills it.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub mpm: MpmKind,
    /// The initial ServerRoot (`-d`, or the compiled-in default).
    pub server_root: PathBuf,
    pub source: Source,
    /// `-D` names.
    pub defines: Vec<String>,
    /// `-C` directives.
    pub pre_commands: Vec<String>,
    /// `-c` directives.
    pub post_commands: Vec<String>,
    /// Check that DocumentRoot is a directory (off with `-T`).
    pub check_document_root: bool,
    /// The environment, for `${VAR}` and `HTTPD_*`.
    pub env: Vec<(String, String)>,
}

impl LoadOptions {
    pub fn new(mpm: MpmKind, server_root: impl Into<PathBuf>, source: Source) -> Self {
        LoadOptions {
            mpm,
            server_root: server_root.into(),
            source,
            defines: Vec::new(),
            pre_commands: Vec::new(),
            post_commands: Vec::new(),
            check_document_root: true,
            env: Vec::new(),
        }
    }
}

/// A loaded configuration.
#[derive(Debug)]
pub struct Config {
    pub mpm: MpmKind,
    pub settings: Settings,
    /// Top-level sections, kept for the handlers (`<VirtualHost>` ones
    /// included, as written; see `vhosts` for what they hold).
    pub sections: Vec<Node>,
    /// Each `<VirtualHost>`, in configuration order.
    pub vhosts: Vec<VirtualHostConfig>,
    /// The main file first, then each included file (for DUMP_INCLUDES).
    pub includes: Vec<IncludedFile>,
    pub defines: Vec<Define>,
    /// Startup warnings, in the order httpd prints them.
    pub warnings: Vec<String>,
    /// Info lines (deprecated directive names).
    pub notes: Vec<String>,
    /// Notices, shown whatever the log level, as httpd's (AH00548).
    pub notices: Vec<String>,
    pub source: Source,
    figment: Figment,
}

impl Config {
    pub fn load(options: &LoadOptions) -> Result<Config, ConfigError> {
        let env_lookup = |name: &str| options.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let mut reader =
            reader::Reader::new(options.mpm, options.server_root.clone(), &options.defines, &env_lookup);
        reader.read_commands(&options.pre_commands, Origin::PreCommand)?;
        match &options.source {
            Source::File(path) => reader.read_main_file(path)?,
            Source::Embedded => reader.read_main_text(shared_conf::HTTPD_CONF, EMBEDDED_NAME)?,
        }
        reader.read_commands(&options.post_commands, Origin::PostCommand)?;
        let read = reader.finish();

        let walked = walk::walk(&read.nodes, options.mpm)?;
        let mut warnings = read.warnings;
        let environment = provider::environment(options.env.iter().cloned(), options.mpm, &mut warnings)?;

        let defaults = Settings { server_root: read.server_root.clone(), ..Settings::default() };
        let figment = provider::layer(
            Figment::from(Serialized::defaults(defaults)),
            &walked.contributions,
            &environment,
        );
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Global { message: format!("invalid configuration: {e}") })?;
        settings.finish();

        let main_name = std::cell::OnceCell::new();
        let name = || main_name.get_or_init(|| main_server_name(&settings)).clone();
        let main = virtual_host::MainServer {
            figment: &figment,
            name: &name,
            check_document_root: options.check_document_root,
        };
        let mut vhosts = Vec::with_capacity(walked.vhosts.len());
        for walked_vhost in walked.vhosts {
            vhosts.push(virtual_host::load(walked_vhost, &main, &mut warnings)?);
        }

        let config = Config {
            mpm: options.mpm,
            settings,
            sections: walked.sections,
            vhosts,
            includes: read.includes,
            defines: read.defines,
            warnings,
            notes: walked.notes,
            notices: walked.notices,
            source: options.source.clone(),
            figment,
        };
        config.check_paths(options)?;
        crate::tls::check_files(&config)?;
        Ok(config)
    }

    /// Where the value in force for `directive` was written: `file:line`, an
    /// `HTTPD_*` variable, or `None` for a built-in default.
    pub fn provenance(&self, directive: &str) -> Option<String> {
        let metadata = self.figment.find_metadata(directive)?;
        // The bottom layer is named after the type it serializes.
        (metadata.name != std::any::type_name::<Settings>()).then(|| metadata.name.to_string())
    }

    /// The checks httpd makes when it executes DocumentRoot and
    /// CoreDumpDirectory: the directories must exist.
    fn check_paths(&self, options: &LoadOptions) -> Result<(), ConfigError> {
        let s = &self.settings;
        // The embedded configuration serves the embedded page when its
        // DocumentRoot is missing, so a binary with no files still runs.
        let embedded = self.source == Source::Embedded;
        if options.check_document_root && !embedded && !s.document_root.is_dir() {
            if let Some(at) = self.provenance_location("DocumentRoot") {
                return Err(ConfigError::Directive {
                    at,
                    directive: "DocumentRoot".into(),
                    message: format!(
                        "DocumentRoot '{}' is not a directory, or is not readable",
                        s.document_root.display()
                    ),
                });
            }
        }
        if let Some(dir) = &s.core_dump_directory {
            let message = if !dir.exists() {
                Some(format!("CoreDumpDirectory {} does not exist", dir.display()))
            } else if !dir.is_dir() {
                Some(format!("CoreDumpDirectory {} is not a directory", dir.display()))
            } else {
                None
            };
            if let Some(message) = message {
                let at = self
                    .provenance_location("CoreDumpDirectory")
                    .unwrap_or(Location { file: "(unknown)".into(), line: 0 });
                return Err(ConfigError::Directive { at, directive: "CoreDumpDirectory".into(), message });
            }
        }
        Ok(())
    }

    pub(crate) fn provenance_location(&self, directive: &str) -> Option<Location> {
        Some(location_of(&self.provenance(directive)?))
    }

    /// Where the line that gave a tagged setting was written (the mod_ssl
    /// settings keep their figment tag), in the main server's lines or a
    /// `<VirtualHost>`'s; `None` for a built-in default.
    pub fn written_at(&self, tag: figment::value::Tag) -> Option<Location> {
        let metadata =
            self.figment.get_metadata(tag).or_else(|| self.vhosts.iter().find_map(|v| v.metadata(tag)))?;
        (metadata.name != std::any::type_name::<Settings>()).then(|| location_of(&metadata.name))
    }

    /// The main server's identity: its name (ServerName's host, else the
    /// one httpd would guess), no addresses.
    pub fn main_identity(&self) -> crate::vhost::Identity {
        crate::vhost::Identity { name: main_server_name(&self.settings), ..Default::default() }
    }

    /// The address table of this configuration's virtual hosts.
    pub fn virtual_hosts(&self) -> crate::vhost::VirtualHosts {
        let mut identities = vec![self.main_identity()];
        identities.extend(self.vhosts.iter().map(|v| v.identity.clone()));
        crate::vhost::VirtualHosts::new(identities)
    }

    /// The main configuration file's name as errors and dumps show it.
    pub fn main_file(&self) -> &str {
        self.includes.first().map_or(EMBEDDED_NAME, |f| f.path.as_str())
    }

    /// Whether the configuration defines `name` (`-D` or `Define`).
    pub fn is_defined(&self, name: &str) -> bool {
        self.defines.iter().any(|d| d.name == name)
    }
}

/// A provider's name (`file:line`, `file:line (-C)`, an `HTTPD_*` variable)
/// as a location.
fn location_of(name: &str) -> Location {
    let name = name.trim_end_matches(" (-C)").trim_end_matches(" (-c)");
    match name.rsplit_once(':') {
        Some((file, line)) if line.parse::<usize>().is_ok() => {
            Location { file: file.to_string(), line: line.parse().unwrap_or(0) }
        }
        _ => Location { file: name.to_string(), line: 0 },
    }
}

/// httpd's `server_hostname` of the main server: ServerName's host, else
/// a guess from the machine's name (`ap_get_local_host`).
fn main_server_name(settings: &Settings) -> String {
    settings.server_host().map_or_else(crate::vhost::local_host_name, str::to_string)
}

/// Looks `directive` up among the directives of `mpm`'s binary.
pub fn lookup_directive(directive: &str, mpm: MpmKind) -> Option<&'static DirectiveSpec> {
    directives::lookup(directive, mpm)
}

/// A ServerRoot-relative path made absolute.
pub fn server_root_relative(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { root.join(path) }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_vhosts;
