//! Structured edits of the XML parts docx-rs writes, with quick-xml: elements are
//! parsed and re-emitted, never patched as strings. Used for what docx-rs has no
//! setter for (footer references of every section, repeating header rows, document
//! defaults, extra parts and their relationships).

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

/// What to do at an element.
pub enum Edit {
    /// Leave it.
    Keep,
    /// Insert this XML as its first children.
    Prepend(String),
    /// Insert this XML as its last children.
    Append(String),
    /// Replace the element (and its content) by this XML.
    Replace(String),
}

/// Rewrites `xml`, asking `f` at each element start with the element and its
/// ancestors' names (`["w:document", "w:body", "w:sectPr"]`). Empty elements
/// (`<a/>`) are opened and closed when something is inserted into them.
pub fn edit(
    xml: &[u8],
    mut f: impl FnMut(&[String], &BytesStart<'_>) -> Edit,
) -> Result<Vec<u8>, String> {
    let mut reader = Reader::from_reader(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len() + 1024));
    let mut path: Vec<String> = Vec::new();
    // per open element: what to append before its end
    let mut pending: Vec<Option<String>> = Vec::new();
    // depth at which a replaced element's content is being skipped
    let mut skipping: Option<usize> = None;
    let mut buf = Vec::new();
    let err = |e: &dyn std::fmt::Display| format!("XML 处理失败（{e}）");
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| err(&e))?;
        if let Some(depth) = skipping {
            match &ev {
                Event::Start(_) => path.push(String::new()),
                Event::End(_) => {
                    path.pop();
                    if path.len() == depth {
                        skipping = None;
                    }
                }
                Event::Eof => return Err(err(&"文件不完整")),
                _ => {}
            }
            buf.clear();
            continue;
        }
        match ev {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                path.push(name);
                match f(&path, &e) {
                    Edit::Keep => {
                        writer.write_event(Event::Start(e)).map_err(|e| err(&e))?;
                        pending.push(None);
                    }
                    Edit::Prepend(x) => {
                        writer.write_event(Event::Start(e)).map_err(|e| err(&e))?;
                        raw(&mut writer, &x)?;
                        pending.push(None);
                    }
                    Edit::Append(x) => {
                        writer.write_event(Event::Start(e)).map_err(|e| err(&e))?;
                        pending.push(Some(x));
                    }
                    Edit::Replace(x) => {
                        raw(&mut writer, &x)?;
                        skipping = Some(path.len() - 1);
                    }
                }
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                path.push(name);
                match f(&path, &e) {
                    Edit::Keep => {
                        writer.write_event(Event::Empty(e)).map_err(|e| err(&e))?;
                    }
                    Edit::Prepend(x) | Edit::Append(x) => {
                        let end = BytesEnd::new(
                            String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                        );
                        writer.write_event(Event::Start(e)).map_err(|e| err(&e))?;
                        raw(&mut writer, &x)?;
                        writer.write_event(Event::End(end)).map_err(|e| err(&e))?;
                    }
                    Edit::Replace(x) => raw(&mut writer, &x)?,
                }
                path.pop();
            }
            Event::End(e) => {
                if let Some(Some(x)) = pending.pop() {
                    raw(&mut writer, &x)?;
                }
                path.pop();
                writer.write_event(Event::End(e)).map_err(|e| err(&e))?;
            }
            Event::Eof => break,
            other => writer.write_event(other).map_err(|e| err(&e))?,
        }
        buf.clear();
    }
    Ok(writer.into_inner())
}

/// Writes an XML fragment we made ourselves (already well-formed and escaped).
fn raw(writer: &mut Writer<Vec<u8>>, xml: &str) -> Result<(), String> {
    // re-read the fragment so that only well-formed XML ever goes in
    let mut reader = Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) if depth == 0 => return Ok(()),
            Ok(Event::Eof) => return Err("XML 片段有未闭合的元素".to_string()),
            Ok(ev) => {
                match &ev {
                    Event::Start(_) => depth += 1,
                    Event::End(_) => {
                        depth = depth
                            .checked_sub(1)
                            .ok_or_else(|| "XML 片段有多余的结束标记".to_string())?;
                    }
                    _ => {}
                }
                writer.write_event(ev).map_err(|e| format!("XML 处理失败（{e}）"))?
            }
            Err(e) => return Err(format!("XML 片段有误（{e}）")),
        }
    }
}

/// The value of an attribute of an element.
pub fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == name.as_bytes()).and_then(|a| {
        let raw = std::str::from_utf8(&a.value).ok()?;
        quick_xml::escape::unescape(raw).ok().map(|v| v.into_owned())
    })
}

/// Escapes text for an attribute value or element content.
pub fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepends_appends_and_replaces_structurally() {
        let xml = br#"<r><a x="1"/><b><c/></b><d>t</d></r>"#;
        let out = edit(xml, |path, e| match path.last().map(String::as_str) {
            Some("a") if attr(e, "x").as_deref() == Some("1") => {
                Edit::Prepend("<i/>".into())
            }
            Some("b") => Edit::Append("<j>&amp;</j>".into()),
            Some("d") => Edit::Replace("<k/>".into()),
            _ => Edit::Keep,
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<r><a x="1"><i/></a><b><c/><j>&amp;</j></b><k/></r>"#
        );
    }

    #[test]
    fn a_broken_fragment_is_an_error() {
        assert!(edit(b"<r/>", |_, _| Edit::Append("<x>".into())).is_err());
    }
}
