//! Reading a case folder (`case.toml` and the data files it names) into a
//! checked [`Case`](crate::model::Case).
//!
//! All problems of all files are collected; the case is returned only when there
//! is none.

pub mod columns;
pub mod preflight;
pub mod tree;
pub mod workbook;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::deadline::Deadline;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceText};
use crate::model::*;
use crate::registry::{Registry, Role, Unit, UnitRef};
use tree::{Ctx, TableReader};

/// The case file's name inside a case folder.
pub const CASE_FILE: &str = "case.toml";

/// The built-in example case (modelled on 夏法政办〔2023〕12号), file by file.
pub const EXAMPLE_FILES: &[(&str, &str)] = &[
    ("case.toml", include_str!("../../data/example/case.toml")),
    ("指标.toml", include_str!("../../data/example/指标.toml")),
];

/// Built-in indicator systems for `gongwen init --catalog`: (name, 指标.toml).
pub const CATALOGS: &[(&str, &str)] = &[
    ("全国2021", include_str!("../../data/catalogs/全国2021.toml")),
    ("河南2023", include_str!("../../data/catalogs/河南2023.toml")),
];

/// Where a case's files are read from.
#[derive(Debug, Clone)]
pub enum CaseDir {
    /// A folder on disk.
    Disk(PathBuf),
    /// The example embedded in the binary.
    Builtin,
}

impl CaseDir {
    /// Reads a text file of the case; the error is a ready diagnostic.
    pub fn read_text(&self, name: &str) -> Result<SourceText, Diagnostic> {
        match self {
            CaseDir::Builtin => EXAMPLE_FILES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, t)| SourceText::new(format!("<内置示例>/{n}"), *t))
                .ok_or_else(|| {
                    Diagnostic::error(
                        Location::None,
                        format!("内置示例中没有文件 {name}"),
                    )
                }),
            CaseDir::Disk(dir) => {
                let shown = display_path(&dir.join(name));
                // only a regular file inside the case folder, of bounded size
                let path = crate::fsguard::resolve(dir, name)
                    .map_err(|e| guard_error(Location::File(shown.clone()), e))?;
                let bytes = crate::fsguard::read_limited(&path, TEXT_FILE_LIMIT)
                    .map_err(|e| guard_error(Location::File(shown.clone()), e))?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    // where the first byte that is not UTF-8 stands
                    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                    let valid = String::from_utf8_lossy(valid);
                    let line = valid.matches('\n').count() + 1;
                    let col =
                        valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    Diagnostic::error(
                        Location::Text { file: shown.clone(), line, col },
                        "无法读取文件（不是 UTF-8 编码的文本）",
                    )
                    .with_hint("请用 UTF-8 编码另存此文件")
                })?;
                Ok(SourceText::new(
                    shown,
                    text.trim_start_matches('\u{feff}').to_string(),
                ))
            }
        }
    }

    /// The folder on disk, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            CaseDir::Disk(p) => Some(p),
            CaseDir::Builtin => None,
        }
    }
}

/// Largest text file a case may hold (case.toml, 指标.toml, 单位.toml).
pub const TEXT_FILE_LIMIT: u64 = 20 * 1024 * 1024;

/// A confinement or size problem as a diagnostic at `location`.
pub fn guard_error(location: Location, e: crate::fsguard::GuardError) -> Diagnostic {
    let d = Diagnostic::error(location, e.message);
    match e.hint {
        Some(h) => d.with_hint(h),
        None => d,
    }
}

/// A file named in the case (at `loc` in case.toml), resolved inside the case
/// folder: no absolute path, no `..`, no link out of the folder, a regular file.
pub fn case_file(root: &Path, file: &Located<String>) -> Result<PathBuf, Diagnostic> {
    crate::fsguard::resolve(root, &file.value).map_err(|e| {
        let mut d = guard_error(file.loc.clone(), e);
        d.message = format!("\"{}\"：{}", file.value, d.message);
        d
    })
}

/// Why a name cannot be a file name on the systems offices use (Windows, macOS,
/// Linux), if it cannot: characters no file system takes, control and
/// direction-changing characters, names Windows reserves, `.` and `..`, empty or
/// over-long names (with room for the extension and our temporaries).
pub fn file_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("为空".into());
    }
    if name == "." || name == ".." || name.ends_with('.') || name.ends_with(' ') {
        return Some("不能以点或空格结尾".into());
    }
    if let Some(bad) = name.chars().find(|c| {
        matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            || c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    }) {
        return Some(format!("含有不能用于文件名的字符 U+{:04X}", bad as u32));
    }
    let stem = name.split('.').next().unwrap_or("").trim().to_ascii_uppercase();
    let reserved = ["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str())
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem[3..].chars().all(|c| c.is_ascii_digit()));
    if reserved {
        return Some("是 Windows 保留的设备名".into());
    }
    // 255 bytes per name on most file systems, less ".docx" and room to spare
    if name.len() > 200 {
        return Some(format!("过长（{} 字节，最多 200）", name.len()));
    }
    None
}

/// A path as shown in messages.
pub fn display_path(path: &Path) -> String {
    path.strip_prefix("./").unwrap_or(path).display().to_string()
}

/// A reason of our own, in Chinese, carried inside an [`std::io::Error`]
/// (`io::Error::new(kind, IoReason(…))`) so that [`io_reason`] prints it
/// rather than the kind's general wording.
#[derive(Debug)]
pub struct IoReason(pub String);

impl std::fmt::Display for IoReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IoReason {}

/// `ELOOP`, the error of a path whose symbolic links form a loop.
#[cfg(unix)]
const ELOOP: Option<i32> = Some(libc::ELOOP);
#[cfg(not(unix))]
const ELOOP: Option<i32> = None;

/// A short Chinese reason for an I/O error: our own reason if it carries one,
/// else the kind in Chinese, else the operating system's error number
/// (`系统错误 28`). The operating system's English text is never shown.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    if let Some(reason) = e.get_ref().and_then(|inner| inner.downcast_ref::<IoReason>()) {
        return reason.0.clone();
    }
    let known = match e.kind() {
        NotFound => "文件不存在",
        PermissionDenied => "没有权限",
        IsADirectory => "这是一个文件夹",
        NotADirectory => "路径中有一项不是文件夹",
        AlreadyExists => "文件已存在",
        DirectoryNotEmpty => "文件夹不是空的",
        StorageFull => "磁盘已满",
        QuotaExceeded => "超出磁盘配额",
        ReadOnlyFilesystem => "文件系统只读",
        FileTooLarge => "文件过大",
        InvalidFilename => "文件名无效或过长",
        CrossesDevices => "不能跨磁盘移动文件",
        TooManyLinks => "链接过多",
        ResourceBusy => "文件或设备正忙",
        ExecutableFileBusy => "程序文件正在运行",
        StaleNetworkFileHandle => "网络文件已失效",
        NotSeekable => "无法在其中定位（可能是管道）",
        InvalidData => "数据无效",
        InvalidInput => "参数无效",
        UnexpectedEof => "文件意外结束（可能不完整）",
        WriteZero => "无法写入全部数据",
        TimedOut => "操作超时",
        Interrupted => "操作被中断",
        WouldBlock => "文件暂时不可用",
        Unsupported => "系统不支持此操作",
        OutOfMemory => "内存不足",
        BrokenPipe => "管道的另一端已关闭",
        ConnectionRefused => "连接被拒绝",
        ConnectionReset => "连接被重置",
        ConnectionAborted => "连接中断",
        NotConnected => "未连接",
        AddrInUse => "地址已被占用",
        AddrNotAvailable => "地址不可用",
        HostUnreachable => "无法连接主机",
        NetworkUnreachable => "网络不可达",
        NetworkDown => "网络已断开",
        Deadlock => "发生死锁",
        ArgumentListTooLong => "参数过长",
        _ => "",
    };
    match (known, e.raw_os_error()) {
        // `ErrorKind::FilesystemLoop` is not stable yet: told by its number
        ("", Some(n)) if Some(n) == ELOOP => "符号链接形成循环".to_owned(),
        ("", Some(n)) => format!("系统错误 {n}"),
        ("", None) => "读写出错".to_owned(),
        (known, _) => known.to_owned(),
    }
}

/// Loads and checks a case.
pub fn load_case(dir: &CaseDir) -> Result<Case, Vec<Diagnostic>> {
    let mut diags = Diagnostics::new();
    let src = match dir.read_text(CASE_FILE) {
        Ok(s) => s,
        Err(d) => return Err(vec![d]),
    };
    let root = tree::parse(&src)?;
    let ctx = Ctx::new(&src);
    let case = TableReader::new(&ctx, &root, "").and_then(|t| {
        let case = read_case(&t, dir, &mut diags);
        t.finish();
        case
    });
    let mut all = ctx.diags.into_inner();
    all.extend(diags.into_vec());
    match case {
        Some(mut c) if !all.has_errors() => {
            // the warnings stay with the case: every command prints them
            c.warnings = all.into_vec();
            Ok(c)
        }
        _ => Err(all.into_vec()),
    }
}

fn read_case(
    t: &TableReader<'_>,
    dir: &CaseDir,
    diags: &mut Diagnostics,
) -> Option<Case> {
    let name = t.opt_str("输出名");
    let vars = t.opt_table("变量").map(|v| {
        let map: BTreeMap<String, Located<String>> =
            v.string_map().into_iter().map(|(k, v)| (k.value, v)).collect();
        // every key of [变量] is a variable: nothing to report as unknown
        map
    });
    let header = t.req_table("版头").and_then(|h| {
        let r = read_header(&h);
        h.finish();
        r
    });
    let notice = t.req_table("通知").and_then(|n| {
        let r = read_notice(&n);
        n.finish();
        r
    });
    let plan = t.opt_table("方案").and_then(|p| {
        let r = read_plan(&p);
        p.finish();
        r
    });
    let stages: Vec<Stage> = t
        .tables("创建步骤")
        .into_iter()
        .filter_map(|s| {
            let r = read_stage(&s);
            s.finish();
            r
        })
        .collect();
    let mut data_named = false;
    let (mut indicators, registry) =
        t.opt_table("数据").map_or_else(Default::default, |d| {
            let file = d.opt_str("指标");
            data_named = file.is_some();
            let sheet = d.opt_str("工作表");
            let units = d.opt_str("单位");
            d.finish();
            let registry =
                units.map_or_else(Default::default, |u| load_registry(dir, &u, diags));
            let mut indicators = file.map_or_else(Vec::new, |f| {
                load_indicators(dir, &f, sheet.as_ref(), diags)
            });
            resolve_units(&registry, &mut indicators, diags);
            (indicators, registry)
        });
    let annexes: Vec<Annex> = t
        .tables("附件")
        .into_iter()
        .filter_map(|a| {
            let r = read_annex(&a, dir);
            a.finish();
            r
        })
        .collect();
    let banji = t.opt_table("版记").and_then(|b| {
        let r = read_banji(&b);
        b.finish();
        r
    });

    let (header, notice) = (header?, notice?);
    check_stages(&stages, &notice.date, diags);
    read_task_deadlines(&mut indicators, &stages, &notice.date, diags);
    for annex in &annexes {
        // (a named indicator file that could not be read is reported already)
        if matches!(annex.body, AnnexBody::Indicators(_))
            && indicators.is_empty()
            && !data_named
        {
            diags.push(
                Diagnostic::error(annex.title.loc.clone(), "指标表附件没有指标数据")
                    .with_hint("在 [数据] 中写 指标 = \"指标.toml\"（或工作簿）"),
            );
        }
    }
    let at = name.as_ref().map_or(Location::None, |n| n.loc.clone());
    let name = name.map(|n| n.value).unwrap_or_else(|| header.number.to_string());
    if let Some(why) = file_name_problem(&name) {
        diags.push(
            Diagnostic::error(at, format!("输出名\"{name}\"{why}"))
                .with_hint("输出名用作文件名：请只用汉字、字母、数字和常见标点"),
        );
    }
    Some(Case {
        name,
        dir: dir.path().map(Path::to_path_buf),
        vars: vars.unwrap_or_default(),
        header,
        notice,
        plan,
        stages,
        indicators,
        annexes,
        registry,
        banji,
        warnings: Vec::new(),
    })
}

fn read_header(t: &TableReader<'_>) -> Option<Header> {
    let ctx = t.ctx();
    let copy_no = t.opt_str("份号");
    if let Some(c) = &copy_no
        && (c.value.len() != 6 || !c.value.chars().all(|c| c.is_ascii_digit()))
    {
        ctx.push(
            Diagnostic::error(
                c.loc.clone(),
                format!("份号\"{}\"应为 6 位阿拉伯数字", c.value),
            )
            .with_hint("例如 份号 = \"000123\""),
        );
    }
    let secret = t.opt_str("密级");
    let period = t.opt_str("保密期限");
    let secret = match (secret, period) {
        (Some(s), Some(p)) => {
            Some(Located::new(format!("{}★{}", s.value, p.value), s.loc))
        }
        (Some(s), None) => Some(s),
        (None, Some(p)) => {
            ctx.push(Diagnostic::error(p.loc.clone(), "有保密期限却没有密级"));
            None
        }
        (None, None) => None,
    };
    let urgency = t.opt_str("紧急程度");
    let organs = t.str_list("发文机关");
    if organs.is_empty() {
        if t.has("发文机关") {
            ctx.error(t.span(), "\"版头.发文机关\"不能为空");
        } else {
            ctx.error(t.span(), "缺少必填项\"版头.发文机关\"");
        }
    }
    for o in &organs {
        if o.value.trim().is_empty() {
            ctx.push(Diagnostic::error(o.loc.clone(), "发文机关名称不能为空"));
        }
    }
    let wenjian = t.opt_bool("文件").unwrap_or(false);
    let code = t.req_str("机关代字");
    let year = t.req_int("年份", 1900..2201);
    let seq = t.req_int("序号", 1..100_000);
    let signers = t.str_list("签发人");
    Some(Header {
        copy_no,
        secret,
        urgency,
        organs,
        wenjian,
        number: DocNumber { code: code?, year: year?.value, seq: seq?.value },
        signers,
    })
}

fn read_notice(t: &TableReader<'_>) -> Option<Notice> {
    let title = t.req_str("标题");
    let addressees = t.str_list("主送");
    let body = t.str_list("正文");
    if body.is_empty() {
        t.ctx().error(t.span(), "缺少必填项\"通知.正文\"");
    }
    let signature = t.str_list("署名");
    if signature.is_empty() {
        t.ctx().error(t.span(), "缺少必填项\"通知.署名\"");
    }
    let date = t.req_date("成文日期");
    let sealed = t.opt_bool("盖章").unwrap_or(false);
    let seal = t.opt_str("印章");
    if seal.is_some() && !sealed {
        let s = seal.as_ref().map(|s| s.loc.clone()).unwrap_or(Location::None);
        t.ctx().push(
            Diagnostic::error(s, "给出了印章图片，但\"盖章\"不是 true")
                .with_hint("加上 盖章 = true"),
        );
    }
    let note = t.opt_str("附注");
    Some(Notice {
        title: title?,
        addressees,
        body,
        signature,
        date: date?,
        sealed,
        seal,
        note,
    })
}

fn read_plan(t: &TableReader<'_>) -> Option<Plan> {
    let title = t.req_str("标题");
    let intro = t.str_list("导语");
    let sections = read_sections(t, "章", 1);
    Some(Plan { title: title?, intro, sections })
}

/// The deepest heading level GB/T 9704 numbers: 一、（一）1.（1）.
pub const MAX_LEVEL: usize = 4;
const CHILD_KEYS: [&str; 4] = ["章", "节", "条", "款"];

fn read_sections(t: &TableReader<'_>, key: &'static str, level: usize) -> Vec<Section> {
    t.tables(key)
        .into_iter()
        .filter_map(|s| {
            let r = read_section(&s, level);
            s.finish();
            r
        })
        .collect()
}

fn read_section(t: &TableReader<'_>, level: usize) -> Option<Section> {
    let title = t.req_str("标题");
    let run_in = t.opt_str("内容");
    let paragraphs = t.str_list("段落");
    let source = match t.opt_str("来源") {
        None => SectionSource::Written,
        Some(s) if s.value == "创建步骤" => SectionSource::Stages,
        Some(s) if s.value == "指标" => match t.opt_str("模板") {
            Some(template) => {
                let numbering = match t.opt_str("编号") {
                    None => IndicatorNumbering::Heading,
                    Some(n) if n.value == "自动" => IndicatorNumbering::Heading,
                    Some(n) if n.value == "无" => IndicatorNumbering::None,
                    Some(n) => {
                        t.ctx().push(
                            Diagnostic::error(
                                n.loc.clone(),
                                format!("未知的编号方式\"{}\"", n.value),
                            )
                            .with_hint("可写\"自动\"（按标题层级编号（一）（二）……）或\"无\"（在模板中自行写编号，如 第{{ 指标.序号 }}项指标：）"),
                        );
                        IndicatorNumbering::Heading
                    }
                };
                SectionSource::Indicators { template, numbering }
            }
            None => {
                t.ctx().push(
                        Diagnostic::error(s.loc.clone(), "来源为\"指标\"的章节需要\"模板\"")
                            .with_hint("例如 模板 = \"{{ 指标.三级指标 }}（责任单位：{{ 指标.责任单位 }}）\""),
                    );
                SectionSource::Written
            }
        },
        Some(s) => {
            t.ctx().push(
                Diagnostic::error(
                    s.loc.clone(),
                    format!("未知的章节来源\"{}\"", s.value),
                )
                .with_hint("可用的来源：创建步骤、指标"),
            );
            SectionSource::Written
        }
    };
    let children = if level < MAX_LEVEL {
        read_sections(t, CHILD_KEYS[level], level + 1)
    } else {
        if t.has(CHILD_KEYS[MAX_LEVEL - 1]) {
            t.ctx()
                .error(t.span(), "章节层级过深：公文标题最多四级（一、（一）1.（1））");
        }
        Vec::new()
    };
    let closing = t.str_list("结尾段落");
    if run_in.is_some() && (!children.is_empty() || source != SectionSource::Written) {
        t.ctx().error(t.span(), "有\"内容\"（标题后接正文）的章节不能再有下级章节");
    }
    Some(Section { title: title?, run_in, paragraphs, children, closing, source })
}

fn read_stage(t: &TableReader<'_>) -> Option<Stage> {
    let name = t.req_str("名称");
    let written = t.req_str("时限");
    let deadline_text = written.as_ref().map(|d| d.value.trim().to_string());
    let deadline = written.and_then(|d| match Deadline::parse(&d.value, None) {
        Ok(v) => Some(Located::new(v, d.loc)),
        Err(e) => {
            t.ctx().push(
                Diagnostic::error(d.loc, e.to_string())
                    .with_hint(crate::deadline::FORMS_HINT),
            );
            None
        }
    });
    let text = t.req_str("内容");
    Some(Stage {
        name: name?,
        deadline: deadline?,
        deadline_text: deadline_text?,
        text: text?,
    })
}

fn read_annex(t: &TableReader<'_>, dir: &CaseDir) -> Option<Annex> {
    // a roster or 工作专班 may come from a workbook instead of the case file
    let data = t.opt_str("数据");
    let sheet = t.opt_str("工作表");
    let title = t.req_str("标题");
    let notes = t.str_list("说明");
    let landscape = t.opt_bool("横排");
    let kind = t.req_str("类型");
    let body = match kind {
        Some(k)
            if k.value == "责任清单" || k.value == "任务分解" || k.value == "指标表" =>
        {
            read_columns(t, &k.value).map(AnnexBody::Indicators)
        }
        Some(k) if k.value == "名单" && data.is_some() => {
            let d = data.as_ref().expect("checked by the guard");
            let rows =
                read_annex_sheet(t, dir, d, sheet.as_ref(), columns::ROSTER_FIELDS)?;
            let mut groups: Vec<RosterGroup> = Vec::new();
            for (loc, cells) in rows {
                let (label, name, post) = (&cells[0], &cells[1], &cells[2]);
                if name.is_empty() {
                    continue;
                }
                if !label.is_empty()
                    && groups.last().is_none_or(|g| g.label.value != *label)
                {
                    groups.push(RosterGroup {
                        label: Located::new(label.clone(), loc.clone()),
                        members: Vec::new(),
                    });
                }
                match groups.last_mut() {
                    Some(g) => {
                        g.members.push(Located::new((name.clone(), post.clone()), loc))
                    }
                    None => t.ctx().push(Diagnostic::error(
                        loc,
                        "名单的第一行没有组别（组长、副组长、成员）",
                    )),
                }
            }
            Some(AnnexBody::Roster(groups, t.str_list("段落")))
        }
        Some(k) if k.value == "专班" && data.is_some() => {
            let d = data.as_ref().expect("checked by the guard");
            let rows =
                read_annex_sheet(t, dir, d, sheet.as_ref(), columns::TASK_FORCE_FIELDS)?;
            let forces = rows
                .into_iter()
                .filter(|(_, c)| !c[0].is_empty())
                .map(|(loc, c)| TaskForce {
                    name: Located::new(c[0].clone(), loc.clone()),
                    lead: Located::new(c[1].clone(), loc.clone()),
                    members: Located::new(c[2].clone(), loc.clone()),
                    tasks: Located::new(c[3].clone(), loc),
                })
                .collect();
            Some(AnnexBody::TaskForces(forces))
        }
        Some(k) if k.value == "名单" => {
            let groups = t
                .tables("组")
                .into_iter()
                .filter_map(|g| {
                    let label = g.req_str("名称");
                    let members = g
                        .str_list("成员")
                        .into_iter()
                        .map(|m| {
                            // "王丽 县委副书记、县长": name, then post; a list without a
                            // space is a collective entry
                            let text = m.value.trim();
                            let split = text.split_once([' ', '\u{3000}', '\t']);
                            let v = match split {
                                Some((name, post)) if name.chars().count() <= 4 => {
                                    (name.to_string(), post.trim().to_string())
                                }
                                _ => (text.to_string(), String::new()),
                            };
                            Located::new(v, m.loc)
                        })
                        .collect::<Vec<_>>();
                    if members.is_empty() {
                        g.ctx().error(g.span(), "名单的组没有成员");
                    }
                    g.finish();
                    Some(RosterGroup { label: label?, members })
                })
                .collect();
            Some(AnnexBody::Roster(groups, t.str_list("段落")))
        }
        Some(k) if k.value == "专班" => {
            let forces = t
                .tables("专班")
                .into_iter()
                .filter_map(|g| {
                    let name = g.req_str("名称");
                    let lead = g.req_str("牵头单位");
                    let members = g.opt_str("成员单位");
                    let tasks = g.req_str("工作任务");
                    let loc = g.ctx().loc(g.span());
                    g.finish();
                    Some(TaskForce {
                        name: name?,
                        lead: lead?,
                        members: members
                            .unwrap_or_else(|| Located::new(String::new(), loc)),
                        tasks: tasks?,
                    })
                })
                .collect();
            Some(AnnexBody::TaskForces(forces))
        }
        Some(k) if k.value == "文字" => Some(AnnexBody::Text(t.str_list("段落"))),
        Some(k) => {
            t.ctx().push(
                Diagnostic::error(k.loc, format!("未知的附件类型\"{}\"", k.value))
                    .with_hint("可用的类型：责任清单、任务分解、名单、专班、文字"),
            );
            None
        }
        None => None,
    };
    let body = body?;
    let wide = match &body {
        AnnexBody::Indicators(cols) => {
            cols.iter().map(|c| c.width.as_ref().map_or(30.0, |w| *w)).sum::<f64>()
                > 156.0
                || cols.len() > 4
                || cols.iter().filter(|c| c.width.is_err()).count() > 1
        }
        AnnexBody::TaskForces(_) => true,
        _ => false,
    };
    let landscape = landscape.unwrap_or(wide);
    // fixed column widths must fit the page (225 mm on landscape pages, 156 mm
    // otherwise; the table's borders take a little), or the table runs off it
    if let AnnexBody::Indicators(cols) = &body {
        let fixed: f64 = cols.iter().filter_map(|c| c.width.as_ref().ok()).sum();
        let room = if landscape { 222.0 } else { 154.0 };
        let flexible = cols.iter().any(|c| c.width.is_err());
        if fixed > room || (flexible && fixed > room - 10.0) {
            let at = t
                .str_list("列宽")
                .first()
                .map_or_else(|| t.ctx().loc(t.span()), |w| w.loc.clone());
            t.ctx().push(
                Diagnostic::error(
                    at,
                    format!(
                        "各列宽合计 {fixed:.0} 毫米，超出{}页面可用的 {room:.0} 毫米",
                        if landscape { "横排" } else { "竖排" }
                    ),
                )
                .with_hint("减小\"列宽\"中的毫米数，或把某些列改为比例（如 \"2fr\"）"),
            );
        }
    }
    Some(Annex { title: title?, notes, landscape, body })
}

/// Reads the rows of an annex workbook: the header row is the first naming every
/// wanted column (any synonym); each row gives its cells in the wanted order,
/// merged cells filled, with the location of its first cell.
fn read_annex_sheet(
    t: &TableReader<'_>,
    dir: &CaseDir,
    file: &Located<String>,
    sheet: Option<&Located<String>>,
    fields: &[columns::Field],
) -> Option<Vec<(Location, Vec<String>)>> {
    let Some(root) = dir.path() else {
        t.ctx().push(Diagnostic::error(file.loc.clone(), "内置示例不能读取工作簿"));
        return None;
    };
    let path = match case_file(root, file) {
        Ok(p) => p,
        Err(d) => {
            t.ctx().push(d);
            return None;
        }
    };
    let shown = display_path(&root.join(&file.value));
    let ws =
        match workbook::read_sheet_raw(&path, &shown, sheet.map(|s| s.value.as_str())) {
            Ok(w) => w,
            Err(d) => {
                t.ctx().push(Diagnostic { location: file.loc.clone(), ..d });
                return None;
            }
        };
    let header = columns::find_header(&ws.cells, fields, fields, 0);
    let Some(header) = header else {
        let want: Vec<&str> =
            fields.iter().filter_map(|f| columns::names(*f).first().copied()).collect();
        t.ctx().push(Diagnostic::error(
            Location::File(shown),
            format!("工作表\"{}\"中找不到表头（应有：{}）", ws.name, want.join("、")),
        ));
        return None;
    };
    let cols: Vec<usize> = fields.iter().filter_map(|f| header.col(*f)).collect();
    let mut out = Vec::new();
    let mut carried = String::new();
    for (r, row) in ws.cells.iter().enumerate().skip(header.row + 1) {
        let mut cells: Vec<String> =
            cols.iter().map(|&c| row.get(c).cloned().unwrap_or_default()).collect();
        // empty, or the header again
        if cells.iter().all(String::is_empty)
            || cells
                .iter()
                .zip(fields)
                .all(|(c, f)| columns::field_of(c, &[*f]).is_some())
        {
            continue;
        }
        // the first column (组别) carries down over rows that leave it empty
        if cells[0].is_empty() {
            cells[0].clone_from(&carried);
        } else {
            carried.clone_from(&cells[0]);
        }
        out.push((ws.loc(r, cols[1.min(cols.len() - 1)]), cells));
    }
    Some(out)
}

/// The default columns of an indicator table kind (责任清单 or 任务分解).
pub fn default_columns(kind: &str) -> Vec<ColumnSpec> {
    use IndicatorColumn::*;
    let cols: Vec<(IndicatorColumn, &str, Result<f64, u32>)> = if kind == "任务分解" {
        vec![
            (Level1, "一级指标", Ok(24.0)),
            (Level2, "二级指标", Ok(30.0)),
            (Seq, "序号", Ok(12.0)),
            (Text, "三级指标", Err(3)),
            (Units, "责任单位", Ok(36.0)),
            (Materials, "具体资料报送", Err(2)),
        ]
    } else {
        vec![
            (Seq, "序号", Ok(14.0)),
            (Text, "三级指标", Err(3)),
            (Materials, "填报材料", Err(3)),
            (Units, "责任单位", Ok(40.0)),
        ]
    };
    cols.into_iter()
        .map(|(column, h, width)| ColumnSpec { column, header: h.to_string(), width })
        .collect()
}

/// The columns of an indicator table: the kind's defaults, or `"列"` with optional
/// `"列宽"` (mm as numbers, or "2fr") and `"表头"`.
fn read_columns(t: &TableReader<'_>, kind: &str) -> Option<Vec<ColumnSpec>> {
    let defaults = default_columns(kind);
    let names = t.str_list("列");
    if names.is_empty() {
        return Some(defaults);
    }
    let defaults: Vec<(IndicatorColumn, &str, Result<f64, u32>)> =
        defaults.iter().map(|c| (c.column, "", c.width)).collect();
    let mut cols = Vec::new();
    let mut ok = true;
    for n in &names {
        match IndicatorColumn::parse(n.value.trim()) {
            Some(column) => {
                let (width, header) = defaults
                    .iter()
                    .find(|d| d.0 == column)
                    .map_or((Err(2), n.value.trim().to_string()), |d| {
                        (d.2, n.value.trim().to_string())
                    });
                cols.push(ColumnSpec { column, header, width });
            }
            None => {
                ok = false;
                t.ctx().push(
                    Diagnostic::error(n.loc.clone(), format!("未知的列\"{}\"", n.value))
                        .with_hint("可用的列：序号、一级指标、二级指标、三级指标、填报材料、责任单位、配合单位、完成时限、完成情况、备注"),
                );
            }
        }
    }
    let widths = t.str_list("列宽");
    if !widths.is_empty() {
        if widths.len() != cols.len() {
            t.ctx().push(Diagnostic::error(
                widths[0].loc.clone(),
                format!("列宽有 {} 项，列有 {} 项", widths.len(), cols.len()),
            ));
            ok = false;
        }
        for (c, w) in cols.iter_mut().zip(&widths) {
            let v = w.value.trim();
            let parsed = if let Some(fr) = v.strip_suffix("fr") {
                fr.trim().parse::<u32>().ok().filter(|f| *f > 0).map(Err)
            } else {
                v.trim_end_matches("mm")
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|m| *m > 3.0 && *m < 230.0)
                    .map(Ok)
            };
            match parsed {
                Some(p) => c.width = p,
                None => {
                    ok = false;
                    t.ctx().push(
                        Diagnostic::error(
                            w.loc.clone(),
                            format!("无法识别的列宽\"{v}\""),
                        )
                        .with_hint("写毫米数（如 \"30\"）或比例（如 \"2fr\"）"),
                    );
                }
            }
        }
    }
    let headers = t.str_list("表头");
    if !headers.is_empty() && headers.len() != cols.len() {
        t.ctx().push(Diagnostic::error(
            headers[0].loc.clone(),
            format!("表头有 {} 项，列有 {} 项", headers.len(), cols.len()),
        ));
        ok = false;
    }
    for (c, h) in cols.iter_mut().zip(&headers) {
        c.header = h.value.clone();
    }
    ok.then_some(cols)
}

fn read_banji(t: &TableReader<'_>) -> Option<Banji> {
    let cc = t.str_list("抄送");
    let printer = t.req_str("印发机关");
    let date = t.req_date("印发日期");
    Some(Banji { cc, printer: printer?, date: date? })
}

/// Reads every 完成时限 once, into [`Indicator::due`]: a year-less date takes
/// the notice's year (the one year rule; `gongwen status` asks about a date that
/// then falls before the notice). An unreadable one is an error at its cell, and
/// no task may be due after the last dated 创建步骤 (the stage that collects the
/// work).
fn read_task_deadlines(
    inds: &mut [Indicator],
    stages: &[Stage],
    date: &Located<chrono::NaiveDate>,
    diags: &mut Diagnostics,
) {
    use chrono::Datelike;
    // the stage that collects the work is the last one; an open-ended last stage
    // (按照市部署时间) sets no limit
    let last_stage =
        stages.last().and_then(|s| s.deadline.value.latest_day().map(|d| (d, s)));
    for ind in inds {
        let Some(d) = &ind.deadline else { continue };
        let parsed = match Deadline::parse(&d.value, Some(date.value.year())) {
            Ok(p) => p,
            Err(e) => {
                diags.push(
                    Diagnostic::error(d.loc.clone(), e.to_string())
                        .with_hint(crate::deadline::FORMS_HINT),
                );
                continue;
            }
        };
        let names_year = crate::deadline::names_year(&d.value);
        let latest = parsed.latest_day();
        ind.due = Some(crate::model::Due { deadline: parsed.clone(), names_year });
        let Some(latest) = latest else { continue };
        if !names_year && latest < date.value {
            // reported by `gongwen status` with the question "是否指次年？"
            continue;
        }
        if let Some((stage_day, stage)) = last_stage
            && latest > stage_day
        {
            diags.push(Diagnostic::error(
                d.loc.clone(),
                format!(
                    "完成时限（{}）晚于最后一个创建步骤\"{}\"（{}）",
                    parsed, stage.name.value, stage.deadline.value
                ),
            ));
        }
    }
}

/// Stages must follow each other in time and none may end before the notice is dated.
fn check_stages(
    stages: &[Stage],
    date: &Located<chrono::NaiveDate>,
    diags: &mut Diagnostics,
) {
    let mut prev: Option<&Stage> = None;
    for s in stages {
        let Some(start) = s.deadline.value.earliest_day() else { continue };
        if let Some(end) = s.deadline.value.latest_day()
            && end < date.value
        {
            diags.push(Diagnostic::error(
                s.deadline.loc.clone(),
                format!(
                    "创建步骤\"{}\"的时限（{}）早于成文日期（{}）",
                    s.name.value,
                    s.deadline.value,
                    crate::deadline::cn_date(date.value)
                ),
            ));
        }
        if let Some(p) = prev
            && let Some(pstart) = p.deadline.value.earliest_day()
            && start < pstart
        {
            diags.push(
                Diagnostic::error(
                    s.deadline.loc.clone(),
                    format!(
                        "创建步骤顺序颠倒：\"{}\"（{}）排在\"{}\"（{}）之后",
                        s.name.value, s.deadline.value, p.name.value, p.deadline.value
                    ),
                )
                .with_hint("按时间先后排列创建步骤"),
            );
        }
        prev = Some(s);
    }
}

/// Reads an indicator file (workbook or `[[指标]]` TOML) outside a case; the
/// warnings are left out (see [`read_indicator_file`]).
pub fn load_indicator_file(
    path: &Path,
    sheet: Option<&str>,
) -> Result<Vec<Indicator>, Vec<Diagnostic>> {
    read_indicator_file(path, sheet).map(|(inds, _)| inds)
}

/// Reads an indicator file (workbook or `[[指标]]` TOML) outside a case, with
/// its warnings (rows left out).
pub fn read_indicator_file(
    path: &Path,
    sheet: Option<&str>,
) -> Result<(Vec<Indicator>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let dir = CaseDir::Disk(
        path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    );
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let file = Located::new(name, Location::File(display_path(path)));
    let sheet = sheet.map(|s| Located::new(s.to_string(), Location::None));
    let mut diags = Diagnostics::new();
    let inds = load_indicators(&dir, &file, sheet.as_ref(), &mut diags);
    if diags.has_errors() { Err(diags.into_vec()) } else { Ok((inds, diags.into_vec())) }
}

/// Reads the indicators: a TOML file of `[[指标]]` rows, or a workbook.
fn load_indicators(
    dir: &CaseDir,
    file: &Located<String>,
    sheet: Option<&Located<String>>,
    diags: &mut Diagnostics,
) -> Vec<Indicator> {
    let ext = Path::new(&file.value)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let out = match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => {
            let Some(root) = dir.path() else {
                diags.push(Diagnostic::error(file.loc.clone(), "内置示例不能读取工作簿"));
                return Vec::new();
            };
            let path = match case_file(root, file) {
                Ok(p) => p,
                Err(d) => {
                    diags.push(d);
                    return Vec::new();
                }
            };
            let shown = display_path(&root.join(&file.value));
            let read =
                workbook::read_sheet(&path, &shown, sheet.map(|s| s.value.as_str()))
                    .map_err(|d| vec![d])
                    .and_then(|s| workbook::read_indicators(&s));
            match read {
                Ok((v, warnings)) => {
                    diags.extend(warnings);
                    v
                }
                Err(ds) => {
                    diags.extend(ds);
                    return Vec::new();
                }
            }
        }
        _ => load_indicator_toml(dir, file, diags),
    };
    check_numbering(&out, diags);
    out
}

/// Each list (main, 加分项, 否决项 …) counts 1, 2, 3 … without gaps.
fn check_numbering(inds: &[Indicator], diags: &mut Diagnostics) {
    let mut expected: BTreeMap<String, u32> = BTreeMap::new();
    for ind in inds {
        let key = match &ind.kind {
            IndicatorKind::Main => String::new(),
            IndicatorKind::Extra(k) => k.clone(),
        };
        let next = expected.entry(key).or_insert(1);
        if ind.seq != *next {
            diags.push(Diagnostic::error(
                ind.seq_loc.clone(),
                format!("序号应为 {}，实为 {}", next, ind.seq),
            ));
        }
        *next = ind.seq + 1;
    }
}

/// Reads and parses a TOML file of the case; problems go to `diags`.
fn read_toml(
    dir: &CaseDir,
    file: &Located<String>,
    diags: &mut Diagnostics,
) -> Option<(SourceText, tree::Node)> {
    let src = match dir.read_text(&file.value) {
        Ok(s) => s,
        Err(d) => {
            diags.push(Diagnostic { location: file.loc.clone(), ..d });
            return None;
        }
    };
    match tree::parse(&src) {
        Ok(root) => Some((src, root)),
        Err(ds) => {
            diags.extend(ds);
            None
        }
    }
}

/// Reads `[[指标]]` rows of a TOML file.
fn load_indicator_toml(
    dir: &CaseDir,
    file: &Located<String>,
    diags: &mut Diagnostics,
) -> Vec<Indicator> {
    let Some((src, root)) = read_toml(dir, file, diags) else { return Vec::new() };
    let ctx = Ctx::new(&src);
    let mut out = Vec::new();
    if let Some(t) = TableReader::new(&ctx, &root, "") {
        for row in t.tables("指标") {
            let seq = row.req_int("序号", 1..100_000);
            let kind = row.opt_str("类别");
            let level1 = row.opt_str("一级指标").map(|s| s.value);
            let level2 = row.opt_str("二级指标").map(|s| s.value);
            let text = row.req_str("三级指标");
            let materials = row.opt_str("填报材料");
            let units = row.opt_str("责任单位");
            let co_units = row.opt_str("配合单位");
            let deadline = row.opt_str("完成时限");
            let status = row.opt_str("完成情况");
            let note = row.opt_str("备注").map(|s| s.value);
            let loc = ctx.loc(row.span());
            row.finish();
            let done = crate::model::is_done(
                status.as_ref().map(|s| s.value.as_str()),
                units.as_ref().map_or("", |u| u.value.as_str()),
            );
            if let (Some(seq), Some(text)) = (seq, text) {
                out.push(Indicator {
                    seq: seq.value as u32,
                    seq_loc: seq.loc,
                    seq_label: None,
                    kind: kind
                        .map_or(IndicatorKind::Main, |k| IndicatorKind::Extra(k.value)),
                    level1,
                    level2,
                    text,
                    materials: materials
                        .unwrap_or_else(|| Located::new(String::new(), loc.clone())),
                    units: units
                        .unwrap_or_else(|| Located::new(String::new(), loc.clone())),
                    co_units,
                    unit_refs: Vec::new(),
                    done,
                    deadline,
                    due: None,
                    status,
                    note,
                });
            }
        }
        t.finish();
    }
    diags.extend(ctx.diags.into_inner().into_vec());
    out
}

/// Reads the unit registry (`[[单位]]` rows of a TOML file).
fn load_registry(
    dir: &CaseDir,
    file: &Located<String>,
    diags: &mut Diagnostics,
) -> Registry {
    let Some((src, root)) = read_toml(dir, file, diags) else {
        return Registry::default();
    };
    let ctx = Ctx::new(&src);
    let mut units = Vec::new();
    if let Some(t) = TableReader::new(&ctx, &root, "") {
        for row in t.tables("单位") {
            let name = row.req_str("名称");
            let mut aliases: Vec<String> =
                row.str_list("简称").into_iter().map(|s| s.value).collect();
            aliases.extend(row.str_list("别名").into_iter().map(|s| s.value));
            let kind = row.opt_str("类别").map(|s| s.value);
            row.finish();
            if let Some(name) = name {
                units.push((Unit { name: name.value, aliases, kind }, name.loc));
            }
        }
        t.finish();
    }
    diags.extend(ctx.diags.into_inner().into_vec());
    let (registry, ds) = Registry::new(units);
    diags.extend(ds);
    registry
}

/// Resolves every indicator's 责任单位 and 配合单位 cells against the registry.
fn resolve_units(registry: &Registry, inds: &mut [Indicator], diags: &mut Diagnostics) {
    let mut found = Vec::new();
    for ind in inds.iter_mut() {
        let mut refs = crate::registry::resolve_cell(
            registry,
            &ind.units.value,
            &ind.units.loc,
            &mut found,
        );
        if let Some(co) = &ind.co_units {
            for r in
                crate::registry::resolve_cell(registry, &co.value, &co.loc, &mut found)
            {
                let r = match r {
                    UnitRef::Unit { name, .. } => {
                        UnitRef::Unit { name, role: Role::Support }
                    }
                    UnitRef::Collective { text, .. } => {
                        UnitRef::Collective { text, role: Role::Support }
                    }
                };
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        ind.unit_refs = refs;
    }
    diags.extend(found);
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn io_reasons_are_chinese_and_never_the_systems_text() {
        assert_eq!(io_reason(&Error::from(ErrorKind::StorageFull)), "磁盘已满");
        assert_eq!(
            io_reason(&Error::from(ErrorKind::ReadOnlyFilesystem)),
            "文件系统只读"
        );
        assert_eq!(io_reason(&Error::other("disk on fire")), "读写出错");
        assert_eq!(
            io_reason(&Error::new(
                ErrorKind::AlreadyExists,
                IoReason("两个输出同名".into())
            )),
            "两个输出同名"
        );
        // a kind the table does not name: the number, not the text
        let odd = Error::from_raw_os_error(200);
        assert_eq!(io_reason(&odd), "系统错误 200");
        #[cfg(target_os = "linux")]
        {
            assert_eq!(io_reason(&Error::from_raw_os_error(28)), "磁盘已满");
            assert_eq!(io_reason(&Error::from_raw_os_error(40)), "符号链接形成循环");
            assert_eq!(io_reason(&Error::from_raw_os_error(36)), "文件名无效或过长");
        }
        // every error number the system has maps to Chinese
        for n in 1..=133 {
            let r = io_reason(&Error::from_raw_os_error(n));
            assert!(!r.chars().any(|c| c.is_ascii_alphabetic()), "{n}: {r}");
        }
    }
}
