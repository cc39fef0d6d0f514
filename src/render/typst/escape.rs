//! Putting user text into Typst source: always as a string literal, never as
//! markup, so no character can change the document's structure.

/// A Typst string literal (with its quotes) that evaluates to exactly `text`.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_are_escaped_only_where_strings_need_it() {
        assert_eq!(string("a#b*c_d@e$f[g]h<i>j"), "\"a#b*c_d@e$f[g]h<i>j\"");
        assert_eq!(string("\\\""), "\"\\\\\\\"\"");
        assert_eq!(string("一\n二"), "\"一\\n二\"");
        assert_eq!(string("\u{7}"), "\"\\u{7}\"");
        assert_eq!(string("😀𠀀"), "\"😀𠀀\"");
    }
}
