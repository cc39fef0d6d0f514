//! From a checked case to the document model: the only place where wording,
//! numbering, dates and table spans are decided.

pub mod assign;
pub mod numbering;
pub mod progress;
pub mod prose;
pub mod scores;
pub mod title;

use tera::Context;

use crate::deadline::cn_date;
use crate::diag::{Diagnostic, Location};
use crate::doc::{self, Align, Block, Cell, Column, Document, FontRole, Run, Width};
use crate::model::{ColumnSpec, *};
use numbering::{heading_number, heading_role};
use prose::Prose;

/// Tells which characters a font role cannot print.
pub trait GlyphCheck {
    /// The first character of `text` the role's font has no glyph for.
    fn missing(&self, role: FontRole, text: &str) -> Option<char>;
}

/// Accepts every character (for tests of wording alone).
pub struct AnyGlyph;

impl GlyphCheck for AnyGlyph {
    fn missing(&self, _: FontRole, _: &str) -> Option<char> {
        None
    }
}

/// Bidirectional embedding, override and isolate controls: they reorder what is
/// displayed, so 公文 text never carries them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a character needs a glyph on the page (format marks and spaces do not).
pub fn needs_glyph(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}'))
}

/// Everything that is wrong with a text to be printed in a role's font, all at
/// once: too long, bidirectional or other control characters, every character the
/// font lacks. One rule for every text, whatever document prints it.
pub fn text_problem(
    text: &str,
    role: FontRole,
    glyphs: &dyn GlyphCheck,
    loc: &Location,
) -> Vec<Diagnostic> {
    const LIMIT: usize = 20_000;
    let mut out = Vec::new();
    let n = text.chars().count();
    if n > LIMIT {
        out.push(
            Diagnostic::error(
                loc.clone(),
                format!("文字过长（{n} 字，上限 {LIMIT} 字）"),
            )
            .with_hint("一段文字或一个单元格通常不过数百字，请检查是否粘贴了整篇文件"),
        );
        return out;
    }
    let codes = |cs: &[char]| {
        cs.iter().map(|c| format!("U+{:04X}", *c as u32)).collect::<Vec<_>>().join("、")
    };
    let mut bidi: Vec<char> = text.chars().filter(|c| is_bidi_control(*c)).collect();
    bidi.dedup();
    if !bidi.is_empty() {
        out.push(
            Diagnostic::error(
                loc.clone(),
                format!("文字中含有双向控制字符 {}", codes(&bidi)),
            )
            .with_hint("这类看不见的字符会颠倒文字的显示顺序，请删去"),
        );
    }
    let mut control: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t' && !is_bidi_control(*c))
        .collect();
    control.sort_unstable();
    control.dedup();
    if !control.is_empty() {
        out.push(
            Diagnostic::error(
                loc.clone(),
                format!("文字中含有控制字符 {}", codes(&control)),
            )
            .with_hint("删去这些看不见的字符"),
        );
    }
    let mut rest: String = text.chars().filter(|c| needs_glyph(*c)).collect();
    let mut missing = Vec::new();
    while let Some(c) = glyphs.missing(role, &rest) {
        missing.push(c);
        rest.retain(|x| x != c);
        if missing.len() >= 20 {
            break;
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> =
            missing.iter().map(|c| format!("\"{c}\"（U+{:04X}）", *c as u32)).collect();
        out.push(
            Diagnostic::error(
                loc.clone(),
                format!("字体（{}）中没有字符{}", role.label(), list.join("、")),
            )
            .with_hint("换用常用字，或用 --font-path 提供含有这些字的字体"),
        );
    }
    out
}

/// Text-checks a whole document (for documents that commands other than
/// `build` make from data: task lists, reports, score sheets, change tables);
/// each problem names the document and quotes the text.
pub fn check_document(doc: &Document, glyphs: &dyn GlyphCheck) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut check = |text: &str, role: FontRole| {
        let at = Location::None;
        for mut d in text_problem(text, role, glyphs, &at) {
            let quoted: String = text.chars().take(20).collect();
            d.message = format!("《{}》中的\"{quoted}\"：{}", doc.title, d.message);
            out.push(d);
        }
    };
    fn walk(blocks: &[Block], check: &mut dyn FnMut(&str, FontRole)) {
        for b in blocks {
            match b {
                Block::Head(h) => {
                    h.marks.iter().for_each(|r| check(&r.text, r.role));
                    h.organs.iter().for_each(|o| check(o, FontRole::Title));
                    check(&h.number, FontRole::Fang);
                    h.signer_lines.iter().flatten().for_each(|n| check(n, FontRole::Kai));
                }
                Block::Title(lines) => {
                    lines.iter().for_each(|l| check(l, FontRole::Title))
                }
                Block::Para { runs, .. }
                | Block::Heading(runs)
                | Block::ListItem { runs, .. } => {
                    runs.iter().for_each(|r| check(&r.text, r.role))
                }
                Block::Attachments { items, .. } => {
                    items.iter().for_each(|(_, n)| check(n, FontRole::Fang))
                }
                Block::Signature { names, date, .. } => {
                    names.iter().for_each(|n| check(n, FontRole::Fang));
                    check(date, FontRole::Fang);
                }
                Block::AnnexLabel(l) => check(l, FontRole::Hei),
                Block::Table(t) => {
                    t.header.iter().for_each(|h| check(h, FontRole::Hei));
                    t.rows.iter().flatten().for_each(|c| check(&c.text, FontRole::Fang));
                }
                Block::Landscape(inner) => walk(inner, check),
                Block::Blank(_) | Block::NewFace => {}
            }
        }
    }
    walk(&doc.blocks, &mut check);
    if let Some(b) = &doc.banji {
        for t in b.cc.iter().chain([&b.printer, &b.date]) {
            check(t, FontRole::Fang);
        }
    }
    out
}

struct Composer<'a> {
    case: &'a Case,
    prose: Prose,
    /// The template variables as Tera sees them (keys mangled).
    ctx: Context,
    /// The variables without the indicator and stage lists.
    small_ctx: Context,
    glyphs: &'a dyn GlyphCheck,
    diags: Vec<Diagnostic>,
}

/// Composes the notice, the plan, its annexes and the 版记 of a case.
pub fn compose_case(
    case: &Case,
    prose: Prose,
    glyphs: &dyn GlyphCheck,
) -> Result<Document, Vec<Diagnostic>> {
    let mut c = Composer {
        case,
        prose,
        ctx: Context::new(),
        small_ctx: Context::new(),
        glyphs,
        diags: Vec::new(),
    };
    c.build_context();
    let doc = c.document();
    if c.diags.iter().any(Diagnostic::is_error) { Err(c.diags) } else { Ok(doc) }
}

impl Composer<'_> {
    /// Variables, stages and indicators for the wording templates.
    fn build_context(&mut self) {
        let case = self.case;
        for (k, v) in &case.vars {
            self.set(k, serde_json::Value::String(v.value.clone()));
        }
        self.set("成文日期", cn_date(case.notice.date.value).into());
        self.set("发文字号", case.header.number.to_string().into());
        let indicators: Vec<serde_json::Value> =
            case.indicators.iter().map(indicator_view).collect();
        self.set("指标", indicators.into());
        let stages: Vec<serde_json::Value> = case
            .stages
            .iter()
            .map(|s| serde_json::json!({"名称": s.name.value, "时限": s.deadline_text}))
            .collect();
        self.set("步骤", stages.into());
        if let Some(plan) = &case.plan
            && let Some(t) = self.render(&plan.title, FontRole::Title)
        {
            self.set("方案标题", t.replace('\n', "").into());
        }
    }

    /// Sets a template variable (in both contexts: one copy of the indicator
    /// list, however many variables follow it).
    fn set(&mut self, key: &str, value: serde_json::Value) {
        prose::insert_mangled(&mut self.ctx, key, &value);
        // Tera copies the whole context on every render: texts that do not walk
        // the indicator or stage lists get a context without them
        if key != "指标" && key != "步骤" {
            prose::insert_mangled(&mut self.small_ctx, key, &value);
        }
    }

    /// Checks the characters of printed text: no control characters, a glyph for
    /// each, and a sane length.
    fn check_text(&mut self, text: &str, role: FontRole, loc: &Location) {
        self.diags.extend(text_problem(text, role, self.glyphs, loc));
    }

    /// Renders a template text of the case and checks it.
    fn render(&mut self, t: &Located<String>, role: FontRole) -> Option<String> {
        let ctx = if t.value.contains("指标") || t.value.contains("步骤") {
            &self.ctx
        } else {
            &self.small_ctx
        };
        match self.prose.render_text(t, ctx) {
            Ok(s) => {
                let s = s.trim().to_string();
                self.check_text(&s, role, &t.loc);
                Some(s)
            }
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    /// Data text printed as written.
    fn literal(&mut self, t: &Located<String>, role: FontRole) -> String {
        let s = t.value.trim().to_string();
        self.check_text(&s, role, &t.loc);
        s
    }

    fn document(&mut self) -> Document {
        let case = self.case;
        let mut blocks = vec![Block::Head(self.head())];
        let title = self.render(&case.notice.title, FontRole::Title).unwrap_or_default();
        blocks.push(Block::Title(title::balance_title(&title)));
        blocks.push(Block::Blank(1));
        if !case.notice.addressees.is_empty() {
            let names: Vec<String> = case
                .notice
                .addressees
                .iter()
                .map(|a| self.literal(a, FontRole::Fang))
                .collect();
            let text = format!("{}：", names.join("，").trim_end_matches(['：', ':']));
            blocks.push(Block::Para {
                runs: vec![Run::new(FontRole::Fang, text)],
                indent: false,
            });
        }
        for p in &case.notice.body {
            if let Some(t) = self.render(p, FontRole::Fang) {
                blocks.push(para(t));
            }
        }
        let annex_titles = self.annex_titles();
        if case.plan.is_none() && !annex_titles.is_empty() {
            blocks.push(Block::Blank(1));
            blocks.push(attachments(&annex_titles));
        }
        let names = case
            .notice
            .signature
            .iter()
            .map(|s| self.literal(s, FontRole::Fang))
            .collect();
        blocks.push(Block::Signature {
            names,
            date: cn_date(case.notice.date.value),
            sealed: case.notice.sealed,
            seal: case
                .notice
                .seal
                .as_ref()
                .map(|s| s.value.trim_start_matches("./").to_string()),
            place: doc::SignaturePlace::default(),
        });
        if let Some(note) = &case.notice.note {
            let n = self.literal(note, FontRole::Fang);
            let n = n.trim_start_matches(['（', '(']).trim_end_matches(['）', ')']);
            blocks.push(para(format!("（{n}）")));
        }
        if let Some(plan) = &case.plan {
            blocks.push(Block::NewFace);
            let t = self.render(&plan.title, FontRole::Title).unwrap_or_default();
            blocks.push(Block::Title(title::balance_title(&t)));
            blocks.push(Block::Blank(1));
            for p in &plan.intro {
                if let Some(t) = self.render(p, FontRole::Fang) {
                    blocks.push(para(t));
                }
            }
            for (i, s) in plan.sections.iter().enumerate() {
                self.section(s, 1, i as u32 + 1, &mut blocks);
            }
            if !annex_titles.is_empty() {
                blocks.push(Block::Blank(1));
                blocks.push(attachments(&annex_titles));
            }
        }
        for (i, annex) in case.annexes.iter().enumerate() {
            let label = if case.annexes.len() == 1 {
                "附件".to_string()
            } else {
                format!("附件{}", i + 1)
            };
            let mut inner = vec![Block::AnnexLabel(label), Block::Blank(1)];
            inner.push(Block::Title(title::balance_title(&annex_titles[i])));
            inner.push(Block::Blank(1));
            // the notes above a table, as written (a 说明： line only if the user
            // wrote one)
            {
                for n in &annex.notes {
                    if let Some(t) = self.render(n, FontRole::Fang) {
                        inner.push(para(t));
                    }
                }
            }
            match &annex.body {
                AnnexBody::Indicators(cols) => {
                    inner.push(Block::Table(self.indicator_table(cols)))
                }
                AnnexBody::Roster(groups, paras) => {
                    inner.extend(self.roster(groups));
                    for p in paras {
                        if let Some(t) = self.render(p, FontRole::Fang) {
                            inner.push(para(t));
                        }
                    }
                }
                AnnexBody::TaskForces(forces) => {
                    inner.push(Block::Table(self.task_forces(forces)))
                }
                AnnexBody::Text(paras) => {
                    for p in paras {
                        if let Some(t) = self.render(p, FontRole::Fang) {
                            inner.push(para(t));
                        }
                    }
                }
            }
            if annex.landscape {
                blocks.push(Block::Landscape(inner));
            } else {
                blocks.push(Block::NewFace);
                blocks.extend(inner);
            }
        }
        let banji = case.banji.as_ref().map(|b| {
            let cc: Vec<String> =
                b.cc.iter().map(|c| self.literal(c, FontRole::Fang)).collect();
            doc::Banji {
                cc_label: "抄送：".to_string(),
                cc: if cc.is_empty() {
                    None
                } else {
                    Some(format!("{}。", cc.join("，").trim_end_matches(['。', '.'])))
                },
                printer: self.literal(&b.printer, FontRole::Fang),
                date: format!("{}印发", cn_date(b.date.value)),
            }
        });
        let title = title.replace('\n', "");
        Document { title, blocks, banji }
    }

    fn head(&mut self) -> doc::Head {
        let h = &self.case.header;
        let mut marks = Vec::new();
        if let Some(c) = &h.copy_no {
            marks.push(Run::new(FontRole::Fang, self.literal(c, FontRole::Fang)));
        }
        for m in [&h.secret, &h.urgency].into_iter().flatten() {
            marks.push(Run::new(FontRole::Hei, self.literal(m, FontRole::Hei)));
        }
        let organs = h.organs.iter().map(|o| self.literal(o, FontRole::Title)).collect();
        let signers = h.signers.iter().map(|s| self.literal(s, FontRole::Kai)).collect();
        self.check_text(&h.number.code.value, FontRole::Fang, &h.number.code.loc);
        doc::Head::new(marks, organs, h.wenjian, h.number.to_string(), signers)
    }

    fn annex_titles(&mut self) -> Vec<String> {
        let annexes = &self.case.annexes;
        annexes
            .iter()
            .map(|a| self.render(&a.title, FontRole::Title).unwrap_or_default())
            .collect()
    }

    /// A section and its children; headings numbered by level and position.
    fn section(&mut self, s: &Section, level: usize, n: u32, out: &mut Vec<Block>) {
        let number = heading_number(level, n);
        let role = heading_role(level);
        let Some(title) = self.render(&s.title, role) else { return };
        match &s.run_in {
            Some(run_in) => {
                let Some(body) = self.render(run_in, FontRole::Fang) else { return };
                let phrase = format!("{number}{}。", title.trim_end_matches('。'));
                out.push(Block::Para {
                    runs: vec![Run::new(role, phrase), Run::new(FontRole::Fang, body)],
                    indent: true,
                });
            }
            None => {
                out.push(Block::Heading(vec![Run::new(role, format!("{number}{title}"))]))
            }
        }
        for p in &s.paragraphs {
            if let Some(t) = self.render(p, FontRole::Fang) {
                out.push(para(t));
            }
        }
        let child_level = (level + 1).min(crate::case::MAX_LEVEL);
        let child_role = heading_role(child_level);
        match &s.source {
            SectionSource::Written => {
                for (i, c) in s.children.iter().enumerate() {
                    self.section(c, child_level, i as u32 + 1, out);
                }
            }
            SectionSource::Stages => {
                for (i, st) in self.case.stages.iter().enumerate() {
                    let ctx = prose::mangled_context(
                        serde_json::json!({"名称": st.name.value, "时限": st.deadline_text})
                            .as_object()
                            .expect("a JSON object literal"),
                    );
                    let heading = match self.prose.render_named(
                        "stage_heading.tera",
                        &ctx,
                        &st.name.loc,
                    ) {
                        Ok(h) => h,
                        Err(d) => {
                            self.diags.push(d);
                            continue;
                        }
                    };
                    self.check_text(&heading, child_role, &st.name.loc);
                    let Some(body) = self.render(&st.text, FontRole::Fang) else {
                        continue;
                    };
                    let phrase = format!(
                        "{}{}。",
                        heading_number(child_level, i as u32 + 1),
                        heading.trim()
                    );
                    out.push(Block::Para {
                        runs: vec![
                            Run::new(child_role, phrase),
                            Run::new(FontRole::Fang, body),
                        ],
                        indent: true,
                    });
                }
            }
            SectionSource::Indicators { template, numbering } => {
                let generated =
                    self.indicator_sections(template, *numbering, child_level, out);
                // written sub-sections follow the generated ones, numbered on
                for (i, c) in s.children.iter().enumerate() {
                    self.section(c, child_level, generated + i as u32 + 1, out);
                }
            }
        }
        for p in &s.closing {
            if let Some(t) = self.render(p, FontRole::Fang) {
                out.push(para(t));
            }
        }
    }

    /// One sub-section per indicator: every main indicator, then the 附加项, in
    /// data order. Each line the template gives is a paragraph (a cell's task list
    /// `（1）…⏎（2）…` a paragraph per task); the first carries the number. Returns
    /// how many were printed.
    fn indicator_sections(
        &mut self,
        template: &Located<String>,
        numbering: crate::model::IndicatorNumbering,
        level: usize,
        out: &mut Vec<Block>,
    ) -> u32 {
        let case = self.case;
        let ordered = case
            .indicators
            .iter()
            .filter(|i| i.kind == IndicatorKind::Main)
            .chain(case.indicators.iter().filter(|i| i.kind != IndicatorKind::Main));
        let mut n = 0;
        for ind in ordered {
            n += 1;
            // the item itself, with the same keys as in a loop over 指标
            let mut ctx = self.small_ctx.clone();
            prose::insert_mangled(&mut ctx, "指标", &indicator_view(ind));
            let text = match self.prose.render_text(template, &ctx) {
                Ok(t) => t,
                Err(d) => {
                    self.diags.push(d);
                    return n;
                }
            };
            self.check_text(&text, FontRole::Fang, &ind.text.loc);
            let lines: Vec<&str> =
                text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            for (k, line) in lines.iter().enumerate() {
                let mut runs = Vec::new();
                if k == 0 && numbering == crate::model::IndicatorNumbering::Heading {
                    runs.push(Run::new(heading_role(level), heading_number(level, n)));
                }
                runs.push(Run::new(FontRole::Fang, line.to_string()));
                out.push(Block::Para { runs, indent: true });
            }
        }
        n
    }

    /// An indicator table with the annex's columns (the case's indicators).
    fn indicator_table(&mut self, cols: &[ColumnSpec]) -> doc::Table {
        let case = self.case;
        indicator_table(&case.indicators, cols, |l| self.literal(l, FontRole::Fang))
    }

    /// 领导小组成员名单: labels and colons aligned (组　长：), two-character names
    /// spaced (王　丽), a post one 字 after the name; wrapped text and further names
    /// align under the first name.
    fn roster(&mut self, groups: &[crate::model::RosterGroup]) -> Vec<Block> {
        let width = groups
            .iter()
            .map(|g| g.label.value.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        let pad_label = |l: &str| -> String {
            let n = l.chars().count();
            if n == 2 && width == 3 {
                let mut c = l.chars();
                format!("{}\u{3000}{}", c.next().unwrap_or(' '), c.next().unwrap_or(' '))
            } else {
                format!("{l}{}", "\u{3000}".repeat(width.saturating_sub(n)))
            }
        };
        let pad_name = |n: &str| -> String {
            if n.chars().count() == 2 {
                let mut c = n.chars();
                format!("{}\u{3000}{}", c.next().unwrap_or(' '), c.next().unwrap_or(' '))
            } else {
                n.to_string()
            }
        };
        let mut out = Vec::new();
        for g in groups {
            let label = self.literal(&g.label, FontRole::Fang);
            for (i, m) in g.members.iter().enumerate() {
                let (name, post) = &m.value;
                self.check_text(name, FontRole::Fang, &m.loc);
                self.check_text(post, FontRole::Fang, &m.loc);
                let lead = if i == 0 {
                    format!("{}：", pad_label(&label))
                } else {
                    "\u{3000}".repeat(width + 1)
                };
                let body = if post.is_empty() {
                    name.clone()
                } else {
                    format!("{}\u{3000}{post}", pad_name(name))
                };
                out.push(Block::ListItem {
                    runs: vec![Run::new(FontRole::Fang, format!("{lead}{body}"))],
                    hang: width as u32 + 1,
                });
            }
        }
        out
    }

    /// 工作专班: one row per group.
    fn task_forces(&mut self, forces: &[crate::model::TaskForce]) -> doc::Table {
        let rows = forces
            .iter()
            .map(|f| {
                vec![
                    Cell::new(self.literal(&f.name, FontRole::Fang)),
                    Cell::new(self.literal(&f.lead, FontRole::Fang)),
                    Cell::new(self.literal(&f.members, FontRole::Fang)),
                    Cell::new(self.literal(&f.tasks, FontRole::Fang)),
                ]
            })
            .collect();
        doc::Table {
            columns: vec![
                Column { width: Width::Mm(30.0), align: Align::Center },
                Column { width: Width::Mm(40.0), align: Align::Center },
                Column { width: Width::Fr(2), align: Align::Left },
                Column { width: Width::Fr(3), align: Align::Left },
            ],
            header: ["工作专班", "牵头单位", "成员单位", "工作任务"]
                .map(String::from)
                .to_vec(),
            rows,
            size_pt: 12.0,
        }
    }
}

/// Whether two indicators belong to the same merged group.
type SameGroup<'a> = dyn Fn(&Indicator, &Indicator) -> bool + 'a;

/// An indicator table with the given columns. 一级 and 二级 cells are merged over
/// their rows; without those columns, 附加项 follow a spanning label row. `literal`
/// checks a data text and returns it as printed.
pub fn indicator_table(
    inds: &[Indicator],
    cols: &[ColumnSpec],
    mut literal: impl FnMut(&Located<String>) -> String,
) -> doc::Table {
    use crate::model::IndicatorColumn as C;
    let has_levels = cols.iter().any(|c| matches!(c.column, C::Level1 | C::Level2));
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut current_extra: Option<String> = None;
    // how many rows each 一级 / 二级 value spans from where it starts
    let span_from = |i: usize, same: &dyn Fn(&Indicator, &Indicator) -> bool| -> u32 {
        inds[i..].iter().take_while(|x| same(&inds[i], x)).count() as u32
    };
    // a 一级 value merges over every row that has it, across 二级 groups and
    // 附加项 lists alike (九、附加项 over 加分项 and 减分项); without a value the
    // lists stay apart
    let same1 = |a: &Indicator, b: &Indicator| {
        a.level1 == b.level1 && (a.level1.is_some() || a.kind == b.kind)
    };
    let same2 = |a: &Indicator, b: &Indicator| {
        same1(a, b) && a.level2 == b.level2 && a.kind == b.kind
    };
    for (i, ind) in inds.iter().enumerate() {
        if let (IndicatorKind::Extra(k), false) = (&ind.kind, has_levels)
            && current_extra.as_deref() != Some(k)
        {
            current_extra = Some(k.clone());
            rows.push(vec![Cell {
                text: format!("附加项：{k}"),
                rowspan: 1,
                colspan: cols.len() as u32,
                align: Some(Align::Left),
                again: false,
            }]);
        }
        let mut row = Vec::new();
        for c in cols {
            let text_of = |t: &Option<Located<String>>| {
                t.as_ref().map(|l| l.value.clone()).unwrap_or_default()
            };
            let cell = match c.column {
                C::Seq => Cell::new(
                    ind.seq_label.clone().unwrap_or_else(|| ind.seq.to_string()),
                ),
                C::Text => Cell::new(literal(&ind.text)),
                C::Materials => Cell::new(literal(&ind.materials)),
                C::Units => Cell::new(literal(&ind.units)),
                C::CoUnits => Cell::new(text_of(&ind.co_units)),
                C::Deadline => Cell::new(text_of(&ind.deadline)),
                C::Status => Cell::new(text_of(&ind.status)),
                C::Note => Cell::new(ind.note.clone().unwrap_or_default()),
                C::Level1 | C::Level2 => {
                    let (same, value): (&SameGroup<'_>, _) = if c.column == C::Level1 {
                        (&same1, &ind.level1)
                    } else {
                        (&same2, &ind.level2)
                    };
                    // a covered position is simply absent
                    if i > 0 && same(&inds[i - 1], ind) {
                        continue;
                    }
                    let mut cell = Cell::new(value.clone().unwrap_or_default());
                    cell.rowspan = span_from(i, same);
                    cell
                }
            };
            row.push(cell);
        }
        rows.push(row);
    }
    let columns = cols
        .iter()
        .map(|c| Column {
            width: match c.width {
                Ok(mm) => Width::Mm(mm),
                Err(fr) => Width::Fr(fr),
            },
            align: match c.column {
                C::Text | C::Materials | C::Note | C::CoUnits => Align::Left,
                _ => Align::Center,
            },
        })
        .collect();
    doc::Table {
        columns,
        header: cols.iter().map(|c| c.header.clone()).collect(),
        rows,
        size_pt: 12.0,
    }
}

/// A stand-alone indicator table (`gongwen table`): the title and the table, on
/// landscape pages when wide, with page numbers and no 版头 or 版记.
pub fn compose_table(
    title: &str,
    inds: &[Indicator],
    cols: &[ColumnSpec],
    glyphs: &dyn GlyphCheck,
) -> Result<Document, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut check = |l: &Located<String>| {
        let s = l.value.trim().to_string();
        diags.extend(text_problem(&s, FontRole::Fang, glyphs, &l.loc));
        s
    };
    let table = indicator_table(inds, cols, &mut check);
    diags.extend(text_problem(title, FontRole::Title, glyphs, &Location::None));
    if !diags.is_empty() {
        return Err(diags);
    }
    let wide =
        table.column_widths_mm(156.0).iter().sum::<f64>() > 156.5 || cols.len() > 4;
    let inner = vec![
        Block::Title(title::balance_title(title)),
        Block::Blank(1),
        Block::Table(table),
    ];
    let blocks = if wide { vec![Block::Landscape(inner)] } else { inner };
    Ok(Document { title: title.to_string(), blocks, banji: None })
}

/// What a wording template sees of an indicator, in a loop over `指标` and in a
/// per-indicator section alike: every column as written, `责任单位` with the
/// cell's lines joined by 、 (for running text), `单位` the list of unit names.
pub fn indicator_view(i: &Indicator) -> serde_json::Value {
    fn opt(l: &Option<Located<String>>) -> &str {
        l.as_ref().map_or("", |l| l.value.as_str())
    }
    let units: Vec<&str> =
        i.units.value.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    serde_json::json!({
        "序号": i.seq,
        "类别": match &i.kind { IndicatorKind::Main => "", IndicatorKind::Extra(k) => k.as_str() },
        "一级指标": i.level1.clone().unwrap_or_default(),
        "二级指标": i.level2.clone().unwrap_or_default(),
        "三级指标": i.text.value,
        "填报材料": i.materials.value,
        "责任单位": units.join("、"),
        "单位": units,
        "配合单位": opt(&i.co_units),
        "完成时限": opt(&i.deadline),
        "完成情况": opt(&i.status),
        "备注": i.note.clone().unwrap_or_default(),
    })
}

fn para(text: String) -> Block {
    Block::Para { runs: vec![Run::new(FontRole::Fang, text)], indent: true }
}

fn attachments(titles: &[String]) -> Block {
    let items = if titles.len() == 1 {
        vec![(String::new(), titles[0].replace('\n', ""))]
    } else {
        titles
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{}.", i + 1), t.replace('\n', "")))
            .collect()
    };
    Block::Attachments { label: "附件：".to_string(), items }
}
