//! SSLCipherSuite: OpenSSL cipher strings mapped onto the suites rustls
//! offers (all AEAD: AES-GCM and ChaCha20-Poly1305; TLS 1.2 with ECDHE
//! only), and the OpenSSL names `%{SSL_CIPHER}x` logs.
//!
//! `SSLCipherSuite spec` (or `SSLCipherSuite SSL spec`) is OpenSSL's cipher
//! list for TLS 1.2: elements split by `:`, `,` or spaces; each a suite
//! name, a keyword (`HIGH`, `aRSA`, `AESGCM` ...) or keywords joined by
//! `+` (all must match), prefixed by nothing (add), `!` (remove for good),
//! `-` (remove) or `+` (move to the end); `@STRENGTH` sorts by key length.
//! As in OpenSSL, it does not touch TLS 1.3, whose suites
//! `SSLCipherSuite TLSv1.3 name:name` lists. A suite or keyword OpenSSL
//! knows but that matches nothing rustls offers (RC4, CBC suites, DHE,
//! CAMELLIA ...) is accepted and selects nothing; a word OpenSSL does not
//! know is an error naming the line, where OpenSSL would skip it silently.

use rustls::CipherSuite;

/// A suite rustls (aws-lc-rs) offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub id: CipherSuite,
    /// OpenSSL's name (what mod_ssl logs as SSL_CIPHER).
    pub openssl: &'static str,
    /// The IANA name (accepted too).
    pub iana: &'static str,
    pub tls13: bool,
    /// Authentication: `Some(true)` RSA, `Some(false)` ECDSA, `None` any (TLS 1.3).
    rsa: Option<bool>,
    cipher: Cipher,
    sha384: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20,
}

impl Suite {
    /// The symmetric key's length, for `@STRENGTH`.
    fn bits(&self) -> u32 {
        if self.cipher == Cipher::Aes128Gcm { 128 } else { 256 }
    }
}

const fn suite(
    id: CipherSuite,
    openssl: &'static str,
    iana: &'static str,
    rsa: Option<bool>,
    cipher: Cipher,
    sha384: bool,
) -> Suite {
    Suite { id, openssl, iana, tls13: rsa.is_none(), rsa, cipher, sha384 }
}

/// rustls's suites in OpenSSL's default order of preference.
pub static SUITES: [Suite; 9] = [
    suite(
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        "TLS_AES_256_GCM_SHA384",
        "TLS13_AES_256_GCM_SHA384",
        None,
        Cipher::Aes256Gcm,
        true,
    ),
    suite(
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
        None,
        Cipher::Chacha20,
        false,
    ),
    suite(
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_128_GCM_SHA256",
        "TLS13_AES_128_GCM_SHA256",
        None,
        Cipher::Aes128Gcm,
        false,
    ),
    suite(
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        Some(false),
        Cipher::Aes256Gcm,
        true,
    ),
    suite(
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        Some(true),
        Cipher::Aes256Gcm,
        true,
    ),
    suite(
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        Some(false),
        Cipher::Chacha20,
        false,
    ),
    suite(
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        Some(true),
        Cipher::Chacha20,
        false,
    ),
    suite(
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        Some(false),
        Cipher::Aes128Gcm,
        false,
    ),
    suite(
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        Some(true),
        Cipher::Aes128Gcm,
        false,
    ),
];

/// OpenSSL's name of a suite rustls negotiated.
pub fn openssl_name(id: CipherSuite) -> &'static str {
    SUITES.iter().find(|s| s.id == id).map_or("", |s| s.openssl)
}

/// What a keyword selects among the TLS 1.2 suites; `None`: not a keyword.
fn keyword(word: &str, s: &Suite) -> Option<bool> {
    use Cipher::*;
    Some(match word {
        "ALL" | "DEFAULT" | "HIGH" | "TLSv1.2" | "kEECDH" | "kECDHE" | "ECDHE" | "EECDH" | "ECDH"
        | "AEAD" | "FIPS" | "SUITEB128" | "SUITEB128ONLY" | "SUITEB192" => true,
        "aRSA" => s.rsa == Some(true),
        "aECDSA" | "ECDSA" => s.rsa == Some(false),
        "AES" | "AESGCM" => s.cipher != Chacha20,
        "AES128" => s.cipher == Aes128Gcm,
        "AES256" => s.cipher == Aes256Gcm,
        "CHACHA20" => s.cipher == Chacha20,
        "SHA256" => !s.sha384,
        "SHA384" => s.sha384,
        // Known to OpenSSL, matching none of the suites rustls offers.
        "COMPLEMENTOFALL"
        | "COMPLEMENTOFDEFAULT"
        | "MEDIUM"
        | "LOW"
        | "EXP"
        | "EXPORT"
        | "EXPORT40"
        | "EXPORT56"
        | "aNULL"
        | "eNULL"
        | "NULL"
        | "MD5"
        | "RC4"
        | "RC2"
        | "DES"
        | "3DES"
        | "SHA1"
        | "SHA"
        | "kRSA"
        | "RSA"
        | "DHE"
        | "EDH"
        | "kDHE"
        | "kEDH"
        | "DH"
        | "kDH"
        | "ADH"
        | "AECDH"
        | "aDSS"
        | "DSS"
        | "aDH"
        | "aECDH"
        | "PSK"
        | "kPSK"
        | "aPSK"
        | "kECDHEPSK"
        | "kDHEPSK"
        | "kRSAPSK"
        | "ECDHEPSK"
        | "DHEPSK"
        | "RSAPSK"
        | "SRP"
        | "kSRP"
        | "aSRP"
        | "CAMELLIA"
        | "CAMELLIA128"
        | "CAMELLIA256"
        | "ARIA"
        | "ARIA128"
        | "ARIA256"
        | "ARIAGCM"
        | "SEED"
        | "IDEA"
        | "CCM"
        | "CCM8"
        | "AESCCM"
        | "AESCCM8"
        | "GOST94"
        | "GOST89MAC"
        | "kGOST"
        | "aGOST"
        | "aGOST01"
        | "aGOST12"
        | "kGOST18"
        | "GOST2012"
        | "TLSv1"
        | "TLSv1.0"
        | "SSLv3"
        | "SSLv2"
        | "aCERT" => false,
        _ => return None,
    })
}

/// The dash-separated parts of OpenSSL's suite names (for suites rustls
/// does not offer, which select nothing but are no error).
const NAME_PARTS: [&str; 38] = [
    "ECDHE",
    "DHE",
    "EDH",
    "ADH",
    "AECDH",
    "ECDH",
    "DH",
    "RSA",
    "ECDSA",
    "DSS",
    "PSK",
    "SRP",
    "EXP",
    "AES128",
    "AES256",
    "AES",
    "GCM",
    "CCM",
    "CCM8",
    "SHA",
    "SHA256",
    "SHA384",
    "CHACHA20",
    "POLY1305",
    "CAMELLIA128",
    "CAMELLIA256",
    "ARIA128",
    "ARIA256",
    "DES",
    "CBC",
    "CBC3",
    "RC4",
    "RC2",
    "MD5",
    "NULL",
    "SEED",
    "IDEA",
    "40",
];

/// TLS 1.3 names OpenSSL knows beyond rustls's.
const OTHER_TLS13: [&str; 2] = ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

fn is_openssl_suite_name(word: &str) -> bool {
    OTHER_TLS13.contains(&word) || (word.contains('-') && word.split('-').all(|p| NAME_PARTS.contains(&p)))
}

fn named(word: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.openssl == word || s.iana == word)
}

/// Whether one `+`-joined term selects suite `s`; `Err` names an unknown word.
fn selects(term: &str, s: &Suite) -> Result<bool, String> {
    let mut all = true;
    for part in term.split('+') {
        let hit = match (named(part), keyword(part, s)) {
            (Some(n), _) => n.id == s.id,
            (None, Some(hit)) => hit,
            (None, None) if is_openssl_suite_name(part) => false,
            (None, None) => return Err(unknown(part)),
        };
        all &= hit;
    }
    Ok(all)
}

fn unknown(word: &str) -> String {
    format!(
        "SSLCipherSuite: unknown cipher suite or keyword '{word}' (this server offers {})",
        SUITES.iter().map(|s| s.openssl).collect::<Vec<_>>().join(", ")
    )
}

/// The TLS 1.2 suites `spec` selects, in its order of preference.
pub fn tls12(spec: &str) -> Result<Vec<&'static Suite>, String> {
    let mut list: Vec<&'static Suite> = Vec::new();
    let mut killed: Vec<CipherSuite> = Vec::new();
    for element in spec.split([':', ',', ' ']).filter(|e| !e.is_empty()) {
        if element == "@STRENGTH" {
            list.sort_by_key(|s| std::cmp::Reverse(s.bits()));
            continue;
        }
        if element.starts_with("@SECLEVEL=") {
            continue;
        }
        let (op, term) = match element.as_bytes()[0] {
            b'!' | b'-' | b'+' => (element.as_bytes()[0], &element[1..]),
            _ => (0, element),
        };
        if term.is_empty() {
            return Err(unknown(element));
        }
        // A TLS 1.3 name in the TLS 1.2 list selects nothing, as in OpenSSL.
        let matched: Vec<&'static Suite> = SUITES
            .iter()
            .filter(|s| !s.tls13)
            .filter_map(|s| selects(term, s).map(|hit| hit.then_some(s)).transpose())
            .collect::<Result<_, _>>()?;
        match op {
            b'!' => {
                killed.extend(matched.iter().map(|s| s.id));
                list.retain(|s| !matched.iter().any(|m| m.id == s.id));
            }
            b'-' => list.retain(|s| !matched.iter().any(|m| m.id == s.id)),
            b'+' => {
                let (moved, kept): (Vec<_>, Vec<_>) =
                    list.iter().partition(|s| matched.iter().any(|m| m.id == s.id));
                list = kept.into_iter().chain(moved).collect();
            }
            _ => {
                for s in matched {
                    if !killed.contains(&s.id) && !list.iter().any(|l| l.id == s.id) {
                        list.push(s);
                    }
                }
            }
        }
    }
    Ok(list)
}

/// The TLS 1.3 suites `spec` (`name:name`) names, in its order.
pub fn tls13(spec: &str) -> Result<Vec<&'static Suite>, String> {
    let mut list = Vec::new();
    for name in spec.split(':').filter(|e| !e.is_empty()) {
        match named(name).filter(|s| s.tls13) {
            Some(s) => list.push(s),
            None if OTHER_TLS13.contains(&name) => {}
            None => return Err(unknown(name)),
        }
    }
    Ok(list)
}

/// The check made when the line is read.
pub fn check_tls12(spec: &str) -> Result<(), String> {
    tls12(spec).map(drop)
}

pub fn check_tls13(spec: &str) -> Result<(), String> {
    tls13(spec).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &str) -> Vec<&'static str> {
        tls12(spec).unwrap().iter().map(|s| s.openssl).collect()
    }

    #[test]
    fn common_strings_map_onto_rustls_suites() {
        assert_eq!(names("HIGH:!aNULL").len(), 6);
        assert_eq!(names("HIGH:MEDIUM:!MD5:!RC4:!3DES"), names("DEFAULT"));
        assert_eq!(
            names("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"),
            ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]
        );
        assert_eq!(
            names("EECDH+AESGCM:!aECDSA"),
            ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]
        );
        assert_eq!(names("aRSA+AES128:AES256+aRSA:@STRENGTH")[0], "ECDHE-RSA-AES256-GCM-SHA384");
        assert_eq!(names("ALL:+CHACHA20").last().copied(), Some("ECDHE-RSA-CHACHA20-POLY1305"));
        assert_eq!(names("ALL:!CHACHA20:CHACHA20").len(), 4, "! removes for good");
        assert_eq!(names("ALL:-CHACHA20:CHACHA20").len(), 6, "- may be added back");
        assert!(names("RC4-SHA:AES128-SHA:DHE-RSA-AES256-GCM-SHA384").is_empty());
        assert!(names("TLS_AES_256_GCM_SHA384").is_empty());
    }

    #[test]
    fn unknown_words_are_errors() {
        let e = tls12("HIGH:BOGUS-CIPHER").unwrap_err();
        assert!(e.starts_with("SSLCipherSuite: unknown cipher suite or keyword 'BOGUS-CIPHER'"), "{e}");
        assert!(tls12("EECDH+NOPE").is_err());
        assert!(tls12("!").is_err());
        assert!(tls13("TLS_AES_128_GCM_SHA256:TLS_NOPE").is_err());
        assert_eq!(tls13("TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256").unwrap().len(), 1);
    }

    #[test]
    fn logged_names_are_openssls() {
        assert_eq!(openssl_name(CipherSuite::TLS13_AES_128_GCM_SHA256), "TLS_AES_128_GCM_SHA256");
        assert_eq!(
            openssl_name(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
            "ECDHE-RSA-CHACHA20-POLY1305"
        );
    }
}
