//! One column vocabulary and one header finder for every workbook a case or a
//! command reads: indicator tables (责任清单, 任务分解), rosters (名单), task
//! forces (专班) and score sheets (打分表).
//!
//! A header cell names a [`Field`] through [`VOCABULARY`], compared without
//! white space and without a trailing `(分)` (`分值（分）`). A few names mean
//! different things in different tables (`工作任务` is the material to hand in
//! for an indicator but the task itself on a score sheet; `名称` is a roster's
//! group or a task force's name): each kind of table says which fields it reads,
//! in order, and a name goes to the first of those fields that lists it.

use std::collections::BTreeMap;

/// A column a table may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// 序号.
    Seq,
    /// 一级指标.
    Level1,
    /// 二级指标.
    Level2,
    /// 三级指标 (the indicator text).
    Text,
    /// 责任单位 / 牵头单位 / 落实单位.
    Units,
    /// 配合单位.
    CoUnits,
    /// 填报材料 / 具体资料报送 / 工作任务 / 佐证材料.
    Materials,
    /// 完成时限.
    Deadline,
    /// 完成情况 / 状态.
    Status,
    /// 备注.
    Note,
    /// A roster's group (组长, 副组长, 成员).
    Group,
    /// A person's name.
    Name,
    /// A person's post.
    Post,
    /// A task force's name.
    TaskForce,
    /// A task force's member units.
    Members,
    /// Tasks: of a task force, or the scored task of a score sheet.
    Tasks,
    /// A score sheet's 主要职责 / 考核类别.
    Duty,
    /// A score sheet's 分值.
    Points,
    /// A score sheet's 检查标准.
    Rule,
}

/// Header names per field; the first is the one messages use.
pub const VOCABULARY: &[(Field, &[&str])] = &[
    (Field::Seq, &["序号", "编号", "序"]),
    (Field::Level1, &["一级指标", "一级"]),
    (Field::Level2, &["二级指标", "二级"]),
    (Field::Text, &["三级指标", "指标内容", "指标", "考核内容", "三级"]),
    (Field::Units, &["责任单位", "牵头单位", "落实单位", "责任部门", "牵头部门"]),
    (Field::CoUnits, &["配合单位", "协办单位", "配合部门"]),
    (
        Field::Materials,
        &["填报材料", "具体资料报送", "资料报送", "工作任务", "佐证材料", "报送材料"],
    ),
    (Field::Deadline, &["完成时限", "时限", "完成时间"]),
    (Field::Status, &["完成情况", "状态", "进展情况"]),
    (Field::Note, &["备注"]),
    (Field::Group, &["组别", "分组", "名称", "身份"]),
    (Field::Name, &["姓名", "成员"]),
    (Field::Post, &["职务", "现任职务"]),
    (Field::TaskForce, &["工作专班", "专班", "名称"]),
    (Field::Members, &["成员单位"]),
    (Field::Tasks, &["工作任务", "考核内容"]),
    (Field::Duty, &["主要职责", "考核类别"]),
    (Field::Points, &["分值"]),
    (Field::Rule, &["检查标准", "评分标准"]),
];

/// The fields of an indicator table.
pub const INDICATOR_FIELDS: &[Field] = &[
    Field::Seq,
    Field::Level1,
    Field::Level2,
    Field::Text,
    Field::Units,
    Field::CoUnits,
    Field::Materials,
    Field::Deadline,
    Field::Status,
    Field::Note,
];

/// The fields of a roster (名单), all required.
pub const ROSTER_FIELDS: &[Field] = &[Field::Group, Field::Name, Field::Post];

/// The fields of a task-force table (专班), all required.
pub const TASK_FORCE_FIELDS: &[Field] =
    &[Field::TaskForce, Field::Units, Field::Members, Field::Tasks];

/// The fields of a score sheet (打分表); only the task is required.
pub const SCORE_FIELDS: &[Field] =
    &[Field::Duty, Field::Tasks, Field::Points, Field::Units, Field::Rule];

/// Rows searched for a header.
const HEADER_ROWS: usize = 30;

/// A header cell's text as compared: no white space, no trailing `(分)`.
pub fn normalize(text: &str) -> String {
    let k: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    k.trim_end_matches("(分)").trim_end_matches("（分）").to_string()
}

/// The names of a field.
pub fn names(field: Field) -> &'static [&'static str] {
    VOCABULARY.iter().find(|(f, _)| *f == field).map_or(&[], |(_, n)| n)
}

/// The field, among `fields`, that a header cell names.
pub fn field_of(text: &str, fields: &[Field]) -> Option<Field> {
    let k = normalize(text);
    fields.iter().copied().find(|f| names(*f).contains(&k.as_str()))
}

/// A header row found: its index and the columns of each field it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The row, from 0.
    pub row: usize,
    /// Columns per field, left to right.
    pub cols: BTreeMap<Field, Vec<usize>>,
}

impl Header {
    /// The first column of a field.
    pub fn col(&self, f: Field) -> Option<usize> {
        self.cols.get(&f).map(|v| v[0])
    }
}

/// The first of the first 30 rows that names every field of `required` and at
/// least `min_fields` fields of `fields` in all.
pub fn find_header(
    rows: &[Vec<String>],
    fields: &[Field],
    required: &[Field],
    min_fields: usize,
) -> Option<Header> {
    rows.iter().take(HEADER_ROWS).enumerate().find_map(|(r, row)| {
        let mut cols: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
        for (c, text) in row.iter().enumerate() {
            if let Some(f) = field_of(text, fields) {
                cols.entry(f).or_default().push(c);
            }
        }
        (required.iter().all(|f| cols.contains_key(f)) && cols.len() >= min_fields)
            .then_some(Header { row: r, cols })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn names_are_compared_without_space_or_points() {
        assert_eq!(field_of("一级 指标", INDICATOR_FIELDS), Some(Field::Level1));
        assert_eq!(field_of("  序\u{3000}号 ", INDICATOR_FIELDS), Some(Field::Seq));
        assert_eq!(field_of("分值（分）", SCORE_FIELDS), Some(Field::Points));
        assert_eq!(field_of("说明", INDICATOR_FIELDS), None);
    }

    #[test]
    fn a_name_means_what_the_table_reads() {
        // 工作任务: material to hand in for an indicator, the task on a score sheet
        assert_eq!(field_of("工作任务", INDICATOR_FIELDS), Some(Field::Materials));
        assert_eq!(field_of("工作任务", SCORE_FIELDS), Some(Field::Tasks));
        assert_eq!(field_of("工作任务", TASK_FORCE_FIELDS), Some(Field::Tasks));
        // 名称: a roster's group, a task force's name
        assert_eq!(field_of("名称", ROSTER_FIELDS), Some(Field::Group));
        assert_eq!(field_of("名称", TASK_FORCE_FIELDS), Some(Field::TaskForce));
        // 牵头单位 and 责任单位 are one field everywhere
        for fields in [INDICATOR_FIELDS, TASK_FORCE_FIELDS, SCORE_FIELDS] {
            assert_eq!(field_of("牵头单位", fields), Some(Field::Units));
            assert_eq!(field_of("责任 单位", fields), Some(Field::Units));
        }
    }

    #[test]
    fn the_header_is_the_first_row_naming_what_is_required() {
        let rows = vec![
            row(&["某县任务表"]),
            row(&["序号", "说明"]),
            row(&["序 号", "指标内容", "牵头单位", "牵头单位"]),
        ];
        let h = find_header(&rows, INDICATOR_FIELDS, &[Field::Text], 2).unwrap();
        assert_eq!(h.row, 2);
        assert_eq!(h.col(Field::Text), Some(1));
        assert_eq!(h.cols[&Field::Units], vec![2, 3]);
        // a roster needs all three
        let roster = vec![row(&["分组", "姓名"]), row(&["身份", "姓名", "现任职务"])];
        let h = find_header(&roster, ROSTER_FIELDS, ROSTER_FIELDS, 0).unwrap();
        assert_eq!((h.row, h.col(Field::Post)), (1, Some(2)));
        // nothing past the 30th row
        let mut late = vec![row(&[""]); 30];
        late.push(row(&["三级指标", "责任单位"]));
        assert!(find_header(&late, INDICATOR_FIELDS, &[Field::Text], 2).is_none());
    }
}
