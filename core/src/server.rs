//! What serving needs, built once from a loaded configuration and shared
//! (read-only) by every connection of a process: the [`Server`]s (httpd's
//! `server_rec`s: the main server, then each `<VirtualHost>`), the address
//! table that picks one for a request, and what the whole process shares.

use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use crate::config::{Config, Node, ServerTokens, Settings, Source};
use crate::docroot::DocumentRootDir;
use crate::handler::mime::MimeTypes;
use crate::limits::Capacity;
use crate::logs::AccessLog;
use crate::logs::error_log::ServerErrorLog;
use crate::mpm::MpmKind;
use crate::scoreboard::Scoreboard;
use crate::vhost::{Binding, Identity, VirtualHosts};

/// One server: the main server or a `<VirtualHost>`, with everything a
/// request it answers is served by.
#[derive(Debug)]
pub struct Server {
    /// Its place in [`ServerContext::servers`] (0 = the main server).
    pub index: usize,
    /// ServerName, ServerAlias, its addresses and `<VirtualHost>` line.
    pub identity: Identity,
    /// Its settings: a vhost's are the main server's with its own lines on top.
    pub settings: Settings,
    /// `<Directory>`, `<Location>` and `<Files>`: the main server's, then
    /// (for a vhost) its own, the order httpd merges them in.
    pub sections: Vec<Node>,
    /// TypesConfig with its AddType lines (shared with the main server's
    /// table when it adds none of its own).
    pub mime: Arc<MimeTypes>,
    /// Its CustomLog lines; a vhost without any writes to the main
    /// server's (the same files).
    pub access_log: AccessLog,
    /// Its own ErrorLog; `None` writes to the main ErrorLog.
    pub error_log: Option<Arc<ServerErrorLog>>,
    /// DocumentRoot as an open directory, for the file lookup's `openat2`.
    pub document_root_dir: DocumentRootDir,
    /// DocumentRoot is missing and the configuration is the embedded one:
    /// serve the embedded default page (a binary with no files still runs).
    pub embedded_docroot: bool,
}

impl Server {
    /// A server with these settings and nothing shared (tests, benches):
    /// TypesConfig falls back to the embedded table.
    pub fn standalone(
        index: usize,
        identity: Identity,
        settings: Settings,
        sections: Vec<Node>,
    ) -> Result<Server, String> {
        Ok(Server {
            index,
            identity,
            mime: Arc::new(MimeTypes::load(&settings, true)?),
            access_log: AccessLog::open(&settings).map_err(|e| e.to_string())?,
            error_log: None,
            document_root_dir: DocumentRootDir::new(&settings.document_root),
            embedded_docroot: false,
            settings,
            sections,
        })
    }

    /// DocumentRoot opened (`O_PATH`), or `None` when it cannot be, and
    /// requests then walk the path; see [`crate::docroot`].
    pub fn document_root_dir(&self) -> Option<Arc<OwnedFd>> {
        self.document_root_dir.get()
    }

    /// httpd's `server_hostname`: what `%v` logs and the scoreboard shows.
    pub fn name(&self) -> &str {
        &self.identity.name
    }

    pub fn is_virtual(&self) -> bool {
        self.index > 0
    }
}

pub struct ServerContext {
    pub mpm: MpmKind,
    /// The main server (index 0), then each `<VirtualHost>` in
    /// configuration order.
    pub servers: Vec<Server>,
    /// Which servers answer on which address.
    pub vhosts: VirtualHosts,
    /// The `Server` header's value, per ServerTokens (main server only).
    pub banner: String,
    /// The MPM's sizing after httpd's clamping (server-status shows slots
    /// beyond it as disabled).
    pub capacity: Capacity,
    /// The shared scoreboard, when the process model made one.
    pub scoreboard: Option<&'static Scoreboard>,
    /// The rustls configuration of each address with `SSLEngine on`.
    pub tls: crate::tls::TlsContext,
}

impl ServerContext {
    /// Opens every server's logs (as httpd's parent does, before forking)
    /// and builds the address table.
    pub fn new(config: &Config, scoreboard: Option<&'static Scoreboard>) -> Result<ServerContext, String> {
        let embedded = config.source == Source::Embedded;
        let settings = &config.settings;
        let types = MimeTypes::types_config(settings, embedded)?;
        let main_mime = Arc::new(types.with_add_type(&settings.add_type));
        let main_log = match AccessLog::open(settings) {
            Ok(log) => log,
            // The embedded configuration's logs/ may not exist (a binary
            // installed alone): its access log then goes to stdout.
            Err(e) if embedded => {
                log::warn!(target: "core", "{e}; the access log goes to stdout");
                let mut to_stdout = settings.clone();
                for log in &mut to_stdout.custom_log {
                    log.target = "/dev/stdout".into();
                }
                AccessLog::open(&to_stdout).map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let main_sections: Vec<Node> = config
            .sections
            .iter()
            .filter(|n| !n.bare_name().eq_ignore_ascii_case("VirtualHost"))
            .cloned()
            .collect();
        let mut servers = Vec::with_capacity(1 + config.vhosts.len());
        for (i, vhost) in config.vhosts.iter().enumerate() {
            let own = &vhost.settings;
            let mime = if own.add_type == settings.add_type {
                Arc::clone(&main_mime)
            } else {
                Arc::new(types.with_add_type(&own.add_type))
            };
            let access_log = if vhost.sets("CustomLog") {
                AccessLog::open(own).map_err(|e| e.to_string())?
            } else {
                main_log.for_server(own)
            };
            let error_log =
                if vhost.sets("ErrorLog") { ServerErrorLog::open(&own.error_log, config.mpm)? } else { None };
            servers.push(Server {
                index: 1 + i,
                identity: vhost.identity.clone(),
                settings: own.clone(),
                sections: main_sections.iter().chain(&vhost.sections).cloned().collect(),
                mime,
                access_log,
                error_log,
                document_root_dir: DocumentRootDir::new(&own.document_root),
                embedded_docroot: false,
            });
        }
        let main = Server {
            index: 0,
            identity: config.main_identity(),
            settings: settings.clone(),
            sections: main_sections,
            mime: main_mime,
            access_log: main_log,
            error_log: None,
            document_root_dir: DocumentRootDir::new(&settings.document_root),
            embedded_docroot: embedded && !settings.document_root.is_dir(),
        };
        servers.insert(0, main);
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (capacity, _) = crate::limits::capacity(config.mpm, settings, online_cpus);
        let vhosts = config.virtual_hosts();
        // Certificates and keys are read here, in the parent, before it
        // forks and before the children drop privileges.
        let tls =
            crate::tls::TlsContext::build(config, &vhosts).map_err(|e| e.render(config.mpm.binary()))?;
        Ok(ServerContext {
            mpm: config.mpm,
            tls,
            vhosts,
            servers,
            capacity,
            scoreboard,
            banner: banner(config.mpm, settings.server_tokens),
        })
    }

    /// A context with the main server alone (tests, benches).
    pub fn single(mpm: MpmKind, main: Server, scoreboard: Option<&'static Scoreboard>) -> ServerContext {
        let online_cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let (capacity, _) = crate::limits::capacity(mpm, &main.settings, online_cpus);
        ServerContext {
            mpm,
            banner: banner(mpm, main.settings.server_tokens),
            vhosts: VirtualHosts::new(vec![main.identity.clone()]),
            servers: vec![main],
            capacity,
            scoreboard,
            tls: crate::tls::TlsContext::default(),
        }
    }

    /// The main server.
    pub fn main(&self) -> &Server {
        &self.servers[0]
    }

    /// httpd's `ap_update_vhost_given_ip`, at connection start: which
    /// servers may answer on `local`, the connection's own address.
    pub fn bind(&self, local: SocketAddr) -> Binding {
        self.vhosts.bind(local)
    }

    /// The server a connection on `binding` is served by until a request
    /// names a host (httpd's `c->base_server`): errors reading a head go
    /// to its logs.
    pub fn default_server(&self, binding: Binding) -> &Server {
        &self.servers[self.vhosts.default_server(binding)]
    }

    /// httpd's `ap_update_vhost_from_headers`, once a request head is
    /// complete: the server for `host` (the absolute URI's host, else the
    /// Host header; `None` when neither is given). Allocates nothing.
    pub fn select(&self, binding: Binding, host: Option<&str>) -> &Server {
        &self.servers[self.vhosts.select(binding, host)]
    }

    /// Every binding, [`Binding::MAIN`] (the main server's addresses) first;
    /// [`Binding::id`] is an index into this list.
    pub fn bindings(&self) -> impl Iterator<Item = Binding> + '_ {
        self.vhosts.bindings()
    }

    /// The servers that may answer on `binding`, the default first, each
    /// once (what a TLS handshake chooses from by SNI).
    pub fn binding_servers(&self, binding: Binding) -> impl Iterator<Item = &Server> + '_ {
        self.vhosts.servers(binding).into_iter().map(|i| &self.servers[i])
    }

    /// `<address>... Server at host Port port</address>` per `server`'s
    /// ServerSignature, or empty; `host` and `port` come from the request.
    pub fn signature(&self, server: &Server, host: &str, port: u16) -> String {
        use crate::config::ServerSignature;
        let address = format!("{} Server at {host} Port {port}", self.banner);
        match server.settings.server_signature {
            ServerSignature::Off => String::new(),
            ServerSignature::On => {
                format!("<address>{}</address>", crate::http::status::escape_html(&address))
            }
            ServerSignature::Email => {
                let admin = server.settings.server_admin.as_deref().unwrap_or("");
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
