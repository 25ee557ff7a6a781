//! `<VirtualHost>` sections loaded: their settings over the main server's,
//! their names, httpd's `-S` table, and their errors and warnings.

use super::directives::{self, Effect};
use super::tests::{Root, error};
use super::*;

/// Loads `conf` (ServerRoot-relative paths resolve under a throwaway root).
fn load_with(root: &Root, conf: &str) -> Config {
    root.write("httpd.conf", conf);
    root.load(MpmKind::Event).unwrap_or_else(|e| panic!("config failed:\n{}", e.render("event-server")))
}

/// The sample httpd's `-S` was run on (Apache/2.4.71, see the expected text).
const SAMPLE: &str = "ServerName main.example
NameVirtualHost *:80
<VirtualHost *:80>
ServerName a.example
ServerAlias www.a.example *.a.example b?.a.example
</VirtualHost>
<VirtualHost *:80>
ServerName b.example:8080
ServerAlias www.b.example
</VirtualHost>
<VirtualHost 127.0.0.1:80 [::1]:80>
ServerName ip.example
</VirtualHost>
<VirtualHost *:81>
ServerName single.example
</VirtualHost>
<VirtualHost *:*>
</VirtualHost>
<VirtualHost 127.0.0.2:*>
ServerName w
</VirtualHost>
<VirtualHost _default_:82>
ServerName d
</VirtualHost>
<VirtualHost 127.0.0.1:80>
ServerName ip2.example
</VirtualHost>
<VirtualHost 10.0.0.1:80>
ServerName ten
</VirtualHost>
<VirtualHost *>
ServerName star
</VirtualHost>
";

/// What `apache2 -D DUMP_VHOSTS -t` printed for SAMPLE.
const SAMPLE_DUMP: &str = "VirtualHost configuration:
[::1]:80               ip.example (ROOT/httpd.conf:11)
10.0.0.1:80            ten (ROOT/httpd.conf:28)
127.0.0.2:*            w (ROOT/httpd.conf:19)
127.0.0.1:80           is a NameVirtualHost
         default server ip.example (ROOT/httpd.conf:11)
         port 80 namevhost ip.example (ROOT/httpd.conf:11)
         port 80 namevhost ip2.example (ROOT/httpd.conf:25)
*:80                   is a NameVirtualHost
         default server a.example (ROOT/httpd.conf:3)
         port 80 namevhost a.example (ROOT/httpd.conf:3)
                 alias www.a.example
                 wild alias *.a.example
                 wild alias b?.a.example
         port 80 namevhost b.example (ROOT/httpd.conf:7)
                 alias www.b.example
*:81                   single.example (ROOT/httpd.conf:14)
*:82                   d (ROOT/httpd.conf:22)
*:*                    is a NameVirtualHost
         default server main.example (ROOT/httpd.conf:17)
         port * namevhost main.example (ROOT/httpd.conf:17)
         port * namevhost star (ROOT/httpd.conf:31)
";

#[test]
fn dump_is_httpds() {
    let root = Root::new();
    let config = load_with(&root, SAMPLE);
    let got = crate::dump::vhosts(&config).replace(&root.0.display().to_string(), "ROOT");
    assert_eq!(got, SAMPLE_DUMP, "\n--- expected\n{SAMPLE_DUMP}--- got\n{got}");
    assert_eq!(
        config.notices,
        [format!(
            "AH00548: NameVirtualHost has no effect and will be removed in the next release {}:2",
            root.path("httpd.conf")
        )]
    );
}

#[test]
fn a_vhost_has_the_main_servers_settings_under_its_own() {
    let root = Root::new();
    root.write("site/index.html", "site\n");
    let config = load_with(
        &root,
        "Timeout 30\nKeepAlive On\nDirectoryIndex index.html\nAddType text/x-a .a\n\
         ErrorDocument 404 /missing.html\nErrorDocument 500 \"oops\"\n\
         LogFormat \"%h %v\" vhostfmt\nCustomLog logs/main_log vhostfmt\nErrorLog logs/main_error\n\
         <VirtualHost *:80>\n  ServerName a.example\n  DocumentRoot site\n  Timeout 7\n  KeepAlive Off\n\
         DirectoryIndex home.html\n  DirectoryIndex start.html\n  AddType text/x-b .b\n\
         ErrorDocument 404 /a404.html\n  CustomLog logs/a_log vhostfmt\n  TransferLog logs/a_transfer\n\
         ErrorLog logs/a_error\n  ServerAlias www.a.example *.a.example\n</VirtualHost>\n\
         <VirtualHost *:80>\n  ServerName b.example\n</VirtualHost>\n",
    );
    let main = &config.settings;
    let [a, b] = &config.vhosts[..] else { panic!("two vhosts") };
    assert_eq!(a.settings.timeout, 7_000);
    assert!(!a.settings.keep_alive);
    assert_eq!(a.settings.document_root, root.0.join("site"));
    // A vhost's own DirectoryIndex and CustomLog lines replace the main
    // server's list (and add up among themselves).
    assert_eq!(a.settings.directory_index, ["home.html", "start.html"]);
    let targets: Vec<&str> = a.settings.custom_log.iter().map(|l| l.target.as_str()).collect();
    assert_eq!(targets, [root.path("logs/a_log"), root.path("logs/a_transfer")]);
    assert_eq!(a.settings.error_log, root.path("logs/a_error"));
    // Tables merge key by key.
    assert_eq!(a.settings.add_type.get("a").map(String::as_str), Some("text/x-a"));
    assert_eq!(a.settings.add_type.get("b").map(String::as_str), Some("text/x-b"));
    assert_eq!(a.settings.error_document.get("404").map(String::as_str), Some("/a404.html"));
    assert_eq!(a.settings.error_document.get("500").map(String::as_str), Some("oops"));
    assert_eq!(a.settings.log_format.get("vhostfmt").map(String::as_str), Some("%h %v"));
    assert!(a.sets("CustomLog") && a.sets("ErrorLog") && a.sets("DocumentRoot"));
    assert_eq!(a.identity.name, "a.example");
    assert_eq!(a.identity.aliases, ["www.a.example"]);
    assert_eq!(a.identity.wild_aliases, ["*.a.example"]);
    assert_eq!(a.provenance("Timeout"), Some(format!("{}:13", root.path("httpd.conf"))));
    // A vhost with no lines of its own has the main server's settings,
    // its ServerName aside.
    assert_eq!(b.settings, Settings { server_name: Some("b.example".into()), ..main.clone() });
    assert!(!b.sets("CustomLog"));
    assert_eq!(b.provenance("Timeout"), Some(format!("{}:1", root.path("httpd.conf"))));
    // The main server is untouched.
    assert_eq!(main.timeout, 30_000);
    assert_eq!(main.directory_index, ["index.html"]);
}

#[test]
fn names_of_vhosts_without_servername() {
    let root = Root::new();
    let config = load_with(
        &root,
        "ServerName main.example:8080\n<VirtualHost *>\n</VirtualHost>\n<VirtualHost 192.0.2.7:80>\n</VirtualHost>\n",
    );
    // A wildcard vhost takes the main server's name; the address without a
    // port takes the main server's port.
    assert_eq!(config.vhosts[0].identity.name, "main.example");
    assert_eq!(config.vhosts[0].identity.addresses[0].label(), "*:8080");
    // Another takes its address's name (/etc/hosts), else the address.
    let name = &config.vhosts[1].identity.name;
    assert_eq!(name, &crate::vhost::reverse_name("192.0.2.7".parse().unwrap()));
}

#[test]
fn errors_in_a_vhost_name_their_line() {
    assert_eq!(
        error("<VirtualHost *:80>\n  ServerName a\n  Timeout soon\n</VirtualHost>\n"),
        format!("AH00526: Syntax error on line 3 of ROOT/httpd.conf:\n{}", timeout_error("soon")),
    );
    assert_eq!(
        error("<VirtualHost *:80x>\n</VirtualHost>\n"),
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nThe address or port is invalid"
    );
    assert_eq!(
        error("<VirtualHost 80>\n</VirtualHost>\n"),
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nMissing address for VirtualHost"
    );
    assert_eq!(
        error("ServerAlias www.example.com\n"),
        "AH00526: Syntax error on line 1 of ROOT/httpd.conf:\nServerAlias only used in <VirtualHost>"
    );
}

/// The message the Timeout parser gives for `word`, whatever it is.
fn timeout_error(word: &str) -> String {
    let Effect::Value(parse, _) = directives::lookup("Timeout", MpmKind::Event).unwrap().effect else {
        unreachable!()
    };
    parse("Timeout", &[word.to_string()]).unwrap_err()
}

#[test]
fn a_vhosts_missing_document_root_is_a_warning() {
    let root = Root::new();
    let config = load_with(
        &root,
        "<VirtualHost *:80>\n  ServerName a\n  DocumentRoot /nonexistent/x\n</VirtualHost>\n",
    );
    assert_eq!(
        config.warnings,
        [format!(
            "AH00112: Warning: DocumentRoot [/nonexistent/x] does not exist (DocumentRoot at {}:3)",
            root.path("httpd.conf")
        )]
    );
}

#[test]
fn ssl_lines_keep_where_they_were_written_and_a_vhost_has_its_own_certificates() {
    let root = Root::new();
    for file in ["main.crt", "main.key", "v.crt", "v.key"] {
        root.write(file, "x");
    }
    let config = load_with(
        &root,
        "SSLCertificateFile main.crt\nSSLCertificateKeyFile main.key\nSSLProtocol -all +TLSv1.3\n\
         <VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile v.crt\nSSLCertificateKeyFile v.key\n\
         SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256\n</VirtualHost>\n",
    );
    let main = &config.settings;
    assert!(!main.ssl_engine);
    assert_eq!(main.ssl_certificate_file.iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["main.crt"]);
    let at = |tag| config.written_at(tag).map(|l| l.line);
    assert_eq!(at(main.ssl_certificate_key_file[0].tag()), Some(2));
    let vhost = &config.vhosts[0].settings;
    assert!(vhost.ssl_engine);
    // A vhost's certificate lines replace the main server's, not add to them.
    assert_eq!(vhost.ssl_certificate_file.iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["v.crt"]);
    assert_eq!(at(vhost.ssl_certificate_file[0].tag()), Some(6));
    assert_eq!(at(vhost.ssl_protocol.as_ref().unwrap().tag()), Some(3), "inherited, with its line");
    assert_eq!(at(vhost.ssl_cipher_suite["TLSv1.3"].tag()), Some(8));
    let e = error("SSLCertificateFile nowhere.crt\n");
    assert!(
        e.contains("SSLCertificateFile: file '") && e.contains("nowhere.crt' does not exist or is empty"),
        "{e}"
    );
}
