//! Command-line errors in Chinese.
//!
//! clap words its own errors in English (`unexpected argument '--bogus' found`).
//! We let clap parse and decide *what* is wrong, then word the message ourselves
//! from the error's kind and context (the argument, the value, the values it
//! accepts, the suggestion), as ripgrep and typst-cli keep clap's parsing but
//! own their messages. `--help` and `--version` keep clap's output and exit 0;
//! every other command-line error exits 2.
//!
//! Numbers with bounds are read with [`number_in`], whose message is Chinese
//! (clap's ranged parser words its own), and the message travels to
//! [`diagnostic`] as a [`ValueProblem`].

use std::fmt;
use std::ops::RangeInclusive;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::diag::{Diagnostic, Location};

/// Why a value given on the command line was refused, worded in Chinese by the
/// parser that refused it.
#[derive(Debug, Clone)]
pub struct ValueProblem(pub String);

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueProblem {}

/// A value parser for a whole number in `range`, converted to `T`: for
/// `#[arg(value_parser = number_in::<u16>(1..=1000))]`.
pub fn number_in<T>(
    range: RangeInclusive<i64>,
) -> impl Fn(&str) -> Result<T, ValueProblem> + Clone + Send + Sync + 'static
where
    T: TryFrom<i64> + Clone + Send + Sync + 'static,
{
    move |s: &str| {
        let bounds = format!("应为 {} 至 {} 之间的整数", range.start(), range.end());
        let n: i64 = match s.trim().parse() {
            Ok(n) => n,
            Err(e) => {
                use std::num::IntErrorKind;
                let why = match e.kind() {
                    IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "数值过大",
                    IntErrorKind::Empty => "是空的",
                    _ => "不是整数",
                };
                return Err(ValueProblem(format!("{why}，{bounds}")));
            }
        };
        if !range.contains(&n) {
            return Err(ValueProblem(format!("超出范围，{bounds}")));
        }
        T::try_from(n).map_err(|_| ValueProblem(format!("超出范围，{bounds}")))
    }
}

/// The name of an argument as the user types it: `--out`, not `--out <DIR>`;
/// a positional argument keeps its `<DIR>`.
fn flag(arg: &str) -> &str {
    if arg.starts_with('-') { arg.split(' ').next().unwrap_or(arg) } else { arg }
}

/// A string of the error's context.
fn string(e: &clap::Error, kind: ContextKind) -> Option<&str> {
    match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s),
        _ => None,
    }
}

/// The strings of the error's context (one string counts as a list of one).
fn strings(e: &clap::Error, kind: ContextKind) -> Vec<String> {
    match e.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        _ => vec![],
    }
}

/// A number of the error's context.
fn number(e: &clap::Error, kind: ContextKind) -> Option<isize> {
    match e.get(kind) {
        Some(ContextValue::Number(n)) => Some(*n),
        _ => None,
    }
}

/// `a、b、c`.
fn list(items: &[String]) -> String {
    items.join("、")
}

/// The usage line clap found for the command that failed, without its English
/// title: `gongwen build [OPTIONS] [DIRS]...`.
fn usage(e: &clap::Error) -> Option<String> {
    let Some(ContextValue::StyledStr(s)) = e.get(ContextKind::Usage) else { return None };
    let text = s.to_string();
    let line = text.lines().find(|l| !l.trim().is_empty())?.trim();
    // clap's title is the word before the first colon
    let line = line.split_once(": ").map_or(line, |(_, rest)| rest.trim());
    Some(line.to_owned())
}

/// The command whose help to suggest: `gongwen build` when the first argument
/// names a subcommand, else `gongwen`.
pub fn command_path<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    use clap::CommandFactory;
    let sub = args.get(1).and_then(|a| a.as_ref().to_str()).filter(|a| {
        crate::cmd::Cli::command().get_subcommands().any(|c| c.get_name() == *a)
    });
    match sub {
        Some(sub) => format!("gongwen {sub}"),
        None => "gongwen".to_owned(),
    }
}

/// Why a value was refused, in Chinese: our own parsers' message, or a known
/// standard error; nothing English from elsewhere.
fn value_reason(e: &clap::Error) -> Option<String> {
    use std::error::Error as _;
    let source = e.source()?;
    if let Some(p) = source.downcast_ref::<ValueProblem>() {
        return Some(p.0.clone());
    }
    if source.downcast_ref::<std::net::AddrParseError>().is_some() {
        return Some("不是有效的监听地址，应写作 IP:端口，如 127.0.0.1:8080".to_owned());
    }
    if let Some(p) = source.downcast_ref::<std::num::ParseIntError>() {
        use std::num::IntErrorKind;
        return Some(
            match p.kind() {
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "数值过大",
                _ => "不是整数",
            }
            .to_owned(),
        );
    }
    None
}

/// The Chinese message and hint of a command-line error other than `--help`
/// and `--version`; `command` is the command whose help to suggest
/// ([`command_path`]).
pub fn diagnostic(e: &clap::Error, command: &str) -> Diagnostic {
    let arg = string(e, ContextKind::InvalidArg).map(flag);
    let value = string(e, ContextKind::InvalidValue);
    let mut hints: Vec<String> = Vec::new();
    let message = match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = arg.unwrap_or("?");
            if let Some(s) = string(e, ContextKind::SuggestedArg) {
                hints.push(format!("是否要用 {}？", flag(s)));
            }
            for tip in strings(e, ContextKind::Suggested) {
                if tip.contains(&format!("-- {arg}")) {
                    hints.push(format!("如果 {arg} 是一个值而不是选项，请写作 -- {arg}"));
                } else if let Some(quoted) = tip.split('\'').nth(1) {
                    hints.push(format!("有 {quoted}"));
                }
            }
            if arg.starts_with('-') {
                format!("没有选项 {arg}")
            } else {
                format!("多余的参数 {arg}")
            }
        }
        ErrorKind::InvalidSubcommand => {
            let sub = string(e, ContextKind::InvalidSubcommand).unwrap_or("?");
            let similar = strings(e, ContextKind::SuggestedSubcommand);
            if !similar.is_empty() {
                hints.push(format!("是否要用 {}？", list(&similar)));
            }
            format!("没有子命令 {sub}")
        }
        ErrorKind::MissingSubcommand
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let valid = strings(e, ContextKind::ValidSubcommand);
            if !valid.is_empty() {
                hints.push(format!("可用的子命令：{}", list(&valid)));
            }
            "缺少子命令".to_owned()
        }
        ErrorKind::InvalidValue => {
            let arg = arg.unwrap_or("?");
            let valid = strings(e, ContextKind::ValidValue);
            if !valid.is_empty() {
                hints.push(format!("可选的值：{}", list(&valid)));
            }
            if let Some(s) = string(e, ContextKind::SuggestedValue) {
                hints.insert(0, format!("是否要用 {s}？"));
            }
            match value {
                Some(v) if !v.is_empty() => format!("{arg} 不接受值\"{v}\""),
                _ => format!("{arg} 缺少值"),
            }
        }
        ErrorKind::ValueValidation => {
            let arg = arg.unwrap_or("?");
            let v = value.unwrap_or("");
            match value_reason(e) {
                Some(why) => format!("{arg} 的值\"{v}\"无效：{why}"),
                None => format!("{arg} 的值\"{v}\"无效"),
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing: Vec<String> = strings(e, ContextKind::InvalidArg)
                .iter()
                .map(|a| flag(a).to_owned())
                .collect();
            format!("缺少必需的参数 {}", list(&missing))
        }
        ErrorKind::ArgumentConflict => {
            let arg = arg.unwrap_or("?");
            let prior: Vec<String> = strings(e, ContextKind::PriorArg)
                .iter()
                .map(|a| flag(a).to_owned())
                .collect();
            if prior.is_empty() || prior.iter().all(|p| p == arg) {
                format!("{arg} 只能给出一次")
            } else {
                format!("{arg} 不能与 {} 同时使用", list(&prior))
            }
        }
        ErrorKind::NoEquals => {
            let arg = arg.unwrap_or("?");
            format!("{arg} 的值要用等号给出，如 {arg}=值")
        }
        ErrorKind::TooManyValues => {
            let arg = arg.unwrap_or("?");
            format!("{arg} 多给了值\"{}\"", value.unwrap_or(""))
        }
        ErrorKind::TooFewValues => {
            let arg = arg.unwrap_or("?");
            match (
                number(e, ContextKind::MinValues),
                number(e, ContextKind::ActualNumValues),
            ) {
                (Some(min), Some(got)) => {
                    format!("{arg} 至少要 {min} 个值，只给了 {got} 个")
                }
                _ => format!("{arg} 给出的值太少"),
            }
        }
        ErrorKind::WrongNumberOfValues => {
            let arg = arg.unwrap_or("?");
            match (
                number(e, ContextKind::ExpectedNumValues),
                number(e, ContextKind::ActualNumValues),
            ) {
                (Some(want), Some(got)) => format!("{arg} 要 {want} 个值，给了 {got} 个"),
                _ => format!("{arg} 给出的值个数不对"),
            }
        }
        ErrorKind::InvalidUtf8 => "命令行参数不是有效的 UTF-8 文字".to_owned(),
        // help and version are printed by clap; anything else is worded
        // without clap's English text
        _ => "命令行有误".to_owned(),
    };
    let usage = usage(e);
    if let Some(u) = &usage {
        hints.push(format!("用法：{u}"));
    }
    hints.push(format!("运行 {command} --help 查看全部选项"));
    Diagnostic::error(Location::None, message).with_hint(hints.join("\n  提示："))
}

/// What to do with a command-line error: print it and give the exit code.
/// `--help` and `--version` are clap's own output (exit code 0), as is the help
/// printed when no subcommand is given (exit code 2); everything else is worded
/// by [`diagnostic`] (exit code 2).
pub fn report(e: &clap::Error) -> u8 {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // a reader that went away (`gongwen --help | head -1`) is not an error
            let _ = e.print();
            u8::try_from(e.exit_code()).unwrap_or(2)
        }
        _ => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            errln!("{}", diagnostic(e, &command_path(&args)));
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cmd::Cli;

    fn message(args: &[&str]) -> String {
        let e = Cli::try_parse_from(args).expect_err("the command line is wrong");
        diagnostic(&e, &command_path(args)).to_string()
    }

    #[test]
    fn numbers_are_bounded_in_chinese() {
        let p = number_in::<u16>(1..=1000);
        assert_eq!(p("12").unwrap(), 12);
        assert_eq!(p("0").unwrap_err().0, "超出范围，应为 1 至 1000 之间的整数");
        assert_eq!(p("x").unwrap_err().0, "不是整数，应为 1 至 1000 之间的整数");
        assert_eq!(
            p("99999999999999999999").unwrap_err().0,
            "数值过大，应为 1 至 1000 之间的整数"
        );
        // a bound wider than the type still cannot wrap
        let q = number_in::<u8>(0..=1000);
        assert!(q("300").is_err());
    }

    #[test]
    fn messages_carry_no_english() {
        for args in [
            &["gongwen", "build", "--bogus"][..],
            &["gongwen", "biuld"],
            &["gongwen", "build", "--out"],
            &["gongwen", "build", "--format", "rtf"],
            &["gongwen", "status", "x", "--reply-days", "0"],
            &["gongwen", "serve", "--listen", "here"],
            &["gongwen", "status"],
            &["gongwen", "build", "--out", "a", "--out", "b"],
            &["gongwen", "build", "--all", "x", "--watch"],
        ] {
            let m = message(args);
            assert!(m.starts_with("错误："), "{args:?}: {m}");
            for english in
                ["error", "invalid", "unexpected", "tip", "Usage", "found", "value"]
            {
                assert!(!m.contains(english), "{args:?}: {m}");
            }
        }
    }

    #[test]
    fn context_is_kept() {
        let m = message(&["gongwen", "build", "--all", "x", "--watch"]);
        assert!(m.starts_with("错误：--all 不能与 --watch 同时使用"), "{m}");
        let m = message(&["gongwen", "build", "--out", "a", "--out", "b"]);
        assert!(m.starts_with("错误：--out 只能给出一次"), "{m}");
        let m = message(&["gongwen", "serve", "--listen", "here"]);
        assert!(m.contains("--listen 的值\"here\"无效：不是有效的监听地址"), "{m}");
        let m = message(&["gongwen", "status", "x", "--reply-days", "0"]);
        assert!(m.ends_with("运行 gongwen status --help 查看全部选项"), "{m}");
        let m = message(&["gongwen", "biuld"]);
        assert!(m.ends_with("运行 gongwen --help 查看全部选项"), "{m}");
        let m = message(&["gongwen", "init", "a", "b"]);
        assert!(m.starts_with("错误：多余的参数 b"), "{m}");
    }
}
