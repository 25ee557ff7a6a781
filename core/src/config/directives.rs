//! The directive table: every directive these binaries understand, with the
//! module that defines it, its arity, where it may appear, how its argument is
//! read, and how repeated lines combine.
//!
//! The names and descriptions are httpd's; `-L` prints this table.

use super::values::{self, Parse};
use crate::mpm::MpmKind;

/// How many words a directive takes, as httpd's `cmd_how`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    NoArgs,
    Take1,
    Take2,
    Take12,
    Take23,
    /// One or more words.
    Iterate,
    /// Two or more words.
    Iterate2,
    /// `On` or `Off`; further words are ignored, as httpd does.
    Flag,
    /// Any words at all.
    Raw,
}

impl Args {
    /// Checks the word count; the error is httpd's `invoke_cmd` message.
    pub fn check(self, name: &str, description: &str, args: &[String]) -> Result<(), String> {
        let n = args.len();
        let (ok, shape) = match self {
            Args::NoArgs => (n == 0, "takes no arguments"),
            Args::Take1 => (n == 1, "takes one argument"),
            Args::Take2 => (n == 2, "takes two arguments"),
            Args::Take12 => ((1..=2).contains(&n), "takes 1-2 arguments"),
            Args::Take23 => ((2..=3).contains(&n), "takes two or three arguments"),
            Args::Iterate => (n >= 1, "requires at least one argument"),
            Args::Iterate2 => (n >= 2, "requires at least two arguments"),
            Args::Flag => {
                let ok = args
                    .first()
                    .is_some_and(|w| w.eq_ignore_ascii_case("on") || w.eq_ignore_ascii_case("off"));
                return if ok { Ok(()) } else { Err(format!("{name} must be On or Off")) };
            }
            Args::Raw => (true, ""),
        };
        if ok {
            Ok(())
        } else if self == Args::NoArgs {
            Err(format!("{name} {shape}"))
        } else {
            Err(format!("{name} {shape}, {description}"))
        }
    }
}

/// Where a directive may be written, from httpd's `req_override` plus the
/// `ap_check_cmd_context` checks its handler makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Server config only: not in `<VirtualHost>`, not in a directory section.
    MainOnly,
    /// Server config and `<VirtualHost>` (httpd's RSRC_CONF).
    Server,
    /// Anywhere: server config, `<VirtualHost>`, directory sections.
    Any,
    /// Only inside `<Directory>`, `<Location>`, `<Files>` (ACCESS_CONF, AUTHCFG).
    DirOnly,
    /// Only inside `<VirtualHost>` (ServerAlias).
    VhostOnly,
}

/// Where a directive actually is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Main,
    VirtualHost,
    Directory,
}

impl Context {
    /// httpd's message when `name` sits where it may not.
    pub fn check(self, name: &str, place: Place) -> Result<(), String> {
        use {Context::*, Place::*};
        match (self, place) {
            (MainOnly, VirtualHost) => Err(format!("{name} cannot occur within <VirtualHost> section")),
            (MainOnly | Server | VhostOnly, Directory) | (DirOnly, Main | VirtualHost) => {
                Err(format!("{name} not allowed here"))
            }
            (VhostOnly, Main) => Err(format!("{name} only used in <VirtualHost>")),
            _ => Ok(()),
        }
    }

    /// The `-L` line saying where the directive is allowed.
    pub fn allowed_in(self) -> &'static str {
        match self {
            Context::Any => "Allowed in *.conf anywhere",
            Context::DirOnly => "Allowed in *.conf only inside <Directory>, <Files>, <Location>, or <If>",
            _ => "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>",
        }
    }
}

/// How a line combines with earlier lines of the same directive (and how a
/// `-C`/`-c` line combines with the files): figment's `merge` or `admerge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The last line wins.
    Replace,
    /// Lines add up: lists append, dictionaries take new keys (Listen,
    /// AddType, DirectoryIndex, CustomLog, LogFormat ...).
    Append,
}

/// What happens to a directive after it has been read.
#[derive(Debug, Clone, Copy)]
pub enum Effect {
    /// A value: at the top level it becomes the typed setting of the same
    /// name; inside a section it is checked and kept for the handlers.
    Value(Parse, Combine),
    /// A section (`<Directory>` ...), kept in the tree with its contents.
    Section,
    /// Acted on while the files are read (`Include`, `Define`, `<IfModule>` ...).
    ReadTime,
}

/// Which MPMs define a directive. httpd only knows an MPM's directives when
/// that MPM is loaded, so `ThreadsPerChild` is an invalid command for prefork.
#[derive(Debug, Clone, Copy)]
pub enum Provider {
    /// Defined by a module every binary has (the source file name).
    Module(&'static str),
    /// Defined by the MPM's own module, in the listed MPMs.
    Mpm(&'static [MpmKind]),
}

/// One directive.
#[derive(Debug, Clone, Copy)]
pub struct DirectiveSpec {
    pub name: &'static str,
    pub provider: Provider,
    pub args: Args,
    pub context: Context,
    pub effect: Effect,
    pub description: &'static str,
}

impl DirectiveSpec {
    /// Whether the binary embedding `mpm` knows this directive.
    pub fn exists_in(&self, mpm: MpmKind) -> bool {
        match self.provider {
            Provider::Module(_) => true,
            Provider::Mpm(list) => list.contains(&mpm),
        }
    }

    /// The module source file `-L` names.
    pub fn module_source(&self, mpm: MpmKind) -> &'static str {
        match self.provider {
            Provider::Module(source) => source,
            Provider::Mpm(_) => mpm.source(),
        }
    }

    pub fn is_section(&self) -> bool {
        matches!(self.effect, Effect::Section)
    }
}

/// Names that httpd still accepts for renamed directives, with the name they
/// now have; httpd logs an info line when one is used.
pub(crate) const ALIASES: [(&str, &str); 2] =
    [("MaxClients", "MaxRequestWorkers"), ("MaxRequestsPerChild", "MaxConnectionsPerChild")];

/// The directive spelled `name` (any case), if the binary embedding `mpm`
/// knows it; a `<Section` name is looked up with its `<`.
pub(crate) fn lookup(name: &str, mpm: MpmKind) -> Option<&'static DirectiveSpec> {
    let canonical =
        ALIASES.iter().find(|(old, _)| old.eq_ignore_ascii_case(name)).map_or(name, |(_, new)| new);
    TABLE.iter().find(|d| d.name.eq_ignore_ascii_case(canonical) && d.exists_in(mpm))
}

const ALL_MPMS: &[MpmKind] = &[MpmKind::Prefork, MpmKind::Worker, MpmKind::Event];
const PREFORK: &[MpmKind] = &[MpmKind::Prefork];
const THREADED: &[MpmKind] = &[MpmKind::Worker, MpmKind::Event];
const EVENT: &[MpmKind] = &[MpmKind::Event];

const fn directive(
    name: &'static str,
    provider: Provider,
    args: Args,
    context: Context,
    effect: Effect,
    description: &'static str,
) -> DirectiveSpec {
    DirectiveSpec { name, provider, args, context, effect, description }
}

use Args::*;
use Combine::{Append, Replace};
use Context::*;
use Effect::{ReadTime, Section, Value};

const CORE: Provider = Provider::Module("core.c");
const HTTP: Provider = Provider::Module("http_core.c");
const UNIXD: Provider = Provider::Module("mod_unixd.c");
const MIME: Provider = Provider::Module("mod_mime.c");
const DIR: Provider = Provider::Module("mod_dir.c");
const LOG: Provider = Provider::Module("mod_log_config.c");
const AUTHZ: Provider = Provider::Module("mod_authz_core.c");
const SSL: Provider = Provider::Module("mod_ssl.c");
const ANY_MPM: Provider = Provider::Mpm(ALL_MPMS);

/// Every directive, in `-L` order (grouped by module as httpd lists them).
#[rustfmt::skip]
pub static TABLE: &[DirectiveSpec] = &[
    // core.c: sections and read-time directives.
    directive("<Directory", CORE, Raw, Server, Section, "Container for directives affecting resources located in the specified directories"),
    directive("<DirectoryMatch", CORE, Raw, Server, Section, "Container for directives affecting resources located in the specified directories"),
    directive("<Location", CORE, Raw, Server, Section, "Container for directives affecting resources accessed through the specified URL paths"),
    directive("<LocationMatch", CORE, Raw, Server, Section, "Container for directives affecting resources accessed through the specified URL paths"),
    directive("<Files", CORE, Raw, Any, Section, "Container for directives affecting files matching specified patterns"),
    directive("<FilesMatch", CORE, Raw, Any, Section, "Container for directives affecting files matching specified patterns"),
    directive("<VirtualHost", CORE, Raw, MainOnly, Section, "Container to map directives to a particular virtual host, takes one or more host addresses"),
    directive("<IfModule", CORE, Raw, Any, ReadTime, "Container for directives based on existence of specified modules"),
    directive("<IfDefine", CORE, Raw, Any, ReadTime, "Container for directives based on existence of command line defines"),
    directive("<IfFile", CORE, Raw, Any, ReadTime, "Container for directives based on existence of files on disk"),
    directive("<IfDirective", CORE, Raw, Any, ReadTime, "Container for directives based on existence of named directive"),
    directive("<IfSection", CORE, Raw, Any, ReadTime, "Container for directives based on existence of named section"),
    directive("Include", CORE, Take1, Any, ReadTime, "Name(s) of the config file(s) to be included; fails if the wildcard does not match at least one file"),
    directive("IncludeOptional", CORE, Take1, Any, ReadTime, "Name or pattern of the config file(s) to be included; ignored if the file does not exist or the pattern does not match any files"),
    directive("Define", CORE, Take12, Any, ReadTime, "Define a variable, optionally to a value.  Same as passing -D to the command line."),
    directive("UnDefine", CORE, Take1, Any, ReadTime, "Undefine the existence of a variable. Undo a Define."),
    directive("ServerRoot", CORE, Take1, MainOnly, ReadTime, "Common directory of server-related files (logs, confs, etc.)"),
    directive("LoadModule", CORE, Take2, MainOnly, ReadTime, "a module name and the name of a shared object file to load it from"),
    // core.c: values.
    directive("ServerName", CORE, Take1, Server, Value(values::server_name, Replace),
        "The hostname and port of the server",
    ),
    directive("ServerAdmin", CORE, Take1, Server, Value(values::string, Replace),
        "The email address of the server administrator",
    ),
    directive("ServerAlias", CORE, Iterate, VhostOnly, Value(values::words, Append),
        "A name or names alternatively used to access the server",
    ),
    directive("NameVirtualHost", CORE, Take1, Server, Value(values::string, Replace),
        "A numeric IP address:port, or the name of a host",
    ),
    directive("DocumentRoot", CORE, Take1, Server, Value(values::string, Replace),
        "Root directory of the document tree",
    ),
    directive("ErrorDocument", CORE, Take2, Any, Value(values::error_document, Append),
        "Change responses for HTTP errors",
    ),
    directive("Options", CORE, Iterate, Any, Value(values::options, Replace),
        "Set a number of attributes for a given directory",
    ),
    directive("AllowOverride", CORE, Iterate, DirOnly, Value(values::allow_override, Replace),
        "Controls what groups of directives can be configured by per-directory config files",
    ),
    directive("SetHandler", CORE, Take1, Any, Value(values::string, Replace),
        "a handler name that overrides any other configured handler",
    ),
    directive("Timeout", CORE, Take1, Server, Value(values::timeout, Replace), "Timeout duration (sec)"),
    directive("LimitRequestLine", CORE, Take1, Server, Value(values::limit_non_negative, Replace),
        "Limit on maximum size of an HTTP request line",
    ),
    directive("LimitRequestFieldSize", CORE, Take1, Server, Value(values::limit_non_negative, Replace),
        "Limit on maximum size of an HTTP request header field",
    ),
    directive("LimitRequestFields", CORE, Take1, Server, Value(values::limit_non_negative, Replace),
        "Limit (0 = unlimited) on max number of header fields in a request message",
    ),
    directive("LimitRequestBody", CORE, Take1, Any, Value(values::limit_request_body, Replace),
        "Limit (in bytes) on maximum size of request message body",
    ),
    directive("ErrorLog", CORE, Take1, Server, Value(values::string, Replace),
        "The filename of the error log",
    ),
    directive("LogLevel", CORE, Iterate, Any, Value(values::log_level, Append),
        "Level of verbosity in error logging",
    ),
    directive("ServerTokens", CORE, Take1, MainOnly, Value(values::server_tokens, Replace),
        "Tokens displayed in the server: header - Min[imal], Major, Minor, Prod[uctOnly], OS, Full",
    ),
    directive("ServerSignature", CORE, Take1, Any, Value(values::server_signature, Replace),
        "En-/disable server signature (on|off|email)",
    ),
    directive("UseCanonicalName", CORE, Take1, Any, Value(values::use_canonical_name, Replace),
        "How to work out the ServerName : Port when constructing URLs",
    ),
    directive("HostnameLookups", CORE, Take1, Any, Value(values::hostname_lookups, Replace),
        "\"on\" to enable, \"off\" to disable reverse DNS lookups, or \"double\" to enable double-reverse DNS lookups",
    ),
    directive("EnableSendfile", CORE, Take1, Any, Value(values::on_off, Replace),
        "Controls whether sendfile may be used to transmit files",
    ),
    directive("EnableMMAP", CORE, Take1, Any, Value(values::on_off, Replace),
        "Controls whether memory-mapping may be used to read files",
    ),
    directive("FileETag", CORE, Iterate, Any, Value(values::file_etag, Replace),
        "Specify components used to construct a file's ETag",
    ),
    directive("HttpProtocolOptions", CORE, Iterate, Server, Value(values::http_protocol_options, Replace),
        "'Allow0.9' or 'Require1.0' (default); 'RegisteredMethods' or 'LenientMethods' (default); 'Unsafe' or 'Strict' (default). Sets HTTP acceptance rules",
    ),
    directive("ExtendedStatus", CORE, Flag, MainOnly, Value(values::flag, Replace),
        "\"On\" to track extended status information, \"Off\" to disable",
    ),
    directive("SeeRequestTail", CORE, Flag, MainOnly, Value(values::flag, Replace),
        "For extended status, \"On\" to see the last 63 chars of the request line, \"Off\" (default) to see the first 63",
    ),
    directive("Mutex", CORE, Iterate, MainOnly, Value(values::mutex, Append),
        "mutex (or \"default\") and mechanism",
    ),
    directive("MaxMemFree", CORE, Take1, MainOnly, Value(values::non_negative_invalid, Replace),
        "Maximum number of 1k blocks a particular child's allocator may hold.",
    ),
    directive("ThreadStackSize", CORE, Take1, MainOnly, Value(values::non_negative_invalid, Replace),
        "Size in bytes of stack used by threads handling client connections",
    ),
    // http_core.c.
    directive("KeepAlive", HTTP, Flag, Server, Value(values::flag, Replace),
        "Whether persistent connections should be On or Off",
    ),
    directive("KeepAliveTimeout", HTTP, Take1, Server, Value(values::timeout, Replace),
        "Keep-Alive timeout duration (sec)",
    ),
    directive("MaxKeepAliveRequests", HTTP, Take1, Server, Value(values::int, Replace),
        "Maximum number of Keep-Alive requests per connection, or 0 for infinite",
    ),
    // mod_unixd.c.
    directive("User", UNIXD, Take1, MainOnly, Value(values::user, Replace),
        "Effective user id for this server",
    ),
    directive("Group", UNIXD, Take1, MainOnly, Value(values::group, Replace),
        "Effective group id for this server",
    ),
    // mod_mime.c.
    directive("TypesConfig", MIME, Take1, MainOnly, Value(values::string, Replace),
        "the MIME types config file",
    ),
    directive("AddType", MIME, Iterate2, Any, Value(values::add_type, Append),
        "a mime type followed by one or more file extensions",
    ),
    // mod_dir.c.
    directive("DirectoryIndex", DIR, Iterate, Any, Value(values::words, Append), "a list of file names"),
    directive("DirectorySlash", DIR, Flag, Any, Value(values::flag, Replace), "On or Off"),
    // mod_log_config.c.
    directive("LogFormat", LOG, Take12, Server, Value(values::log_format, Append),
        "a log format string (see docs) and an optional format name",
    ),
    directive("CustomLog", LOG, Take23, Server, Value(values::custom_log, Append),
        "a file name, a custom log format string or format name, and an optional \"env=\" or \"expr=\" clause (see docs)",
    ),
    directive("TransferLog", LOG, Take1, Server, Value(values::transfer_log, Append),
        "the filename of the access log",
    ),
    // mod_authz_core.c.
    directive("<RequireAll", AUTHZ, Raw, DirOnly, Section, "Container for authorization directives grouped under an authz logic type"),
    directive("<RequireAny", AUTHZ, Raw, DirOnly, Section, "Container for authorization directives grouped under an authz logic type"),
    directive("<RequireNone", AUTHZ, Raw, DirOnly, Section, "Container for authorization directives grouped under an authz logic type"),
    directive("Require", AUTHZ, Iterate, DirOnly, Value(values::require, Append),
        "specifies authorization directives which one must pass (or not) for a request to suceeed",
    ),
    // mod_ssl.c (see crate::tls for what each maps onto in rustls).
    directive("SSLEngine", SSL, Take1, Server, Value(values::ssl_engine, Replace),
        "SSL switch for the protocol engine ('on', 'off')",
    ),
    directive("SSLCertificateFile", SSL, Take1, Server, Value(values::words, Append),
        "SSL Server Certificate file ('/path/to/file' - PEM or DER encoded)",
    ),
    directive("SSLCertificateKeyFile", SSL, Take1, Server, Value(values::words, Append),
        "SSL Server Private Key file ('/path/to/file' - PEM or DER encoded)",
    ),
    directive("SSLCertificateChainFile", SSL, Take1, Server, Value(values::string, Replace),
        "SSL Server CA Certificate Chain file ('/path/to/file' - PEM encoded)",
    ),
    directive("SSLProtocol", SSL, Iterate, Server, Value(values::ssl_protocol, Replace),
        "Enable or disable various SSL protocols ('[+-][SSLv3|TLSv1|TLSv1.1|TLSv1.2|TLSv1.3] ...' - see manual)",
    ),
    directive("SSLCipherSuite", SSL, Take12, Server, Value(values::ssl_cipher_suite, Append),
        "Colon-delimited list of permitted SSL Ciphers ('XXX:...:XXX' - see manual)",
    ),
    directive("SSLHonorCipherOrder", SSL, Flag, Server, Value(values::flag, Replace),
        "Use the server's cipher ordering preference",
    ),
    directive("SSLCompression", SSL, Flag, Server, Value(values::flag, Replace),
        "Enable SSL level compression (`on', `off')",
    ),
    directive("SSLSessionTickets", SSL, Flag, Server, Value(values::flag, Replace),
        "Enable or disable TLS session tickets(`on', `off')",
    ),
    directive("SSLSessionCache", SSL, Take1, MainOnly, Value(values::string, Replace),
        "SSL Session Cache storage ('none', 'nonenotnull', 'dbm:/path/to/file')",
    ),
    directive("SSLSessionCacheTimeout", SSL, Take1, Server, Value(values::ssl_session_cache_timeout, Replace),
        "SSL Session Cache object lifetime ('N' - number of seconds)",
    ),
    directive("SSLRandomSeed", SSL, Take23, MainOnly, Value(values::words, Append),
        "SSL Pseudo Random Number Generator (PRNG) seeding source ('startup|connect builtin|file:/path|exec:/path [bytes]')",
    ),
    directive("SSLPassPhraseDialog", SSL, Take1, MainOnly, Value(values::string, Replace),
        "SSL dialog mechanism for the pass phrase query ('builtin', '|/path/to/pipe_program', or 'exec:/path/to/cgi_program')",
    ),
    directive("SSLOptions", SSL, Raw, Any, Value(values::ssl_options, Replace),
        "Set one or more options to configure the SSL engine('[+-]option[=value] ...' - see manual)",
    ),
    // The MPM's own module (mpm_common.c's shared directives included).
    directive("Listen", ANY_MPM, Take12, MainOnly, Value(values::listen, Append),
        "A port number or a numeric IP address and a port number, and an optional protocol",
    ),
    directive("ListenBacklog", ANY_MPM, Take1, MainOnly, Value(values::positive, Replace),
        "Maximum length of the queue of pending connections, as used by listen(2)",
    ),
    directive("ListenCoresBucketsRatio", ANY_MPM, Take1, MainOnly, Value(values::positive, Replace),
        "Ratio between the number of CPU cores (online) and the number of listeners buckets",
    ),
    directive("SendBufferSize", ANY_MPM, Take1, MainOnly, Value(values::buffer_size, Replace),
        "Send buffer size in bytes",
    ),
    directive("ReceiveBufferSize", ANY_MPM, Take1, MainOnly, Value(values::buffer_size, Replace),
        "Receive buffer size in bytes",
    ),
    directive("PidFile", ANY_MPM, Take1, MainOnly, Value(values::string, Replace),
        "A file for logging the server process ID",
    ),
    directive("ScoreBoardFile", ANY_MPM, Take1, MainOnly, Value(values::string, Replace),
        "A file for Apache to maintain runtime process management information",
    ),
    directive("CoreDumpDirectory", ANY_MPM, Take1, MainOnly, Value(values::string, Replace),
        "The location of the directory Apache changes to before dumping core",
    ),
    directive("MaxConnectionsPerChild", ANY_MPM, Take1, MainOnly, Value(values::int, Replace),
        "Maximum number of connections a particular child serves before dying.",
    ),
    directive("GracefulShutdownTimeout", ANY_MPM, Take1, MainOnly, Value(values::int, Replace),
        "Maximum time in seconds to wait for child processes to complete transactions during shutdown",
    ),
    directive("StartServers", ANY_MPM, Take1, MainOnly, Value(values::int, Replace),
        "Number of child processes launched at server startup",
    ),
    directive("ServerLimit", ANY_MPM, Take1, MainOnly, Value(values::int, Replace),
        "Maximum value of MaxRequestWorkers for this run of Apache",
    ),
    directive("MaxRequestWorkers", ANY_MPM, Take1, MainOnly, Value(values::int, Replace),
        "Maximum number of threads alive at the same time",
    ),
    directive("MinSpareServers", Provider::Mpm(PREFORK),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Minimum number of idle children, to handle request spikes",
    ),
    directive("MaxSpareServers", Provider::Mpm(PREFORK),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Maximum number of idle children",
    ),
    directive("MinSpareThreads", Provider::Mpm(THREADED),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Minimum number of idle threads, to handle request spikes",
    ),
    directive("MaxSpareThreads", Provider::Mpm(THREADED),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Maximum number of idle threads",
    ),
    directive("ThreadsPerChild", Provider::Mpm(THREADED),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Number of threads each child creates",
    ),
    directive("ThreadLimit", Provider::Mpm(THREADED),
        Take1,
        MainOnly,
        Value(values::int, Replace),
        "Maximum number of worker threads per child process for this run of Apache - Upper limit for ThreadsPerChild",
    ),
    directive("AsyncRequestWorkerFactor", Provider::Mpm(EVENT),
        Take1,
        MainOnly,
        Value(values::worker_factor, Replace),
        "How many additional connects will be accepted per idle worker thread",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn a(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn arity_messages_are_httpds() {
        let d = lookup("Timeout", MpmKind::Event).unwrap();
        assert_eq!(
            d.args.check(d.name, d.description, &a(&["1", "2"])).unwrap_err(),
            "Timeout takes one argument, Timeout duration (sec)"
        );
        let d = lookup("KeepAlive", MpmKind::Event).unwrap();
        assert_eq!(
            d.args.check(d.name, d.description, &a(&["maybe"])).unwrap_err(),
            "KeepAlive must be On or Off"
        );
        assert!(d.args.check(d.name, d.description, &a(&["On", "extra"])).is_ok());
        let d = lookup("LogFormat", MpmKind::Event).unwrap();
        assert!(
            d.args
                .check(d.name, d.description, &[])
                .unwrap_err()
                .starts_with("LogFormat takes 1-2 arguments, ")
        );
        let d = lookup("AddType", MpmKind::Event).unwrap();
        assert!(
            d.args
                .check(d.name, d.description, &a(&["text/x"]))
                .unwrap_err()
                .starts_with("AddType requires at least two arguments, ")
        );
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(lookup("kEePaLiVe", MpmKind::Prefork).unwrap().name, "KeepAlive");
        assert_eq!(lookup("MaxClients", MpmKind::Worker).unwrap().name, "MaxRequestWorkers");
        assert_eq!(lookup("<ifmodule", MpmKind::Worker).unwrap().name, "<IfModule");
    }

    #[test]
    fn mpm_directives_exist_only_in_their_mpm() {
        assert!(lookup("ThreadsPerChild", MpmKind::Prefork).is_none());
        assert!(lookup("ThreadsPerChild", MpmKind::Worker).is_some());
        assert!(lookup("MinSpareServers", MpmKind::Event).is_none());
        assert!(lookup("AsyncRequestWorkerFactor", MpmKind::Worker).is_none());
        assert!(lookup("AsyncRequestWorkerFactor", MpmKind::Event).is_some());
    }

    #[test]
    fn context_messages_are_httpds() {
        assert_eq!(
            Context::MainOnly.check("StartServers", Place::VirtualHost).unwrap_err(),
            "StartServers cannot occur within <VirtualHost> section"
        );
        assert_eq!(Context::Server.check("Listen", Place::Directory).unwrap_err(), "Listen not allowed here");
        assert_eq!(Context::DirOnly.check("Require", Place::Main).unwrap_err(), "Require not allowed here");
        assert!(Context::Any.check("Options", Place::Directory).is_ok());
    }

    #[test]
    fn names_are_unique_per_mpm() {
        for mpm in MpmKind::ALL {
            let mut names: Vec<_> =
                TABLE.iter().filter(|d| d.exists_in(mpm)).map(|d| d.name.to_ascii_lowercase()).collect();
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(n, names.len(), "a directive is listed twice for {mpm:?}");
        }
    }
}
