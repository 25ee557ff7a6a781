//! What serving needs, built once from a loaded configuration and shared
//! (read-only) by every connection of a process.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use crate::config::{Config, Node, ServerTokens, Settings};
use crate::docroot::DocumentRootDir;
use crate::handler::mime::MimeTypes;
use crate::limits::Capacity;
use crate::logs::AccessLog;
use crate::mpm::MpmKind;
use crate::scoreboard::Scoreboard;

pub struct ServerContext {
    pub mpm: MpmKind,
    pub settings: Settings,
    /// Top-level sections (`<Directory>`, `<Location>`, `<Files>` ...).
    pub sections: Vec<Node>,
    pub mime: MimeTypes,
    pub access_log: AccessLog,
    /// The `Server` header's value, per ServerTokens.
    pub banner: String,
    /// DocumentRoot is missing and the configuration is the embedded one:
    /// serve the embedded default page (a binary with no files still runs).
    pub embedded_docroot: bool,
    /// The MPM's sizing after httpd's clamping (server-status shows slots
    /// beyond it as disabled).
    pub capacity: Capacity,
    /// The shared scoreboard, when the process model made one.
    pub scoreboard: Option<&'static Scoreboard>,
    /// DocumentRoot as an open directory, for the file lookup's `openat2`.
    pub document_root_dir: DocumentRootDir,
}

impl ServerContext {
    pub fn new(config: &Config, scoreboard: Option<&'static Scoreboard>) -> Result<ServerContext, String> {
        let settings = config.settings.clone();
        let embedded_docroot =
            config.source == crate::config::Source::Embedded && !settings.document_root.is_dir();
        let mime = MimeTypes::load(&settings, config.source == crate::config::Source::Embedded)?;
        let access_log = match AccessLog::open(&settings) {
            Ok(log) => log,
            // The embedded configuration's logs/ may not exist (a binary
            // installed alone): its access log then goes to stdout.
            Err(e) if config.source == crate::config::Source::Embedded => {
                log::warn!(target: "core", "{e}; the access log goes to stdout");
                let mut to_stdout = settings.clone();
                for log in &mut to_stdout.custom_log {
                    log.target = "/dev/stdout".into();
                }
                AccessLog::open(&to_stdout).map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (capacity, _) = crate::limits::capacity(config.mpm, &settings, online_cpus);
        Ok(ServerContext {
            mpm: config.mpm,
            capacity,
            scoreboard,
            banner: banner(config.mpm, settings.server_tokens),
            document_root_dir: DocumentRootDir::new(&settings.document_root),
            settings,
            sections: config.sections.clone(),
            mime,
            access_log,
            embedded_docroot,
        })
    }

    /// DocumentRoot opened (`O_PATH`), or `None` when it cannot be, and
    /// requests then walk the path; see [`crate::docroot`].
    pub fn document_root_dir(&self) -> Option<Arc<OwnedFd>> {
        self.document_root_dir.get()
    }

    /// `<address>... Server at host Port port</address>` per ServerSignature,
    /// or empty; `host` and `port` come from the request (Host header).
    pub fn signature(&self, host: &str, port: u16) -> String {
        use crate::config::ServerSignature;
        let address = format!("{} Server at {host} Port {port}", self.banner);
        match self.settings.server_signature {
            ServerSignature::Off => String::new(),
            ServerSignature::On => {
                format!("<address>{}</address>", crate::http::status::escape_html(&address))
            }
            ServerSignature::Email => {
                let admin = self.settings.server_admin.as_deref().unwrap_or("");
                format!(
                    "<address><a href=\"mailto:{}\">{}</a></address>",
                    crate::http::status::escape_html(admin),
                    crate::http::status::escape_html(&address)
                )
            }
        }
    }
}

/// The Server header for `tokens`: the binary's name as the product.
pub fn banner(mpm: MpmKind, tokens: ServerTokens) -> String {
    let product = mpm.binary();
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    match tokens {
        ServerTokens::Prod => product.to_string(),
        ServerTokens::Major => format!("{product}/{major}"),
        ServerTokens::Minor => format!("{product}/{major}.{minor}"),
        ServerTokens::Min => format!("{product}/{version}"),
        ServerTokens::Os | ServerTokens::Full => format!("{product}/{version} (Unix)"),
    }
}
