//! The typed settings of a server (the main server, or a `<VirtualHost>`,
//! whose settings are the main server's with its own lines on top): one
//! field per directive of MPM-SPEC §2 and §9, named as the directive. figment extracts them from the
//! layers in `provider`; `Settings::default()` is the bottom layer.
//!
//! MPM sizing fields are `Option`s: their defaults differ by MPM and are
//! applied, with httpd's clamping, in [`crate::limits`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use figment::value::magic::Tagged;
use serde::{Deserialize, Serialize};

/// httpd's Common Log Format, the format of a `TransferLog` with no `LogFormat`.
pub const COMMON_LOG_FORMAT: &str = "%h %l %u %t \"%r\" %>s %b";

/// One `Listen` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenSpec {
    /// An address or host name; empty for every address.
    pub host: String,
    pub port: u16,
    /// `http` or `https` (or another name given on the line).
    pub protocol: String,
}

/// One `CustomLog` or `TransferLog` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomLogSpec {
    /// A file (ServerRoot-relative until resolved) or `|program`.
    pub target: String,
    /// A format string or a LogFormat nickname; empty for the default format.
    pub format: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerTokens {
    Prod,
    Major,
    Minor,
    Min,
    #[serde(rename = "OS")]
    Os,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerSignature {
    Off,
    On,
    #[serde(rename = "EMail")]
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UseCanonicalName {
    On,
    Off,
    #[serde(rename = "DNS")]
    Dns,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostnameLookups {
    On,
    Off,
    Double,
}

/// A server's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(rename = "ServerRoot")]
    pub server_root: PathBuf,
    #[serde(rename = "Listen")]
    pub listen: Vec<ListenSpec>,
    #[serde(rename = "ListenBacklog")]
    pub listen_backlog: u32,
    #[serde(rename = "ListenCoresBucketsRatio")]
    pub listen_cores_buckets_ratio: u32,
    #[serde(rename = "SendBufferSize")]
    pub send_buffer_size: u32,
    #[serde(rename = "ReceiveBufferSize")]
    pub receive_buffer_size: u32,
    #[serde(rename = "MaxConnectionsPerChild")]
    pub max_connections_per_child: i64,
    #[serde(rename = "GracefulShutdownTimeout")]
    pub graceful_shutdown_timeout: i64,
    #[serde(rename = "PidFile")]
    pub pid_file: PathBuf,
    #[serde(rename = "ScoreBoardFile")]
    pub score_board_file: Option<PathBuf>,
    #[serde(rename = "CoreDumpDirectory")]
    pub core_dump_directory: Option<PathBuf>,
    #[serde(rename = "MaxMemFree")]
    pub max_mem_free: u64,
    #[serde(rename = "ThreadStackSize")]
    pub thread_stack_size: u64,
    #[serde(rename = "User")]
    pub user: String,
    #[serde(rename = "Group")]
    pub group: String,
    #[serde(rename = "ExtendedStatus")]
    pub extended_status: bool,
    #[serde(rename = "SeeRequestTail")]
    pub see_request_tail: bool,
    #[serde(rename = "Mutex")]
    pub mutex: Vec<String>,

    #[serde(rename = "ServerName")]
    pub server_name: Option<String>,
    #[serde(rename = "ServerAdmin")]
    pub server_admin: Option<String>,
    /// A `<VirtualHost>`'s other names, as written (wildcards included).
    #[serde(rename = "ServerAlias")]
    pub server_alias: Vec<String>,
    #[serde(rename = "DocumentRoot")]
    pub document_root: PathBuf,
    #[serde(rename = "DirectoryIndex")]
    pub directory_index: Vec<String>,
    #[serde(rename = "DirectorySlash")]
    pub directory_slash: bool,
    #[serde(rename = "Options")]
    pub options: Vec<String>,
    #[serde(rename = "SetHandler")]
    pub set_handler: Option<String>,
    #[serde(rename = "KeepAlive")]
    pub keep_alive: bool,
    /// Milliseconds.
    #[serde(rename = "KeepAliveTimeout")]
    pub keep_alive_timeout: u64,
    #[serde(rename = "MaxKeepAliveRequests")]
    pub max_keep_alive_requests: i64,
    /// Milliseconds.
    #[serde(rename = "Timeout")]
    pub timeout: u64,
    #[serde(rename = "LimitRequestLine")]
    pub limit_request_line: u64,
    #[serde(rename = "LimitRequestFieldSize")]
    pub limit_request_field_size: u64,
    #[serde(rename = "LimitRequestFields")]
    pub limit_request_fields: u64,
    #[serde(rename = "LimitRequestBody")]
    pub limit_request_body: u64,
    #[serde(rename = "ErrorLog")]
    pub error_log: String,
    /// `""` is the main level; other keys are modules.
    #[serde(rename = "LogLevel")]
    pub log_level: BTreeMap<String, String>,
    /// Nickname to format; `""` is the default format.
    #[serde(rename = "LogFormat")]
    pub log_format: BTreeMap<String, String>,
    #[serde(rename = "CustomLog")]
    pub custom_log: Vec<CustomLogSpec>,
    #[serde(rename = "TypesConfig")]
    pub types_config: PathBuf,
    /// Lower-case extension (no dot) to media type.
    #[serde(rename = "AddType")]
    pub add_type: BTreeMap<String, String>,
    #[serde(rename = "ServerTokens")]
    pub server_tokens: ServerTokens,
    #[serde(rename = "ServerSignature")]
    pub server_signature: ServerSignature,
    /// Status code to text, local path or URL.
    #[serde(rename = "ErrorDocument")]
    pub error_document: BTreeMap<String, String>,
    #[serde(rename = "EnableSendfile")]
    pub enable_sendfile: bool,
    #[serde(rename = "EnableMMAP")]
    pub enable_mmap: bool,
    #[serde(rename = "FileETag")]
    pub file_etag: Vec<String>,
    #[serde(rename = "HttpProtocolOptions")]
    pub http_protocol_options: Vec<String>,
    #[serde(rename = "UseCanonicalName")]
    pub use_canonical_name: UseCanonicalName,
    #[serde(rename = "HostnameLookups")]
    pub hostname_lookups: HostnameLookups,

    // mod_ssl (see crate::tls). The lines whose errors show once files are
    // read (a certificate that does not parse, a key that does not match)
    // keep their figment tag, which `Config::written_at` turns back into
    // their file and line.
    #[serde(rename = "SSLEngine")]
    pub ssl_engine: bool,
    #[serde(rename = "SSLCertificateFile")]
    pub ssl_certificate_file: Vec<Tagged<String>>,
    #[serde(rename = "SSLCertificateKeyFile")]
    pub ssl_certificate_key_file: Vec<Tagged<String>>,
    #[serde(rename = "SSLCertificateChainFile")]
    pub ssl_certificate_chain_file: Option<Tagged<String>>,
    /// The words as written; `None`: TLS 1.2 and 1.3.
    #[serde(rename = "SSLProtocol")]
    pub ssl_protocol: Option<Tagged<Vec<String>>>,
    /// `SSL` (TLS 1.2) and `TLSv1.3` to a cipher spec.
    #[serde(rename = "SSLCipherSuite")]
    pub ssl_cipher_suite: BTreeMap<String, Tagged<String>>,
    #[serde(rename = "SSLHonorCipherOrder")]
    pub ssl_honor_cipher_order: bool,
    #[serde(rename = "SSLCompression")]
    pub ssl_compression: bool,
    #[serde(rename = "SSLSessionTickets")]
    pub ssl_session_tickets: bool,
    #[serde(rename = "SSLSessionCache")]
    pub ssl_session_cache: Option<String>,
    /// Seconds.
    #[serde(rename = "SSLSessionCacheTimeout")]
    pub ssl_session_cache_timeout: u64,
    #[serde(rename = "SSLRandomSeed")]
    pub ssl_random_seed: Vec<String>,
    #[serde(rename = "SSLPassPhraseDialog")]
    pub ssl_pass_phrase_dialog: Option<String>,
    #[serde(rename = "SSLOptions")]
    pub ssl_options: Vec<String>,

    // MPM sizing: None means "this MPM's default" (see crate::limits).
    #[serde(rename = "StartServers")]
    pub start_servers: Option<i64>,
    #[serde(rename = "MinSpareServers")]
    pub min_spare_servers: Option<i64>,
    #[serde(rename = "MaxSpareServers")]
    pub max_spare_servers: Option<i64>,
    #[serde(rename = "MinSpareThreads")]
    pub min_spare_threads: Option<i64>,
    #[serde(rename = "MaxSpareThreads")]
    pub max_spare_threads: Option<i64>,
    #[serde(rename = "ThreadsPerChild")]
    pub threads_per_child: Option<i64>,
    #[serde(rename = "ThreadLimit")]
    pub thread_limit: Option<i64>,
    #[serde(rename = "ServerLimit")]
    pub server_limit: Option<i64>,
    #[serde(rename = "MaxRequestWorkers")]
    pub max_request_workers: Option<i64>,
    #[serde(rename = "AsyncRequestWorkerFactor")]
    pub async_request_worker_factor: Option<f64>,
}

impl Default for Settings {
    /// httpd's compiled-in defaults (MPM-SPEC §2.2 and §9).
    fn default() -> Self {
        Settings {
            server_root: PathBuf::from("/"),
            listen: Vec::new(),
            listen_backlog: 511,
            listen_cores_buckets_ratio: 0,
            send_buffer_size: 0,
            receive_buffer_size: 0,
            max_connections_per_child: 0,
            graceful_shutdown_timeout: 0,
            pid_file: PathBuf::from("logs/httpd.pid"),
            score_board_file: None,
            core_dump_directory: None,
            max_mem_free: 2048,
            thread_stack_size: 0,
            user: "#-1".into(),
            group: "#-1".into(),
            // Off in core, but mod_status (compiled in) turns it on.
            extended_status: true,
            see_request_tail: false,
            mutex: Vec::new(),
            server_name: None,
            server_admin: None,
            server_alias: Vec::new(),
            document_root: PathBuf::from("htdocs"),
            directory_index: Vec::new(),
            directory_slash: true,
            options: vec!["FollowSymlinks".into()],
            set_handler: None,
            keep_alive: true,
            keep_alive_timeout: 5_000,
            max_keep_alive_requests: 100,
            timeout: 60_000,
            limit_request_line: 8190,
            limit_request_field_size: 8190,
            limit_request_fields: 100,
            limit_request_body: 1 << 30,
            error_log: "logs/error_log".into(),
            log_level: BTreeMap::from([(String::new(), "warn".into())]),
            log_format: BTreeMap::from([(String::new(), COMMON_LOG_FORMAT.into())]),
            custom_log: Vec::new(),
            types_config: PathBuf::from("mime.types"),
            add_type: BTreeMap::new(),
            server_tokens: ServerTokens::Full,
            server_signature: ServerSignature::Off,
            error_document: BTreeMap::new(),
            enable_sendfile: false,
            enable_mmap: true,
            file_etag: vec!["MTime".into(), "Size".into()],
            http_protocol_options: Vec::new(),
            use_canonical_name: UseCanonicalName::Off,
            hostname_lookups: HostnameLookups::Off,
            ssl_engine: false,
            ssl_certificate_file: Vec::new(),
            ssl_certificate_key_file: Vec::new(),
            ssl_certificate_chain_file: None,
            ssl_protocol: None,
            ssl_cipher_suite: BTreeMap::new(),
            ssl_honor_cipher_order: false,
            ssl_compression: false,
            ssl_session_tickets: true,
            ssl_session_cache: None,
            ssl_session_cache_timeout: 300,
            ssl_random_seed: Vec::new(),
            ssl_pass_phrase_dialog: None,
            ssl_options: Vec::new(),
            start_servers: None,
            min_spare_servers: None,
            max_spare_servers: None,
            min_spare_threads: None,
            max_spare_threads: None,
            threads_per_child: None,
            thread_limit: None,
            server_limit: None,
            max_request_workers: None,
            async_request_worker_factor: None,
        }
    }
}

impl Settings {
    /// Resolves what depends on the final ServerRoot and on several lines at
    /// once, after extraction.
    pub(crate) fn finish(&mut self) {
        let root = self.server_root.clone();
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = root.join(&*p);
            }
        };
        resolve(&mut self.document_root);
        resolve(&mut self.pid_file);
        resolve(&mut self.types_config);
        if let Some(p) = &mut self.score_board_file {
            resolve(p);
        }
        if let Some(p) = &mut self.core_dump_directory {
            resolve(p);
        }
        if is_file_target(&self.error_log) {
            self.error_log = root.join(&self.error_log).display().to_string();
        }
        for log in &mut self.custom_log {
            if is_file_target(&log.target) {
                log.target = root.join(&log.target).display().to_string();
            }
        }
        // DirectoryIndex lines add up (2.4); `disabled` empties the list so far.
        let after_disabled = self
            .directory_index
            .iter()
            .rposition(|n| n.eq_ignore_ascii_case("disabled"))
            .map(|i| self.directory_index.split_off(i + 1));
        match after_disabled {
            Some(rest) => self.directory_index = rest,
            None if self.directory_index.is_empty() => self.directory_index = vec!["index.html".into()],
            None => {}
        }
    }

    /// The ServerName's host, or `None` when httpd would have to guess (AH00558).
    pub fn server_host(&self) -> Option<&str> {
        let name = self.server_name.as_deref()?;
        let name = name.split_once("://").map_or(name, |(_, rest)| rest);
        Some(match name.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => name.split(':').next().unwrap_or(name),
        })
    }
}

/// A log target that is a file: not a pipe, not syslog, not absolute.
fn is_file_target(target: &str) -> bool {
    !target.starts_with('|') && !target.starts_with("syslog") && !target.starts_with('/')
}
