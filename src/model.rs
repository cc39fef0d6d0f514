//! Checked domain types of a case: what the office wants to issue.
//!
//! Glossary (Chinese term → identifier):
//! 版头 `Header`, 份号 `copy_no`, 密级 `secret`, 紧急程度 `urgency`, 发文机关标志 `organs`,
//! 发文字号 `DocNumber`, 签发人 `signers`, 标题 `title`, 主送机关 `addressees`,
//! 正文 `body`, 附件说明 (derived from `annexes`), 发文机关署名 `signature`,
//! 成文日期 `date`, 附注 `note`, 方案 `Plan`, 章节 `Section`, 创建步骤 `Stage`,
//! 完成时限 `Deadline`, 指标 `Indicator`, 三级指标 `text`, 填报材料 `materials`,
//! 责任单位 `units`, 附件 `Annex`, 版记 `Banji`, 抄送 `cc`, 印发机关 `printer`.
//!
//! Text that is a wording template (paragraphs of the notice and the plan) is kept
//! as written with its location; `compose` renders it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::deadline::Deadline;
use crate::diag::Location;

/// A value with the place it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where the user wrote it.
    pub loc: Location,
}

impl<T> Located<T> {
    /// Wraps a value.
    pub fn new(value: T, loc: Location) -> Self {
        Self { value, loc }
    }
}

/// A whole case: one notice with the plan it issues and the plan's annexes.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stem of the output files (`out/<name>.pdf`).
    pub name: String,
    /// Folder the case was read from (images are resolved against it).
    pub dir: Option<PathBuf>,
    /// Template variables (`[变量]`).
    pub vars: BTreeMap<String, Located<String>>,
    /// 版头.
    pub header: Header,
    /// The notice itself.
    pub notice: Notice,
    /// The plan printed after the notice, if any.
    pub plan: Option<Plan>,
    /// 创建步骤.
    pub stages: Vec<Stage>,
    /// Indicators (for annex tables and wording templates).
    pub indicators: Vec<Indicator>,
    /// Annexes in print order.
    pub annexes: Vec<Annex>,
    /// The unit registry (empty when the case has none).
    pub registry: crate::registry::Registry,
    /// 版记.
    pub banji: Option<Banji>,
    /// What was read but left out (a note row of a workbook, say): worth a
    /// look, printed by every command, not a reason to stop.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

/// 版头.
#[derive(Debug, Clone)]
pub struct Header {
    /// 份号 (6 digits).
    pub copy_no: Option<Located<String>>,
    /// 密级 with 保密期限, e.g. `机密★1年`.
    pub secret: Option<Located<String>>,
    /// 紧急程度.
    pub urgency: Option<Located<String>>,
    /// 发文机关标志: one organ, or several for 联合行文 (lead first).
    pub organs: Vec<Located<String>>,
    /// "文件" after the names, if used.
    pub wenjian: bool,
    /// 发文字号.
    pub number: DocNumber,
    /// 签发人 (上行文 only).
    pub signers: Vec<Located<String>>,
}

/// 发文字号: 机关代字〔年份〕序号号.
#[derive(Debug, Clone)]
pub struct DocNumber {
    /// 机关代字, e.g. 夏法政办.
    pub code: Located<String>,
    /// Four-digit year.
    pub year: i64,
    /// Sequence number (no padding).
    pub seq: i64,
}

impl std::fmt::Display for DocNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}〔{}〕{}号", self.code.value, self.year, self.seq)
    }
}

/// The notice part: title, addressees, body, signature.
#[derive(Debug, Clone)]
pub struct Notice {
    /// 标题 (a template; `\n` marks a wanted line break).
    pub title: Located<String>,
    /// 主送机关.
    pub addressees: Vec<Located<String>>,
    /// 正文 paragraphs (templates).
    pub body: Vec<Located<String>>,
    /// 发文机关署名 (several for 联合行文).
    pub signature: Vec<Located<String>>,
    /// 成文日期.
    pub date: Located<NaiveDate>,
    /// 加盖印章 layout.
    pub sealed: bool,
    /// Seal image, relative to the case folder.
    pub seal: Option<Located<String>>,
    /// 附注, without its parentheses.
    pub note: Option<Located<String>>,
}

/// The plan (方案) printed after the notice.
#[derive(Debug, Clone)]
pub struct Plan {
    /// 标题 (a template).
    pub title: Located<String>,
    /// Paragraphs before the first section (templates).
    pub intro: Vec<Located<String>>,
    /// Top-level sections (一、…).
    pub sections: Vec<Section>,
}

/// Where a section's children come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionSource {
    /// Written in the case file.
    Written,
    /// One run-in sub-section per 创建步骤.
    Stages,
    /// One sub-section per indicator (the main ones, then the 附加项, in data
    /// order), worded by a template; each line the template gives is a paragraph.
    Indicators {
        /// The wording of one indicator.
        template: Located<String>,
        /// The number in front of each.
        numbering: IndicatorNumbering,
    },
}

/// The number printed in front of each indicator of a plan section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorNumbering {
    /// The heading number of the level (（一）（二）…), in the heading's font.
    Heading,
    /// None: the template writes its own (`第{{ 指标.序号 }}项指标：`).
    None,
}

/// A numbered section of the plan; its level decides 一、（一）1.（1）.
#[derive(Debug, Clone)]
pub struct Section {
    /// Heading phrase without number (a template).
    pub title: Located<String>,
    /// Run-in text after the heading (`（一）创建主体。创建活动…`), if any.
    pub run_in: Option<Located<String>>,
    /// Paragraphs after the heading (templates).
    pub paragraphs: Vec<Located<String>>,
    /// Sub-sections (after the generated ones, if any).
    pub children: Vec<Section>,
    /// Paragraphs after the sub-sections (templates).
    pub closing: Vec<Located<String>>,
    /// Where generated children come from.
    pub source: SectionSource,
}

/// One 创建步骤.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Name, e.g. 全面自查.
    pub name: Located<String>,
    /// Deadline, parsed for checks and status.
    pub deadline: Located<Deadline>,
    /// The deadline as the user wrote it: printed exactly so, never reworded.
    pub deadline_text: String,
    /// Description (a template).
    pub text: Located<String>,
}

/// Which list an indicator belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndicatorKind {
    /// One of the numbered indicators.
    Main,
    /// 附加项 (加分项, 否决项 …), with its label.
    Extra(String),
}

/// A task's 完成时限, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The deadline.
    pub deadline: crate::deadline::Deadline,
    /// Whether the text names its year (`2024年3月底前`); a year-less one took
    /// the notice's year.
    pub names_year: bool,
}

/// Whether a 完成情况 text (or the 责任单位 marker) means done: the one rule.
pub fn is_done(status: Option<&str>, units: &str) -> bool {
    let status = status.map_or("", str::trim);
    status.contains("已完成")
        || status == "完成"
        || status == "已办结"
        || crate::case::tree::parse_date(status).is_some()
        || units.trim() == "已完成"
}

/// One indicator row.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// 序号 within its list.
    pub seq: u32,
    /// Main list or an extra item.
    pub kind: IndicatorKind,
    /// 一级指标, if the source has it.
    pub level1: Option<String>,
    /// 二级指标, if the source has it.
    pub level2: Option<String>,
    /// 三级指标 text.
    pub text: Located<String>,
    /// 填报材料 / 具体资料报送.
    pub materials: Located<String>,
    /// 责任单位 as written (may be 已完成, ——, or several lines).
    pub units: Located<String>,
    /// 配合单位 as written, when the source has that column.
    pub co_units: Option<Located<String>>,
    /// The units named, resolved against the registry (empty for 已完成 / ——).
    pub unit_refs: Vec<crate::registry::UnitRef>,
    /// 完成时限 as written (printed so).
    pub deadline: Option<Located<String>>,
    /// 完成时限 read, once, when the case is loaded (a year-less date takes the
    /// year of the notice's 成文日期); `None` without a 完成时限, or for
    /// indicators read outside a case.
    pub due: Option<Due>,
    /// 完成情况 as written (printed so).
    pub status: Option<Located<String>>,
    /// Whether the task is finished: its 完成情况 says so (已完成, 完成, 已办结
    /// or a date), or its 责任单位 is 已完成. Read when the indicator is read.
    pub done: bool,
    /// 备注.
    pub note: Option<String>,
    /// Where the 序号 is (for numbering errors).
    pub seq_loc: Location,
    /// The 序号 as written where it names its list (`加分项1`), printed so.
    pub seq_label: Option<String>,
}

/// A column of an indicator table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorColumn {
    /// 序号.
    Seq,
    /// 一级指标 (merged over its rows).
    Level1,
    /// 二级指标 (merged over its rows).
    Level2,
    /// 三级指标.
    Text,
    /// 填报材料 / 具体资料报送.
    Materials,
    /// 责任单位.
    Units,
    /// 配合单位.
    CoUnits,
    /// 完成时限.
    Deadline,
    /// 完成情况.
    Status,
    /// 备注.
    Note,
}

impl IndicatorColumn {
    /// Parses a column name of the case file.
    pub fn parse(s: &str) -> Option<Self> {
        use IndicatorColumn::*;
        Some(match s {
            "序号" => Seq,
            "一级指标" => Level1,
            "二级指标" => Level2,
            "三级指标" | "指标" => Text,
            "填报材料" | "具体资料报送" | "工作任务" | "佐证材料" => {
                Materials
            }
            "责任单位" | "牵头单位" => Units,
            "配合单位" => CoUnits,
            "完成时限" => Deadline,
            "完成情况" => Status,
            "备注" => Note,
            _ => return None,
        })
    }
}

/// A column with its header and width.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    /// Which data.
    pub column: IndicatorColumn,
    /// Header text.
    pub header: String,
    /// Width: millimetres, or a share of the rest (`Err(fr)`).
    pub width: Result<f64, u32>,
}

/// One line of a roster: a label (组长), and the people or collective text under it.
#[derive(Debug, Clone)]
pub struct RosterGroup {
    /// 组长 / 副组长 / 成员 ….
    pub label: Located<String>,
    /// Entries: (name, post) for a person; (text, "") for a collective list.
    pub members: Vec<Located<(String, String)>>,
}

/// A 工作专班.
#[derive(Debug, Clone)]
pub struct TaskForce {
    /// Name of the group.
    pub name: Located<String>,
    /// 牵头单位.
    pub lead: Located<String>,
    /// 成员单位.
    pub members: Located<String>,
    /// 工作任务.
    pub tasks: Located<String>,
}

/// The kinds of annex.
#[derive(Debug, Clone)]
pub enum AnnexBody {
    /// An indicator table (责任清单, 任务分解 …) with its columns.
    Indicators(Vec<ColumnSpec>),
    /// 领导小组成员名单, then paragraphs (templates).
    Roster(Vec<RosterGroup>, Vec<Located<String>>),
    /// 工作专班 table.
    TaskForces(Vec<TaskForce>),
    /// Paragraphs of text (templates).
    Text(Vec<Located<String>>),
}

/// One annex.
#[derive(Debug, Clone)]
pub struct Annex {
    /// Title (also the name in the 附件说明; a template).
    pub title: Located<String>,
    /// 说明 notes printed above a table.
    pub notes: Vec<Located<String>>,
    /// Printed landscape.
    pub landscape: bool,
    /// Content.
    pub body: AnnexBody,
}

/// 版记.
#[derive(Debug, Clone)]
pub struct Banji {
    /// 抄送机关.
    pub cc: Vec<Located<String>>,
    /// 印发机关.
    pub printer: Located<String>,
    /// 印发日期.
    pub date: Located<NaiveDate>,
}
