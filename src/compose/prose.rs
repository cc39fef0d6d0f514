//! Wording from Tera templates.
//!
//! Built-in templates live in `templates/prose/` and are compiled into the binary;
//! `--templates DIR` overrides single files. Paragraphs of the case file are
//! templates too, rendered with the case's variables, its stages and its
//! indicators, so a plan can be worded from the data. Tera produces plain text
//! here: the writers print it literally.

use std::collections::HashMap;
use std::path::Path;

use tera::{Context, Tera};

use crate::diag::{Diagnostic, Location};
use crate::model::Located;

/// Built-in wording templates: (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("stage_heading.tera", include_str!("../../templates/prose/stage_heading.tera")),
    ("indicator_item.tera", include_str!("../../templates/prose/indicator_item.tera")),
];

/// The template engine with our filters and templates.
///
/// Tera only accepts ASCII identifiers, while our variables are Chinese
/// (`{{ 县名 }}`). Identifiers inside template tags are therefore mangled to ASCII
/// before Tera sees them, context keys the same way, and messages are demangled.
pub struct Prose {
    tera: Tera,
}

/// The ASCII name Tera sees for an identifier with non-ASCII characters.
pub fn mangle_ident(ident: &str) -> String {
    if ident.is_ascii() {
        return ident.to_string();
    }
    use std::fmt::Write as _;
    let mut out = String::with_capacity(2 + ident.len() * 3);
    out.push_str("zh");
    for c in ident.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}_", c as u32);
        }
    }
    out
}

/// Turns mangled names in a message back into the user's.
fn demangle(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("zh_") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let mut name = String::new();
        let mut j = 0;
        let bytes = tail.as_bytes();
        while j < bytes.len() {
            if bytes[j] == b'_' {
                if let Some(end) = tail[j + 1..].find('_')
                    && let Some(c) = u32::from_str_radix(&tail[j + 1..j + 1 + end], 16)
                        .ok()
                        .and_then(char::from_u32)
                {
                    name.push(c);
                    j += end + 2;
                    continue;
                }
                break;
            } else if bytes[j].is_ascii_alphanumeric() {
                name.push(bytes[j] as char);
                j += 1;
            } else {
                break;
            }
        }
        if name.is_empty() {
            out.push_str("zh");
            rest = tail;
        } else {
            out.push_str(&name);
            rest = &tail[j..];
        }
    }
    out.push_str(rest);
    out
}

/// Mangles the identifiers inside `{{ }}` and `{% %}` tags (string literals untouched).
pub fn mangle_template(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    loop {
        let open = [rest.find("{{"), rest.find("{%")].into_iter().flatten().min();
        let Some(start) = open else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start + 2]);
        let close_pat = if &rest[start..start + 2] == "{{" { "}}" } else { "%}" };
        let body_start = start + 2;
        let end =
            rest[body_start..].find(close_pat).map_or(rest.len(), |e| body_start + e);
        let body = &rest[body_start..end];
        let mut ident = String::new();
        let mut quote: Option<char> = None;
        let flush = |ident: &mut String, out: &mut String| {
            out.push_str(&mangle_ident(ident));
            ident.clear();
        };
        for c in body.chars() {
            if let Some(q) = quote {
                out.push(c);
                if c == q {
                    quote = None;
                }
                continue;
            }
            if c == '"' || c == '\'' || c == '`' {
                flush(&mut ident, &mut out);
                quote = Some(c);
                out.push(c);
            } else if c.is_alphanumeric() || c == '_' {
                ident.push(c);
            } else {
                flush(&mut ident, &mut out);
                out.push(c);
            }
        }
        flush(&mut ident, &mut out);
        out.push_str(&rest[end..(end + 2).min(rest.len())]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
}

/// A Tera context whose keys (and nested object keys) are mangled.
pub fn mangled_context(pairs: &serde_json::Map<String, serde_json::Value>) -> Context {
    let mut ctx = Context::new();
    for (k, v) in pairs {
        insert_mangled(&mut ctx, k, v);
    }
    ctx
}

/// Sets one variable of a Tera context, its key (and nested object keys)
/// mangled as in [`mangled_context`].
pub fn insert_mangled(ctx: &mut Context, key: &str, value: &serde_json::Value) {
    ctx.insert(mangle_ident(key), &mangle_value(value));
}

fn mangle_value(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter().map(|(k, v)| (mangle_ident(k), mangle_value(v))).collect(),
        ),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(mangle_value).collect())
        }
        other => other.clone(),
    }
}

impl Prose {
    /// Built-in templates, with files from `overrides` replacing them by name.
    pub fn new(overrides: Option<&Path>) -> Result<Self, Diagnostic> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        register_filters(&mut tera);
        register_functions(&mut tera);
        for (name, text) in BUILTIN {
            let mut text = (*text).to_string();
            let mut shown = format!("<内置模板>/{name}");
            if let Some(dir) = overrides {
                let path = dir.join(name);
                if path.is_file() {
                    text = std::fs::read_to_string(&path).map_err(|e| {
                        Diagnostic::error(
                            Location::File(path.display().to_string()),
                            format!("无法读取模板（{}）", crate::case::io_reason(&e)),
                        )
                    })?;
                    shown = path.display().to_string();
                }
            }
            tera.add_raw_template(name, &mangle_template(text.trim_end_matches('\n')))
                .map_err(|e| {
                    Diagnostic::error(
                        Location::File(shown),
                        format!("模板有误（{}）", error_chain(&e)),
                    )
                })?;
        }
        Ok(Self { tera })
    }

    /// Renders a named built-in (or overridden) template.
    pub fn render_named(
        &self,
        name: &str,
        ctx: &Context,
        at: &Location,
    ) -> Result<String, Diagnostic> {
        self.tera.render(name, ctx).map_err(|e| {
            Diagnostic::error(
                at.clone(),
                format!("无法套用模板 {name}（{}）", error_chain(&e)),
            )
        })
    }

    /// Renders a text of the case file as a template. Text without template
    /// syntax is returned unchanged, whatever characters it holds.
    pub fn render_text(
        &mut self,
        text: &Located<String>,
        ctx: &Context,
    ) -> Result<String, Diagnostic> {
        let t = &text.value;
        if !(t.contains("{{") || t.contains("{%") || t.contains("{#")) {
            return Ok(t.clone());
        }
        if let Some(why) = unsafe_template(t) {
            return Err(Diagnostic::error(text.loc.clone(), why).with_hint(
                "案卷中的文字模板只能用变量、过滤器、if 和至多两层 for 循环",
            ));
        }
        self.tera.render_str(&mangle_template(t), ctx).map_err(|e| {
            Diagnostic::error(text.loc.clone(), format!("无法套用模板（{}）", error_chain(&e)))
                .with_hint("模板变量写作 {{ 县名 }}，变量在 [变量] 中定义；要原样印出 {{ 请写 {{ \"{{\" }}")
        })
    }
}

/// Tera's error in Chinese. Tera's Display names only the template, the cause
/// is in `source()` (as zola's `unravel_errors` walks it), and every text of it
/// is English: each link of the chain is worded from its kind, messages of our
/// own filters and functions are kept, and what cannot be told is named by the
/// expression it concerns, never by Tera's English.
fn error_chain(e: &tera::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(link) = cur {
        if let Some(part) = tera_part(link)
            && !parts.contains(&part)
        {
            parts.push(part);
        }
        cur = link.source();
    }
    // the innermost link says most; a wrapper alone says what went wrong in general
    let specific: Vec<&String> =
        parts.iter().filter(|p| p.as_str() != "模板无法套用").collect();
    if specific.is_empty() {
        "模板无法套用".to_owned()
    } else {
        specific.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("：")
    }
}

/// One link of a Tera error chain in Chinese, or `None` for a link that adds
/// nothing (a wrapper naming the template).
fn tera_part(link: &(dyn std::error::Error + 'static)) -> Option<String> {
    use tera::ErrorKind as K;
    let own = |text: &str| text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let Some(e) = link.downcast_ref::<tera::Error>() else {
        // serde_json and the like: only text of our own is shown
        let text = link.to_string();
        return own(&text).then(|| demangle(&text));
    };
    let name = |n: &str| demangle(n);
    Some(match &e.kind {
        K::Msg(m) => return msg_part(m),
        K::FilterNotFound(n) => format!("没有过滤器 {}", name(n)),
        K::FunctionNotFound(n) => format!("没有函数 {}", name(n)),
        K::TestNotFound(n) => format!("没有判断 {}", name(n)),
        K::TemplateNotFound(n) => format!("没有模板 {}", name(n)),
        K::CallFilter(n) => format!("过滤器 {} 出错", name(n)),
        K::CallFunction(n) => format!("函数 {} 出错", name(n)),
        K::CallTest(n) => format!("判断 {} 出错", name(n)),
        K::InvalidMacroDefinition(_) => "宏的定义有误".to_owned(),
        K::CircularExtend { .. } | K::MissingParent { .. } => {
            "模板的继承关系有误".to_owned()
        }
        K::Json(_) => "模板数据无法转换".to_owned(),
        K::Io(kind) => crate::case::io_reason(&std::io::Error::from(*kind)),
        K::Utf8Conversion { .. } => "模板输出的文字不是有效的 UTF-8".to_owned(),
        _ => "模板无法套用".to_owned(),
    })
}

/// A Tera message (`ErrorKind::Msg`) in Chinese.
fn msg_part(m: &str) -> Option<String> {
    let own = m.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
        && !m.starts_with("Failed to")
        && !m.contains("-->");
    if own {
        // a message of our own filters and functions
        return Some(demangle(m));
    }
    if m.starts_with("Failed to render") || m.starts_with("Failed to parse") {
        return None;
    }
    // a parse error from pest: ` --> 3:7` then the line and what was expected
    if let Some(i) = m.find("--> ") {
        let pos = &m[i + 4..];
        let line: String = pos.chars().take_while(char::is_ascii_digit).collect();
        return Some(if line.is_empty() {
            "模板语法有误".to_owned()
        } else {
            format!("模板第 {line} 行语法有误")
        });
    }
    // "Variable `x` not found in context while rendering 'name'"
    let quoted = m.split('`').nth(1).map(demangle);
    if m.starts_with("Variable `") && m.contains("not found in context") {
        let var = quoted.unwrap_or_default();
        return Some(
            match m.rsplit("while rendering").next().map(|t| t.trim().trim_matches('\''))
            {
                Some(tpl) if m.contains("while rendering") && tpl != "__tera_one_off" => {
                    format!("未定义的变量 `{var}`（模板 {tpl}）")
                }
                _ => format!("未定义的变量 `{var}`"),
            },
        );
    }
    if m.starts_with("Tried to do math") || m.contains("is not a number") {
        return Some(match quoted {
            Some(q) => format!("`{q}` 不是数，不能计算"),
            None => "计算的对象不是数".to_owned(),
        });
    }
    if m.starts_with("Tried to iterate") {
        return Some(match quoted {
            Some(q) => format!("`{q}` 不是列表，不能循环"),
            None => "循环的对象不是列表".to_owned(),
        });
    }
    if m.contains("while not in `for loop`") {
        return Some("break、continue 只能用在 for 循环中".to_owned());
    }
    if m.contains("out of bounds") {
        return Some(match quoted {
            Some(q) => format!("数 {q} 超出范围"),
            None => "数超出范围".to_owned(),
        });
    }
    Some(match quoted {
        Some(q) => format!("`{q}` 无法套用"),
        None => "模板无法套用".to_owned(),
    })
}

/// Most items `range` may give in a case's template.
const RANGE_LIMIT: i64 = 1000;
/// Deepest nesting of `for` loops in a case's template.
const LOOP_DEPTH: usize = 2;

/// Why a case's template text may not run: tags that reach other templates or
/// define recursive macros, and loops nested deeper than [`LOOP_DEPTH`]
/// (templates come from someone else's case folder; their work must be bounded).
pub fn unsafe_template(t: &str) -> Option<String> {
    let mut depth = 0usize;
    let mut rest = t;
    while let Some(i) = rest.find("{%") {
        let after = &rest[i + 2..];
        let end = after.find("%}").unwrap_or(after.len());
        let tag = after[..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let word = tag.split_whitespace().next().unwrap_or("");
        match word {
            // set_global can grow a text without bound across loop rounds
            "macro" | "import" | "include" | "extends" | "block" | "filter"
            | "set_global" => {
                return Some(format!("案卷的文字模板中不能使用 {{% {word} %}}"));
            }
            "for" => {
                depth += 1;
                if depth > LOOP_DEPTH {
                    return Some(format!("模板中的 for 循环嵌套超过 {LOOP_DEPTH} 层"));
                }
            }
            "endfor" => depth = depth.saturating_sub(1),
            _ => {}
        }
        rest = &after[end.min(after.len())..];
    }
    None
}

/// Replaces Tera's built-in functions that reach outside the case or do
/// unbounded work: `get_env` is refused, `range` gives at most [`RANGE_LIMIT`]
/// items.
fn register_functions(tera: &mut Tera) {
    tera.register_function("get_env", |_: &HashMap<String, tera::Value>| {
        Err(tera::Error::msg("模板中不能读取环境变量"))
    });
    tera.register_function("get_random", |_: &HashMap<String, tera::Value>| {
        Err(tera::Error::msg("模板中不能使用随机数"))
    });
    tera.register_function("now", |_: &HashMap<String, tera::Value>| {
        Err(tera::Error::msg("模板中不能读取当前时间（请用 {{ 成文日期 }}）"))
    });
    tera.register_function("range", |args: &HashMap<String, tera::Value>| {
        let int = |k: &str, default: i64| -> tera::Result<i64> {
            match args.get(k) {
                None => Ok(default),
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| tera::Error::msg(format!("range 的 {k} 应为整数"))),
            }
        };
        let start = int("start", 0)?;
        let end = int("end", 0)?;
        let step = int("step_by", 1)?;
        if step <= 0 {
            return Err(tera::Error::msg("range 的 step_by 应为正整数"));
        }
        let count = (end.saturating_sub(start).max(0) + step - 1) / step;
        if count > RANGE_LIMIT {
            return Err(tera::Error::msg(format!("range 最多 {RANGE_LIMIT} 项")));
        }
        let items: Vec<tera::Value> =
            (0..count).map(|k| tera::Value::from(start + k * step)).collect();
        Ok(tera::Value::Array(items))
    });
}

fn register_filters(tera: &mut Tera) {
    tera.register_filter(
        "cn_number",
        |v: &tera::Value, _: &HashMap<String, tera::Value>| {
            let n =
                v.as_u64().ok_or_else(|| tera::Error::msg("cn_number 需要一个整数"))?;
            Ok(tera::Value::String(super::numbering::cn_number(n as u32)))
        },
    );
    tera.register_filter(
        "cn_date",
        |v: &tera::Value, _: &HashMap<String, tera::Value>| {
            let s = v.as_str().ok_or_else(|| tera::Error::msg("cn_date 需要一个日期"))?;
            let d = crate::case::tree::parse_date(s)
                .ok_or_else(|| tera::Error::msg(format!("cn_date 无法识别日期 {s}")))?;
            Ok(tera::Value::String(crate::deadline::cn_date(d)))
        },
    );
    tera.register_filter(
        "join_units",
        |v: &tera::Value, _: &HashMap<String, tera::Value>| {
            let items = v
                .as_array()
                .ok_or_else(|| tera::Error::msg("join_units 需要一个列表"))?;
            let names: Vec<&str> = items.iter().filter_map(|x| x.as_str()).collect();
            Ok(tera::Value::String(names.join("、")))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_templates_are_refused_or_bounded() {
        let mut p = Prose::new(None).unwrap();
        let ctx = mangled_context(&serde_json::Map::new());
        let run = |p: &mut Prose, t: &str| {
            p.render_text(&Located::new(t.to_string(), loc()), &ctx)
        };
        let err = run(&mut p, "{{ get_env(name=\"HOME\") }}").unwrap_err();
        assert!(err.message.contains("环境变量"), "{}", err.message);
        assert!(
            run(&mut p, "{% for i in range(end=2000000000) %}x{% endfor %}").is_err()
        );
        assert_eq!(
            run(&mut p, "{% for i in range(end=3) %}{{ i }}{% endfor %}").unwrap(),
            "012"
        );
        let err =
            run(&mut p, "{% macro m() %}{{ self::m() }}{% endmacro %}").unwrap_err();
        assert!(err.message.contains("macro"), "{}", err.message);
        let nested = "{% for a in range(end=9) %}{% for b in range(end=9) %}{% for c in range(end=9) %}{% endfor %}{% endfor %}{% endfor %}";
        assert!(run(&mut p, nested).unwrap_err().message.contains("嵌套"));
    }

    #[test]
    fn mangling_round_trips_and_spares_strings() {
        assert_eq!(
            mangle_template("甲{{ 县名 | default(value=\"县名\") }}乙"),
            format!("甲{{{{ {} | default(value=\"县名\") }}}}乙", mangle_ident("县名"))
        );
        assert_eq!(
            demangle(&format!("Variable `{}` not found", mangle_ident("县名"))),
            "Variable `县名` not found"
        );
    }

    fn loc() -> Location {
        Location::Text { file: "case.toml".into(), line: 3, col: 7 }
    }

    #[test]
    fn variables_and_filters() {
        let mut p = Prose::new(None).unwrap();
        let ctx = mangled_context(
            serde_json::json!({"县名": "夏邑县", "单位": ["司法局", "政府办"]})
                .as_object()
                .unwrap(),
        );
        let t = Located::new("{{ 县名 }}：{{ 12 | cn_number }}、{{ 单位 | join_units }}、{{ \"2023-08-31\" | cn_date }}".to_string(), loc());
        assert_eq!(
            p.render_text(&t, &ctx).unwrap(),
            "夏邑县：十二、司法局、政府办、2023年8月31日"
        );
    }

    #[test]
    fn loops_over_indicator_data_with_chinese_names() {
        let mut p = Prose::new(None).unwrap();
        let ctx = mangled_context(
            serde_json::json!({"指标": [{"序号": 1, "责任单位": "司法局"}, {"序号": 2, "责任单位": "政府办"}]})
                .as_object()
                .unwrap(),
        );
        let t = Located::new(
            "{% for 项 in 指标 %}{{ 项.序号 | cn_number }}：{{ 项.责任单位 }}{% if not loop.last %}；{% endif %}{% endfor %}".to_string(),
            loc(),
        );
        assert_eq!(p.render_text(&t, &ctx).unwrap(), "一：司法局；二：政府办");
    }

    #[test]
    fn plain_text_is_untouched() {
        let mut p = Prose::new(None).unwrap();
        let t = Located::new("#*_@$[]<>\\\"{ } 😀".to_string(), loc());
        assert_eq!(p.render_text(&t, &Context::new()).unwrap(), t.value);
    }

    #[test]
    fn unknown_variable_is_located() {
        let mut p = Prose::new(None).unwrap();
        let t = Located::new("{{ 县明 }}".to_string(), loc());
        let e = p.render_text(&t, &Context::new()).unwrap_err();
        assert_eq!(e.location, loc());
        assert!(e.message.contains("县明"), "{}", e.message);
    }

    #[test]
    fn tera_errors_are_worded_in_chinese() {
        let mut p = Prose::new(None).unwrap();
        let ctx = mangled_context(
            serde_json::json!({"县名": "夏邑县", "数": 3}).as_object().unwrap(),
        );
        let message = |p: &mut Prose, t: &str| {
            p.render_text(&Located::new(t.to_string(), loc()), &ctx).unwrap_err().message
        };
        for (t, expected) in [
            ("{{ 县明 }}", "无法套用模板（未定义的变量 `县明`）"),
            ("前\n{{ 县名 + }}", "无法套用模板（模板第 2 行语法有误）"),
            ("{{ 县名 | 大写 }}", "无法套用模板（没有过滤器 大写）"),
            ("{{ 无此函数() }}", "无法套用模板（没有函数 无此函数）"),
            ("{{ 县名 * 2 }}", "无法套用模板（`县名` 不是数，不能计算）"),
            ("{% for x in 数 %}{% endfor %}", "无法套用模板（`数` 不是列表，不能循环）"),
            (
                "{{ 县名 | cn_number }}",
                "无法套用模板（过滤器 cn_number 出错：cn_number 需要一个整数）",
            ),
        ] {
            let m = message(&mut p, t);
            assert_eq!(m, expected, "{t}");
        }
    }
}
