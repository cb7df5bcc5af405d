//! JSON string output written directly (no serde), escaping as Go's
//! `encoding/json` does, which is what Prometheus's API responses contain.

/// write_json_string appends `s` as a JSON string literal: `\"`, `\\`,
/// `\n`, `\r`, `\t`, other controls as `\u00XX`, and, like Go with HTML
/// escaping on, `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`. Everything
/// else (all other UTF-8) is copied as is.
pub fn write_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    // Nearly every label needs no escaping: one byte scan, one copy. 0xE2
    // leads U+2028 and U+2029 (and other characters, which the slow path
    // copies unchanged).
    if !bytes
        .iter()
        .any(|&b| b < 0x20 || matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xE2))
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            _ => None,
        };
        let needs_u = matches!(
            c,
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}'
        );
        if esc.is_none() && !needs_u {
            continue;
        }
        // Slicing at char boundaries found by char_indices is always valid.
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let u = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((u >> shift) & 0xf) as usize] as char);
                }
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..bytes.len()]);
    out.push('"');
}

/// write_labels_json appends a label set as a JSON object,
/// `{"name":"value",...}`, in the order given.
pub fn write_labels_json<'a>(
    out: &mut String,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    out.push('{');
    for (j, (name, value)) in labels.into_iter().enumerate() {
        if j > 0 {
            out.push(',');
        }
        write_json_string(out, name);
        out.push(':');
        write_json_string(out, value);
    }
    out.push('}');
}

/// write_owned_labels_json is [`write_labels_json`] for owned pairs.
pub fn write_owned_labels_json(out: &mut String, labels: &[(String, String)]) {
    write_labels_json(out, labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> String {
        let mut o = String::new();
        write_json_string(&mut o, s);
        o
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(j("plain"), "\"plain\"");
        assert_eq!(j("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(j("\n\r\t\u{1}\u{8}\u{1f}"), r#""\n\r\t\u0001\u0008\u001f""#);
        assert_eq!(j("<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(j("é日本\u{2028}x"), "\"é日本\\u2028x\"");
        assert_eq!(j("\u{7f}"), "\"\u{7f}\"");
        assert_eq!(j(""), "\"\"");
    }
}
