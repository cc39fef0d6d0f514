//! The unit registry of a case (`单位.toml`): canonical names, short names and
//! aliases, kinds; and reading the 责任单位 cells that name them.
//!
//! Cells name several units separated by 、，,；; or line breaks, and mark lead and
//! co-operating units ("市政府办公室牵头，其他相关单位配合"). Collective names
//! (县直各单位, 各乡镇) and markers (已完成, ——) are kept as written.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Location};

/// A registered unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Canonical name, e.g. 县司法局.
    pub name: String,
    /// Other spellings that mean this unit (司法局, 县委依法治县办公室 …).
    pub aliases: Vec<String>,
    /// Kind: 乡镇, 县直单位, 垂管单位 ….
    pub kind: Option<String>,
}

/// All units of a case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    /// Units in file order.
    pub units: Vec<Unit>,
    /// Every spelling (canonical and aliases, without spaces) → index into `units`.
    index: BTreeMap<String, usize>,
}

/// The role a unit plays for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// 牵头单位 (or the only unit named).
    Lead,
    /// 配合单位.
    Support,
}

/// One entry of a 责任单位 cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnitRef {
    /// A registered unit (canonical name).
    Unit {
        /// The registered name.
        name: String,
        /// Lead or supporting.
        role: Role,
    },
    /// A collective or unregistered description kept as written (县直各单位).
    Collective {
        /// The text as written.
        text: String,
        /// Lead or supporting.
        role: Role,
    },
}

impl UnitRef {
    /// The name as printed.
    pub fn name(&self) -> &str {
        match self {
            UnitRef::Unit { name, .. } => name,
            UnitRef::Collective { text, .. } => text,
        }
    }

    /// Lead or support.
    pub fn role(&self) -> Role {
        match self {
            UnitRef::Unit { role, .. } | UnitRef::Collective { role, .. } => *role,
        }
    }
}

/// Cell contents that are not units but a state of the task.
pub const MARKERS: &[&str] = &["已完成", "——", "—", "-", "无", "/", "／"];

fn key(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether a name is a collective description rather than one unit.
pub fn is_collective(name: &str) -> bool {
    ["各", "其他", "相关", "有关", "全体", "所有", "本级", "下辖"]
        .iter()
        .any(|p| name.starts_with(p))
        || name.contains("各")
        || name.ends_with("等")
        || name.ends_with("梳理")
}

impl Registry {
    /// Builds the registry; duplicate spellings are errors at their place.
    pub fn new(units: Vec<(Unit, Location)>) -> (Registry, Vec<Diagnostic>) {
        let mut reg = Registry::default();
        let mut diags = Vec::new();
        for (u, loc) in units {
            let idx = reg.units.len();
            for spelling in std::iter::once(&u.name).chain(&u.aliases) {
                if let Some(&other) = reg.index.get(&key(spelling)) {
                    diags.push(Diagnostic::error(
                        loc.clone(),
                        format!(
                            "单位名称\"{spelling}\"重复（已用于\"{}\"）",
                            reg.units[other].name
                        ),
                    ));
                } else {
                    reg.index.insert(key(spelling), idx);
                }
            }
            reg.units.push(u);
        }
        (reg, diags)
    }

    /// Whether no unit is registered.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The canonical name for a spelling.
    pub fn resolve(&self, name: &str) -> Option<&Unit> {
        self.index.get(&key(name)).map(|&i| &self.units[i])
    }

    /// The registered spelling closest to `name`, for "是否为…？" hints.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        let k = key(name);
        self.index
            .keys()
            .map(|s| (strsim::normalized_damerau_levenshtein(s, &k), s))
            .filter(|(score, _)| *score >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, s)| self.units[self.index[s]].name.as_str())
    }
}

/// Splits a 责任单位 cell into units with roles. Markers (已完成, ——) give an empty
/// list. A bracketed note ("（各政府部门配合提供相关材料）") names supporting units.
pub fn split_units(cell: &str) -> Vec<(String, Role)> {
    let text = cell.trim();
    if text.is_empty() || MARKERS.contains(&text) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // clauses: "A、B牵头，C配合" → lead A, B; support C
    let mut clauses: Vec<(String, Option<Role>)> = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    let chars = text.chars().peekable();
    for c in chars {
        match c {
            '（' | '(' => {
                if depth == 0 && !current.trim().is_empty() {
                    clauses.push((std::mem::take(&mut current), None));
                }
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '）' | ')' => {
                depth -= 1;
                if depth == 0 {
                    clauses.push((std::mem::take(&mut current), Some(Role::Support)));
                    continue;
                }
            }
            '，' | ',' | '；' | ';' | '。' | '\n' if depth == 0 => {
                clauses.push((std::mem::take(&mut current), None));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        clauses.push((current, None));
    }
    for (clause, forced) in clauses {
        let mut clause = clause.trim().to_string();
        let mut role = forced.unwrap_or(Role::Lead);
        for (suffix, r) in [
            ("牵头", Role::Lead),
            ("负责", Role::Lead),
            ("配合", Role::Support),
            ("协助", Role::Support),
        ] {
            if let Some(stripped) = clause.strip_suffix(suffix) {
                clause = stripped.trim().to_string();
                if forced.is_none() {
                    role = r;
                }
            }
        }
        // a bracketed note names units, then says what they do
        if forced.is_some()
            && let Some(i) = clause.find("配合")
        {
            clause.truncate(i);
        }
        for name in clause.split(['、', ' ', '\u{3000}', '/', '／']) {
            let name = name.trim();
            if !name.is_empty() && !MARKERS.contains(&name) {
                out.push((name.to_string(), role));
            }
        }
    }
    out
}

/// Resolves a cell against the registry: registered names become canonical,
/// collective names stay as written, anything else is an error with a hint.
pub fn resolve_cell(
    reg: &Registry,
    cell: &str,
    loc: &Location,
    diags: &mut Vec<Diagnostic>,
) -> Vec<UnitRef> {
    let mut out: Vec<UnitRef> = Vec::new();
    for (name, role) in split_units(cell) {
        let r = match reg.resolve(&name) {
            Some(u) => UnitRef::Unit { name: u.name.clone(), role },
            None if is_collective(&name) || reg.is_empty() => {
                UnitRef::Collective { text: name, role }
            }
            None => {
                let mut d =
                    Diagnostic::error(loc.clone(), format!("未登记的单位\"{name}\""));
                if let Some(n) = reg.nearest(&name) {
                    d.message = format!("未登记的单位\"{name}\"（是否为\"{n}\"？）");
                } else {
                    d = d.with_hint("在 单位.toml 中登记此单位，或写它的登记名称");
                }
                diags.push(d);
                continue;
            }
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registry {
        let u = |n: &str, a: &[&str]| {
            (
                Unit {
                    name: n.into(),
                    aliases: a.iter().map(|s| s.to_string()).collect(),
                    kind: None,
                },
                Location::None,
            )
        };
        Registry::new(vec![
            u("县司法局", &["司法局"]),
            u("县政府办公室", &["政府办", "县政府办"]),
            u("县法院", &["法院"]),
        ])
        .0
    }

    #[test]
    fn separators_roles_and_markers() {
        assert_eq!(
            split_units("政府办\n司法局"),
            vec![("政府办".into(), Role::Lead), ("司法局".into(), Role::Lead)]
        );
        assert_eq!(
            split_units("市政府办公室牵头，其他相关单位配合"),
            vec![
                ("市政府办公室".into(), Role::Lead),
                ("其他相关单位".into(), Role::Support)
            ]
        );
        assert_eq!(
            split_units("政府办、法院；司法局\n（各政府部门配合提供相关材料）"),
            vec![
                ("政府办".into(), Role::Lead),
                ("法院".into(), Role::Lead),
                ("司法局".into(), Role::Lead),
                ("各政府部门".into(), Role::Support)
            ]
        );
        assert!(split_units("已完成").is_empty());
        assert!(split_units("——").is_empty());
        assert_eq!(split_units("县委办公室 县政府办公室").len(), 2);
    }

    #[test]
    fn aliases_collectives_and_suggestions() {
        let r = reg();
        let mut diags = Vec::new();
        let got =
            resolve_cell(&r, "司法局、县直各单位、县司发局", &Location::None, &mut diags);
        assert_eq!(
            got,
            vec![
                UnitRef::Unit { name: "县司法局".into(), role: Role::Lead },
                UnitRef::Collective { text: "县直各单位".into(), role: Role::Lead },
            ]
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "未登记的单位\"县司发局\"（是否为\"县司法局\"？）");
    }
}
