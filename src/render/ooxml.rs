//! Schema repair for the DOCX packages that docx-rs writes.
//!
//! docx-rs 0.4 puts several children out of the order the ISO/IEC 29500
//! Transitional schemas require (`w:rPr` first inside `w:pPr`, `w:tblLayout` after
//! `w:tblCellMar`, `w:rPr` before `w:pPr` in styles, ...), writes attributes the
//! schemas do not declare (`w:type` on `w:gridCol`), writes `<w:rPr />` where the
//! schema has none (the `w:pPr` of styles and numbering levels) and
//! `w:characterSpacingControl` inside `w:compat` instead of `w:settings`, repeats
//! `w14:paraId` values and gives every picture `wp:docPr id="1"`, always packs
//! comments, footnotes and numbering parts that nothing references, and names the
//! author `unknown`. Word repairs such files silently or asks to; strict consumers
//! reject them.
//!
//! Every XML part is read with quick-xml in one pass that copies what it reads to
//! the output, so that whatever is not repaired is written back byte for byte:
//! text, attribute values, namespace declarations and foreign markup (w14, mc).
//! An element's children are put in order when its end tag is read, by moving
//! their spans in the output; a start tag with an id is written as a placeholder
//! until the ids of all parts are known.
//! The element types come from the schemas: `ooxml_order.rs` is generated from the
//! XSDs by `tools/gen_ooxml_order.py`; each element's type is tracked from the part
//! root down, so `w:rPr` in `w:pPr` (CT_ParaRPr) and `w:rPr` in `w:r` (CT_RPr) each
//! get their own order. The repair:
//!
//! * puts the children of every element in the order of its type; a child the type
//!   does not list (w14 markup, `mc:AlternateContent`) stays after the listed child
//!   before it;
//! * drops attributes in a schema namespace that the element's type does not
//!   declare, and children the type does not allow when they are empty (no
//!   attributes, no content); moves the children of `w:compat` that belong to
//!   `w:settings` there;
//! * makes `w14:paraId` and `wp:docPr/@id` unique across the parts (the first
//!   occurrence keeps its value);
//! * leaves anything else as it is, so what it cannot repair (a value out of range, a
//!   misplaced element with content) still shows in check_docx.py.
//!
//! [`normalize_package`] repairs a packed DOCX and is the complete repair: it also
//! removes the parts that no relationship reaches, with their relationship parts and
//! their content-type overrides, and writes docProps/core.xml. [`normalize`]
//! repairs the parts of a [`docx_rs::XMLDocx`] before packing, but cannot remove
//! parts: `XMLDocx::pack` always writes `comments.xml`, `numbering.xml`,
//! `footnotes.xml` and the rest.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{Cursor, Read, Write};
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::escape::{escape, unescape};
use quick_xml::events::{BytesStart, Event};

/// Child order and declared attributes, generated from the schemas.
#[allow(dead_code, reason = "the table carries more than the repair reads")]
mod order {
    include!("ooxml_order.rs");
}

use order::{Child, GLOBALS, NAMESPACES, NO_TYPE, TYPES, Type};

const W14: &str = "http://schemas.microsoft.com/office/word/2010/wordml";
const MC: &str = "http://schemas.openxmlformats.org/markup-compatibility/2006";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const REL_CORE: &str = concat!(
    "http://schemas.openxmlformats.org/package/2006/relationships/",
    "metadata/core-properties"
);
const REL_MAIN: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const CT_PATH: &str = "[Content_Types].xml";
const ROOT_RELS: &str = "_rels/.rels";

/// Metadata written into docProps/core.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreProps {
    /// `dc:title`.
    pub title: String,
    /// `dc:creator` and `cp:lastModifiedBy`.
    pub creator: String,
    /// `dcterms:created` and `dcterms:modified` (midnight UTC of this day).
    pub date: chrono::NaiveDate,
}

/// Repairs every XML part of a docx-rs package in place: children in schema order,
/// undeclared attributes dropped, paragraph and drawing ids unique across the parts,
/// core properties set (see the module documentation for the details).
///
/// Parts that nothing references (docx-rs always packs `comments.xml`,
/// `numbering.xml`, `footnotes.xml`, `docProps/custom.xml`, ...) cannot be removed
/// here, because [`docx_rs::XMLDocx::pack`] writes them whatever the fields hold;
/// check_docx.py reports them as warnings. [`normalize_package`], run on the packed
/// bytes, removes them too.
pub fn normalize(xml: &mut docx_rs::XMLDocx, core: &CoreProps) -> Result<(), String> {
    let mut parts: Vec<(String, &mut Vec<u8>)> = vec![
        ("word/document.xml".into(), &mut xml.document),
        ("word/styles.xml".into(), &mut xml.styles),
        ("word/settings.xml".into(), &mut xml.settings),
        ("word/fontTable.xml".into(), &mut xml.font_table),
        ("word/comments.xml".into(), &mut xml.comments),
        ("word/numbering.xml".into(), &mut xml.numberings),
        ("word/footnotes.xml".into(), &mut xml.footnotes),
    ];
    for (i, h) in xml.headers.iter_mut().enumerate() {
        parts.push((format!("word/header{}.xml", i + 1), h));
    }
    for (i, f) in xml.footers.iter_mut().enumerate() {
        parts.push((format!("word/footer{}.xml", i + 1), f));
    }
    let fixed = {
        let named: Vec<(&str, &[u8])> =
            parts.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        repair_parts(&named)?
    };
    for ((_, bytes), new) in parts.into_iter().zip(fixed) {
        *bytes = new;
    }
    xml.doc_props.core = core_xml(core).into_bytes();
    Ok(())
}

/// Repairs a packed DOCX: every XML part as [`normalize`] does, plus the removal of
/// the parts that no relationship chain from `_rels/.rels` reaches (with their
/// relationship parts and content-type overrides), and of overrides that name no
/// part. The archive is written anew with deflate, `[Content_Types].xml` and
/// `_rels/.rels` first and the other entries sorted by name, no directory entries
/// and a fixed timestamp, so the same input always gives the same bytes.
pub fn normalize_package(zip_bytes: &[u8], core: &CoreProps) -> Result<Vec<u8>, String> {
    write_zip(normalize_parts(zip_bytes, core)?)
}

/// [`normalize_package`] without the packing: the repaired parts by name, for a
/// writer that changes one of them before [`write_zip`].
pub fn normalize_parts(
    zip_bytes: &[u8],
    core: &CoreProps,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut entries = read_zip(zip_bytes)?;
    let ct_bytes = entries.remove(CT_PATH).ok_or("[Content_Types].xml is missing")?;
    let ct_src = text(&ct_bytes)?;
    let types = ContentTypes::read(ct_src)?;

    // parts reached from the package relationships, and the core-properties part
    let mut keep: HashSet<String> = HashSet::new();
    // part names are case-insensitive (OPC); targets are found by their lower case
    let by_key: BTreeMap<String, String> =
        entries.keys().map(|n| (part_key(n), n.clone())).collect();
    let mut queue = VecDeque::from([String::new()]);
    let mut core_part = None;
    let mut main_part = None;
    while let Some(source) = queue.pop_front() {
        let rels_path = rels_path_of(&source);
        let Some(rels) = entries.get(&rels_path) else { continue };
        keep.insert(rels_path.clone());
        for rel in relationships(text(rels)?)? {
            if rel.external {
                continue;
            }
            let resolved = resolve_target(&source, &rel.target);
            let target = by_key.get(&part_key(&resolved)).cloned().unwrap_or(resolved);
            if source.is_empty() && rel.kind == REL_CORE {
                core_part = Some(target.clone());
            }
            if source.is_empty() && rel.kind == REL_MAIN {
                main_part = Some(target.clone());
            }
            if entries.contains_key(&target) && keep.insert(target.clone()) {
                queue.push_back(target);
            }
        }
    }
    entries.retain(|name, _| keep.contains(name));

    let core_part = core_part.ok_or("_rels/.rels has no core-properties relationship")?;
    entries.insert(core_part, core_xml(core).into_bytes());

    // content types: drop the overrides of parts the package no longer has
    let present: HashSet<String> = entries.keys().map(|n| part_key(n)).collect();
    let new_ct = drop_overrides(ct_src, &present)?;

    // the XML parts, ids unique across all of them; the main document's keep theirs
    let mut xml_names: Vec<String> =
        entries.keys().filter(|n| types.is_xml(n)).cloned().collect();
    xml_names.sort_by_key(|n| Some(n) != main_part.as_ref());
    let named: Vec<(&str, &[u8])> =
        xml_names.iter().map(|n| (n.as_str(), entries[n].as_slice())).collect();
    let fixed = repair_parts(&named)?;
    for (name, bytes) in xml_names.into_iter().zip(fixed) {
        entries.insert(name, bytes);
    }
    entries.insert(CT_PATH.to_string(), new_ct);
    Ok(entries)
}

/// Repairs one XML part: children in schema order, attributes the schema does not
/// declare for the element dropped (and empty children it does not allow), ids
/// (`w14:paraId`, `wp:docPr/@id`) unique within the part.
/// Everything else is written back byte for byte. A part whose root the schemas do
/// not describe (relationships, content types, properties) comes back unchanged.
pub fn reorder_part(xml: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = repair_parts(&[("part", xml)])?;
    out.pop().ok_or_else(|| "no part repaired".to_string())
}

/// Repairs several parts of one package; ids are made unique across them (the first
/// occurrence in part order keeps its value).
fn repair_parts(parts: &[(&str, &[u8])]) -> Result<Vec<Vec<u8>>, String> {
    let mut ids = [IdPool::new(IdKind::Para), IdPool::new(IdKind::DocPr)];
    let mut repaired = Vec::with_capacity(parts.len());
    for (name, bytes) in parts {
        let src = text(bytes).map_err(|e| format!("{name}: {e}"))?;
        repaired
            .push(Repaired::parse(src, &mut ids).map_err(|e| format!("{name}: {e}"))?);
    }
    // every id of every part is noted: new ones avoid them all
    repaired.into_iter().map(|r| r.finish(&mut ids)).collect()
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err("UTF-16 parts are not supported".into());
    }
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

// ------------------------------------------------------------------- one pass

/// A part repaired in one pass: the output, with every start tag that carries an
/// id to make unique written as a placeholder (NUL, its index in `tags`, NUL),
/// filled in when the ids of all parts are known ([`Repaired::finish`]).
struct Repaired<'a> {
    src: &'a str,
    out: Vec<u8>,
    tags: Vec<IdTag>,
}

/// A start tag with an id (`w14:paraId`, `wp:docPr/@id`).
struct IdTag {
    kind: IdKind,
    /// The id as written (escaped).
    value: String,
    /// The start tag in the source.
    open: Range<usize>,
    /// Length of the qualified name.
    name_len: usize,
    /// An empty-element tag.
    empty: bool,
    /// Index of the id among the attributes kept (all of them unless `kept`).
    at: usize,
    /// The attributes to write when an attribute was dropped; `None` when the
    /// tag is written as it is unless its id changes.
    kept: Option<Vec<(String, String)>>,
}

/// An element being written: where its start tag and content begin in the
/// output, what its children are looked up in and how they are put in order.
struct Frame<'a> {
    /// Type the children are looked up in (for mc:AlternateContent and its
    /// branches, the type of the element that holds them).
    lookup: Option<u16>,
    /// Type whose order the children are put in.
    sort: Option<u16>,
    /// Length of the namespace stack before this element's declarations.
    scope: usize,
    /// Where its start tag begins in the output.
    start: usize,
    /// Where its content begins in the output.
    content: usize,
    /// Slots the element may take in its parent's content model.
    ranks: Option<&'static [u16]>,
    /// Namespace and local name, when its parent's type does not allow it.
    undeclared: Option<(u8, &'a str)>,
    /// Dropped when it turns out to have no content (see [`Start::droppable`]).
    droppable: bool,
    /// Where its ranked children's groups start in [`Pass::groups`].
    groups: usize,
    /// The slot reached by its children so far.
    current: u16,
    /// Whether its children are in order so far.
    sorted: bool,
    /// Children that belong to its parent (see [`HOIST_FROM`]): their spans in
    /// the output and their slots in the parent.
    hoisted: Option<Vec<Hoisted>>,
}

/// A child moved up to its grandparent: its span in the output and its slots
/// in the grandparent's content model.
type Hoisted = (Range<usize>, Option<&'static [u16]>);

/// The state of one part's pass.
struct Pass<'a> {
    out: Vec<u8>,
    stack: Vec<Frame<'a>>,
    scopes: Vec<Scope>,
    /// Per open ordered element (from its [`Frame::groups`] on): its ranked
    /// children, as (slot, where the child starts in the output). A child
    /// carries what follows it up to the next ranked child.
    groups: Vec<(u16, usize)>,
    tags: Vec<IdTag>,
}

impl<'a> Pass<'a> {
    /// Files a child element written at `span` with the element that holds it.
    fn child_done(
        &mut self,
        span: Range<usize>,
        ranks: Option<&'static [u16]>,
        undeclared: Option<(u8, &str)>,
    ) {
        let grand = self.stack.len().checked_sub(2).and_then(|i| self.stack[i].sort);
        let Some(parent) = self.stack.last_mut() else { return };
        if let Some(hoisted) = &mut parent.hoisted {
            // a child its grandparent's type lists moves up there
            if let (Some((ns, local)), Some(pt)) = (undeclared, grand)
                && let Some(c) = find_child(&TYPES[usize::from(pt)], ns, local)
            {
                hoisted.push((span, Some(c.ranks).filter(|r| !r.is_empty())));
                return;
            }
        }
        let Some(t) = parent.sort.map(|t| &TYPES[usize::from(t)]) else { return };
        if !t.ordered {
            return;
        }
        if let Some(ranks) = ranks {
            let rank = pick_rank(ranks, &mut parent.current);
            let last = self.groups[parent.groups..].last().map(|g| g.0);
            parent.sorted &= last.is_none_or(|l| l <= rank);
            self.groups.push((rank, span.start));
        }
    }

    /// Ends the element on top of the stack: its hoisted children move after it,
    /// its children are put in order, it is dropped when empty and droppable.
    fn close(&mut self, end_tag: &[u8]) -> Result<(), String> {
        let mut f = self.stack.pop().ok_or("end tag without start tag")?;
        self.scopes.truncate(f.scope);
        // hoisted children leave the element's content
        let mut moved = Vec::new();
        if let Some(hoisted) = f.hoisted.take()
            && !hoisted.is_empty()
        {
            let moved_spans: Vec<Range<usize>> =
                hoisted.iter().map(|(span, _)| span.clone()).collect();
            let content = self.out.split_off(f.content);
            let mut rest = Vec::with_capacity(content.len());
            let mut at = 0;
            for (span, ranks) in hoisted {
                let (s, e) = (span.start - f.content, span.end - f.content);
                rest.extend_from_slice(&content[at..s]);
                moved.push((content[s..e].to_vec(), ranks));
                at = e;
            }
            rest.extend_from_slice(&content[at..]);
            self.out.extend_from_slice(&rest);
            // the children filed after a hoisted one start earlier now
            for g in &mut self.groups[f.groups..] {
                let before: usize = moved_spans
                    .iter()
                    .filter(|r: &&Range<usize>| r.end <= g.1)
                    .map(|r| r.len())
                    .sum();
                g.1 -= before;
            }
        }
        if !f.sorted {
            let groups = &self.groups[f.groups..];
            let end = self.out.len();
            let mut spans: Vec<(i32, Range<usize>)> =
                Vec::with_capacity(groups.len() + 1);
            let first = groups.first().map_or(end, |g| g.1);
            spans.push((-1, f.content..first));
            for (i, (rank, start)) in groups.iter().enumerate() {
                let stop = groups.get(i + 1).map_or(end, |g| g.1);
                spans.push((i32::from(*rank), *start..stop));
            }
            spans.sort_by_key(|s| s.0);
            let content = self.out.split_off(f.content);
            for (_, r) in spans {
                self.out
                    .extend_from_slice(&content[r.start - f.content..r.end - f.content]);
            }
        }
        self.groups.truncate(f.groups);
        if f.droppable && self.out.len() == f.content {
            self.out.truncate(f.start);
        } else {
            self.out.extend_from_slice(end_tag);
            let span = f.start..self.out.len();
            self.child_done(span, f.ranks, f.undeclared);
        }
        for (bytes, ranks) in moved {
            let start = self.out.len();
            self.out.extend_from_slice(&bytes);
            let span = start..self.out.len();
            self.child_done(span, ranks, None);
        }
        Ok(())
    }
}

impl<'a> Repaired<'a> {
    /// Repairs one part but for its ids, which are noted in `ids`.
    fn parse(src: &'a str, ids: &mut [IdPool; 2]) -> Result<Self, String> {
        if memchr::memchr(0, src.as_bytes()).is_some() {
            return Err("NUL character in XML".into());
        }
        let mut reader = Reader::from_str(src);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        let mut p = Pass {
            out: Vec::with_capacity(src.len() + 64),
            stack: Vec::new(),
            scopes: Vec::new(),
            groups: Vec::new(),
            tags: Vec::new(),
        };
        let bytes = src.as_bytes();
        let mut pos = 0usize;
        loop {
            let event = reader.read_event().map_err(|e| {
                format!("XML error at byte {}: {e}", reader.error_position())
            })?;
            let end = usize::try_from(reader.buffer_position())
                .map_err(|_| "part too large".to_string())?;
            let range = pos..end;
            pos = end;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let scope = p.scopes.len();
                    let parent = p.stack.last().map(|f| (f.lookup, f.sort));
                    let s = start_elem(e, parent, &mut p.scopes)?;
                    let qname = &src[range.start + 1..][..s.name_len];
                    let local = qname.rsplit(':').next().unwrap_or(qname);
                    if empty && s.droppable {
                        p.scopes.truncate(scope);
                        continue;
                    }
                    let start = p.out.len();
                    match s.id {
                        Some((kind, at)) => {
                            ids[kind as usize].note(s.kept[at].1);
                            let tag = IdTag {
                                kind,
                                value: s.kept[at].1.to_string(),
                                open: range.clone(),
                                name_len: s.name_len,
                                empty,
                                at,
                                kept: s.rewrite.then(|| owned(&s.kept)),
                            };
                            p.out.push(0);
                            p.out.extend_from_slice(p.tags.len().to_string().as_bytes());
                            p.out.push(0);
                            p.tags.push(tag);
                        }
                        None if s.rewrite => {
                            write_tag(
                                &mut p.out,
                                &bytes[range.start + 1..][..s.name_len],
                                &s.kept,
                                empty,
                            );
                        }
                        None => p.out.extend_from_slice(&bytes[range.clone()]),
                    }
                    let hoist = s.sort.is_some_and(|t| {
                        HOIST_FROM.contains(&TYPES[usize::from(t)].name)
                    }) && parent.is_some_and(|(_, sort)| sort.is_some());
                    let frame = Frame {
                        lookup: s.lookup,
                        sort: s.sort,
                        scope,
                        start,
                        content: p.out.len(),
                        ranks: s.ranks,
                        undeclared: s.undeclared.map(|ns| (ns, local)),
                        droppable: s.droppable,
                        groups: p.groups.len(),
                        current: 0,
                        sorted: true,
                        hoisted: hoist.then(Vec::new),
                    };
                    p.stack.push(frame);
                    if empty {
                        p.close(b"")?;
                    }
                }
                Event::End(_) => p.close(&bytes[range])?,
                Event::Eof => break,
                _ => p.out.extend_from_slice(&bytes[range]),
            }
        }
        if !p.stack.is_empty() {
            return Err("unclosed element at end of part".into());
        }
        Ok(Repaired { src, out: p.out, tags: p.tags })
    }

    /// The part with its ids made unique (in the order they are written).
    fn finish(self, ids: &mut [IdPool; 2]) -> Result<Vec<u8>, String> {
        if self.tags.is_empty() {
            return Ok(self.out);
        }
        let mut out = Vec::with_capacity(self.out.len() + 64);
        let mut rest = self.out.as_slice();
        while let Some(i) = memchr::memchr(0, rest) {
            out.extend_from_slice(&rest[..i]);
            let after = &rest[i + 1..];
            let j = memchr::memchr(0, after).ok_or("unfinished id placeholder")?;
            let n: usize = std::str::from_utf8(&after[..j])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("bad id placeholder")?;
            let tag = self.tags.get(n).ok_or("id placeholder out of range")?;
            let new = ids[tag.kind as usize].claim(&tag.value);
            let src = &self.src[tag.open.clone()];
            match (new, &tag.kept) {
                (None, None) => out.extend_from_slice(src.as_bytes()),
                (new, kept) => {
                    // nothing dropped: the tag's own attributes, the id where
                    // it was read
                    let mut attrs = match kept {
                        Some(attrs) => attrs.clone(),
                        None => raw_attributes(src, tag.name_len)?,
                    };
                    if let Some(new) = new {
                        attrs.get_mut(tag.at).ok_or("id attribute not found")?.1 = new;
                    }
                    write_tag(
                        &mut out,
                        &src.as_bytes()[1..][..tag.name_len],
                        &attrs,
                        tag.empty,
                    );
                }
            }
            rest = &after[j + 1..];
        }
        out.extend_from_slice(rest);
        Ok(out)
    }
}

/// Writes a start tag anew: its name and attributes (raw values).
fn write_tag<K: AsRef<str>, V: AsRef<str>>(
    out: &mut Vec<u8>,
    name: &[u8],
    attrs: &[(K, V)],
    empty: bool,
) {
    out.push(b'<');
    out.extend_from_slice(name);
    for (k, v) in attrs {
        out.push(b' ');
        out.extend_from_slice(k.as_ref().as_bytes());
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(v.as_ref().replace('"', "&quot;").as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(if empty { b" />" } else { b">" });
}

fn owned(attrs: &[(&str, &str)]) -> Vec<(String, String)> {
    attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The attributes of one start tag with their raw (escaped) values.
fn raw_attributes(tag: &str, name_len: usize) -> Result<Vec<(String, String)>, String> {
    let inner = tag.strip_prefix('<').unwrap_or(tag);
    let inner =
        inner.strip_suffix("/>").or_else(|| inner.strip_suffix('>')).unwrap_or(inner);
    let start = BytesStart::from_content(inner, name_len);
    let mut out = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        out.push((utf8(a.key.as_ref())?.to_string(), utf8(&a.value)?.to_string()));
    }
    Ok(out)
}

/// Index of a namespace URI in the generated table.
fn ns_index(uri: &str) -> Option<u8> {
    NAMESPACES.iter().position(|u| *u == uri).and_then(|i| u8::try_from(i).ok())
}

/// A namespace declaration in scope: prefix, URI and the URI's index in the
/// table (looked up once, where it is declared).
struct Scope {
    prefix: String,
    uri: String,
    ns: Option<u8>,
}

/// The URI bound to `prefix` and its index in the table.
fn resolve<'s>(scopes: &'s [Scope], prefix: &str) -> Option<(&'s str, Option<u8>)> {
    if prefix == "xml" {
        return Some((XML_NS, ns_index(XML_NS)));
    }
    scopes.iter().rev().find(|s| s.prefix == prefix).map(|s| (s.uri.as_str(), s.ns))
}

fn find_child(t: &Type, ns: u8, local: &str) -> Option<&'static Child> {
    t.children
        .binary_search_by(|c| (c.ns, c.name).cmp(&(ns, local)))
        .ok()
        .map(|i| &t.children[i])
}

fn find_global(ns: u8, local: &str) -> Option<u16> {
    GLOBALS.binary_search_by(|g| (g.0, g.1).cmp(&(ns, local))).ok().map(|i| GLOBALS[i].2)
}

fn declares(t: &Type, ns: u8, local: &str) -> bool {
    t.attrs.binary_search(&(ns, local)).is_ok()
}

fn utf8(b: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(b).map_err(|e| format!("not UTF-8: {e}"))
}

/// What a start tag says: the element's type and rank in its parent, the
/// attributes its type does not declare, its id.
struct Start<'e> {
    /// Type the children are looked up in.
    lookup: Option<u16>,
    /// Type whose order the children are put in.
    sort: Option<u16>,
    /// Slots the element may take in its parent's content model; `None` when the
    /// parent's type is unknown or does not list the element.
    ranks: Option<&'static [u16]>,
    /// Namespace of an element in a schema namespace that its parent's type
    /// (which has no wildcard) does not allow.
    undeclared: Option<u8>,
    /// Not allowed by the parent's type, and without attributes: dropped when it
    /// turns out to have no content either (docx-rs writes `<w:rPr />` into
    /// `w:pPr` of styles and numbering levels, where CT_PPrGeneral has no `w:rPr`).
    droppable: bool,
    /// Whether the start tag must be written from `kept` (an attribute dropped).
    rewrite: bool,
    /// The attributes kept, as (key, raw value); filled only when the tag is
    /// written anew or carries an id.
    kept: Vec<(&'e str, &'e str)>,
    /// An id that must be unique in the document: its kind and index in `kept`.
    id: Option<(IdKind, usize)>,
    /// Length of the qualified name.
    name_len: usize,
}

/// What becomes of an attribute.
enum Attribute {
    Keep,
    /// In a schema namespace, not declared by the element's type.
    Drop,
    /// An id to make unique.
    Id(IdKind),
}

/// Reads a start tag: namespace declarations (pushed on `scopes`), the
/// element's type and rank in its parent (whose lookup and sort types are
/// `parent`), the attributes its type does not declare, its `w14:paraId`.
fn start_elem<'e>(
    e: &'e BytesStart<'_>,
    parent: Option<(Option<u16>, Option<u16>)>,
    scopes: &mut Vec<Scope>,
) -> Result<Start<'e>, String> {
    // namespace declarations first: an attribute may use a prefix declared
    // after it in the same tag
    let mut has_attrs = false;
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        match a.key.as_namespace_binding() {
            Some(b) => {
                let prefix = match b {
                    quick_xml::name::PrefixDeclaration::Default => "",
                    quick_xml::name::PrefixDeclaration::Named(p) => utf8(p)?,
                };
                let uri: String =
                    unescape(utf8(&a.value)?).map_err(|e| e.to_string())?.into();
                let ns = ns_index(&uri);
                scopes.push(Scope { prefix: prefix.to_string(), uri, ns });
            }
            None => has_attrs = true,
        }
    }
    let qname = e.name();
    let prefix = qname.prefix().map(|p| utf8(p.into_inner())).transpose()?.unwrap_or("");
    let local = utf8(qname.local_name().into_inner())?;
    let (uri, ns) = resolve(scopes, prefix).unwrap_or(("", None));
    let is_mc = uri == MC;

    // the element's type, from its parent's content model or the global elements
    let parent_lookup = parent.and_then(|p| p.0);
    let mut ranks = None;
    let mut undeclared = false;
    let (lookup, sort) = if is_mc {
        // mc:AlternateContent and its branches stand for their content
        (parent_lookup, None)
    } else {
        let from_parent = match (parent_lookup, ns) {
            (Some(t), Some(ns)) => find_child(&TYPES[usize::from(t)], ns, local),
            _ => None,
        };
        let ty = match from_parent {
            Some(c) => {
                ranks = Some(c.ranks).filter(|r| !r.is_empty());
                (c.ty != NO_TYPE).then_some(c.ty)
            }
            // a part's root, or lax content such as pic:pic in a:graphicData
            None => {
                undeclared = ns.is_some()
                    && parent.is_some_and(|p| {
                        p.1.is_some_and(|t| !TYPES[usize::from(t)].wildcard)
                    });
                ns.and_then(|ns| find_global(ns, local))
            }
        };
        (ty, ty)
    };
    // inside an mc branch the element keeps no rank: the branch is not reordered
    if parent.is_some_and(|p| p.1.is_none()) {
        ranks = None;
    }

    // attributes: drop those in a schema namespace that the type does not
    // declare; most start tags keep all and carry no id, and are copied as
    // they are, so the kept attributes are only collected for the others
    let ty = sort.map(|t| &TYPES[usize::from(t)]);
    let classify = |key: &str| -> Attribute {
        let (aprefix, alocal) = key.split_once(':').unwrap_or(("", key));
        if key == "xmlns" || aprefix == "xmlns" {
            return Attribute::Keep;
        }
        let resolved = if aprefix.is_empty() {
            Some(("", ns_index("")))
        } else {
            resolve(scopes, aprefix)
        };
        if let (Some(t), Some(n)) = (ty, resolved.and_then(|r| r.1))
            && !declares(t, n, alocal)
        {
            return Attribute::Drop;
        }
        let auri = resolved.map(|r| r.0);
        if auri == Some(W14) && alocal == "paraId" {
            Attribute::Id(IdKind::Para)
        } else if auri == Some("")
            && alocal == "id"
            && ns == Some(order::WP)
            && local == "docPr"
        {
            Attribute::Id(IdKind::DocPr)
        } else {
            Attribute::Keep
        }
    };
    let mut rewrite = false;
    let mut with_id = false;
    if has_attrs {
        for a in e.attributes() {
            let a = a.map_err(|err| format!("bad attribute: {err}"))?;
            match classify(utf8(a.key.into_inner())?) {
                Attribute::Drop => rewrite = true,
                Attribute::Id(_) => with_id = true,
                Attribute::Keep => {}
            }
        }
    }
    let mut kept: Vec<(&str, &str)> = Vec::new();
    let mut id = None;
    if rewrite || with_id {
        for a in e.attributes() {
            let a = a.map_err(|err| format!("bad attribute: {err}"))?;
            let key = utf8(a.key.into_inner())?;
            let value = match a.value {
                std::borrow::Cow::Borrowed(v) => utf8(v)?,
                std::borrow::Cow::Owned(_) => {
                    return Err("attribute value not in its part".into());
                }
            };
            match classify(key) {
                Attribute::Drop => continue,
                Attribute::Id(kind) => id = Some((kind, kept.len())),
                Attribute::Keep => {}
            }
            kept.push((key, value));
        }
    }
    Ok(Start {
        lookup,
        sort,
        ranks,
        undeclared: ns.filter(|_| undeclared),
        droppable: undeclared && !has_attrs,
        rewrite,
        kept,
        id,
        name_len: qname.as_ref().len(),
    })
}

/// Types whose children the schema does not allow there but their parent does are
/// moved up one level: docx-rs writes `w:characterSpacingControl` into
/// `w:compat`, where CT_Compat has no such child, instead of into `w:settings`.
const HOIST_FROM: &[&str] = &["CT_Compat"];

/// The slot a child takes: the first of its slots at or after the current one, or,
/// when it comes too late for all of them, its last slot.
fn pick_rank(ranks: &[u16], current: &mut u16) -> u16 {
    match ranks.iter().find(|r| **r >= *current) {
        Some(r) => {
            *current = *r;
            *r
        }
        None => ranks.last().copied().unwrap_or(0),
    }
}

// ------------------------------------------------------------------- unique ids

/// Ids that must be unique in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    /// `w14:paraId`: 8 hex digits, above 0 and below 0x80000000 (MS-DOCX 2.6.2).
    Para = 0,
    /// `wp:docPr/@id` (drawing object ids): a decimal number above 0; docx-rs
    /// gives every picture id 1.
    DocPr = 1,
}

/// Hands out unique ids of one kind: the first occurrence of a valid id keeps it,
/// later ones and invalid ones get the lowest free number.
struct IdPool {
    kind: IdKind,
    /// Every valid id that occurs anywhere, so that new ids avoid them.
    present: HashSet<u32>,
    /// Ids given out so far.
    taken: HashSet<u32>,
    next: u32,
}

impl IdPool {
    fn new(kind: IdKind) -> Self {
        IdPool { kind, present: HashSet::new(), taken: HashSet::new(), next: 0 }
    }

    fn max(&self) -> u32 {
        match self.kind {
            IdKind::Para => 0x7FFF_FFFF,
            IdKind::DocPr => u32::MAX,
        }
    }

    fn parse(&self, v: &str) -> Option<u32> {
        let n = match self.kind {
            IdKind::Para if v.len() == 8 => u32::from_str_radix(v, 16).ok(),
            IdKind::Para => None,
            IdKind::DocPr => v.parse().ok(),
        };
        n.filter(|n| *n > 0 && *n <= self.max())
    }

    fn note(&mut self, v: &str) {
        if let Some(n) = self.parse(v) {
            self.present.insert(n);
        }
    }

    /// `None` when `v` may stay, else the id to use instead.
    fn claim(&mut self, v: &str) -> Option<String> {
        if let Some(n) = self.parse(v)
            && self.taken.insert(n)
        {
            return None;
        }
        loop {
            self.next = if self.next >= self.max() { 1 } else { self.next + 1 };
            let n = self.next;
            if !self.present.contains(&n) && self.taken.insert(n) {
                return Some(match self.kind {
                    IdKind::Para => format!("{n:08X}"),
                    IdKind::DocPr => n.to_string(),
                });
            }
        }
    }
}

// ----------------------------------------------------------------------- package

fn read_zip(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut entries = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| e.to_string())?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().map_err(|e| e.to_string())?.into_owned();
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
        if entries.insert(name.clone(), data).is_some() {
            return Err(format!("duplicate ZIP entry {name}"));
        }
    }
    Ok(entries)
}

/// Packs parts into a ZIP: `[Content_Types].xml` and the package relationships
/// first, the rest by name, no timestamps (same parts, same bytes).
pub fn write_zip(mut entries: BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut ordered = Vec::with_capacity(entries.len());
    for first in [CT_PATH, ROOT_RELS] {
        if let Some(data) = entries.remove(first) {
            ordered.push((first.to_string(), data));
        }
    }
    ordered.extend(entries);
    for (name, data) in ordered {
        zip.start_file(name.as_str(), options).map_err(|e| format!("{name}: {e}"))?;
        zip.write_all(&data).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

/// `[Content_Types].xml`: defaults by extension and overrides by part name
/// (lower case, without the leading slash).
struct ContentTypes {
    defaults: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
}

impl ContentTypes {
    fn read(src: &str) -> Result<Self, String> {
        let mut ct =
            ContentTypes { defaults: BTreeMap::new(), overrides: BTreeMap::new() };
        for (name, attrs) in elements(src)? {
            let get =
                |k: &str| attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
            let ty = get("ContentType").unwrap_or_default();
            match name.as_str() {
                "Default" => {
                    if let Some(ext) = get("Extension") {
                        ct.defaults.insert(ext.to_lowercase(), ty);
                    }
                }
                "Override" => {
                    if let Some(part) = get("PartName") {
                        ct.overrides.insert(part_key(&part), ty);
                    }
                }
                _ => {}
            }
        }
        Ok(ct)
    }

    fn is_xml(&self, part: &str) -> bool {
        let lower = part.to_lowercase();
        let ty = self.overrides.get(&lower).or_else(|| {
            lower.rsplit_once('.').and_then(|(_, ext)| self.defaults.get(ext))
        });
        match ty {
            Some(t) => t.ends_with("+xml") || t == "application/xml" || t == "text/xml",
            None => lower.ends_with(".xml") || lower.ends_with(".rels"),
        }
    }
}

/// A part name as a lookup key: no leading slash, lower case.
fn part_key(name: &str) -> String {
    name.trim_start_matches('/').to_lowercase()
}

/// Removes the `Override` elements whose part is not in `present` (lower-case
/// names), keeping every other byte.
fn drop_overrides(src: &str, present: &HashSet<String>) -> Result<Vec<u8>, String> {
    let mut reader = Reader::from_str(src);
    reader.config_mut().check_end_names = true;
    let bytes = src.as_bytes();
    let mut out = Vec::with_capacity(src.len());
    let (mut pos, mut depth) = (0usize, 0usize);
    // inside a dropped Override: the depth it was opened at
    let mut skipping: Option<usize> = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let end = usize::try_from(reader.buffer_position())
            .map_err(|_| "part too large".to_string())?;
        let range = pos..end;
        pos = end;
        let drop = |e: &BytesStart<'_>, depth: usize| -> Result<bool, String> {
            let local = utf8(e.local_name().into_inner())?;
            let attrs = attributes(e)?;
            let part = attrs.iter().find(|(k, _)| k == "PartName");
            Ok(depth == 1
                && local == "Override"
                && part.is_some_and(|(_, p)| !present.contains(&part_key(p))))
        };
        let skip = skipping.is_some();
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                if !skip && drop(e, depth - 1)? {
                    skipping = Some(depth);
                    continue;
                }
            }
            Event::Empty(e) if !skip && drop(e, depth)? => continue,
            Event::End(_) => {
                if skipping == Some(depth) {
                    skipping = None;
                    depth -= 1;
                    continue;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        if !skip {
            out.extend_from_slice(&bytes[range]);
        }
    }
    Ok(out)
}

fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let key = utf8(a.key.as_ref())?.to_string();
        let value = unescape(utf8(&a.value)?).map_err(|err| err.to_string())?;
        out.push((key, value.into_owned()));
    }
    Ok(out)
}

type Attrs = Vec<(String, String)>;

/// Local names and unescaped attributes of all elements of a small part.
fn elements(src: &str) -> Result<Vec<(String, Attrs)>, String> {
    let mut reader = Reader::from_str(src);
    let mut out = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) => {
                let local = utf8(e.local_name().into_inner())?.to_string();
                out.push((local, attributes(&e)?));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

struct Relationship {
    kind: String,
    target: String,
    external: bool,
}

fn relationships(src: &str) -> Result<Vec<Relationship>, String> {
    Ok(elements(src)?
        .into_iter()
        .filter(|(name, _)| name == "Relationship")
        .map(|(_, attrs)| {
            let get = |k: &str| {
                attrs
                    .iter()
                    .find(|(a, _)| a == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            Relationship {
                kind: get("Type"),
                target: get("Target"),
                external: get("TargetMode") == "External",
            }
        })
        .collect())
}

/// `word/document.xml` -> `word/_rels/document.xml.rels`; the package (``) ->
/// `_rels/.rels`.
fn rels_path_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target (a URI reference, percent-encoded) against the
/// folder of its source part.
fn resolve_target(source: &str, target: &str) -> String {
    let target = percent_decode(target.split(['#', '?']).next().unwrap_or_default());
    let mut segments: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        source.rsplit_once('/').map_or(Vec::new(), |(dir, _)| dir.split('/').collect())
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// docProps/core.xml with the given title, author and date.
fn core_xml(core: &CoreProps) -> String {
    let date = format!("{}T00:00:00Z", core.date.format("%Y-%m-%d"));
    let title = escape(core.title.as_str());
    let creator = escape(core.creator.as_str());
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<cp:coreProperties "#,
            r#"xmlns:cp="http://schemas.openxmlformats.org/package/2006/"#,
            r#"metadata/core-properties""#,
            r#" xmlns:dc="http://purl.org/dc/elements/1.1/""#,
            r#" xmlns:dcterms="http://purl.org/dc/terms/""#,
            r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<dc:title>{title}</dc:title>",
            "<dc:creator>{creator}</dc:creator>",
            "<cp:lastModifiedBy>{creator}</cp:lastModifiedBy>",
            "<cp:revision>1</cp:revision>",
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{date}</dcterms:created>"#,
            r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{date}</dcterms:modified>"#,
            "</cp:coreProperties>"
        ),
        title = title,
        creator = creator,
        date = date,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = concat!(
        r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" "#,
        r#"xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" "#,
        r#"xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" "#,
        r#"mc:Ignorable="w14""#
    );

    fn doc(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {NS}><w:body>{body}</w:body></w:document>"#
        )
    }

    fn fix(xml: &str) -> String {
        let out = reorder_part(xml.as_bytes()).expect("repairs");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn ppr_rpr_goes_after_jc() {
        let input = doc(
            r#"<w:p><w:pPr><w:rPr><w:b /></w:rPr><w:jc w:val="center" /><w:spacing w:line="579" w:lineRule="exact" /></w:pPr></w:p>"#,
        );
        let want = doc(
            r#"<w:p><w:pPr><w:spacing w:line="579" w:lineRule="exact" /><w:jc w:val="center" /><w:rPr><w:b /></w:rPr></w:pPr></w:p>"#,
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn run_properties_follow_the_schema_listing() {
        // w:rPr in w:r is CT_RPr; rFonts before color before sz
        let input = doc(
            r#"<w:p><w:r><w:rPr><w:sz w:val="32" /><w:color w:val="FF0000" /><w:rFonts w:ascii="A" /></w:rPr><w:t>x</w:t></w:r></w:p>"#,
        );
        let want = doc(
            r#"<w:p><w:r><w:rPr><w:rFonts w:ascii="A" /><w:color w:val="FF0000" /><w:sz w:val="32" /></w:rPr><w:t>x</w:t></w:r></w:p>"#,
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn style_ppr_before_rpr() {
        let input = format!(
            r#"<w:styles {NS}><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal" /><w:rPr><w:sz w:val="32" /></w:rPr><w:pPr><w:jc w:val="both" /></w:pPr></w:style></w:styles>"#
        );
        let want = format!(
            r#"<w:styles {NS}><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal" /><w:pPr><w:jc w:val="both" /></w:pPr><w:rPr><w:sz w:val="32" /></w:rPr></w:style></w:styles>"#
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn grid_col_type_is_dropped() {
        let input = doc(
            r#"<w:tbl><w:tblPr><w:tblCellMar><w:top w:w="0" w:type="dxa" /></w:tblCellMar><w:tblLayout w:type="fixed" /></w:tblPr><w:tblGrid><w:gridCol w:w="2000" w:type="dxa" /></w:tblGrid><w:tr><w:tc><w:tcPr><w:vAlign w:val="top" /><w:textDirection w:val="tbRl" /></w:tcPr><w:p /></w:tc></w:tr></w:tbl>"#,
        );
        let want = doc(
            r#"<w:tbl><w:tblPr><w:tblLayout w:type="fixed" /><w:tblCellMar><w:top w:w="0" w:type="dxa" /></w:tblCellMar></w:tblPr><w:tblGrid><w:gridCol w:w="2000" /></w:tblGrid><w:tr><w:tc><w:tcPr><w:textDirection w:val="tbRl" /><w:vAlign w:val="top" /></w:tcPr><w:p /></w:tc></w:tr></w:tbl>"#,
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn settings_children_are_ordered() {
        let input = format!(
            r#"<w:settings {NS}><w:defaultTabStop w:val="840" /><w:zoom w:percent="100" /><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15" /></w:compat><w:evenAndOddHeaders /></w:settings>"#
        );
        let want = format!(
            r#"<w:settings {NS}><w:zoom w:percent="100" /><w:defaultTabStop w:val="840" /><w:evenAndOddHeaders /><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15" /></w:compat></w:settings>"#
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn compat_children_of_settings_move_up() {
        let input = format!(
            r#"<w:settings {NS}><w:zoom w:percent="100" /><w:compat><w:spaceForUL /><w:characterSpacingControl w:val="compressPunctuation" /><w:useFELayout /></w:compat><w:evenAndOddHeaders /></w:settings>"#
        );
        let want = format!(
            r#"<w:settings {NS}><w:zoom w:percent="100" /><w:evenAndOddHeaders /><w:characterSpacingControl w:val="compressPunctuation" /><w:compat><w:spaceForUL /><w:useFELayout /></w:compat></w:settings>"#
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn empty_undeclared_children_are_dropped() {
        // CT_PPrGeneral (w:pPr of a style or numbering level) has no w:rPr
        let input = format!(
            r#"<w:styles {NS}><w:docDefaults><w:pPrDefault><w:pPr><w:rPr /><w:autoSpaceDE w:val="0" /></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:styleId="A"><w:pPr><w:rPr></w:rPr></w:pPr><w:rPr><w:b /></w:rPr></w:style></w:styles>"#
        );
        let want = format!(
            r#"<w:styles {NS}><w:docDefaults><w:pPrDefault><w:pPr><w:autoSpaceDE w:val="0" /></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:styleId="A"><w:pPr></w:pPr><w:rPr><w:b /></w:rPr></w:style></w:styles>"#
        );
        assert_eq!(fix(&input), want);
        // with content it stays for the writer to fix (the checker reports it)
        let kept = format!(
            r#"<w:styles {NS}><w:docDefaults><w:pPrDefault><w:pPr><w:rPr><w:b /></w:rPr></w:pPr></w:pPrDefault></w:docDefaults></w:styles>"#
        );
        assert_eq!(fix(&kept), kept);
    }

    #[test]
    fn drawing_ids_become_unique() {
        let pic = |id: &str| {
            format!(
                r#"<w:r><w:drawing><wp:anchor distT="0"><wp:docPr id="{id}" name="Figure" /></wp:anchor></w:drawing></w:r>"#
            )
        };
        let wp = r#"xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing""#;
        let body = format!("<w:p>{}{}{}</w:p>", pic("1"), pic("1"), pic("2"));
        let input = doc(&body).replace("<w:body>", &format!("<w:body {wp}>"));
        let body = format!("<w:p>{}{}{}</w:p>", pic("1"), pic("3"), pic("2"));
        let want = doc(&body).replace("<w:body>", &format!("<w:body {wp}>"));
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn duplicate_para_ids_become_unique() {
        let input = doc(
            r#"<w:p w14:paraId="00000001"><w:r><w:t>a</w:t></w:r></w:p><w:p w14:paraId="00000001" /><w:p w14:paraId="00000002" /><w:p w14:paraId="FFFFFFFF" />"#,
        );
        let want = doc(
            r#"<w:p w14:paraId="00000001"><w:r><w:t>a</w:t></w:r></w:p><w:p w14:paraId="00000003" /><w:p w14:paraId="00000002" /><w:p w14:paraId="00000004" />"#,
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn the_id_changes_not_an_attribute_of_the_same_value() {
        let p = r#"<w:p w14:textId="00000001" w14:paraId="00000001" />"#;
        let input = doc(&format!("{p}{p}"));
        let want =
            doc(&format!(r#"{p}<w:p w14:textId="00000001" w14:paraId="00000002" />"#));
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn para_ids_are_unique_across_parts() {
        let a = doc(r#"<w:p w14:paraId="12345678" />"#);
        let b = format!(r#"<w:ftr {NS}><w:p w14:paraId="12345678" /></w:ftr>"#);
        let out = repair_parts(&[("a", a.as_bytes()), ("b", b.as_bytes())]).expect("ok");
        assert_eq!(out[0], a.as_bytes());
        let b_out = String::from_utf8(out[1].clone()).expect("UTF-8");
        assert_eq!(
            b_out,
            format!(r#"<w:ftr {NS}><w:p w14:paraId="00000001" /></w:ftr>"#)
        );
    }

    #[test]
    fn valid_parts_are_kept_byte_for_byte() {
        let input = doc(concat!(
            "\n  <!-- note -->\n",
            r#"<w:p w14:paraId="0000000A" w14:textId='77777777'>"#,
            r#"<w:pPr><w:jc   w:val="center"/></w:pPr>"#,
            r#"<w:r><w:rPr><w:rFonts w:eastAsia="仿宋" /></w:rPr>"#,
            r#"<w:t xml:space="preserve"> a &amp; b &lt;c&gt; &#x4E00; </w:t></w:r></w:p>"#,
            r#"<w:sectPr><w:pgSz w:w="11906" w:h="16838" /><w:docGrid w:type="lines" w:linePitch="579" /></w:sectPr>"#,
        ));
        assert_eq!(fix(&input), input);
    }

    #[test]
    fn unknown_children_stay_after_their_predecessor() {
        // w14:foo follows w:jc; w:ind must move before w:jc, w14:foo stays after it
        let input = doc(
            r#"<w:p><w:pPr><w:jc w:val="left" /><w14:foo /><w:ind w:left="10" /></w:pPr></w:p>"#,
        );
        let want = doc(
            r#"<w:p><w:pPr><w:ind w:left="10" /><w:jc w:val="left" /><w14:foo /></w:pPr></w:p>"#,
        );
        assert_eq!(fix(&input), want);
    }

    #[test]
    fn bookmarks_are_not_moved_across_rows() {
        // w:bookmarkStart may stand before w:tblPr or among the rows: left alone
        let input = doc(
            r#"<w:tbl><w:tblPr /><w:tblGrid /><w:tr /><w:bookmarkStart w:id="0" w:name="x" /><w:tr /></w:tbl>"#,
        );
        assert_eq!(fix(&input), input);
    }

    #[test]
    fn other_prefixes_are_resolved() {
        let input = r#"<x:document xmlns:x="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><x:body><x:p><x:pPr><x:rPr /><x:jc x:val="left" /></x:pPr></x:p></x:body></x:document>"#;
        let want = r#"<x:document xmlns:x="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><x:body><x:p><x:pPr><x:jc x:val="left" /><x:rPr /></x:pPr></x:p></x:body></x:document>"#;
        assert_eq!(fix(input), want);
    }

    #[test]
    fn unknown_roots_pass_through() {
        let rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="a" Type="b" Target="c" Foo="d" /></Relationships>"#;
        assert_eq!(fix(rels), rels);
    }

    #[test]
    fn repair_is_deterministic_and_idempotent() {
        let input = doc(
            r#"<w:p w14:paraId="00000001"><w:pPr><w:rPr /><w:jc w:val="left" /></w:pPr></w:p><w:p w14:paraId="00000001" />"#,
        );
        let once = fix(&input);
        assert_eq!(fix(&input), once);
        assert_eq!(fix(&once), once);
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(reorder_part(b"<w:p><w:r></w:p>").is_err());
        assert!(reorder_part(&[0xFF, 0xFE, 0x3C, 0x00]).is_err());
    }

    #[test]
    fn targets_resolve_against_their_source() {
        assert_eq!(resolve_target("", "word/document.xml"), "word/document.xml");
        assert_eq!(
            resolve_target("word/document.xml", "media/a.png"),
            "word/media/a.png"
        );
        assert_eq!(
            resolve_target("word/document.xml", "../customXml/item1.xml"),
            "customXml/item1.xml"
        );
        assert_eq!(
            resolve_target("word/document.xml", "/word/styles.xml"),
            "word/styles.xml"
        );
        assert_eq!(
            resolve_target("word/document.xml", "media/a%20b.png"),
            "word/media/a b.png"
        );
        assert_eq!(
            resolve_target("word/document.xml", "media/%E5%8D%B0.png"),
            "word/media/印.png"
        );
        assert_eq!(rels_path_of(""), "_rels/.rels");
        assert_eq!(rels_path_of("word/document.xml"), "word/_rels/document.xml.rels");
    }

    fn core() -> CoreProps {
        CoreProps {
            title: "关于 <测试> & 通知".into(),
            creator: "某市人民政府".into(),
            date: chrono::NaiveDate::from_ymd_opt(2023, 8, 31).expect("date"),
        }
    }

    fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
        read_zip(bytes)
            .expect("zip")
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect()
    }

    fn sample() -> Vec<u8> {
        use docx_rs::*;
        let p = || {
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().size(32).add_text("正文"))
        };
        let mut buf = Cursor::new(Vec::new());
        Docx::new()
            .footer(Footer::new().add_paragraph(p()))
            .even_footer(Footer::new().add_paragraph(p()))
            .add_paragraph(p())
            .add_table(Table::new(vec![TableRow::new(vec![
                TableCell::new().add_paragraph(p()),
            ])]))
            .build()
            .pack(&mut buf)
            .expect("packs");
        buf.into_inner()
    }

    #[test]
    fn package_loses_orphans_and_gains_core_properties() {
        let raw = sample();
        let fixed = normalize_package(&raw, &core()).expect("repairs");
        let parts = unzip(&fixed);
        let names: Vec<&str> = parts.keys().map(String::as_str).collect();
        assert!(names.contains(&"word/document.xml"));
        assert!(
            names.contains(&"word/footer1.xml") && names.contains(&"word/footer2.xml")
        );
        assert!(!names.contains(&"word/comments.xml"), "{names:?}");
        assert!(!names.contains(&"word/numbering.xml"), "{names:?}");
        assert!(!names.contains(&"word/footnotes.xml"), "{names:?}");
        let ct = &parts["[Content_Types].xml"];
        assert!(!ct.contains("/word/comments.xml"), "{ct}");
        assert!(ct.contains("/word/document.xml"), "{ct}");
        let core_xml = &parts["docProps/core.xml"];
        assert!(core_xml.contains("<dc:title>关于 &lt;测试&gt; &amp; 通知</dc:title>"));
        assert!(core_xml.contains("<dc:creator>某市人民政府</dc:creator>"));
        assert!(core_xml.contains(">2023-08-31T00:00:00Z</dcterms:created>"));
        assert!(!parts["word/document.xml"].contains("w:type=\"dxa\" /></w:tblGrid>"));
        // paragraph ids unique over the whole package
        let mut seen = HashSet::new();
        for (name, xml) in &parts {
            for id in xml.split("w14:paraId=\"").skip(1) {
                let id = &id[..8];
                assert!(seen.insert(id.to_string()), "{name}: {id} repeated");
            }
        }
    }

    #[test]
    fn package_repair_is_deterministic() {
        let raw = sample();
        let a = normalize_package(&raw, &core()).expect("repairs");
        let b = normalize_package(&raw, &core()).expect("repairs");
        assert_eq!(a, b);
        assert_eq!(normalize_package(&a, &core()).expect("repairs"), a);
        let names: Vec<String> = unzip(&a).into_keys().collect();
        let mut zip = zip::ZipArchive::new(Cursor::new(&a)).expect("zip");
        let first = zip.by_index(0).expect("entry").name().expect("name").into_owned();
        assert_eq!(first, CT_PATH);
        assert!(names.iter().all(|n| !n.ends_with('/')));
    }

    #[test]
    fn xml_docx_parts_are_repaired() {
        use docx_rs::*;
        let mut xml = Docx::new()
            .add_paragraph(Paragraph::new().align(AlignmentType::Center))
            .add_table(
                Table::new(vec![TableRow::new(vec![TableCell::new()])])
                    .set_grid(vec![100]),
            )
            .build();
        normalize(&mut xml, &core()).expect("repairs");
        let document = String::from_utf8(xml.document.clone()).expect("UTF-8");
        assert!(document.contains(r#"<w:gridCol w:w="100" />"#), "{document}");
        assert!(
            document.contains(r#"<w:pPr><w:jc w:val="center" /><w:rPr />"#),
            "{document}"
        );
        let core_xml = String::from_utf8(xml.doc_props.core.clone()).expect("UTF-8");
        assert!(core_xml.contains("<dc:title>"));
    }
}
