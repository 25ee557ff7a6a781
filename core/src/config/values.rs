//! Argument parsers: each turns a directive's words into the value its typed
//! setting holds, or into httpd's message for a bad argument.
//!
//! The arity has been checked before a parser runs (see `directives::Args`),
//! so `args` always has the count the directive takes.

use figment::value::{Dict, Value};

pub(crate) type Parse = fn(&str, &[String]) -> Result<Value, String>;

pub(crate) fn string(_: &str, args: &[String]) -> Result<Value, String> {
    Ok(Value::from(args[0].clone()))
}

pub(crate) fn words(_: &str, args: &[String]) -> Result<Value, String> {
    Ok(Value::from(args.to_vec()))
}

pub(crate) fn flag(_: &str, args: &[String]) -> Result<Value, String> {
    Ok(Value::from(args[0].eq_ignore_ascii_case("on")))
}

/// `on`/`off` for directives that take one word rather than a FLAG
/// (EnableSendfile, EnableMMAP), with core.c's message.
pub(crate) fn on_off(_: &str, args: &[String]) -> Result<Value, String> {
    match args[0].to_ascii_lowercase().as_str() {
        "on" => Ok(Value::from(true)),
        "off" => Ok(Value::from(false)),
        _ => Err("parameter must be 'on' or 'off'".into()),
    }
}

/// A whole number. httpd reads these with `atoi`, turning garbage into 0 and
/// then clamping it; an error naming the line serves a user better.
fn integer(name: &str, word: &str) -> Result<i64, String> {
    word.trim().parse::<i64>().map_err(|_| format!("{name} takes a whole number, not '{word}'"))
}

pub(crate) fn int(name: &str, args: &[String]) -> Result<Value, String> {
    integer(name, &args[0]).map(Value::from)
}

/// LimitRequestLine, LimitRequestFieldSize, LimitRequestFields.
pub(crate) fn limit_non_negative(name: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Value::from(n)),
        _ => Err(format!("{name} \"{}\" must be a non-negative integer", args[0])),
    }
}

pub(crate) fn limit_request_body(_: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Value::from(n)),
        _ => Err("LimitRequestBody argument is not parsable.".into()),
    }
}

pub(crate) fn positive(name: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n > 0 => Ok(Value::from(n)),
        _ => Err(format!("{name} must be > 0")),
    }
}

/// ThreadStackSize and MaxMemFree: `Invalid <Name> value: <v>`.
pub(crate) fn non_negative_invalid(name: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Value::from(n)),
        _ => Err(format!("Invalid {name} value: {}", args[0])),
    }
}

/// SendBufferSize and ReceiveBufferSize: 0 (the OS default) or at least 512.
pub(crate) fn buffer_size(name: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n == 0 || n >= 512 => Ok(Value::from(n)),
        _ => Err(format!("{name} must be >= 512 bytes, or 0 for system default.")),
    }
}

/// A time as `ap_timeout_parameter_parse` reads it: a number with an optional
/// unit (`ms`, `s`, `mi`/`min`, `h`; seconds by default). Stored in milliseconds.
pub(crate) fn timeout(name: &str, args: &[String]) -> Result<Value, String> {
    parse_timeout_ms(&args[0]).map(Value::from).ok_or_else(|| format!("{name} has wrong format"))
}

pub(crate) fn parse_timeout_ms(word: &str) -> Option<u64> {
    let digits_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (number, unit) = word.split_at(digits_end);
    let n: u64 = number.parse().ok()?;
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => 1000,
        "ms" => 1,
        "mi" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// AsyncRequestWorkerFactor: a positive number; fractions below 1 count as 1
/// when used (event.c).
pub(crate) fn worker_factor(name: &str, args: &[String]) -> Result<Value, String> {
    let f: f64 = args[0].parse().map_err(|_| "error parsing value".to_string())?;
    if f.is_nan() || f <= 0.0 || f.is_infinite() {
        return Err(format!("{name} argument must be a positive number"));
    }
    Ok(Value::from(f))
}

/// `Listen [addr:]port [protocol]`, stored as a dict of host, port, protocol.
pub(crate) fn listen(_: &str, args: &[String]) -> Result<Value, String> {
    let (host, port) = split_host_port(&args[0])?;
    let protocol = match args.get(1) {
        Some(p) => p.to_ascii_lowercase(),
        None if port == 443 => "https".into(),
        None => "http".into(),
    };
    let mut dict = Dict::new();
    dict.insert("host".into(), Value::from(host));
    dict.insert("port".into(), Value::from(port));
    dict.insert("protocol".into(), Value::from(protocol));
    Ok(Value::from(vec![Value::from(dict)]))
}

/// Splits `port`, `host:port`, `[v6]:port`. Host `""` means every address.
pub(crate) fn split_host_port(word: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = word.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("Invalid address or port")?;
        (v6, after.strip_prefix(':').unwrap_or(""))
    } else {
        match word.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            Some(_) => return Err("Invalid address or port".into()),
            None if word.chars().all(|c| c.is_ascii_digit()) => ("", word),
            None => (word, ""),
        }
    };
    if port.is_empty() {
        return Err("Port must be specified".into());
    }
    // Port 0 (beyond httpd) lets the kernel pick a free port, which the
    // server prints at start: what tests on loopback need.
    match port.parse::<u16>() {
        Ok(p) => Ok((host.to_string(), p)),
        _ => Err("Invalid address or port".into()),
    }
}

/// `ServerName [scheme://]host[:port]`.
pub(crate) fn server_name(_: &str, args: &[String]) -> Result<Value, String> {
    let word = &args[0];
    let host_port = word.split_once("://").map_or(word.as_str(), |(_, rest)| rest);
    let port = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host_port.rsplit_once(':').map(|(_, p)| p),
    };
    if let Some(port) = port {
        if !matches!(port.parse::<u32>(), Ok(1..=65535)) {
            return Err(format!(
                "The port number \"{port}\" is outside the appropriate range (i.e., 1..65535)."
            ));
        }
    }
    Ok(Value::from(word.clone()))
}

/// ServerTokens: httpd silently takes anything unknown as `Full`; a typo that
/// quietly reveals more than intended is worse than an error, so we refuse it.
pub(crate) fn server_tokens(name: &str, args: &[String]) -> Result<Value, String> {
    let v = match args[0].to_ascii_lowercase().as_str() {
        "prod" | "productonly" => "Prod",
        "major" => "Major",
        "minor" => "Minor",
        "min" | "minimal" => "Min",
        "os" => "OS",
        "full" => "Full",
        _ => {
            return Err(format!(
                "{name} takes one of Prod, Major, Minor, Min, OS or Full, not '{}'",
                args[0]
            ));
        }
    };
    Ok(Value::from(v))
}

pub(crate) fn server_signature(_: &str, args: &[String]) -> Result<Value, String> {
    let v = match args[0].to_ascii_lowercase().as_str() {
        "off" => "Off",
        "on" => "On",
        "email" => "EMail",
        _ => return Err("ServerSignature: use one of: off | on | email".into()),
    };
    Ok(Value::from(v))
}

pub(crate) fn use_canonical_name(_: &str, args: &[String]) -> Result<Value, String> {
    let v = match args[0].to_ascii_lowercase().as_str() {
        "on" => "On",
        "off" => "Off",
        "dns" => "DNS",
        _ => return Err("parameter must be 'on', 'off', or 'dns'".into()),
    };
    Ok(Value::from(v))
}

pub(crate) fn hostname_lookups(_: &str, args: &[String]) -> Result<Value, String> {
    let v = match args[0].to_ascii_lowercase().as_str() {
        "on" => "On",
        "off" => "Off",
        "double" => "Double",
        _ => return Err("parameter must be 'on', 'off', or 'double'".into()),
    };
    Ok(Value::from(v))
}

pub const LOG_LEVELS: [&str; 16] = [
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2", "trace3",
    "trace4", "trace5", "trace6", "trace7", "trace8",
];

/// `LogLevel [module:]level ...`, stored as a dict: `""` for the main level,
/// a module name for each per-module level.
pub(crate) fn log_level(_: &str, args: &[String]) -> Result<Value, String> {
    let mut dict = Dict::new();
    for word in args {
        let (module, level) = word.rsplit_once(':').unwrap_or(("", word));
        let level = level.to_ascii_lowercase();
        if !LOG_LEVELS.contains(&level.as_str()) {
            return Err("LogLevel requires level keyword: one of emerg/alert/crit/error/warn/\
                        notice/info/debug/trace1/.../trace8"
                .into());
        }
        dict.insert(module.to_string(), Value::from(level));
    }
    Ok(Value::from(dict))
}

/// `LogFormat format [nickname]`: a dict from nickname (`""` for the default
/// format of TransferLog) to format.
pub(crate) fn log_format(_: &str, args: &[String]) -> Result<Value, String> {
    let nickname = args.get(1).cloned().unwrap_or_default();
    let mut dict = Dict::new();
    dict.insert(nickname, Value::from(args[0].clone()));
    Ok(Value::from(dict))
}

/// `CustomLog file|pipe format|nickname [env=...]`: one entry of a list.
pub(crate) fn custom_log(_: &str, args: &[String]) -> Result<Value, String> {
    if let Some(cond) = args.get(2) {
        if !cond.starts_with("env=") && !cond.starts_with("expr=") {
            return Err("error in condition clause".into());
        }
    }
    let mut dict = Dict::new();
    dict.insert("target".into(), Value::from(args[0].clone()));
    dict.insert("format".into(), Value::from(args[1].clone()));
    Ok(Value::from(vec![Value::from(dict)]))
}

/// `TransferLog file`: a CustomLog with the default format.
pub(crate) fn transfer_log(_: &str, args: &[String]) -> Result<Value, String> {
    let mut dict = Dict::new();
    dict.insert("target".into(), Value::from(args[0].clone()));
    dict.insert("format".into(), Value::from(String::new()));
    Ok(Value::from(vec![Value::from(dict)]))
}

/// `AddType type ext...`: a dict from lower-case extension (no dot) to type.
pub(crate) fn add_type(_: &str, args: &[String]) -> Result<Value, String> {
    let mut dict = Dict::new();
    for ext in &args[1..] {
        let ext = ext.strip_prefix('.').unwrap_or(ext).to_ascii_lowercase();
        dict.insert(ext, Value::from(args[0].to_ascii_lowercase()));
    }
    Ok(Value::from(dict))
}

/// `ErrorDocument code text|/local|URL|default`: a dict from code to action.
pub(crate) fn error_document(_: &str, args: &[String]) -> Result<Value, String> {
    let code: u16 = args[0]
        .parse()
        .ok()
        .filter(|c| (400..=599).contains(c))
        .ok_or_else(|| format!("Unsupported HTTP response code {}", args[0]))?;
    let mut dict = Dict::new();
    dict.insert(code.to_string(), Value::from(args[1].clone()));
    Ok(Value::from(dict))
}

/// `Options [+|-]name ...`, kept as written; names checked.
pub(crate) fn options(_: &str, args: &[String]) -> Result<Value, String> {
    const KNOWN: [&str; 9] = [
        "none",
        "all",
        "indexes",
        "includes",
        "includesnoexec",
        "followsymlinks",
        "symlinksifownermatch",
        "execcgi",
        "multiviews",
    ];
    for word in args {
        let bare = word.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if !KNOWN.contains(&bare.as_str()) {
            return Err(format!("Illegal option {}", word.trim_start_matches(['+', '-'])));
        }
    }
    Ok(Value::from(args.to_vec()))
}

/// `FileETag INode|MTime|Size|All|None ...` with optional `+`/`-`.
pub(crate) fn file_etag(_: &str, args: &[String]) -> Result<Value, String> {
    for word in args {
        let bare = word.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if !["inode", "mtime", "size", "all", "none", "digest"].contains(&bare.as_str()) {
            return Err(format!("Unknown keyword '{word}' for FileETag directive"));
        }
    }
    Ok(Value::from(args.to_vec()))
}

pub(crate) fn http_protocol_options(_: &str, args: &[String]) -> Result<Value, String> {
    const KNOWN: [&str; 6] =
        ["strict", "unsafe", "registeredmethods", "lenientmethods", "allow0.9", "require1.0"];
    if args.iter().any(|w| !KNOWN.contains(&w.to_ascii_lowercase().as_str())) {
        return Err("HttpProtocolOptions accepts 'Unsafe' or 'Strict' (default), \
                    'RegisteredMethods' or 'LenientMethods' (default), and \
                    'Require1.0' or 'Allow0.9' (default)"
            .into());
    }
    Ok(Value::from(args.to_vec()))
}

/// `AllowOverride All|None|directive-type...`.
pub(crate) fn allow_override(_: &str, args: &[String]) -> Result<Value, String> {
    const KNOWN: [&str; 7] = ["all", "none", "authconfig", "fileinfo", "indexes", "limit", "options"];
    for word in args {
        let bare = word.split('=').next().unwrap_or(word).to_ascii_lowercase();
        if !KNOWN.contains(&bare.as_str()) {
            return Err(format!("Illegal override option {word}"));
        }
    }
    Ok(Value::from(args.to_vec()))
}

/// `Require [not] provider args...` with the providers compiled in
/// (mod_authz_core, mod_authz_host).
pub(crate) fn require(_: &str, args: &[String]) -> Result<Value, String> {
    let mut words = args.iter();
    let mut provider = words.next().map(String::as_str).unwrap_or("");
    if provider.eq_ignore_ascii_case("not") {
        provider = words.next().map(String::as_str).unwrap_or("");
    }
    match provider.to_ascii_lowercase().as_str() {
        "all" => match words.next().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("granted" | "denied") => {}
            _ => return Err("'Require all' accepts only 'granted' or 'denied'".into()),
        },
        "local" | "env" | "method" | "expr" => {}
        "ip" | "host" | "forward-dns" => {
            if words.next().is_none() {
                return Err(format!("'Require {provider}' needs an argument"));
            }
        }
        "" => return Err("Require requires at least one argument".into()),
        other => return Err(format!("Unknown Authz provider: {other}")),
    }
    Ok(Value::from(args.to_vec()))
}

/// `User name|#uid`: the name must resolve (httpd exits with `bad user name`),
/// and root is refused.
pub(crate) fn user(name: &str, args: &[String]) -> Result<Value, String> {
    let word = &args[0];
    let uid = match word.strip_prefix('#') {
        Some(n) => n.parse::<i64>().map_err(|_| format!("bad user name {word}"))?,
        None => i64::from(
            nix::unistd::User::from_name(word)
                .ok()
                .flatten()
                .ok_or_else(|| format!("bad user name {word}"))?
                .uid
                .as_raw(),
        ),
    };
    if uid == 0 {
        return Err(format!(
            "Error:\tthis server has not been designed to serve pages while\n\
             \trunning as root. There are known race conditions that\n\
             \twill allow any local user to read any file on the system.\n\
             \tModify the {name} directive in your httpd.conf file to list\n\
             \ta non-root user."
        ));
    }
    Ok(Value::from(word.clone()))
}

pub(crate) fn group(_: &str, args: &[String]) -> Result<Value, String> {
    let word = &args[0];
    let ok = match word.strip_prefix('#') {
        Some(n) => n.parse::<i64>().is_ok(),
        None => nix::unistd::Group::from_name(word).ok().flatten().is_some(),
    };
    if !ok {
        return Err(format!("bad group name {word}"));
    }
    Ok(Value::from(word.clone()))
}

pub(crate) fn mutex(_: &str, args: &[String]) -> Result<Value, String> {
    let mechanism = args[0].split(':').next().unwrap_or_default().to_ascii_lowercase();
    const KNOWN: [&str; 8] = ["default", "none", "file", "flock", "fcntl", "posixsem", "pthread", "sysvsem"];
    if !KNOWN.contains(&mechanism.as_str()) {
        return Err(format!("Invalid Mutex argument {}", args[0]));
    }
    Ok(Value::from(vec![Value::from(args.join(" "))]))
}

/// SSLEngine: `on` or `off`. `optional` (RFC 2817's upgrade to TLS within a
/// plain connection, which no browser implements) is refused by name.
pub(crate) fn ssl_engine(_: &str, args: &[String]) -> Result<Value, String> {
    match args[0].to_ascii_lowercase().as_str() {
        "on" => Ok(Value::from(true)),
        "off" => Ok(Value::from(false)),
        "optional" => Err("SSLEngine optional (an upgrade to TLS inside a plain HTTP connection, \
                           RFC 2817) is not supported; use SSLEngine on with a Listen ... https port"
            .into()),
        _ => Err("Argument must be On, Off, or Optional".into()),
    }
}

/// SSLProtocol: mod_ssl's words checked as `ssl_cmd_protocol_parse` checks
/// them; what they enable is worked out in `crate::tls::protocol`, which
/// warns about the versions rustls does not speak.
pub(crate) fn ssl_protocol(_: &str, args: &[String]) -> Result<Value, String> {
    crate::tls::protocol::check_words(args)?;
    Ok(Value::from(args.to_vec()))
}

/// SSLCipherSuite `[protocol] cipher-spec`: `SSL` (the default, TLS 1.2)
/// or `TLSv1.3`; a suite or keyword OpenSSL does not know is an error here,
/// with the line (httpd would only fail if nothing at all matched).
pub(crate) fn ssl_cipher_suite(_: &str, args: &[String]) -> Result<Value, String> {
    let (protocol, spec) = match args {
        [spec] => ("SSL", spec),
        [protocol, spec] => (protocol.as_str(), spec),
        _ => unreachable!("arity checked"),
    };
    match protocol {
        "SSL" => crate::tls::ciphers::check_tls12(spec)?,
        "TLSv1.3" => crate::tls::ciphers::check_tls13(spec)?,
        _ => return Err(format!("protocol '{protocol}' not supported")),
    }
    let mut dict = Dict::new();
    dict.insert(protocol.to_string(), Value::from(spec.clone()));
    Ok(Value::from(dict))
}

pub(crate) fn ssl_session_cache_timeout(_: &str, args: &[String]) -> Result<Value, String> {
    match args[0].parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Value::from(n)),
        _ => Err("SSLSessionCacheTimeout: Invalid argument".into()),
    }
}

/// SSLOptions: mod_ssl's option names, checked; none changes what this
/// server does (they export variables to CGI and SSI, which it does not run).
pub(crate) fn ssl_options(_: &str, args: &[String]) -> Result<Value, String> {
    const OPTIONS: [&str; 6] = [
        "StdEnvVars",
        "ExportCertData",
        "FakeBasicAuth",
        "StrictRequire",
        "OptRenegotiate",
        "LegacyDNStringFormat",
    ];
    for word in args {
        let name = word.trim_start_matches(['+', '-']);
        if !OPTIONS.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            return Err(format!("SSLOptions: Illegal option '{name}'"));
        }
    }
    Ok(Value::from(args.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn timeouts_take_units() {
        assert_eq!(parse_timeout_ms("5"), Some(5000));
        assert_eq!(parse_timeout_ms("5s"), Some(5000));
        assert_eq!(parse_timeout_ms("250ms"), Some(250));
        assert_eq!(parse_timeout_ms("2min"), Some(120_000));
        assert_eq!(parse_timeout_ms("1h"), Some(3_600_000));
        assert_eq!(parse_timeout_ms("x"), None);
        assert_eq!(parse_timeout_ms("5 s"), None);
        assert_eq!(timeout("Timeout", &a(&["soon"])).unwrap_err(), "Timeout has wrong format");
    }

    #[test]
    fn listen_forms() {
        assert_eq!(split_host_port("80"), Ok(("".into(), 80)));
        assert_eq!(split_host_port("127.0.0.1:8080"), Ok(("127.0.0.1".into(), 8080)));
        assert_eq!(split_host_port("[::1]:8080"), Ok(("::1".into(), 8080)));
        assert_eq!(split_host_port("localhost:81"), Ok(("localhost".into(), 81)));
        assert_eq!(split_host_port("127.0.0.1").unwrap_err(), "Port must be specified");
        assert_eq!(split_host_port("[::1]").unwrap_err(), "Port must be specified");
        assert_eq!(split_host_port("1.2.3.4:99999").unwrap_err(), "Invalid address or port");
        assert_eq!(split_host_port("1.2.3.4:0"), Ok(("1.2.3.4".into(), 0)));
    }

    #[test]
    fn limits_use_httpd_messages() {
        assert_eq!(
            limit_non_negative("LimitRequestLine", &a(&["-1"])).unwrap_err(),
            "LimitRequestLine \"-1\" must be a non-negative integer"
        );
        assert_eq!(
            limit_request_body("LimitRequestBody", &a(&["lots"])).unwrap_err(),
            "LimitRequestBody argument is not parsable."
        );
        assert_eq!(positive("ListenBacklog", &a(&["0"])).unwrap_err(), "ListenBacklog must be > 0");
        assert_eq!(
            buffer_size("SendBufferSize", &a(&["100"])).unwrap_err(),
            "SendBufferSize must be >= 512 bytes, or 0 for system default."
        );
        assert!(buffer_size("SendBufferSize", &a(&["0"])).is_ok());
        assert_eq!(
            non_negative_invalid("ThreadStackSize", &a(&["-5"])).unwrap_err(),
            "Invalid ThreadStackSize value: -5"
        );
    }

    #[test]
    fn worker_factor_rules() {
        assert_eq!(worker_factor("AsyncRequestWorkerFactor", &a(&["x"])).unwrap_err(), "error parsing value");
        assert_eq!(
            worker_factor("AsyncRequestWorkerFactor", &a(&["0"])).unwrap_err(),
            "AsyncRequestWorkerFactor argument must be a positive number"
        );
        assert!(worker_factor("AsyncRequestWorkerFactor", &a(&["0.5"])).is_ok());
    }

    #[test]
    fn enumerated_arguments() {
        assert!(server_tokens("ServerTokens", &a(&["prod"])).is_ok());
        assert!(server_tokens("ServerTokens", &a(&["Prd"])).is_err());
        assert_eq!(
            server_signature("ServerSignature", &a(&["maybe"])).unwrap_err(),
            "ServerSignature: use one of: off | on | email"
        );
        assert_eq!(on_off("EnableSendfile", &a(&["yes"])).unwrap_err(), "parameter must be 'on' or 'off'");
        assert!(log_level("LogLevel", &a(&["info", "core:debug"])).is_ok());
        assert!(log_level("LogLevel", &a(&["loud"])).is_err());
        assert_eq!(options("Options", &a(&["+Fancy"])).unwrap_err(), "Illegal option Fancy");
        assert_eq!(
            error_document("ErrorDocument", &a(&["200", "x"])).unwrap_err(),
            "Unsupported HTTP response code 200"
        );
        assert_eq!(require("Require", &a(&["nobody"])).unwrap_err(), "Unknown Authz provider: nobody");
        assert!(require("Require", &a(&["all", "granted"])).is_ok());
        assert!(require("Require", &a(&["not", "ip", "10.0.0.1"])).is_ok());
    }

    #[test]
    fn user_and_group() {
        assert!(user("User", &a(&["#1000"])).is_ok());
        assert!(user("User", &a(&["nobody"])).is_ok());
        assert_eq!(user("User", &a(&["no-such-user-here"])).unwrap_err(), "bad user name no-such-user-here");
        assert!(user("User", &a(&["root"])).unwrap_err().contains("running as root"));
        assert!(user("User", &a(&["#0"])).unwrap_err().contains("running as root"));
        assert_eq!(
            group("Group", &a(&["no-such-group-here"])).unwrap_err(),
            "bad group name no-such-group-here"
        );
    }

    #[test]
    fn server_name_port_range() {
        assert!(server_name("ServerName", &a(&["www.example.com"])).is_ok());
        assert!(server_name("ServerName", &a(&["https://www.example.com:8443"])).is_ok());
        assert!(
            server_name("ServerName", &a(&["example.com:70000"]))
                .unwrap_err()
                .contains("outside the appropriate range")
        );
    }
}
