//! Fonts: the free Fandol set built into the binary, system fonts, and folders
//! given with `--font-path`; one family chosen per role, official fonts first.

use std::path::PathBuf;
use std::sync::Arc;

use typst::foundations::Bytes;
use typst::text::{
    Font, FontBook, FontInfo, FontStretch, FontStyle, FontVariant, FontWeight,
};
use typst::utils::LazyHash;
use typst_kit::fonts::{FontPath, FontStore};

use crate::compose::GlyphCheck;
use crate::doc::FontRole;

/// The Fandol fonts carried by the repository (GPL with font exception, see fonts/COPYING).
const BUNDLED: &[(&str, &[u8])] = &[
    ("FandolSong-Regular.otf", include_bytes!("../../../fonts/FandolSong-Regular.otf")),
    ("FandolSong-Bold.otf", include_bytes!("../../../fonts/FandolSong-Bold.otf")),
    ("FandolFang-Regular.otf", include_bytes!("../../../fonts/FandolFang-Regular.otf")),
    ("FandolHei-Regular.otf", include_bytes!("../../../fonts/FandolHei-Regular.otf")),
    ("FandolKai-Regular.otf", include_bytes!("../../../fonts/FandolKai-Regular.otf")),
];

/// A bundled font file by name (the web page uses FandolHei for its own text
/// where the browser has no Chinese font).
pub fn bundled(name: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Where to look for fonts.
#[derive(Debug, Clone, Default)]
pub struct FontOptions {
    /// Extra folders (`--font-path`, `GONGWEN_FONT_PATHS`).
    pub paths: Vec<PathBuf>,
    /// Skip the system's fonts (tests, reproducible builds).
    pub ignore_system: bool,
}

/// A family and weight chosen for a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Face {
    /// Family name as Typst knows it.
    pub family: String,
    /// Bold or regular.
    pub bold: bool,
    /// Whether this is the official font (not a free stand-in).
    pub official: bool,
}

/// Candidates per role: official names first, then the bundled stand-in.
fn candidates(role: FontRole) -> (&'static [&'static str], (&'static str, bool)) {
    match role {
        FontRole::Title => (
            &[
                "方正小标宋简体",
                "FZXiaoBiaoSong-B05S",
                "方正小标宋_GBK",
                "FZXiaoBiaoSong-B05",
            ],
            ("FandolSong", true),
        ),
        FontRole::Fang => (
            &["仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong"],
            ("FandolFang R", false),
        ),
        FontRole::Hei => (&["黑体", "SimHei"], ("FandolHei", false)),
        FontRole::Kai => {
            (&["楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi"], ("FandolKai", false))
        }
        FontRole::Song => (&["宋体", "SimSun"], ("FandolSong", false)),
    }
}

/// Every font found, with the family chosen for each role.
pub struct FontSet {
    store: FontStore,
    faces: Vec<(FontRole, Face, usize)>,
    /// Where each font came from, for `gongwen fonts`.
    origins: Vec<String>,
    /// Per role (in the order of [`FontRole::ALL`]), the characters its font
    /// covers: read from the font once, then looked up.
    covered: [std::sync::OnceLock<Covered>; FontRole::ALL.len()],
}

impl FontSet {
    /// Loads the bundled fonts, then the system's and the given folders'.
    pub fn load(opts: &FontOptions) -> Arc<FontSet> {
        let mut store = FontStore::new();
        let mut origins = Vec::new();
        for (name, data) in BUNDLED {
            for font in Font::iter(Bytes::new(*data)) {
                let info = font.info().clone();
                store.push((font, info));
                origins.push(format!("内置 {name}"));
            }
        }
        let mut push_found = |found: Vec<(FontPath, FontInfo)>, store: &mut FontStore| {
            for (path, info) in found {
                origins.push(path.path.display().to_string());
                store.push((path, info));
            }
        };
        for dir in &opts.paths {
            push_found(typst_kit::fonts::scan(dir).collect(), &mut store);
        }
        if !opts.ignore_system {
            push_found(typst_kit::fonts::system().collect(), &mut store);
        }
        let mut set =
            FontSet { store, faces: Vec::new(), origins, covered: Default::default() };
        for role in FontRole::ALL {
            let (face, index) = set.choose(role);
            set.faces.push((role, face, index));
        }
        Arc::new(set)
    }

    fn choose(&self, role: FontRole) -> (Face, usize) {
        let book = self.store.book();
        let (official, (fallback, bold)) = candidates(role);
        for name in official {
            if let Some(idx) = book.select(&name.to_lowercase(), FontVariant::default()) {
                let family =
                    book.info(idx).map_or(name.to_string(), |i| i.family.clone());
                return (Face { family, bold: false, official: true }, idx);
            }
        }
        let weight = if bold { FontWeight::BOLD } else { FontWeight::REGULAR };
        let variant = FontVariant::new(FontStyle::Normal, weight, FontStretch::NORMAL);
        let idx = book.select(&fallback.to_lowercase(), variant).unwrap_or(0);
        (Face { family: fallback.to_string(), bold, official: false }, idx)
    }

    /// The face chosen for a role.
    pub fn face(&self, role: FontRole) -> &Face {
        &self
            .faces
            .iter()
            .find(|(r, _, _)| *r == role)
            .expect("every role is chosen at load")
            .1
    }

    /// The font chosen for a role.
    pub fn role_font(&self, role: FontRole) -> Option<Font> {
        let idx = self.faces.iter().find(|(r, _, _)| *r == role)?.2;
        self.store.font(idx)
    }

    /// A character's advance in em in a role's font (1 em when unknown).
    pub fn advance_em(&self, role: FontRole, c: char) -> f64 {
        // Han characters and full-width marks are one em in every 公文 font
        if !c.is_ascii() && !('\u{2000}'..='\u{206F}').contains(&c) {
            return 1.0;
        }
        let Some(font) = self.role_font(role) else { return 1.0 };
        let Ok(face) = ttf_parser::Face::parse(font.data(), font.index()) else {
            return 1.0;
        };
        let upem = f64::from(face.units_per_em());
        face.glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .map_or(1.0, |a| f64::from(a) / upem)
    }

    /// Typst's font book.
    pub fn book(&self) -> &LazyHash<FontBook> {
        self.store.book()
    }

    /// A font by index.
    pub fn font(&self, index: usize) -> Option<Font> {
        self.store.font(index)
    }

    /// All families found, with where each came from.
    pub fn families(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = (0..self.origins.len())
            .filter_map(|i| {
                Some((self.store.book().info(i)?.family.clone(), self.origins[i].clone()))
            })
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    /// The `/fonts.typ` module the style library imports.
    pub fn fonts_module(&self) -> String {
        let mut s =
            String::from("// 本次运行选用的字体（由 gongwen 生成）\n#let fonts = (\n");
        for role in FontRole::ALL {
            let f = self.face(role);
            s.push_str(&format!(
                "  {}: (family: {}, weight: \"{}\"),\n",
                role.key(),
                super::escape::string(&f.family),
                if f.bold { "bold" } else { "regular" }
            ));
        }
        s.push_str(")\n");
        s
    }
}

impl crate::layout::Measure for FontSet {
    fn advance_em(&self, role: FontRole, c: char) -> f64 {
        FontSet::advance_em(self, role, c)
    }
}

/// The characters a font covers: a bit per character of the Basic
/// Multilingual Plane, the others listed in order.
struct Covered {
    bmp: Vec<u64>,
    beyond: Vec<u32>,
}

impl Covered {
    fn of(font: &Font) -> Covered {
        let mut c = Covered { bmp: vec![0; 0x10000 / 64], beyond: Vec::new() };
        for cp in font.info().coverage.iter() {
            match usize::try_from(cp) {
                Ok(i) if i < 0x10000 => c.bmp[i / 64] |= 1 << (i % 64),
                _ => c.beyond.push(cp),
            }
        }
        c
    }

    fn contains(&self, ch: char) -> bool {
        let cp = ch as u32;
        match usize::try_from(cp) {
            Ok(i) if i < 0x10000 => self.bmp[i / 64] & (1 << (i % 64)) != 0,
            _ => self.beyond.binary_search(&cp).is_ok(),
        }
    }
}

impl GlyphCheck for FontSet {
    fn missing(&self, role: FontRole, text: &str) -> Option<char> {
        let font = self.role_font(role)?;
        // Typst's coverage walks the font's ranges for each character: read
        // once into a bitmap instead (texts repeat their characters endlessly)
        let slot = FontRole::ALL.iter().position(|r| *r == role)?;
        let covered = self.covered[slot].get_or_init(|| Covered::of(&font));
        text.chars().find(|c| !covered.contains(*c))
    }
}
