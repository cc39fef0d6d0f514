//! Who does what: one task list per unit, the unit × count summary, and the
//! 责任调整对照表 between two versions of an indicator table.

use std::collections::BTreeMap;

use crate::doc::{self, Align, Block, Cell, Column, Document, Width};
use crate::model::{Indicator, IndicatorKind};
use crate::registry::{Registry, Role, UnitRef, split_units};

use super::title::balance_title;

/// A stand-alone document made of a title, optional notes and a table.
pub fn table_document(
    title: &str,
    notes: &[String],
    table: doc::Table,
    landscape: bool,
) -> Document {
    let mut inner = vec![Block::Title(balance_title(title)), Block::Blank(1)];
    for n in notes {
        inner.push(Block::Para {
            runs: vec![doc::Run::new(doc::FontRole::Fang, n.clone())],
            indent: true,
        });
    }
    inner.push(Block::Table(table));
    let blocks = if landscape { vec![Block::Landscape(inner)] } else { inner };
    Document { title: title.to_string(), blocks, banji: None }
}

/// The number of an indicator as printed in lists: `12`, `加分项1`.
pub fn indicator_number(ind: &Indicator) -> String {
    match &ind.kind {
        IndicatorKind::Main => ind.seq.to_string(),
        IndicatorKind::Extra(k) => format!("{k}{}", ind.seq),
    }
}

/// Every unit named by the indicators, registered units first (registry order),
/// then collective names in order of appearance; with its tasks and roles.
pub fn tasks_by_unit<'a>(
    reg: &Registry,
    inds: &'a [Indicator],
) -> Vec<(String, Vec<(&'a Indicator, Role)>)> {
    let mut order: Vec<String> = reg.units.iter().map(|u| u.name.clone()).collect();
    let mut map: BTreeMap<String, Vec<(&Indicator, Role)>> = BTreeMap::new();
    for ind in inds {
        let refs: Vec<UnitRef> = if ind.unit_refs.is_empty() {
            split_units(&ind.units.value)
                .into_iter()
                .map(|(text, role)| UnitRef::Collective { text, role })
                .collect()
        } else {
            ind.unit_refs.clone()
        };
        for r in refs {
            let name = r.name().to_string();
            if !order.contains(&name) {
                order.push(name.clone());
            }
            let list = map.entry(name).or_default();
            if !list.iter().any(|(i, _)| std::ptr::eq(*i, ind)) {
                list.push((ind, r.role()));
            }
        }
    }
    order.into_iter().filter_map(|n| map.remove(&n).map(|v| (n, v))).collect()
}

/// One unit's task list: 序号 / 三级指标 / 填报材料 / 角色 / 完成时限.
pub fn unit_task_list(
    unit: &str,
    project: &str,
    tasks: &[(&Indicator, Role)],
) -> Document {
    let rows = tasks
        .iter()
        .map(|(ind, role)| {
            vec![
                Cell::new(indicator_number(ind)),
                Cell::new(ind.text.value.clone()),
                Cell::new(ind.materials.value.clone()),
                Cell::new(match role {
                    Role::Lead => "牵头",
                    Role::Support => "配合",
                }),
                Cell::new(
                    ind.deadline.as_ref().map(|d| d.value.clone()).unwrap_or_default(),
                ),
            ]
        })
        .collect();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(16.0), align: Align::Center },
            Column { width: Width::Fr(3), align: Align::Left },
            Column { width: Width::Fr(3), align: Align::Left },
            Column { width: Width::Mm(16.0), align: Align::Center },
            Column { width: Width::Mm(30.0), align: Align::Center },
        ],
        header: ["序号", "三级指标", "填报材料", "角色", "完成时限"]
            .map(String::from)
            .to_vec(),
        rows,
        size_pt: 12.0,
    };
    let lead = tasks.iter().filter(|(_, r)| *r == Role::Lead).count();
    let note = format!(
        "{unit}承担{project}任务 {} 项，其中牵头 {lead} 项，配合 {} 项。",
        tasks.len(),
        tasks.len() - lead
    );
    table_document(&format!("{unit}任务清单"), &[note], table, true)
}

/// The summary: every unit with its counts of lead and supporting tasks.
pub fn unit_summary(
    title: &str,
    units: &[(String, Vec<(&Indicator, Role)>)],
) -> Document {
    let rows = units
        .iter()
        .enumerate()
        .map(|(i, (name, tasks))| {
            let lead = tasks.iter().filter(|(_, r)| *r == Role::Lead).count();
            vec![
                Cell::new((i + 1).to_string()),
                Cell::new(name.clone()),
                Cell::new(lead.to_string()),
                Cell::new((tasks.len() - lead).to_string()),
                Cell::new(tasks.len().to_string()),
            ]
        })
        .collect();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(16.0), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Left },
            Column { width: Width::Mm(22.0), align: Align::Center },
            Column { width: Width::Mm(22.0), align: Align::Center },
            Column { width: Width::Mm(22.0), align: Align::Center },
        ],
        header: ["序号", "单位", "牵头", "配合", "合计"].map(String::from).to_vec(),
        rows,
        size_pt: 12.0,
    };
    let total: usize = units.iter().map(|(_, t)| t.len()).sum();
    let note =
        format!("共{}个单位承担任务{total}项次（牵头与配合分别计数）。", units.len());
    table_document(title, &[note], table, false)
}

/// How the units of one indicator changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// 序号 as printed.
    pub number: String,
    /// 三级指标 text (the new one).
    pub text: String,
    /// 责任单位 before and after, as written.
    pub before: String,
    /// After.
    pub after: String,
    /// Units that were added.
    pub gained: Vec<String>,
    /// Units that were removed.
    pub lost: Vec<String>,
}

fn key(ind: &Indicator) -> (String, u32) {
    let k = match &ind.kind {
        IndicatorKind::Main => String::new(),
        IndicatorKind::Extra(k) => k.clone(),
    };
    (k, ind.seq)
}

/// The indicators whose units changed, matched by list and number; indicators
/// only in one version count as all gained or all lost.
pub fn diff_units(old: &[Indicator], new: &[Indicator]) -> Vec<Change> {
    let names = |i: &Indicator| -> Vec<String> {
        let mut v: Vec<String> =
            split_units(&i.units.value).into_iter().map(|(n, _)| n).collect();
        if let Some(co) = &i.co_units {
            v.extend(split_units(&co.value).into_iter().map(|(n, _)| n));
        }
        v
    };
    let old_map: BTreeMap<_, &Indicator> = old.iter().map(|i| (key(i), i)).collect();
    let new_map: BTreeMap<_, &Indicator> = new.iter().map(|i| (key(i), i)).collect();
    let mut out = Vec::new();
    let mut keys: Vec<(String, u32)> =
        old_map.keys().chain(new_map.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    // main list first, then 附加项
    keys.sort_by_key(|(k, n)| (!k.is_empty(), k.clone(), *n));
    for k in keys {
        let (o, n) = (old_map.get(&k), new_map.get(&k));
        let before = o.map(|i| names(i)).unwrap_or_default();
        let after = n.map(|i| names(i)).unwrap_or_default();
        let gained: Vec<String> =
            after.iter().filter(|x| !before.contains(x)).cloned().collect();
        let lost: Vec<String> =
            before.iter().filter(|x| !after.contains(x)).cloned().collect();
        if gained.is_empty() && lost.is_empty() {
            continue;
        }
        let any = n.or(o).expect("a key comes from one of the maps");
        out.push(Change {
            number: indicator_number(any),
            text: any.text.value.clone(),
            before: o.map(|i| i.units.value.clone()).unwrap_or_default(),
            after: n.map(|i| i.units.value.clone()).unwrap_or_default(),
            gained,
            lost,
        });
    }
    out
}

/// 责任调整对照表: 序号 / 三级指标 / 调整前 / 调整后.
pub fn change_table(title: &str, changes: &[Change]) -> Document {
    let rows = changes
        .iter()
        .map(|c| {
            vec![
                Cell::new(c.number.clone()),
                Cell::new(c.text.clone()),
                Cell::new(if c.before.is_empty() {
                    "——".into()
                } else {
                    c.before.clone()
                }),
                Cell::new(if c.after.is_empty() {
                    "——".into()
                } else {
                    c.after.clone()
                }),
            ]
        })
        .collect();
    let table = doc::Table {
        columns: vec![
            Column { width: Width::Mm(18.0), align: Align::Center },
            Column { width: Width::Fr(3), align: Align::Left },
            Column { width: Width::Fr(1), align: Align::Center },
            Column { width: Width::Fr(1), align: Align::Center },
        ],
        header: ["序号", "三级指标", "调整前", "调整后"].map(String::from).to_vec(),
        rows,
        size_pt: 12.0,
    };
    let note = format!("共 {} 项指标的责任单位有调整。", changes.len());
    table_document(title, &[note], table, true)
}
