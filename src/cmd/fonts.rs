//! `gongwen fonts`: the fonts found, and the one chosen for each role.

use super::FontArgs;
use crate::doc::FontRole;

/// Runs `gongwen fonts`.
pub fn execute(a: &FontArgs) {
    let set = a.load();
    outln!("各用途选用的字体：");
    for role in FontRole::ALL {
        let f = set.face(role);
        let kind = if f.official { "正式字体" } else { "免费替代字体" };
        let weight = if f.bold { "（粗）" } else { "" };
        outln!(
            "  {}：{}{}（{}；DOCX 中写作 {}）",
            role.label(),
            f.family,
            weight,
            kind,
            role.official_name()
        );
    }
    outln!("找到的字体族：");
    for (family, origin) in set.families() {
        outln!("  {family}  —  {origin}");
    }
}
