//! A strict little JSON reader for the tests of `?json` (the core has no
//! JSON dependency).

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub(super) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A strict little JSON reader (RFC 8259), enough to prove the output parses.
pub(super) fn parse_json(text: &str) -> Json {
    fn ws(s: &[u8], i: &mut usize) {
        while s.get(*i).is_some_and(|b| b" \t\r\n".contains(b)) {
            *i += 1;
        }
    }
    fn value(s: &[u8], i: &mut usize) -> Json {
        ws(s, i);
        match s[*i] {
            b'{' => {
                *i += 1;
                let mut fields = Vec::new();
                ws(s, i);
                if s[*i] == b'}' {
                    *i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    ws(s, i);
                    let Json::Str(k) = value(s, i) else { panic!("key at {i}") };
                    ws(s, i);
                    assert_eq!(s[*i], b':', "at {i}");
                    *i += 1;
                    assert!(!fields.iter().any(|(f, _)| *f == k), "duplicate {k}");
                    fields.push((k, value(s, i)));
                    ws(s, i);
                    *i += 1;
                    match s[*i - 1] {
                        b',' => continue,
                        b'}' => break Json::Obj(fields),
                        c => panic!("{} at {i}", c as char),
                    }
                }
            }
            b'[' => {
                *i += 1;
                let mut items = Vec::new();
                ws(s, i);
                if s[*i] == b']' {
                    *i += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(value(s, i));
                    ws(s, i);
                    *i += 1;
                    match s[*i - 1] {
                        b',' => continue,
                        b']' => break Json::Arr(items),
                        c => panic!("{} at {i}", c as char),
                    }
                }
            }
            b'"' => {
                *i += 1;
                let mut out = String::new();
                loop {
                    let c = s[*i];
                    *i += 1;
                    match c {
                        b'"' => break Json::Str(out),
                        b'\\' => {
                            let e = s[*i];
                            *i += 1;
                            out.push(match e {
                                b'"' => '"',
                                b'\\' => '\\',
                                b'/' => '/',
                                b'n' => '\n',
                                b'r' => '\r',
                                b't' => '\t',
                                b'b' => '\x08',
                                b'f' => '\x0c',
                                b'u' => {
                                    let hex = std::str::from_utf8(&s[*i..*i + 4]).unwrap();
                                    *i += 4;
                                    char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap()
                                }
                                _ => panic!("escape {}", e as char),
                            });
                        }
                        c if c < 0x20 => panic!("raw control byte in a string"),
                        _ => {
                            let len = std::str::from_utf8(&s[*i - 1..])
                                .map_or(1, |r| r.chars().next().unwrap().len_utf8());
                            out.push_str(std::str::from_utf8(&s[*i - 1..*i - 1 + len]).unwrap());
                            *i += len - 1;
                        }
                    }
                }
            }
            b't' | b'f' | b'n' => {
                let word =
                    [&b"true"[..], b"false", b"null"].into_iter().find(|w| s[*i..].starts_with(w)).unwrap();
                *i += word.len();
                match word {
                    b"true" => Json::Bool(true),
                    b"false" => Json::Bool(false),
                    _ => Json::Null,
                }
            }
            _ => {
                let start = *i;
                while s.get(*i).is_some_and(|b| b"+-0123456789.eE".contains(b)) {
                    *i += 1;
                }
                let number = std::str::from_utf8(&s[start..*i]).unwrap();
                assert!(!number.starts_with('.') && !number.starts_with("-."), "bad number {number}");
                Json::Num(number.parse().unwrap_or_else(|_| panic!("bad number {number}")))
            }
        }
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let v = value(bytes, &mut i);
    ws(bytes, &mut i);
    assert_eq!(i, bytes.len(), "trailing text");
    v
}
