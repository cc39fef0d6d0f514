//! Bounded checks of a workbook (and of a PNG image) before a parser sees it.
//!
//! calamine trusts what a file declares: one value in `XFD1048576` makes it
//! allocate the whole dense grid, a shared string of 1 GiB is decompressed into
//! memory, a truncated `.ods` loops for ever, a malformed `.xls` panics. The
//! checks here read the file in a streaming way, with every count bounded by
//! [`Limits`], and refuse such files with a message the user can act on, before
//! calamine builds anything.
//!
//! What [`check_workbook`] looks at, by what the bytes are (not by the extension,
//! since calamine's automatic opener tries every format in turn):
//!
//! - Zip containers (`.xlsx`, `.xlsm`, `.xlsb`, `.ods`): the number of entries,
//!   the declared uncompressed sizes, and the *actual* decompressed size of every
//!   entry while streaming it (declared sizes can lie). Every XML part is
//!   streamed with quick-xml configured as calamine configures it, and:
//!   - worksheet parts (any part with `<sheetData>`): every cell position, taken
//!     from `<c r>` or, when absent, from the running row and column exactly as
//!     calamine counts them, every `<row r>`, `<dimension ref>`, `<mergeCell ref>`
//!     and shared formula range must lie within `max_rows` × `max_cols`; at most
//!     `max_cells` cells; the text of one cell at most `max_string` bytes;
//!   - the shared string table: declared counts at most `max_cells` (calamine
//!     reserves memory from them), each string at most `max_string` bytes;
//!   - `content.xml` (OpenDocument): must be well-formed XML (mismatched or
//!     missing end tags are refused, since they make calamine loop for ever), and
//!     rows and cells are counted with `table:number-rows-repeated` and
//!     `table:number-columns-repeated` on non-empty cells;
//!   - no single XML token (a text run, a tag) may exceed `max_string` plus
//!     64 KB, so that quick-xml's own buffer stays bounded.
//!
//!   For `.xlsb` the worksheets named in `xl/workbook.bin` are walked record by
//!   record (row headers, cell records, `BrtWsDim`, merged cells) with the same
//!   limits, and no record may be longer than twice `max_string` plus 64 KB.
//!   In every zip flavour, two sheets that point at the same part are refused
//!   (calamine would parse the part once per sheet).
//! - Compound files (`.xls`): the FAT, directory and stream chains are walked with
//!   cycle detection (a cycle makes calamine grow a buffer without end), then the
//!   BIFF records of every sheet are checked as for `.xlsx`, including the
//!   `DIMENSIONS` record, from which calamine reserves memory.
//!
//! Across all sheets of one workbook the used areas (rows × columns from `A1` to
//! the last cell) must add up to at most `max_rows` × `max_cols` cells, because
//! calamine builds `.ods` and `.xls` grids for every sheet when it opens the file.
//!
//! [`open_guarded`] then runs the parser itself on its own thread, turning a
//! panic into an error and bounding the time; [`check_png`] checks an image's
//! header, chunk structure and pixel count before a decoder allocates pixels.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::io::{self, BufRead, Cursor, Read};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Once, mpsc};
use std::thread;
use std::time::Duration;

use quick_xml_042::Reader;
use quick_xml_042::events::{BytesStart, Event};
use zip::ZipArchive;

use crate::fsguard::{GuardError, human_size};

/// Bounds for one workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest workbook file, in bytes.
    pub max_bytes: u64,
    /// Last row a sheet may use (counted from 1).
    pub max_rows: u32,
    /// Last column a sheet may use (counted from 1; 200 is column `GR`).
    pub max_cols: u32,
    /// Most cells one sheet may hold.
    pub max_cells: u64,
    /// Most bytes all entries of a zip container may decompress to.
    pub max_unzipped: u64,
    /// Longest text of one shared string or one cell, in bytes of UTF-8.
    pub max_string: usize,
}

const MB: u64 = 1024 * 1024;

impl Default for Limits {
    /// 50 MB file, 10,000 rows, 200 columns, 500,000 cells, 200 MB decompressed,
    /// 1 MB of text per string or cell.
    fn default() -> Self {
        Limits {
            max_bytes: 50 * MB,
            max_rows: 10_000,
            max_cols: 200,
            max_cells: 500_000,
            max_unzipped: 200 * MB,
            max_string: MB as usize,
        }
    }
}

/// Most entries a zip container may have.
const MAX_ENTRIES: usize = 10_000;
/// Most sheets a workbook may have.
const MAX_SHEETS: usize = 1_000;
/// Room for tags and attributes above `max_string` in one XML token.
const TOKEN_SLACK: u64 = 64 * 1024;
/// Largest structural part (workbook, relationships) read whole.
const MAX_STRUCTURE_PART: u64 = 16 * MB;

const HINT_TRIM: &str = "请在 Excel 或 WPS 中删除表格下方和右侧的多余单元格（选中多余的整行、整列后删除）后另存，再试一次";
const HINT_RESAVE: &str = "请用 Excel 或 WPS 打开该文件，另存为新的 .xlsx 文件后再试";
const HINT_SMALLER: &str =
    "请删去用不到的工作表、图片等内容，或把数据拆成几个较小的工作簿";

fn corrupt(detail: impl Display) -> GuardError {
    GuardError::new(format!("工作簿已损坏：{detail}")).with_hint(HINT_RESAVE)
}

fn range_error(sheet: &str, at: &str, l: &Limits) -> GuardError {
    GuardError::new(format!(
        "{sheet}使用的区域过大（到 {at}，超过 {} 行 × {} 列）",
        l.max_rows, l.max_cols
    ))
    .with_hint(HINT_TRIM)
}

fn cells_error(sheet: &str, l: &Limits) -> GuardError {
    GuardError::new(format!("{sheet}的单元格过多（超过 {} 个）", l.max_cells))
        .with_hint(HINT_TRIM)
}

fn text_error(place: &str, l: &Limits) -> GuardError {
    GuardError::new(format!("{place}的文字超过 {}", human_size(l.max_string as u64)))
        .with_hint("请检查该单元格是否误粘贴了大量内容，删去后另存")
}

fn unzipped_error(l: &Limits) -> GuardError {
    GuardError::new(format!("工作簿解压后超过 {}", human_size(l.max_unzipped)))
        .with_hint(HINT_SMALLER)
}

fn area_error(l: &Limits) -> GuardError {
    GuardError::new(format!(
        "工作簿中各工作表合计使用的区域过大（超过 {} 个单元格）",
        u64::from(l.max_rows) * u64::from(l.max_cols)
    ))
    .with_hint(format!("{HINT_TRIM}；用不到的工作表也请删去"))
}

/// `工作表"名称"`, or the part's path when the name is unknown.
fn sheet_label(name: Option<&str>, part: &str) -> String {
    match name {
        Some(n) => format!("工作表\"{n}\""),
        None => format!("工作表（{part}）"),
    }
}

/// Column letters of a 0-based column: 0 → `A`, 16383 → `XFD`.
fn col_name(col: u64) -> String {
    let mut letters = Vec::new();
    let mut c = col;
    loop {
        letters.push(char::from(b'A' + (c % 26) as u8));
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// `A1`-style name of a 0-based position.
fn cell_ref(row: u64, col: u64) -> String {
    format!("{}{}", col_name(col), row.saturating_add(1))
}

/// A cell reference like calamine reads it (letters, then digits; no `$`), as a
/// 0-based row and optional column. Arithmetic saturates instead of wrapping, so
/// an absurd reference stays absurd and is refused by the limits.
fn parse_ref(s: &str) -> Option<(u64, Option<u64>)> {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let digits = &b[letters..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let col = b[..letters].iter().fold(0u64, |acc, c| {
        acc.saturating_mul(26)
            .saturating_add(u64::from(c.to_ascii_uppercase() - b'A') + 1)
    });
    let row = digits
        .iter()
        .fold(0u64, |acc, d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    Some((row.checked_sub(1)?, col.checked_sub(1)))
}

/// A range `A1:B2` (or a single cell) as 0-based (start, end) positions.
fn parse_range(s: &str) -> Option<((u64, u64), (u64, u64))> {
    let mut parts = s.split(':');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let cell = |p: &str| match parse_ref(p) {
        Some((r, Some(c))) => Some((r, c)),
        _ => None,
    };
    let start = cell(first)?;
    let end = match second {
        Some(p) => cell(p)?,
        None => start,
    };
    Some((start, end))
}

/// Raw attributes of a start tag, as calamine iterates them: `key="value"` pairs
/// without entity decoding, stopping at the first malformed one.
fn raw_attrs<'a>(e: &'a BytesStart<'_>) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    let raw = e.attributes_raw();
    let bytes = raw.as_bytes();
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= bytes.len() {
            return None;
        }
        let key_start = pos;
        while pos < bytes.len() && bytes[pos] != b'=' {
            pos += 1;
        }
        if pos >= bytes.len() {
            return None;
        }
        let key = raw.get(key_start..pos)?.trim_ascii_end();
        pos += 1;
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let quote = *bytes.get(pos)?;
        if quote != b'"' && quote != b'\'' {
            pos = bytes.len();
            return None;
        }
        pos += 1;
        let val_start = pos;
        while pos < bytes.len() && bytes[pos] != quote {
            pos += 1;
        }
        let val = raw.get(val_start..pos)?;
        pos = (pos + 1).min(bytes.len());
        Some((key, val))
    })
}

/// The first attribute with exactly this key.
fn attr<'a>(e: &'a BytesStart<'_>, key: &str) -> Option<&'a str> {
    raw_attrs(e).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// The local part of an attribute key (`table:name` → `name`).
fn local(key: &str) -> &str {
    key.rsplit(':').next().unwrap_or(key)
}

/// The first attribute whose local name matches.
fn attr_local<'a>(e: &'a BytesStart<'_>, name: &str) -> Option<&'a str> {
    raw_attrs(e).find(|(k, _)| local(k) == name).map(|(_, v)| v)
}

/// Zip entry names as calamine looks them up: `\` as `/`, ASCII case folded.
fn normalize(name: &str) -> String {
    name.replace('\\', "/").to_ascii_lowercase()
}

// ---------------------------------------------------------------------------
// Streaming with bounds

/// Why a [`PartReader`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    /// The workbook decompressed past `max_unzipped`.
    Unzipped,
    /// One XML token grew past its bound.
    Token,
}

/// A buffered reader over one decompressed entry that counts every byte against
/// the workbook's budget, bounds the bytes between two [`PartReader::mark`]s (one
/// XML event), and counts lines for messages.
struct PartReader<'a, R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    used: &'a mut u64,
    limit: u64,
    since_mark: u64,
    max_token: u64,
    lines: u64,
    trip: Option<Trip>,
}

impl<'a, R: Read> PartReader<'a, R> {
    fn new(inner: R, used: &'a mut u64, limit: u64, max_token: u64) -> Self {
        PartReader {
            inner,
            buf: vec![0; 16 * 1024],
            pos: 0,
            end: 0,
            used,
            limit,
            since_mark: 0,
            max_token,
            lines: 0,
            trip: None,
        }
    }

    fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Reads the rest of the entry, counting it against the budget.
    fn drain(&mut self) -> io::Result<()> {
        self.max_token = u64::MAX;
        loop {
            let n = self.fill_buf()?.len();
            if n == 0 {
                return Ok(());
            }
            self.consume(n);
        }
    }
}

impl<R: Read> BufRead for PartReader<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.trip.is_some() {
            return Err(io::Error::other("limit reached"));
        }
        if self.since_mark > self.max_token {
            self.trip = Some(Trip::Token);
            return Err(io::Error::other("token too long"));
        }
        if self.pos == self.end {
            let n = self.inner.read(&mut self.buf)?;
            *self.used = self.used.saturating_add(n as u64);
            if *self.used > self.limit {
                self.trip = Some(Trip::Unzipped);
                return Err(io::Error::other("too much data"));
            }
            self.pos = 0;
            self.end = n;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        let n = amt.min(self.end - self.pos);
        let taken = &self.buf[self.pos..self.pos + n];
        self.lines += taken.iter().filter(|&&b| b == b'\n').count() as u64;
        self.pos += n;
        self.since_mark = self.since_mark.saturating_add(n as u64);
    }
}

impl<R: Read> Read for PartReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Workbook-wide running totals.
#[derive(Debug, Default)]
struct Totals {
    area: u64,
}

impl Totals {
    fn add_area(&mut self, rows: u64, cols: u64, l: &Limits) -> Result<(), GuardError> {
        self.area = self.area.saturating_add(rows.saturating_mul(cols));
        if self.area > u64::from(l.max_rows) * u64::from(l.max_cols) {
            return Err(area_error(l));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Entry point

/// Checks a workbook's bytes against `limits` before calamine parses them.
///
/// `ext` is the file's extension (with or without the dot, any case) and must
/// name a workbook format; what is checked is decided by the content, since a
/// renamed file is parsed by what it is. Returns `Ok(())` for a file calamine may
/// safely be given (it can still refuse it as malformed, or panic on a malformed
/// `.xls` record, which [`open_guarded`] catches).
pub fn check_workbook(
    bytes: &[u8],
    ext: &str,
    limits: &Limits,
) -> Result<(), GuardError> {
    let ext = ext.trim_start_matches('.').to_ascii_lowercase();
    if !matches!(ext.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") {
        return Err(GuardError::new(format!("不支持的工作簿格式：.{ext}"))
            .with_hint("请使用 .xlsx、.xlsm、.xls、.xlsb 或 .ods 格式的工作簿"));
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(GuardError::new(format!(
            "工作簿超过 {}",
            human_size(limits.max_bytes)
        ))
        .with_hint(HINT_SMALLER));
    }
    let is_cfb = bytes.starts_with(&CFB_MAGIC);
    let zip = ZipArchive::new(Cursor::new(bytes)).ok();
    if !is_cfb && zip.is_none() {
        return Err(GuardError::new("无法识别的工作簿格式（文件可能已损坏）")
            .with_hint(HINT_RESAVE));
    }
    if is_cfb {
        check_xls(bytes, limits)?;
    }
    if let Some(zip) = zip {
        check_zip(zip, limits)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Zip containers

/// Sheet names by part, and which parts are `.xlsb` worksheets.
#[derive(Debug, Default)]
struct Structure {
    names: HashMap<String, String>,
    xlsb_sheets: HashSet<String>,
}

type Zip<'b> = ZipArchive<Cursor<&'b [u8]>>;

fn check_zip(mut zip: Zip<'_>, limits: &Limits) -> Result<(), GuardError> {
    if zip.len() > MAX_ENTRIES {
        return Err(GuardError::new(format!(
            "工作簿内部的文件过多（超过 {MAX_ENTRIES} 个）"
        ))
        .with_hint(HINT_SMALLER));
    }
    let mut declared = 0u64;
    let mut index = HashMap::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|_| corrupt("压缩目录无法读取"))?;
        declared = declared.saturating_add(f.size());
        let name = f.name().map_err(|_| corrupt("压缩目录中有无效的文件名"))?;
        index.entry(normalize(&name)).or_insert(i);
    }
    if declared > limits.max_unzipped {
        return Err(unzipped_error(limits));
    }
    let structure = read_structure(&mut zip, &index)?;
    let max_token = (limits.max_string as u64).saturating_add(TOKEN_SLACK);
    let max_record =
        (limits.max_string as u64).saturating_mul(2).saturating_add(TOKEN_SLACK);
    let mut used = 0u64;
    let mut totals = Totals::default();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|_| corrupt("压缩包中有无法解压的内容"))?;
        if f.is_dir() {
            continue;
        }
        let part = f.name().map_err(|_| corrupt("压缩目录中有无效的文件名"))?.to_string();
        let norm = normalize(&part);
        let label = sheet_label(structure.names.get(&norm).map(String::as_str), &part);
        let xlsb = structure.xlsb_sheets.contains(&norm);
        let xlsb_sst = norm == "xl/sharedstrings.bin";
        let token = if xlsb || xlsb_sst { u64::MAX } else { max_token };
        let mut rd = PartReader::new(&mut f, &mut used, limits.max_unzipped, token);
        let unreadable = |rd: &PartReader<'_, _>| match rd.trip {
            Some(_) => unzipped_error(limits),
            None => corrupt(format!("{part} 无法解压")),
        };
        if xlsb || xlsb_sst {
            scan_xlsb(&mut rd, &label, xlsb, max_record, limits, &mut totals)?;
            rd.drain().map_err(|_| unreadable(&rd))?;
            continue;
        }
        let first = match rd.fill_buf().map(|b| b.first().copied()) {
            Ok(first) => first,
            Err(_) => return Err(unreadable(&rd)),
        };
        let xml_like = matches!(first, Some(b'<' | b' ' | b'\t' | b'\r' | b'\n' | 0xEF));
        if part == "content.xml" || xml_like {
            scan_xml(rd, &part, &label, part == "content.xml", limits, &mut totals)?;
        } else {
            rd.drain().map_err(|_| unreadable(&rd))?;
        }
    }
    Ok(())
}

/// Reads a small structural part whole, by calamine's case-folded lookup.
fn read_small(
    zip: &mut Zip<'_>,
    index: &HashMap<String, usize>,
    name: &str,
) -> Result<Option<Vec<u8>>, GuardError> {
    let Some(&i) = index.get(&normalize(name)) else {
        return Ok(None);
    };
    let f = zip.by_index(i).map_err(|_| corrupt(format!("{name} 无法解压")))?;
    let mut out = Vec::new();
    f.take(MAX_STRUCTURE_PART + 1)
        .read_to_end(&mut out)
        .map_err(|_| corrupt(format!("{name} 无法解压")))?;
    if out.len() as u64 > MAX_STRUCTURE_PART {
        return Err(GuardError::new(format!("工作簿的目录部分 {name} 过大"))
            .with_hint(HINT_RESAVE));
    }
    Ok(Some(out))
}

/// A lenient XML reader over a byte slice, configured as calamine does.
fn lenient(bytes: &[u8]) -> Reader<&[u8]> {
    let mut r = Reader::from_reader(bytes);
    let c = r.config_mut();
    c.check_end_names = false;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = true;
    r
}

/// Relationship id → (target, type) of a `.rels` part.
fn relationships(bytes: &[u8]) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    let mut xml = lenient(bytes);
    let mut buf = Vec::new();
    while let Ok(ev) = xml.read_event_into(&mut buf) {
        match ev {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                if let Some(id) = attr(&e, "Id") {
                    let target = attr(&e, "Target").unwrap_or_default().to_string();
                    let typ = attr(&e, "Type").unwrap_or_default().to_string();
                    out.insert(id.to_string(), (target, typ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn unescaped(s: &str) -> String {
    quick_xml_042::escape::unescape(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// Sheet names and parts, read the way calamine reads them, so that messages can
/// name the sheet and two sheets sharing one part are refused.
fn read_structure(
    zip: &mut Zip<'_>,
    index: &HashMap<String, usize>,
) -> Result<Structure, GuardError> {
    let mut st = Structure::default();
    let mut sheets: Vec<(String, String)> = Vec::new();
    // .xlsx / .xlsm: _rels/.rels → workbook → its relationships.
    if let Some(rels) = read_small(zip, index, "_rels/.rels")? {
        let target = relationships(&rels)
            .into_values()
            .find(|(_, t)| t.ends_with("/relationships/officeDocument"))
            .map(|(target, _)| unescaped(&target));
        if let Some(target) = target {
            let (dir, name) = match target.rfind('/') {
                Some(i) => target.split_at(i + 1),
                None => ("", target.as_str()),
            };
            let dir = dir.strip_prefix('/').unwrap_or(dir).to_string();
            let name = if name.is_empty() { "workbook.xml" } else { name };
            let rels_path = format!("{dir}_rels/{name}.rels");
            let rels = read_small(zip, index, &rels_path)?.unwrap_or_default();
            let rels = relationships(&rels);
            let book = read_small(zip, index, &format!("{dir}{name}"))?;
            if let Some(book) = book.filter(|_| !name.ends_with(".bin")) {
                let mut xml = lenient(&book);
                let mut buf = Vec::new();
                while let Ok(ev) = xml.read_event_into(&mut buf) {
                    match ev {
                        Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                            let name =
                                attr(&e, "name").map(unescaped).unwrap_or_default();
                            let id = attr_local(&e, "id").unwrap_or_default();
                            if let Some((r, _)) = rels.get(id) {
                                let path = match r.strip_prefix('/') {
                                    Some(abs) => abs.to_string(),
                                    None => format!("{dir}{r}"),
                                };
                                sheets.push((normalize(&path), name));
                            }
                        }
                        Event::Eof => break,
                        _ => {}
                    }
                    buf.clear();
                }
            }
        }
    }
    // .xlsb: xl/_rels/workbook.bin.rels → xl/workbook.bin.
    if let Some(book) = read_small(zip, index, "xl/workbook.bin")? {
        let rels =
            read_small(zip, index, "xl/_rels/workbook.bin.rels")?.unwrap_or_default();
        let rels = relationships(&rels);
        for (path, name) in xlsb_bundles(&book, &rels) {
            let norm = normalize(&path);
            st.xlsb_sheets.insert(norm.clone());
            sheets.push((norm, name));
        }
    }
    if sheets.len() > MAX_SHEETS {
        return Err(GuardError::new(format!("工作表过多（超过 {MAX_SHEETS} 个）"))
            .with_hint(HINT_SMALLER));
    }
    for (path, name) in sheets {
        if st.names.contains_key(&path) {
            return Err(corrupt(format!("工作表\"{name}\"与另一工作表指向同一份数据")));
        }
        st.names.insert(path, name);
    }
    Ok(st)
}

/// Reads one xlsb record header: (type, length), or `None` at a clean end.
fn xlsb_header(r: &mut impl Read) -> io::Result<Option<(u16, u64)>> {
    let mut b = [0u8; 1];
    if r.read(&mut b)? == 0 {
        return Ok(None);
    }
    let mut typ = u16::from(b[0]);
    if b[0] & 0x80 != 0 {
        r.read_exact(&mut b)?;
        typ = (typ & 0x7F) + (u16::from(b[0] & 0x7F) << 7);
    }
    r.read_exact(&mut b)?;
    let mut len = u64::from(b[0] & 0x7F);
    for i in 1..4 {
        if b[0] & 0x80 == 0 {
            break;
        }
        r.read_exact(&mut b)?;
        len += u64::from(b[0] & 0x7F) << (7 * i);
    }
    Ok(Some((typ, len)))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// (part path, sheet name) of every `BrtBundleSh` in `xl/workbook.bin`.
fn xlsb_bundles(
    book: &[u8],
    rels: &HashMap<String, (String, String)>,
) -> Vec<(String, String)> {
    let utf16 = |b: &[u8]| {
        let units: Vec<u16> =
            b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    let mut out = Vec::new();
    let mut r = book;
    while let Ok(Some((typ, len))) = xlsb_header(&mut r) {
        let Ok(len) = usize::try_from(len) else { break };
        let Some(data) = r.get(..len) else { break };
        r = &r[len..];
        if typ != 0x009C {
            continue;
        }
        let Some(rel_len) = u32_at(data, 8) else { continue };
        if rel_len == u32::MAX {
            continue;
        }
        let Some(rel_end) =
            (rel_len as usize).checked_mul(2).and_then(|n| n.checked_add(12))
        else {
            continue;
        };
        let Some(relid) = data.get(12..rel_end) else { continue };
        let name = u32_at(data, rel_end)
            .and_then(|n| {
                let start = rel_end.checked_add(4)?;
                data.get(start..start.checked_add((n as usize).checked_mul(2)?)?)
            })
            .map(utf16)
            .unwrap_or_default();
        if let Some((target, _)) = rels.get(&utf16(relid)) {
            out.push((format!("xl/{}", unescaped(target)), name));
        }
    }
    out
}

/// Walks an `.xlsb` part record by record: worksheet cells and ranges, and the
/// size of every record (strings included).
fn scan_xlsb<R: Read>(
    rd: &mut PartReader<'_, R>,
    label: &str,
    sheet: bool,
    max_record: u64,
    l: &Limits,
    totals: &mut Totals,
) -> Result<(), GuardError> {
    let fail = |rd: &PartReader<'_, R>| match rd.trip {
        Some(_) => unzipped_error(l),
        None => corrupt(format!("{label}的记录不完整")),
    };
    let (max_rows, max_cols) = (u64::from(l.max_rows), u64::from(l.max_cols));
    let (mut in_data, mut done) = (false, false);
    let (mut row, mut rows, mut cols, mut cells) = (0u64, 0u64, 0u64, 0u64);
    let mut data = Vec::new();
    loop {
        let (typ, len) = match xlsb_header(rd) {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(_) => return Err(fail(rd)),
        };
        if len > max_record {
            return Err(GuardError::new(format!(
                "{label}中有过长的记录（超过 {}）",
                human_size(max_record)
            ))
            .with_hint(HINT_RESAVE));
        }
        data.resize(len as usize, 0);
        rd.read_exact(&mut data).map_err(|_| fail(rd))?;
        if !sheet || done {
            continue;
        }
        let range = |data: &[u8]| -> Result<(), GuardError> {
            let v = |i| u32_at(data, i).map(u64::from);
            let (Some(r0), Some(r1), Some(c0), Some(c1)) = (v(0), v(4), v(8), v(12))
            else {
                return Err(corrupt(format!("{label}的区域记录不完整")));
            };
            if r1 < r0 || c1 < c0 {
                return Err(corrupt(format!("{label}的区域记录无效")));
            }
            if r1 >= max_rows || c1 >= max_cols {
                return Err(range_error(label, &cell_ref(r1, c1), l));
            }
            Ok(())
        };
        match typ {
            // BrtWsDim, BrtMergeCell
            0x0094 | 0x00B0 => range(&data)?,
            0x0091 => in_data = true,
            0x0092 if in_data => done = true,
            0x0000 if in_data => {
                row = u64::from(u32_at(&data, 0).ok_or_else(|| fail(rd))?);
                if row > 0x0010_0000 {
                    done = true;
                } else if row >= max_rows {
                    return Err(range_error(label, &format!("第 {} 行", row + 1), l));
                }
            }
            0x0002..=0x000B if in_data => {
                let col = u64::from(u32_at(&data, 0).ok_or_else(|| fail(rd))?);
                if col >= max_cols {
                    return Err(range_error(label, &cell_ref(row, col), l));
                }
                cells += 1;
                if cells > l.max_cells {
                    return Err(cells_error(label, l));
                }
                rows = rows.max(row + 1);
                cols = cols.max(col + 1);
            }
            _ => {}
        }
    }
    totals.add_area(rows, cols, l)
}

// ---------------------------------------------------------------------------
// XML parts

/// Cells, ranges and strings of an OOXML part, following calamine's reading of
/// worksheets (`<sheetData>`) and of the shared string table (`<sst>`).
struct OoxmlScan<'l> {
    l: &'l Limits,
    label: String,
    in_data: bool,
    row: u64,
    col: u64,
    rows: u64,
    cols: u64,
    cells: u64,
    cell: Option<(u64, u64)>,
    text: u64,
    in_sst: bool,
    in_si: bool,
    strings: u64,
}

impl<'l> OoxmlScan<'l> {
    fn new(l: &'l Limits, label: &str) -> Self {
        OoxmlScan {
            l,
            label: label.to_string(),
            in_data: false,
            row: 0,
            col: 0,
            rows: 0,
            cols: 0,
            cells: 0,
            cell: None,
            text: 0,
            in_sst: false,
            in_si: false,
            strings: 0,
        }
    }

    /// Whether calamine takes data from this part (so a syntax error matters).
    fn is_data(&self) -> bool {
        self.in_data || self.in_sst
    }

    /// The text being read, for a message about its length.
    fn text_place(&self) -> Option<String> {
        if let Some((r, c)) = self.cell {
            Some(format!("{}单元格 {}", self.label, cell_ref(r, c)))
        } else if self.in_si {
            Some(format!("共享字符串（第 {} 个）", self.strings))
        } else {
            None
        }
    }

    fn check_range(&self, what: &str, r: &str) -> Result<(), GuardError> {
        let Some((start, end)) = parse_range(r) else {
            return Err(corrupt(format!("{}中的{what} {r} 无效", self.label)));
        };
        if end.0 < start.0 || end.1 < start.1 {
            return Err(corrupt(format!("{}中的{what} {r} 无效", self.label)));
        }
        if end.0 >= u64::from(self.l.max_rows) || end.1 >= u64::from(self.l.max_cols) {
            return Err(range_error(&self.label, &cell_ref(end.0, end.1), self.l));
        }
        Ok(())
    }

    fn count_limit(&self, v: &str, what: &str) -> Result<(), GuardError> {
        match v.trim().parse::<u64>() {
            Ok(n) if n > self.l.max_cells => Err(GuardError::new(format!(
                "{}的{what}过大（{n}，超过 {}）",
                self.label, self.l.max_cells
            ))
            .with_hint(HINT_RESAVE)),
            Ok(_) => Ok(()),
            // Digits too many for u64 are too many for calamine as well.
            Err(_) if !v.is_empty() && v.trim().bytes().all(|b| b.is_ascii_digit()) => {
                Err(corrupt(format!("{}的{what}无效", self.label)))
            }
            Err(_) => Ok(()),
        }
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), GuardError> {
        let (max_rows, max_cols) =
            (u64::from(self.l.max_rows), u64::from(self.l.max_cols));
        match e.local_name().as_ref() {
            "dimension" => {
                if let Some(r) = attr(e, "ref") {
                    self.check_range("区域声明", r)?;
                }
            }
            "mergeCell" => {
                if let Some(r) = attr(e, "ref") {
                    self.check_range("合并单元格", r)?;
                }
            }
            "sheetData" => self.in_data = true,
            "row" if self.in_data => {
                if let Some(r) = attr(e, "r") {
                    let Some((row, _)) = parse_ref(r) else {
                        return Err(corrupt(format!("{}中的行号 {r} 无效", self.label)));
                    };
                    if row >= max_rows {
                        return Err(range_error(
                            &self.label,
                            &format!("第 {r} 行"),
                            self.l,
                        ));
                    }
                    self.row = row;
                }
            }
            "c" if self.in_data => {
                let pos = match attr(e, "r") {
                    Some(r) => match parse_ref(r) {
                        Some((row, Some(col))) => {
                            self.col = col;
                            (row, col)
                        }
                        _ => {
                            return Err(corrupt(format!(
                                "{}中的单元格引用 {r} 无效",
                                self.label
                            )));
                        }
                    },
                    None => (self.row, self.col),
                };
                if pos.0 >= max_rows || pos.1 >= max_cols {
                    return Err(range_error(
                        &self.label,
                        &cell_ref(pos.0, pos.1),
                        self.l,
                    ));
                }
                self.cells += 1;
                if self.cells > self.l.max_cells {
                    return Err(cells_error(&self.label, self.l));
                }
                self.rows = self.rows.max(pos.0 + 1);
                self.cols = self.cols.max(pos.1 + 1);
                self.cell = Some(pos);
                self.text = 0;
            }
            "f" => {
                if let Some(si) = attr(e, "si") {
                    self.count_limit(si, "共享公式编号")?;
                }
                if let Some(r) = attr(e, "ref") {
                    self.check_range("公式区域", r)?;
                }
            }
            "sst" => {
                self.in_sst = true;
                for key in ["count", "uniqueCount"] {
                    if let Some(v) = attr(e, key) {
                        self.count_limit(v, "共享字符串数量")?;
                    }
                }
            }
            "si" if self.in_sst => {
                self.in_si = true;
                self.text = 0;
                self.strings += 1;
                if self.strings > self.l.max_cells {
                    return Err(GuardError::new(format!(
                        "共享字符串过多（超过 {} 个）",
                        self.l.max_cells
                    ))
                    .with_hint(HINT_SMALLER));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &str) {
        match name {
            "row" if self.in_data => {
                self.row = self.row.saturating_add(1);
                self.col = 0;
            }
            "c" if self.in_data => {
                self.col = self.col.saturating_add(1);
                self.cell = None;
            }
            "si" => self.in_si = false,
            _ => {}
        }
    }

    fn text(&mut self, len: usize) -> Result<(), GuardError> {
        if self.cell.is_some() || self.in_si {
            self.text = self.text.saturating_add(len as u64);
            if self.text > self.l.max_string as u64 {
                let place = self.text_place().unwrap_or_default();
                return Err(text_error(&place, self.l));
            }
        }
        Ok(())
    }
}

/// One OpenDocument table being read.
struct OdsTable {
    label: String,
    depth: u64,
    next_row: u64,
    rows: u64,
    cols: u64,
    cells: u64,
}

struct OdsRow {
    depth: u64,
    repeat: u64,
    col: u64,
    cells: u64,
    last: u64,
}

struct OdsCell {
    depth: u64,
    repeat: u64,
    nonempty: bool,
    text: u64,
}

/// Rows and cells of `content.xml`, with repetitions, as calamine expands them.
struct OdsScan<'l> {
    l: &'l Limits,
    depth: u64,
    table: Option<OdsTable>,
    row: Option<OdsRow>,
    cell: Option<OdsCell>,
}

fn repeat_count(v: Option<&str>, what: &str) -> Result<u64, GuardError> {
    match v {
        None => Ok(1),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(0) | Err(_) => {
                Err(corrupt(format!("content.xml 中的{what} \"{v}\" 无效")))
            }
            Ok(n) => Ok(n),
        },
    }
}

impl<'l> OdsScan<'l> {
    fn new(l: &'l Limits) -> Self {
        OdsScan { l, depth: 0, table: None, row: None, cell: None }
    }

    fn label(&self) -> String {
        self.table.as_ref().map(|t| t.label.clone()).unwrap_or_default()
    }

    fn text_place(&self) -> Option<String> {
        let t = self.table.as_ref()?;
        let r = self.row.as_ref()?;
        self.cell.as_ref()?;
        Some(format!("{}单元格 {}", t.label, cell_ref(t.next_row, r.col)))
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), GuardError> {
        self.depth += 1;
        let name = e.local_name();
        let name = name.as_ref();
        if let Some(cell) = self.cell.as_mut() {
            cell.nonempty = true;
            if name == "table" {
                return Err(corrupt("content.xml 中有嵌套在单元格里的工作表"));
            }
            if name == "s" {
                let n = match attr_local(e, "c") {
                    None => 1,
                    Some(v) => v.trim().parse::<u64>().map_err(|_| {
                        corrupt(format!("content.xml 中的空格数 \"{v}\" 无效"))
                    })?,
                };
                return self.text(n);
            }
            return Ok(());
        }
        match name {
            "table" => {
                if self.table.is_some() {
                    return Err(corrupt("content.xml 中有嵌套的工作表"));
                }
                let label =
                    sheet_label(attr_local(e, "name").map(unescaped).as_deref(), "");
                self.table = Some(OdsTable {
                    label,
                    depth: self.depth,
                    next_row: 0,
                    rows: 0,
                    cols: 0,
                    cells: 0,
                });
            }
            "table-row" if self.table.is_some() && self.row.is_none() => {
                let repeat =
                    repeat_count(attr_local(e, "number-rows-repeated"), "行重复数")?;
                self.row =
                    Some(OdsRow { depth: self.depth, repeat, col: 0, cells: 0, last: 0 });
            }
            "table-cell" | "covered-table-cell" if self.row.is_some() => {
                let repeat =
                    repeat_count(attr_local(e, "number-columns-repeated"), "列重复数")?;
                let nonempty = raw_attrs(e).any(|(k, _)| {
                    let k = local(k);
                    k.contains("value") || k == "formula"
                });
                self.cell =
                    Some(OdsCell { depth: self.depth, repeat, nonempty, text: 0 });
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, totals: &mut Totals) -> Result<(), GuardError> {
        let depth = self.depth;
        self.depth = self.depth.saturating_sub(1);
        let (max_rows, max_cols) =
            (u64::from(self.l.max_rows), u64::from(self.l.max_cols));
        if self.cell.as_ref().is_some_and(|c| c.depth == depth) {
            let Some(cell) = self.cell.take() else { return Ok(()) };
            let label = self.label();
            let next_row = self.table.as_ref().map_or(0, |t| t.next_row);
            let Some(row) = self.row.as_mut() else { return Ok(()) };
            let end = row.col.saturating_add(cell.repeat);
            if cell.nonempty {
                if end > max_cols {
                    let at = cell_ref(next_row, end - 1);
                    return Err(range_error(&label, &at, self.l));
                }
                row.cells = row.cells.saturating_add(cell.repeat);
                row.last = end;
            }
            row.col = end;
        } else if self.row.as_ref().is_some_and(|r| r.depth == depth) {
            let Some(row) = self.row.take() else { return Ok(()) };
            let Some(t) = self.table.as_mut() else { return Ok(()) };
            let end = t.next_row.saturating_add(row.repeat);
            if row.cells > 0 {
                if end > max_rows {
                    let at = cell_ref(end - 1, row.last.saturating_sub(1));
                    return Err(range_error(&t.label, &at, self.l));
                }
                t.rows = end;
                t.cols = t.cols.max(row.last);
                t.cells = t.cells.saturating_add(row.cells.saturating_mul(row.repeat));
                if t.cells > self.l.max_cells {
                    return Err(cells_error(&t.label, self.l));
                }
            }
            t.next_row = end;
        } else if self.table.as_ref().is_some_and(|t| t.depth == depth)
            && let Some(t) = self.table.take()
        {
            totals.add_area(t.rows, t.cols, self.l)?;
        }
        Ok(())
    }

    fn text(&mut self, len: u64) -> Result<(), GuardError> {
        if let Some(cell) = self.cell.as_mut() {
            cell.text = cell.text.saturating_add(len);
            if cell.text > self.l.max_string as u64 {
                let place = self.text_place().unwrap_or_default();
                return Err(text_error(&place, self.l));
            }
        }
        Ok(())
    }

    fn content(&mut self, len: u64, blank: bool) -> Result<(), GuardError> {
        if let Some(cell) = self.cell.as_mut()
            && !blank
        {
            cell.nonempty = true;
        }
        self.text(len)
    }
}

/// Streams one XML part. `strict` (for `content.xml`) demands well-formed XML
/// and runs the OpenDocument count as well as the OOXML one.
fn scan_xml<R: Read>(
    rd: PartReader<'_, R>,
    part: &str,
    label: &str,
    strict: bool,
    l: &Limits,
    totals: &mut Totals,
) -> Result<(), GuardError> {
    let mut xml = Reader::from_reader(rd);
    let c = xml.config_mut();
    c.check_end_names = strict;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = true;
    let mut ooxml = OoxmlScan::new(l, label);
    let mut ods = strict.then(|| OdsScan::new(l));
    let mut depth = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let ev = match xml.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(_) => {
                let rd = xml.get_mut();
                match rd.trip {
                    Some(Trip::Unzipped) => return Err(unzipped_error(l)),
                    Some(Trip::Token) => {
                        let place = ods
                            .as_ref()
                            .and_then(OdsScan::text_place)
                            .or_else(|| ooxml.text_place());
                        return Err(match place {
                            Some(place) => text_error(&place, l),
                            None => GuardError::new(format!(
                                "工作簿中 {part} 含有过长的内容（超过 {}）",
                                human_size(l.max_string as u64)
                            ))
                            .with_hint(HINT_RESAVE),
                        });
                    }
                    None => {}
                }
                if strict || ooxml.is_data() {
                    let line = rd.lines + 1;
                    return Err(corrupt(format!(
                        "{part} 不是完整的 XML（第 {line} 行）"
                    )));
                }
                // A part calamine takes no cells from: stop parsing, but count
                // what is left against the budget.
                return rd.drain().map_err(|_| match rd.trip {
                    Some(_) => unzipped_error(l),
                    None => corrupt(format!("{part} 无法解压")),
                });
            }
        };
        match &ev {
            Event::Start(e) => {
                depth += 1;
                ooxml.start(e)?;
                if let Some(o) = ods.as_mut() {
                    o.start(e)?;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                ooxml.end(e.local_name().as_ref());
                if let Some(o) = ods.as_mut() {
                    o.end(totals)?;
                }
            }
            Event::Text(t) => {
                let blank = t.bytes().all(|b| b.is_ascii_whitespace());
                ooxml.text(t.len())?;
                if let Some(o) = ods.as_mut() {
                    o.content(t.len() as u64, blank)?;
                }
            }
            Event::CData(t) => {
                ooxml.text(t.len())?;
                if let Some(o) = ods.as_mut() {
                    o.content(t.len() as u64, false)?;
                }
            }
            Event::GeneralRef(r) => {
                ooxml.text(r.len() + 2)?;
                if let Some(o) = ods.as_mut() {
                    o.content(1, false)?;
                }
            }
            Event::Eof => {
                if strict && depth != 0 {
                    let line = xml.get_ref().lines + 1;
                    return Err(corrupt(format!(
                        "{part} 不是完整的 XML（第 {line} 行，缺少结束标签）"
                    )));
                }
                break;
            }
            _ => {}
        }
        xml.get_mut().mark();
    }
    totals.add_area(ooxml.rows, ooxml.cols, l)
}

// ---------------------------------------------------------------------------
// Compound files (.xls)

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const DIFSECT: u32 = 0xFFFF_FFFC;
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;

/// The compound file as calamine's reader sees it: sectors after the header.
struct Cfb<'b> {
    bytes: &'b [u8],
    size: usize,
    maxid: usize,
    fats: Vec<u32>,
}

impl<'b> Cfb<'b> {
    /// Sector `id`, shortened at the end of the file as calamine does.
    fn sector(&self, id: u32) -> Result<&'b [u8], GuardError> {
        let id = id as usize;
        if id > self.maxid {
            return Err(corrupt("复合文件的扇区编号超出文件"));
        }
        let start = self.size + id * self.size;
        if start >= self.bytes.len() {
            return Err(corrupt("复合文件的扇区编号超出文件"));
        }
        let end = (start + self.size).min(self.bytes.len());
        Ok(&self.bytes[start..end])
    }

    /// A sector chain of at most `len` bytes. A chain that visits a sector twice
    /// before reaching `len` is refused: calamine would follow it until `len`.
    fn chain(&self, start: u32, len: u64, what: &str) -> Result<Vec<u8>, GuardError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut id = start;
        while id != ENDOFCHAIN {
            if !seen.insert(id) {
                return Err(corrupt(format!("复合文件的{what}链有循环")));
            }
            let sector = self.sector(id)?;
            let remaining = len.saturating_sub(out.len() as u64);
            let take = (sector.len() as u64).min(remaining) as usize;
            out.extend_from_slice(&sector[..take]);
            if out.len() as u64 >= len {
                break;
            }
            id = *self
                .fats
                .get(id as usize)
                .ok_or_else(|| corrupt(format!("复合文件的{what}链超出分配表")))?;
        }
        Ok(out)
    }
}

/// The `Workbook` (or `Book`) stream, read as calamine reads it, with every chain
/// bounded.
fn cfb_workbook(bytes: &[u8]) -> Result<Vec<u8>, GuardError> {
    let head = bytes.get(..512).ok_or_else(|| corrupt("复合文件头不完整"))?;
    let size = match u16_at(head, 30) {
        Some(9) => 512usize,
        Some(12) => 4096,
        _ => return Err(corrupt("复合文件的扇区大小无效")),
    };
    if u16_at(head, 32) != Some(6) {
        return Err(corrupt("复合文件的小扇区大小无效"));
    }
    let field = |at| u32_at(head, at).unwrap_or(0);
    let (version, mini_fat_len) = (u16_at(head, 26).unwrap_or(0), field(64));
    let (dir_start, mini_fat_start, difat_start) = (field(48), field(60), field(68));
    let maxid = bytes.len() / size;
    let mut cfb = Cfb { bytes, size, maxid, fats: Vec::new() };

    let mut difat: Vec<u32> = head[76..512]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut id = difat_start;
    let mut steps = 0usize;
    while id < RESERVED_SECTORS {
        steps += 1;
        if steps > maxid + 1 {
            return Err(corrupt("复合文件的分配表链有循环"));
        }
        let sector = cfb.sector(id)?;
        difat.extend(
            sector.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        id = difat.pop().ok_or_else(|| corrupt("复合文件的分配表无效"))?;
    }
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
    // calamine appends one sector per entry, repeated entries included: more
    // entries than sectors in the file means more memory than the file.
    if fat_sectors.len() > maxid + 1 {
        return Err(corrupt("复合文件的分配表过大"));
    }
    let mut fats = Vec::new();
    for id in fat_sectors {
        let sector = cfb.sector(id)?;
        fats.extend(
            sector.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    cfb.fats = fats;

    let dirs = cfb.chain(dir_start, u64::MAX, "目录")?;
    let dirs: Vec<(String, u32, u64)> = dirs
        .chunks_exact(128)
        .map(|d| {
            let units: Vec<u16> = d[..64]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            let name = String::from_utf16_lossy(&units);
            let name = name.split('\0').next().unwrap_or("").to_string();
            let start = u32_at(d, 116).unwrap_or(ENDOFCHAIN);
            let len = if size == 512 {
                u64::from(u32_at(d, 120).unwrap_or(0))
            } else {
                u32_at(d, 120).map_or(0, u64::from)
                    | (u32_at(d, 124).map_or(0, u64::from) << 32)
            };
            (name, start, len)
        })
        .collect();
    let Some(root) = dirs.first() else {
        return Err(corrupt("复合文件没有根目录"));
    };
    if version != 3 && root.1 == ENDOFCHAIN {
        return Err(corrupt("复合文件没有根目录"));
    }
    let (ministream, minifat) = if mini_fat_len > 0 {
        let ministream = cfb.chain(root.1, root.2, "小扇区数据")?;
        let minifat_bytes = u64::from(mini_fat_len).saturating_mul(size as u64);
        let minifat: Vec<u32> = cfb
            .chain(mini_fat_start, minifat_bytes, "小扇区分配表")?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (ministream, minifat)
    } else {
        (Vec::new(), Vec::new())
    };

    let stream = |name: &str| -> Option<Result<Vec<u8>, GuardError>> {
        let (_, start, len) = dirs.iter().find(|d| d.0.eq_ignore_ascii_case(name))?;
        if *len >= 4096 {
            return Some(cfb.chain(*start, *len, "数据"));
        }
        // Mini stream: 64-byte sectors inside the root's stream. calamine reads
        // past the mini stream from wherever its file cursor is; refuse that.
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut id = *start;
        while id != ENDOFCHAIN && (out.len() as u64) < *len {
            if !seen.insert(id) {
                return Some(Err(corrupt("复合文件的小扇区链有循环")));
            }
            let sector = (id as usize)
                .checked_mul(64)
                .and_then(|at| ministream.get(at..at.checked_add(64)?));
            let Some(sector) = sector else {
                return Some(Err(corrupt("复合文件的小扇区编号超出范围")));
            };
            let take = (*len as usize - out.len()).min(64);
            out.extend_from_slice(&sector[..take]);
            let Some(next) = minifat.get(id as usize) else {
                return Some(Err(corrupt("复合文件的小扇区链超出分配表")));
            };
            id = *next;
        }
        Some(Ok(out))
    };
    match stream("Workbook") {
        Some(Ok(s)) => Ok(s),
        _ => match stream("Book") {
            Some(r) => r,
            None => Err(corrupt("找不到工作簿数据流")),
        },
    }
}

/// One BIFF record: its type, its data, and the bytes it took in the stream
/// (its `CONTINUE` records included).
struct BiffRecord<'s> {
    typ: u16,
    data: &'s [u8],
    used: usize,
}

/// The next BIFF record, as calamine's iterator yields it: `CONTINUE` records
/// are folded into the record before them.
fn biff_record(stream: &[u8]) -> Option<Result<BiffRecord<'_>, GuardError>> {
    if stream.is_empty() {
        return None;
    }
    let (Some(typ), Some(len)) = (u16_at(stream, 0), u16_at(stream, 2)) else {
        return Some(Err(corrupt("工作簿数据流的记录不完整")));
    };
    let len = len as usize;
    let Some(data) = stream.get(4..4 + len) else {
        return Some(Err(corrupt("工作簿数据流的记录不完整")));
    };
    let mut used = 4 + len;
    while stream.len() > used + 4 && u16_at(stream, used) == Some(0x003C) {
        let clen = u16_at(stream, used + 2).unwrap_or(0) as usize;
        if stream.len() < used + 4 + clen {
            return Some(Err(corrupt("工作簿数据流的记录不完整")));
        }
        used += 4 + clen;
    }
    Some(Ok(BiffRecord { typ, data, used }))
}

/// The sheet name of a `BoundSheet8` record (a short string after 6 bytes):
/// Latin-1 or UTF-16 in BIFF8; best effort, since it only labels messages.
fn boundsheet_name(data: &[u8]) -> String {
    let (Some(&cch), Some(&flags)) = (data.get(6), data.get(7)) else {
        return String::new();
    };
    let cch = usize::from(cch);
    let name = if flags & 1 == 1 {
        let units: Vec<u16> = data
            .get(8..8 + 2 * cch)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        data.get(8..8 + cch).unwrap_or_default().iter().map(|&b| char::from(b)).collect()
    };
    name.replace('\0', "")
}

fn check_xls(bytes: &[u8], l: &Limits) -> Result<(), GuardError> {
    let stream = cfb_workbook(bytes)?;
    let (max_rows, max_cols) = (u64::from(l.max_rows), u64::from(l.max_cols));
    // Globals: the sheets and where their records start.
    let mut sheets: Vec<(usize, String)> = Vec::new();
    let mut rest = &stream[..];
    while let Some(rec) = biff_record(rest) {
        let BiffRecord { typ, data, used } = rec?;
        rest = &rest[used..];
        match typ {
            0x0085 => {
                let pos =
                    u32_at(data, 0).ok_or_else(|| corrupt("工作表目录记录不完整"))?;
                let name = boundsheet_name(data);
                sheets.push((pos as usize, name));
                if sheets.len() > MAX_SHEETS {
                    return Err(GuardError::new(format!(
                        "工作表过多（超过 {MAX_SHEETS} 个）"
                    ))
                    .with_hint(HINT_SMALLER));
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    let mut totals = Totals::default();
    let mut scanned = 0usize;
    for (pos, name) in sheets {
        let label = sheet_label(Some(name.trim()).filter(|n| !n.is_empty()), "xls");
        let mut rest = stream
            .get(pos..)
            .ok_or_else(|| corrupt(format!("{label}的位置超出工作簿数据流")))?;
        let (mut cells, mut rows, mut cols) = (0u64, 0u64, 0u64);
        let (mut seen_bof, mut nested) = (false, 0usize);
        let mut cell = |r: u64, c: u64, n: u64| -> Result<(), GuardError> {
            if r >= max_rows || c >= max_cols {
                return Err(range_error(&label, &cell_ref(r, c), l));
            }
            cells = cells.saturating_add(n);
            if cells > l.max_cells {
                return Err(cells_error(&label, l));
            }
            rows = rows.max(r + 1);
            cols = cols.max(c + 1);
            Ok(())
        };
        while let Some(rec) = biff_record(rest) {
            let BiffRecord { typ, data, used } = rec?;
            rest = &rest[used..];
            scanned = scanned.saturating_add(used);
            // Sheets whose records overlap make calamine's work grow with the
            // square of the file; legitimate files never overlap.
            if scanned > stream.len() {
                return Err(corrupt("工作表的数据相互重叠"));
            }
            if nested > 0 {
                match typ {
                    0x0809 => nested += 1,
                    0x000A => nested -= 1,
                    _ => {}
                }
                continue;
            }
            let rc = |d: &[u8]| -> Result<(u64, u64), GuardError> {
                match (u16_at(d, 0), u16_at(d, 2)) {
                    (Some(r), Some(c)) => Ok((u64::from(r), u64::from(c))),
                    _ => Err(corrupt(format!("{label}的单元格记录不完整"))),
                }
            };
            match typ {
                0x0809 if seen_bof => nested += 1,
                0x0809 => seen_bof = true,
                0x0200 => {
                    let (rf, rl, cf, cl) = match data.len() {
                        10 => {
                            let v = |i| u64::from(u16_at(data, i).unwrap_or(0));
                            (v(0), v(2), v(4), v(6))
                        }
                        14 | 16 => {
                            let v = |i| u64::from(u16_at(data, i).unwrap_or(0));
                            let w = |i| u64::from(u32_at(data, i).unwrap_or(0));
                            (w(0), w(4), v(8), v(10))
                        }
                        _ => return Err(corrupt(format!("{label}的区域声明不完整"))),
                    };
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    let (start, end) = if rl >= 1 && cl >= 1 {
                        ((rf, cf), (rl - 1, cl - 1))
                    } else {
                        ((rf, cf), (rf, cf))
                    };
                    if end.0 < start.0 || end.1 < start.1 {
                        return Err(corrupt(format!("{label}的区域声明无效")));
                    }
                    if end.0 >= max_rows || end.1 >= max_cols {
                        return Err(range_error(&label, &cell_ref(end.0, end.1), l));
                    }
                }
                // Number, Label, RString, BoolErr, Rk, LabelSst, Formula
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    let (r, c) = rc(data)?;
                    cell(r, c, 1)?;
                }
                // MulRk
                0x00BD => {
                    let (r, first) = rc(data)?;
                    let last = data
                        .len()
                        .checked_sub(2)
                        .and_then(|i| u16_at(data, i))
                        .map(u64::from)
                        .ok_or_else(|| corrupt(format!("{label}的单元格记录不完整")))?;
                    if last < first {
                        return Err(corrupt(format!("{label}的单元格记录无效")));
                    }
                    cell(r, last, last - first + 1)?;
                }
                // MergeCells
                0x00E5 => {
                    let count = u16_at(data, 0).unwrap_or(0) as usize;
                    for i in 0..count {
                        let at = 2 + i * 8;
                        let v = |k| u16_at(data, at + k).map(u64::from);
                        let (Some(rf), Some(rl), Some(cf), Some(cl)) =
                            (v(0), v(2), v(4), v(6))
                        else {
                            return Err(corrupt(format!(
                                "{label}的合并单元格记录不完整"
                            )));
                        };
                        if rl < rf || cl < cf {
                            return Err(corrupt(format!("{label}的合并单元格记录无效")));
                        }
                        if rl >= max_rows || cl >= max_cols {
                            return Err(range_error(&label, &cell_ref(rl, cl), l));
                        }
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        totals.add_area(rows, cols, l)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Running the parser

const READER_THREAD: &str = "gongwen-workbook-reader";

/// Keeps the default panic message (with calamine's source location) off the
/// user's terminal for panics on the reader thread; others are untouched.
fn quiet_reader_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if thread::current().name() != Some(READER_THREAD) {
                previous(info);
            }
        }));
    });
}

/// Runs a parser call on its own thread, with a time bound.
///
/// A panic inside `f` (calamine panics on some malformed `.xls` records) becomes
/// `工作簿已损坏，无法读取` rather than ending the program with exit code 101;
/// the panic message is not printed (a process-wide panic hook, installed once,
/// silences panics on this reader thread only). When `timeout` passes first the
/// thread is abandoned (Rust cannot stop it; it ends with the process) and
/// `工作簿读取超时（可能已损坏）` is returned. Needs `panic = "unwind"`.
pub fn open_guarded<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
    timeout: Duration,
) -> Result<T, GuardError> {
    quiet_reader_panics();
    let (tx, rx) = mpsc::sync_channel(1);
    let handle = thread::Builder::new()
        .name(READER_THREAD.to_string())
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(outcome);
        })
        .map_err(|_| GuardError::new("无法启动读取工作簿的线程"))?;
    let broken = || GuardError::new("工作簿已损坏，无法读取").with_hint(HINT_RESAVE);
    match rx.recv_timeout(timeout) {
        Ok(Ok(value)) => {
            let _ = handle.join();
            Ok(value)
        }
        Ok(Err(_panic)) => {
            let _ = handle.join();
            Err(broken())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(GuardError::new("工作簿读取超时（可能已损坏）").with_hint(HINT_RESAVE))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(broken()),
    }
}

// ---------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 as PNG uses it.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn u32_be(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Checks a PNG before it is decoded; returns (width, height).
///
/// Checks the signature, that the first chunk is an `IHDR` of length 13 with a
/// good CRC and a valid bit depth and colour type, that width and height are
/// positive and `width × height <= max_pixels`, and walks every chunk (lengths in
/// bounds, CRCs good) up to `IEND`, so a truncated or padded file is refused.
pub fn check_png(bytes: &[u8], max_pixels: u64) -> Result<(u32, u32), GuardError> {
    let broken = |why: &str| {
        GuardError::new(format!("PNG 图片已损坏（{why}）"))
            .with_hint("请用看图软件打开后重新另存为 PNG 图片")
    };
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(GuardError::new("图片不是 PNG 格式")
            .with_hint("请把图片另存为 PNG 格式（扩展名 .png）"));
    }
    if u32_be(bytes, 8) != Some(13) || bytes.get(12..16) != Some(b"IHDR") {
        return Err(broken("缺少图像头"));
    }
    let ihdr = bytes.get(12..29).ok_or_else(|| broken("图像头不完整"))?;
    if u32_be(bytes, 29) != Some(crc32(ihdr)) {
        return Err(broken("图像头校验失败"));
    }
    let (w, h) = (u32_be(bytes, 16).unwrap_or(0), u32_be(bytes, 20).unwrap_or(0));
    let (depth, colour) = (bytes[24], bytes[25]);
    let valid = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !valid || bytes[26] != 0 || bytes[27] != 0 || bytes[28] > 1 {
        return Err(broken("图像头的格式字段无效"));
    }
    if w == 0 || h == 0 || w > i32::MAX as u32 || h > i32::MAX as u32 {
        return Err(broken("图像宽高无效"));
    }
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(GuardError::new(format!(
            "图片尺寸过大（{w} × {h} 像素，超过 {} 万像素）",
            max_pixels / 10_000
        ))
        .with_hint(
            "请把图片缩小到 4000 × 4000 像素以内再用（印章图片 1000 像素宽已足够清晰）",
        ));
    }
    let mut pos = 33usize;
    let mut idat = false;
    loop {
        let len = u32_be(bytes, pos).ok_or_else(|| broken("文件不完整，缺少结尾"))?;
        if len > i32::MAX as u32 {
            return Err(broken("数据块长度无效"));
        }
        let body_end = pos.saturating_add(8).saturating_add(len as usize);
        let chunk =
            bytes.get(pos + 4..body_end).ok_or_else(|| broken("文件不完整，缺少结尾"))?;
        let crc =
            u32_be(bytes, body_end).ok_or_else(|| broken("文件不完整，缺少结尾"))?;
        if crc != crc32(chunk) {
            return Err(broken("数据块校验失败"));
        }
        let typ = &chunk[..4];
        if !typ.iter().all(u8::is_ascii_alphabetic) {
            return Err(broken("数据块类型无效"));
        }
        match typ {
            b"IHDR" => return Err(broken("图像头重复")),
            b"IDAT" => idat = true,
            b"IEND" => break,
            _ => {}
        }
        pos = body_end + 4;
    }
    if !idat {
        return Err(broken("没有图像数据"));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    use calamine::{Data, Ods, Reader as _, Xls, Xlsb, Xlsx, open_workbook_from_rs};

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="任务表" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

    /// A hand-made .xlsx with one sheet ("任务表") and an optional string table.
    fn xlsx(sheet_data: &str, extra: &str, sst: Option<&[u8]>) -> Vec<u8> {
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{extra}<sheetData>{sheet_data}</sheetData></worksheet>"#
        );
        let mut entries: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", ROOT_RELS.as_bytes()),
            ("xl/workbook.xml", WORKBOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        if let Some(sst) = sst {
            entries.push(("xl/sharedStrings.xml", sst));
        }
        zip_of(&entries)
    }

    fn writer_book(fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("任务表").expect("name");
        fill(ws);
        wb.save_to_buffer().expect("save")
    }

    fn normal_book() -> Vec<u8> {
        writer_book(|ws| {
            for (c, h) in ["序号", "三级指标", "责任单位"].iter().enumerate() {
                ws.write_string(0, c as u16, *h).expect("write");
            }
            for r in 1..=3u32 {
                ws.write_number(r, 0, f64::from(r)).expect("write");
                ws.write_string(r, 1, format!("指标{r}")).expect("write");
                ws.write_string(r, 2, "司法局").expect("write");
            }
        })
    }

    fn check(bytes: &[u8], ext: &str) -> Result<(), GuardError> {
        check_workbook(bytes, ext, &Limits::default())
    }

    #[test]
    fn refs_and_names() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(199), "GR");
        assert_eq!(col_name(16383), "XFD");
        assert_eq!(parse_ref("XFD1048576"), Some((1_048_575, Some(16383))));
        assert_eq!(parse_ref("b2"), Some((1, Some(1))));
        assert_eq!(parse_ref("7"), Some((6, None)));
        assert_eq!(parse_ref("A0"), None);
        assert_eq!(parse_ref("$A$1"), None);
        assert_eq!(parse_ref("A"), None);
        let huge =
            parse_ref("AAAAAAAAAAAAAAAAAAAA99999999999999999999999").expect("saturates");
        assert_eq!(huge.0, u64::MAX - 1);
        assert_eq!(parse_range("A1:C3"), Some(((0, 0), (2, 2))));
        assert_eq!(parse_range("A1:B2:C3"), None);
    }

    #[test]
    fn normal_workbook_passes_and_calamine_reads_it() {
        let bytes = normal_book();
        check(&bytes, "xlsx").expect("normal workbook passes");
        check(&bytes, ".XLSM").expect("extension case and dot do not matter");
        let range = open_guarded(
            move || {
                let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))?;
                wb.worksheet_range("任务表")
            },
            Duration::from_secs(10),
        )
        .expect("no panic")
        .expect("calamine reads it");
        assert_eq!(range.get_value((2, 1)), Some(&Data::String("指标2".into())));
        assert_eq!(range.height(), 4);
    }

    #[test]
    fn far_cell_is_refused_before_calamine() {
        let bytes = writer_book(|ws| {
            ws.write_string(0, 0, "序号").expect("write");
            ws.write_number(1_048_575, 16_383, 1.0).expect("write");
        });
        assert!(bytes.len() < 10_000, "a small file: {} bytes", bytes.len());
        let e = check(&bytes, "xlsx").expect_err("refused");
        assert_eq!(
            e.message,
            "工作表\"任务表\"使用的区域过大（到 XFD1048576，超过 10000 行 × 200 列）"
        );
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("删除")));
    }

    #[test]
    fn positions_without_references_are_counted_like_calamine() {
        // A row number alone places the cells that follow it.
        let e = check(&xlsx(r#"<row r="20000"><c><v>1</v></c></row>"#, "", None), "xlsx")
            .expect_err("far row");
        assert!(e.message.contains("第 20000 行"), "{}", e.message);
        // Cells without r count columns from the last one.
        let cells: String = (0..201).map(|_| "<c><v>1</v></c>").collect();
        let e = check(&xlsx(&format!("<row>{cells}</row>"), "", None), "xlsx")
            .expect_err("wide row");
        assert!(e.message.contains("到 GS1"), "{}", e.message);
        // Rows without r count from the previous row's end.
        let rows: String = (0..10_001).map(|_| "<row/>").collect();
        let e =
            check(&xlsx(&format!("{rows}<row><c><v>1</v></c></row>"), "", None), "xlsx")
                .expect_err("tall");
        assert!(e.message.contains("A10002"), "{}", e.message);
        // Within limits: fine.
        let ok = xlsx(r#"<row r="10000"><c r="GR10000"><v>1</v></c></row>"#, "", None);
        check(&ok, "xlsx").expect("last allowed cell");
    }

    #[test]
    fn declared_ranges_are_checked() {
        let far_dim = xlsx("", r#"<dimension ref="A1:XFD1048576"/>"#, None);
        let e = check(&far_dim, "xlsx").expect_err("dimension");
        assert!(e.message.contains("XFD1048576"), "{}", e.message);
        let merge = format!(
            "<sheetData/><mergeCells><mergeCell ref=\"A1:{}\"/></mergeCells>",
            "ZZ99999"
        );
        let bytes = zip_of(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", ROOT_RELS.as_bytes()),
            ("xl/workbook.xml", WORKBOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
            (
                "xl/worksheets/sheet1.xml",
                format!("<worksheet>{merge}</worksheet>").as_bytes(),
            ),
        ]);
        let e = check(&bytes, "xlsx").expect_err("merge");
        assert!(e.message.contains("ZZ99999"), "{}", e.message);
        let backwards = xlsx("", r#"<dimension ref="B2:A1"/>"#, None);
        let e = check(&backwards, "xlsx").expect_err("reversed range");
        assert!(e.message.starts_with("工作簿已损坏"), "{}", e.message);
        let bad = xlsx(r#"<row r="1"><c r="$A$1"><v>1</v></c></row>"#, "", None);
        assert!(check(&bad, "xlsx").is_err());
    }

    #[test]
    fn too_many_cells() {
        let limits = Limits { max_cells: 10, ..Limits::default() };
        let cells: String =
            (0..11).map(|i| format!("<c r=\"A{}\"><v>1</v></c>", i + 1)).collect();
        let e =
            check_workbook(&xlsx(&cells, "", None), "xlsx", &limits).expect_err("cells");
        assert_eq!(e.message, "工作表\"任务表\"的单元格过多（超过 10 个）");
    }

    /// A shared string table holding one string of `n` bytes of 'a'.
    fn big_sst(n: usize) -> Vec<u8> {
        let mut sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#.to_vec();
        sst.extend(std::iter::repeat_n(b'a', n));
        sst.extend_from_slice(b"</t></si></sst>");
        sst
    }

    const SST_CELL: &str = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;

    #[test]
    fn huge_shared_string_is_refused() {
        let bytes = xlsx(SST_CELL, "", Some(&big_sst(20 * 1024 * 1024)));
        assert!(bytes.len() < 200_000, "compresses well: {} bytes", bytes.len());
        let start = Instant::now();
        let e = check(&bytes, "xlsx").expect_err("string too long");
        assert_eq!(e.message, "共享字符串（第 1 个）的文字超过 1 MB");
        assert!(start.elapsed() < Duration::from_secs(5));
        // With a generous string limit, the total decompressed size still counts.
        let limits = Limits {
            max_string: 64 * 1024 * 1024,
            max_unzipped: 5 * MB,
            ..Limits::default()
        };
        let e = check_workbook(&bytes, "xlsx", &limits).expect_err("unzipped");
        assert_eq!(e.message, "工作簿解压后超过 5 MB");
        // A small string is fine, and calamine reads it.
        let ok = xlsx(SST_CELL, "", Some(&big_sst(1000)));
        check(&ok, "xlsx").expect("small string");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(ok)).expect("opens");
        let range = wb.worksheet_range("任务表").expect("reads");
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("a".repeat(1000))));
    }

    /// Rewrites the uncompressed size of every entry named `name`, in the local
    /// header and in the central directory, as a hostile file would.
    fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
        let name = name.as_bytes();
        let mut i = 0;
        while i + 46 < zip.len() {
            let sig = &zip[i..i + 4];
            let (size_at, name_len_at, name_at) = match sig {
                [0x50, 0x4b, 0x03, 0x04] => (i + 22, i + 26, i + 30),
                [0x50, 0x4b, 0x01, 0x02] => (i + 24, i + 28, i + 46),
                _ => {
                    i += 1;
                    continue;
                }
            };
            let n = u16::from_le_bytes([zip[name_len_at], zip[name_len_at + 1]]) as usize;
            if zip.get(name_at..name_at + n) == Some(name) {
                zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
            i += 4;
        }
    }

    #[test]
    fn lying_sizes_are_caught_while_streaming() {
        let mut bytes = xlsx(SST_CELL, "", Some(&big_sst(20 * 1024 * 1024)));
        lie_about_size(&mut bytes, "xl/sharedStrings.xml", 100);
        let limits = Limits {
            max_string: 64 * 1024 * 1024,
            max_unzipped: 5 * MB,
            ..Limits::default()
        };
        let e = check_workbook(&bytes, "xlsx", &limits).expect_err("refused");
        assert!(
            e.message == "工作簿解压后超过 5 MB" || e.message.starts_with("工作簿已损坏"),
            "{}",
            e.message
        );
    }

    #[test]
    fn shared_string_counts_and_long_cells() {
        let sst = br#"<sst count="1" uniqueCount="99999999999"><si><t>a</t></si></sst>"#;
        let e = check(&xlsx(SST_CELL, "", Some(sst)), "xlsx").expect_err("count");
        assert!(e.message.contains("共享字符串数量过大"), "{}", e.message);
        let long = "x".repeat(2 * 1024 * 1024);
        let cell = format!(
            r#"<row r="3"><c r="B3" t="inlineStr"><is><t>{long}</t></is></c></row>"#
        );
        let e = check(&xlsx(&cell, "", None), "xlsx").expect_err("long cell");
        assert_eq!(e.message, "工作表\"任务表\"单元格 B3的文字超过 1 MB");
    }

    #[test]
    fn sheets_sharing_a_part_are_refused() {
        let book = WORKBOOK.replace(
            "</sheets>",
            r#"<sheet name="副本" sheetId="2" r:id="rId1"/></sheets>"#,
        );
        let bytes = zip_of(&[
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", ROOT_RELS.as_bytes()),
            ("xl/workbook.xml", book.as_bytes()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
            ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData/></worksheet>"),
        ]);
        let e = check(&bytes, "xlsx").expect_err("shared part");
        assert!(e.message.contains("指向同一份数据"), "{}", e.message);
    }

    const ODS_MIME: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
    const MANIFEST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

    fn ods_content(tables: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body>
<office:spreadsheet>
{tables}
</office:spreadsheet>
</office:body>
</office:document-content>
"#
        )
    }

    fn ods(content: &str) -> Vec<u8> {
        zip_of(&[
            ("mimetype", ODS_MIME),
            ("META-INF/manifest.xml", MANIFEST),
            ("content.xml", content.as_bytes()),
        ])
    }

    const ODS_TABLE: &str = r#"<table:table table:name="任务表">
<table:table-column table:number-columns-repeated="1024"/>
<table:table-row><table:table-cell office:value-type="string"><text:p>序号</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>三级指标</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1022"/></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>指标一</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1022"/></table:table-row>
<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table>"#;

    #[test]
    fn normal_ods_passes_and_calamine_reads_it() {
        // Trailing empty rows and columns repeated to the sheet's end are normal.
        let bytes = ods(&ods_content(ODS_TABLE));
        check(&bytes, "ods").expect("normal ods");
        let mut wb: Ods<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("opens");
        let range = wb.worksheet_range("任务表").expect("reads");
        assert_eq!(range.get_value((1, 1)), Some(&Data::String("指标一".into())));
    }

    #[test]
    fn corrupted_ods_is_refused_in_linear_time() {
        let content = ods_content(ODS_TABLE).replace("</table:table>", "</table:tabl8>");
        let start = Instant::now();
        let e = check(&ods(&content), "ods").expect_err("corrupt");
        assert!(
            e.message.starts_with("工作簿已损坏：content.xml 不是完整的 XML（第 "),
            "{}",
            e.message
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        // Cut short: end tags missing.
        let full = ods_content(ODS_TABLE);
        let cut = &full[..full.find("</table:table>").expect("end tag")];
        let e = check(&ods(cut), "ods").expect_err("truncated");
        assert!(e.message.contains("content.xml 不是完整的 XML"), "{}", e.message);
    }

    #[test]
    fn ods_repetitions_are_counted() {
        let tall = r#"<table:table table:name="长表"><table:table-row table:number-rows-repeated="20000"><table:table-cell office:value-type="float" office:value="1"/></table:table-row></table:table>"#;
        let e = check(&ods(&ods_content(tall)), "ods").expect_err("tall");
        assert_eq!(
            e.message,
            "工作表\"长表\"使用的区域过大（到 A20000，超过 10000 行 × 200 列）"
        );
        let wide = r#"<table:table table:name="宽表"><table:table-row><table:table-cell table:number-columns-repeated="300"/><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>"#;
        let e = check(&ods(&ods_content(wide)), "ods").expect_err("wide");
        assert!(e.message.contains("到 KO1"), "{}", e.message);
        let spaces = r#"<table:table table:name="空格"><table:table-row><table:table-cell office:value-type="string"><text:p><text:s text:c="2000000"/></text:p></table:table-cell></table:table-row></table:table>"#;
        let e = check(&ods(&ods_content(spaces)), "ods").expect_err("spaces");
        assert!(e.message.contains("的文字超过 1 MB"), "{}", e.message);
        let zero = r#"<table:table table:name="零"><table:table-row table:number-rows-repeated="0"/></table:table>"#;
        assert!(check(&ods(&ods_content(zero)), "ods").is_err());
    }

    #[test]
    fn total_area_over_all_sheets_is_bounded() {
        let table = |n: u32| {
            format!(
                r#"<table:table table:name="表{n}"><table:table-row table:number-rows-repeated="4999"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="199"/><table:table-cell office:value-type="float" office:value="1"/></table:table-row></table:table>"#
            )
        };
        let two: String = (1..=2).map(table).collect();
        check(&ods(&ods_content(&two)), "ods").expect("2 × 1,000,000 cells is the limit");
        let three: String = (1..=3).map(table).collect();
        let e = check(&ods(&ods_content(&three)), "ods").expect_err("3 sheets");
        assert!(e.message.contains("合计使用的区域过大"), "{}", e.message);
    }

    /// An xlsb record: type and length in their variable-length encodings.
    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if typ < 0x80 {
            out.push(typ as u8);
        } else {
            out.push((typ & 0x7F) as u8 | 0x80);
            out.push((typ >> 7) as u8);
        }
        let mut len = data.len();
        loop {
            let b = (len & 0x7F) as u8;
            len >>= 7;
            if len == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(data);
        out
    }

    fn wide(s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().collect();
        let mut out = (units.len() as u32).to_le_bytes().to_vec();
        out.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        out
    }

    /// A minimal .xlsb with one sheet holding numbers at the given positions.
    fn xlsb(cells: &[(u32, u32)], dim: (u32, u32)) -> Vec<u8> {
        let mut bundle = 0u32.to_le_bytes().to_vec();
        bundle.extend(1u32.to_le_bytes());
        bundle.extend(wide("rId1"));
        bundle.extend(wide("任务表"));
        let book = [rec(0x9C, &bundle), rec(0x90, &[]), rec(0x9D, &[0; 12])].concat();
        let mut sheet = rec(0x81, &[]);
        let dims: Vec<u8> =
            [0, dim.0, 0, dim.1].iter().flat_map(|v: &u32| v.to_le_bytes()).collect();
        sheet.extend(rec(0x94, &dims));
        sheet.extend(rec(0x91, &[]));
        for &(r, c) in cells {
            let mut hdr = r.to_le_bytes().to_vec();
            hdr.extend([0; 4]);
            sheet.extend(rec(0x00, &hdr));
            let mut real = c.to_le_bytes().to_vec();
            real.extend([0; 4]);
            real.extend(42f64.to_le_bytes());
            sheet.extend(rec(0x05, &real));
        }
        sheet.extend(rec(0x92, &[]));
        let rels = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.bin"/></Relationships>"#;
        zip_of(&[
            ("xl/workbook.bin", &book),
            ("xl/_rels/workbook.bin.rels", rels),
            ("xl/worksheets/sheet1.bin", &sheet),
        ])
    }

    #[test]
    fn xlsb_sheets_are_walked() {
        let ok = xlsb(&[(0, 0), (2, 3)], (2, 3));
        check(&ok, "xlsb").expect("small xlsb");
        let mut wb: Xlsb<_> = open_workbook_from_rs(Cursor::new(ok)).expect("opens");
        let range = wb.worksheet_range("任务表").expect("reads");
        assert_eq!(range.get_value((2, 3)), Some(&Data::Float(42.0)));
        let far = xlsb(&[(0, 0), (1_048_575, 16_383)], (0, 0));
        let e = check(&far, "xlsb").expect_err("far cell");
        assert_eq!(
            e.message,
            "工作表\"任务表\"使用的区域过大（到 第 1048576 行，超过 10000 行 × 200 列）"
        );
        let wide_cell = xlsb(&[(0, 0), (5, 5000)], (0, 0));
        let e = check(&wide_cell, "xlsb").expect_err("far column");
        assert!(e.message.contains("到 GJI6"), "{}", e.message);
        let dim = xlsb(&[(0, 0)], (2_000_000, 3));
        assert!(check(&dim, "xlsb").is_err());
    }

    // --- .xls: a compound file built by hand --------------------------------

    fn biff(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    /// A BIFF8 Workbook stream with one sheet "任务表" holding numbers.
    fn biff_stream(
        cells: &[(u16, u16)],
        dims: (u32, u32, u16, u16),
        extra: &[u8],
    ) -> Vec<u8> {
        let bof = |dt: u16| {
            let mut d = 0x0600u16.to_le_bytes().to_vec();
            d.extend(dt.to_le_bytes());
            d.extend([0; 12]);
            biff(0x0809, &d)
        };
        let name: Vec<u8> =
            "任务表".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let boundsheet = |pos: u32| {
            let mut d = pos.to_le_bytes().to_vec();
            d.extend([0, 0, 3, 1]);
            d.extend(&name);
            biff(0x0085, &d)
        };
        let padding = biff(0x0867, &vec![0; 4100]);
        let globals_len =
            bof(5).len() + boundsheet(0).len() + extra.len() + padding.len() + 4;
        let mut s = bof(5);
        s.extend(boundsheet(globals_len as u32));
        s.extend(extra);
        s.extend(padding);
        s.extend(biff(0x000A, &[]));
        assert_eq!(s.len(), globals_len);
        s.extend(bof(0x10));
        let mut d = dims.0.to_le_bytes().to_vec();
        d.extend(dims.1.to_le_bytes());
        d.extend(dims.2.to_le_bytes());
        d.extend(dims.3.to_le_bytes());
        d.extend([0, 0]);
        s.extend(biff(0x0200, &d));
        for &(r, c) in cells {
            let mut d = r.to_le_bytes().to_vec();
            d.extend(c.to_le_bytes());
            d.extend([0, 0]);
            d.extend(7f64.to_le_bytes());
            s.extend(biff(0x0203, &d));
        }
        s.extend(biff(0x000A, &[]));
        s
    }

    /// A version 3 compound file: FAT in sector 0, directory in sector 1, the
    /// Workbook stream from sector 2. `dir_next` is the FAT entry after the
    /// directory sector (normally the end of the chain).
    fn cfb(stream: &[u8], dir_next: u32) -> Vec<u8> {
        let sectors = stream.len().div_ceil(512);
        assert!(stream.len() >= 4096 && sectors + 2 <= 128);
        let mut h = vec![0u8; 512];
        h[..8].copy_from_slice(&CFB_MAGIC);
        h[24..26].copy_from_slice(&0x3Eu16.to_le_bytes());
        h[26..28].copy_from_slice(&3u16.to_le_bytes());
        h[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
        h[30..32].copy_from_slice(&9u16.to_le_bytes());
        h[32..34].copy_from_slice(&6u16.to_le_bytes());
        h[44..48].copy_from_slice(&1u32.to_le_bytes());
        h[48..52].copy_from_slice(&1u32.to_le_bytes());
        h[56..60].copy_from_slice(&4096u32.to_le_bytes());
        h[60..64].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
        h[68..72].copy_from_slice(&ENDOFCHAIN.to_le_bytes());
        for i in 0..109 {
            let v: u32 = if i == 0 { 0 } else { u32::MAX };
            h[76 + 4 * i..80 + 4 * i].copy_from_slice(&v.to_le_bytes());
        }
        let mut fat = vec![u32::MAX; 128];
        fat[0] = 0xFFFF_FFFD;
        fat[1] = dir_next;
        for i in 0..sectors {
            fat[2 + i] = if i + 1 == sectors { ENDOFCHAIN } else { (3 + i) as u32 };
        }
        let mut out = h;
        out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
        let entry = |name: &str, typ: u8, child: u32, start: u32, len: u32| {
            let mut e = vec![0u8; 128];
            let units: Vec<u8> =
                name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            e[..units.len()].copy_from_slice(&units);
            e[64..66].copy_from_slice(&((units.len() + 2) as u16).to_le_bytes());
            e[66] = typ;
            e[67] = 1;
            e[68..72].copy_from_slice(&u32::MAX.to_le_bytes());
            e[72..76].copy_from_slice(&u32::MAX.to_le_bytes());
            e[76..80].copy_from_slice(&child.to_le_bytes());
            e[116..120].copy_from_slice(&start.to_le_bytes());
            e[120..124].copy_from_slice(&len.to_le_bytes());
            e
        };
        out.extend(entry("Root Entry", 5, 1, ENDOFCHAIN, 0));
        out.extend(entry("Workbook", 2, u32::MAX, 2, stream.len() as u32));
        out.extend(vec![0u8; 256]);
        let mut data = stream.to_vec();
        data.resize(sectors * 512, 0);
        out.extend(data);
        out
    }

    #[test]
    fn xls_normal_passes_and_calamine_reads_it() {
        let bytes = cfb(&biff_stream(&[(0, 0), (3, 2)], (0, 4, 0, 3), &[]), ENDOFCHAIN);
        check(&bytes, "xls").expect("small xls");
        let mut wb: Xls<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("opens");
        let range = wb.worksheet_range("任务表").expect("reads");
        assert_eq!(range.get_value((3, 2)), Some(&Data::Float(7.0)));
    }

    #[test]
    fn xls_far_cells_and_dimensions_are_refused() {
        let far =
            cfb(&biff_stream(&[(0, 0), (65_535, 255)], (0, 4, 0, 3), &[]), ENDOFCHAIN);
        let e = check(&far, "xls").expect_err("far cell");
        assert_eq!(
            e.message,
            "工作表\"任务表\"使用的区域过大（到 IV65536，超过 10000 行 × 200 列）"
        );
        // calamine reserves rows × columns cells from this record.
        let dims =
            cfb(&biff_stream(&[(0, 0)], (0, 0x7FFF_FFFF, 0, 200), &[]), ENDOFCHAIN);
        assert!(check(&dims, "xls").expect_err("dims").message.contains("区域过大"));
        let backwards = cfb(&biff_stream(&[(0, 0)], (9, 2, 0, 3), &[]), ENDOFCHAIN);
        assert!(
            check(&backwards, "xls")
                .expect_err("rev")
                .message
                .starts_with("工作簿已损坏")
        );
    }

    #[test]
    fn xls_chain_cycles_are_refused() {
        let bytes = cfb(&biff_stream(&[(0, 0)], (0, 1, 0, 1), &[]), 1);
        let e = check(&bytes, "xls").expect_err("cycle");
        assert_eq!(e.message, "工作簿已损坏：复合文件的目录链有循环");
    }

    #[test]
    fn xls_panics_become_errors() {
        // A CodePage record one byte long: calamine slices two bytes from it.
        let stream = biff_stream(&[(0, 0)], (0, 1, 0, 1), &biff(0x0042, &[1]));
        let bytes = cfb(&stream, ENDOFCHAIN);
        check(&bytes, "xls").expect("the record itself is not checked");
        let e = open_guarded(
            move || {
                let wb: Result<Xls<_>, _> = open_workbook_from_rs(Cursor::new(bytes));
                wb.is_ok()
            },
            Duration::from_secs(10),
        )
        .expect_err("calamine panics");
        assert_eq!(e.message, "工作簿已损坏，无法读取");
    }

    #[test]
    fn mutated_workbooks_never_panic_the_check() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let samples = [
            ("xlsx", normal_book()),
            ("ods", ods(&ods_content(ODS_TABLE))),
            ("xls", cfb(&biff_stream(&[(0, 0), (3, 2)], (0, 4, 0, 3), &[]), ENDOFCHAIN)),
            ("xlsb", xlsb(&[(0, 0), (2, 3)], (2, 3))),
        ];
        for (ext, good) in samples {
            for round in 0..300 {
                let mut bad = good.clone();
                let flips = 1 + next() % 8;
                for _ in 0..flips {
                    let at = (next() % bad.len() as u64) as usize;
                    bad[at] = next() as u8;
                }
                if round % 10 == 0 {
                    bad.truncate((next() % bad.len() as u64) as usize);
                }
                let start = Instant::now();
                let _ = check(&bad, ext);
                assert!(start.elapsed() < Duration::from_secs(5), "{ext} round {round}");
            }
        }
    }

    #[test]
    fn format_and_size_gates() {
        let e = check(b"hello", "csv").expect_err("ext");
        assert!(e.message.contains("不支持"), "{}", e.message);
        let e = check(b"hello", "xlsx").expect_err("garbage");
        assert!(e.message.contains("无法识别"), "{}", e.message);
        let small = Limits { max_bytes: 10, ..Limits::default() };
        let e = check_workbook(&normal_book(), "xlsx", &small).expect_err("size");
        assert_eq!(e.message, "工作簿超过 10 字节");
    }

    #[test]
    fn open_guarded_catches_panics_and_bounds_time() {
        assert_eq!(open_guarded(|| 6 * 7, Duration::from_secs(5)), Ok(42));
        let e = open_guarded(
            || -> u32 {
                let v: Vec<u32> = Vec::new();
                v[usize::from(std::hint::black_box(3u8))]
            },
            Duration::from_secs(5),
        )
        .expect_err("panic");
        assert_eq!(e.message, "工作簿已损坏，无法读取");
        let start = Instant::now();
        let e = open_guarded(
            || thread::sleep(Duration::from_secs(3)),
            Duration::from_millis(100),
        )
        .expect_err("timeout");
        assert_eq!(e.message, "工作簿读取超时（可能已损坏）");
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    // --- PNG ----------------------------------------------------------------

    fn chunk(typ: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = typ.to_vec();
        body.extend_from_slice(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
        out
    }

    fn png(w: u32, h: u32, end: bool) -> Vec<u8> {
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([8, 0, 0, 0, 0]);
        let mut out = PNG_SIGNATURE.to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        // zlib, one stored block: filter byte 0 and one grey pixel.
        out.extend(chunk(
            b"IDAT",
            &[0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0, 0x80, 0x00, 0x81, 0x00, 0x81],
        ));
        if end {
            out.extend(chunk(b"IEND", &[]));
        }
        out
    }

    #[test]
    fn png_checks() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(check_png(&png(1, 1, true), 16_000_000), Ok((1, 1)));
        let e = check_png(&png(20_000, 20_000, true), 16_000_000).expect_err("huge");
        assert_eq!(e.message, "图片尺寸过大（20000 × 20000 像素，超过 1600 万像素）");
        let e = check_png(&png(1, 1, false), 16_000_000).expect_err("truncated");
        assert!(e.message.contains("不完整"), "{}", e.message);
        let mut bad = png(1, 1, true);
        bad[20] ^= 1;
        let e = check_png(&bad, 16_000_000).expect_err("crc");
        assert!(e.message.contains("校验失败"), "{}", e.message);
        let e = check_png(b"GIF89a", 16_000_000).expect_err("not png");
        assert_eq!(e.message, "图片不是 PNG 格式");
        let e = check_png(&png(0, 5, true), 16_000_000).expect_err("zero");
        assert!(e.message.contains("宽高"), "{}", e.message);
        let mut cut = png(1, 1, true);
        cut.truncate(40);
        assert!(check_png(&cut, 16_000_000).is_err());
    }
}
