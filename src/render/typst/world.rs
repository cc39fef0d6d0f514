//! Our Typst World: the generated main file, the style library, the fonts module
//! and the case's images, served from bytes that were checked when the case was
//! read; nothing is read from disk while laying out, no packages, no network, a
//! fixed date.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use super::fonts::FontSet;

/// The style library, embedded; `--templates DIR` may replace it with `DIR/typst/gongwen.typ`.
pub const STYLE_LIBRARY: &str = include_str!("../../../templates/typst/gongwen.typ");

/// Virtual path of the generated main file (named so errors say what it is).
pub const MAIN_PATH: &str = "/生成/公文.typ";

/// One compilation's world.
pub struct GongwenWorld {
    /// The standard library, built once.
    library: Arc<LazyHash<Library>>,
    /// Fonts, shared across documents of a run.
    fonts: Arc<FontSet>,
    /// The generated main file.
    main: FileId,
    /// Sources by id: main, style library, fonts module.
    sources: HashMap<FileId, Source>,
    /// The case's images by their path in the case folder (checked at load).
    images: Arc<BTreeMap<String, Vec<u8>>>,
    /// "Today" for Typst's `datetime.today()`: fixed per run.
    today: Datetime,
}

fn id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("our own virtual paths are valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// The standard library, shared by all documents of a run.
pub fn library() -> Arc<LazyHash<Library>> {
    Arc::new(LazyHash::new(Library::default()))
}

impl GongwenWorld {
    /// A world for one generated main file.
    pub fn new(
        library: Arc<LazyHash<Library>>,
        fonts: Arc<FontSet>,
        main_source: String,
        style: &str,
        images: Arc<BTreeMap<String, Vec<u8>>>,
        today: chrono::NaiveDate,
    ) -> Result<Self, String> {
        use chrono::Datelike;
        let main = id(MAIN_PATH);
        let mut sources = HashMap::new();
        sources.insert(main, Source::new(main, main_source));
        let lib = id("/gongwen.typ");
        sources.insert(lib, Source::new(lib, style.to_string()));
        let fm = id("/fonts.typ");
        sources.insert(fm, Source::new(fm, fonts.fonts_module()));
        let today = Some(today.year())
            .filter(|y| (1..=9999).contains(y))
            .and_then(|y| Datetime::from_ymd(y, today.month() as u8, today.day() as u8))
            .ok_or_else(|| format!("日期 {today} 超出可用范围（1 至 9999 年）"))?;
        Ok(Self { library, fonts, main, sources, images, today })
    }

    /// Replaces the generated main source (a new layout round); Typst reparses
    /// only what changed.
    pub fn set_main(&mut self, text: &str) {
        match self.sources.get_mut(&self.main) {
            Some(source) => {
                source.replace(text);
            }
            None => {
                self.sources.insert(self.main, Source::new(self.main, text.to_string()));
            }
        }
    }

    /// The text of a source, for diagnostics.
    pub fn source_text(&self, id: FileId) -> Option<&Source> {
        self.sources.get(&id)
    }
}

impl World for GongwenWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.sources
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(PathBuf::from(format!("{id:?}"))))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(s) = self.sources.get(&id) {
            return Ok(Bytes::from_string(s.clone()));
        }
        let path = id.get().vpath().get_without_slash();
        self.images
            .get(path)
            .map(|b| Bytes::new(b.clone()))
            .ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
