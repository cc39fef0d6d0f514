//! Bad input: every problem located (file:line:column), all of them in one run,
//! nothing written.

use gongwen::case::CaseDir;
use gongwen::pipeline;

use crate::common::*;

/// Diagnostics of a case folder holding one `case.toml`.
fn diagnostics(case: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    match pipeline::compose_dir(&CaseDir::Disk(dir.path().to_path_buf()), &settings()) {
        Ok(_) => panic!("a bad case was accepted"),
        Err(ds) => ds
            .iter()
            .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
            .collect(),
    }
}

const HEAD: &str = r#"["版头"]
"发文机关" = ["某县人民政府办公室"]
"机关代字" = "某政办"
"年份" = 2023
"序号" = 7
"#;

#[test]
fn every_problem_of_the_file_in_one_run() {
    let case = r#"["版头"]
"发文机关" = ["某县人民政府办公室"]
"机关代字" = "某政办"
"年份" = "二〇二三"
"序号" = 7
"文建" = true
["通知"]
"标题" = "   "
"主送" = ["各单位"]
"正文" = ["正文。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = "2023年13月1日"
[["创建步骤"]]
"名称" = "全面自查"
"时限" = "2023年10月底前"
"内容" = "自查。"
[["创建步骤"]]
"名称" = "动员部署"
"时限" = "2023年9月初"
"内容" = "部署。"
[["创建步骤"]]
"名称" = "整改"
"时限" = "2023年9月三十日"
"内容" = "整改。"
"#;
    let ds = diagnostics(case);
    let expected = [
        "DIR/case.toml:4:8: 错误：\"版头.年份\"应为整数，而不是文本",
        "DIR/case.toml:6:1: 错误：未知的键\"版头.文建\"\n  提示：是否为\"文件\"？",
        "DIR/case.toml:8:8: 错误：\"通知.标题\"不能为空",
        "DIR/case.toml:12:10: 错误：无法识别的日期\"2023年13月1日\"（通知.成文日期）\n  提示：写作 2023-08-31 或 2023年8月31日",
        "DIR/case.toml:23:8: 错误：无法识别的时限\"2023年9月三十日\"\n  提示：可写 2023年9月底前、2023年10月上旬、2023年8月1日至8月10日、2024年第二季度前 或 按照市部署时间",
    ];
    for e in expected {
        assert!(ds.iter().any(|d| d == e), "missing\n{e}\nin\n{}", ds.join("\n"));
    }
}

#[test]
fn stages_out_of_order_and_missing_keys() {
    let case = format!(
        r#"{HEAD}["通知"]
"标题" = "关于开展自查的通知"
"正文" = ["请自查。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2023-08-31
[["创建步骤"]]
"名称" = "全面自查"
"时限" = "2023年10月底前"
"内容" = "自查。"
[["创建步骤"]]
"名称" = "动员部署"
"时限" = "2023年9月初"
"内容" = "部署。"
[["创建步骤"]]
"名称" = "早了"
"时限" = "2023年8月上旬"
"#
    );
    let ds = diagnostics(&case);
    let expected = [
        "DIR/case.toml:17:8: 错误：创建步骤顺序颠倒：\"动员部署\"（2023年9月初）排在\"全面自查\"（2023年10月底前）之后\n  提示：按时间先后排列创建步骤",
        "DIR/case.toml:19:1: 错误：缺少必填项\"创建步骤[3].内容\"\n  提示：在此表中加上 内容 = …",
    ];
    for e in expected {
        assert!(ds.iter().any(|d| d == e), "missing\n{e}\nin\n{}", ds.join("\n"));
    }
}

#[test]
fn toml_syntax_errors_are_located_and_explained() {
    let ds = diagnostics("[版头]\n");
    assert!(ds[0].starts_with("DIR/case.toml:1:2: 错误：无法解析 TOML（"), "{ds:?}");
    assert!(
        ds[0]
            .ends_with("提示：中文键名须加英文双引号，例如 \"标题\" = \"…\"、[\"版头\"]"),
        "{ds:?}"
    );
}

#[test]
fn characters_without_glyphs_are_errors_not_tofu() {
    let case = format!(
        r#"{HEAD}["通知"]
"标题" = "关于开展自查的通知"
"正文" = ["请自查😀，再查😁😀。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2023-08-31
"#
    );
    let ds = diagnostics(&case);
    assert_eq!(
        ds,
        [
            // every missing character of the text in one message, once each
            "DIR/case.toml:8:9: 错误：字体（仿宋）中没有字符\"😀\"（U+1F600）、\"😁\"（U+1F601）\n  提示：换用常用字，或用 --font-path 提供含有这些字的字体"
        ]
    );
}

#[test]
fn control_characters_and_unknown_template_variables() {
    let case = format!(
        r#"{HEAD}["通知"]
"标题" = "关于{{{{ 县明 }}}}的通知"
"正文" = ["响铃\u0007"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2023-08-31
"#
    );
    let ds = diagnostics(&case);
    assert!(
        ds.iter().any(|d| d
            .starts_with("DIR/case.toml:7:8: 错误：无法套用模板（未定义的变量 `县明`）")),
        "{ds:?}"
    );
    assert!(ds.iter().any(|d| d == "DIR/case.toml:8:9: 错误：文字中含有控制字符 U+0007\n  提示：删去这些看不见的字符"), "{ds:?}");
}

#[test]
fn indicator_numbering_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let case = format!(
        r#"{HEAD}["通知"]
"标题" = "关于开展自查的通知"
"正文" = ["请自查。"]
"署名" = ["某县人民政府办公室"]
"成文日期" = 2023-08-31
["数据"]
"指标" = "指标.toml"
[["附件"]]
"标题" = "责任清单"
"类型" = "责任清单"
"#
    );
    std::fs::write(dir.path().join("case.toml"), case).unwrap();
    std::fs::write(
        dir.path().join("指标.toml"),
        "[[\"指标\"]]\n\"序号\" = 1\n\"三级指标\" = \"甲\"\n[[\"指标\"]]\n\"序号\" = 3\n\"三级指标\" = \"乙\"\n\"责任单元\" = \"司法局\"\n",
    )
    .unwrap();
    let ds: Vec<String> = match pipeline::compose_dir(
        &CaseDir::Disk(dir.path().to_path_buf()),
        &settings(),
    ) {
        Ok(_) => panic!("accepted"),
        Err(ds) => ds
            .iter()
            .map(|d| d.to_string().replace(&dir.path().display().to_string(), "DIR"))
            .collect(),
    };
    assert!(ds.contains(&"DIR/指标.toml:7:1: 错误：未知的键\"指标[2].责任单元\"\n  提示：是否为\"责任单位\"？".to_string()), "{ds:?}");
    assert!(
        ds.contains(&"DIR/指标.toml:5:8: 错误：序号应为 2，实为 3".to_string()),
        "{ds:?}"
    );
}

/// The command line prints a TOML problem with its source line and a caret
/// under the column (as rustc and codespan do), for build and check alike.
#[test]
fn problems_show_the_source_line_with_a_caret() {
    let dir = tempfile::tempdir().unwrap();
    let case = format!("{HEAD}\n[\"通知\"]\n\"标题\" = 12\n");
    std::fs::write(dir.path().join("case.toml"), &case).unwrap();
    for command in ["check", "build"] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gongwen"));
        cmd.arg(command).arg(dir.path());
        if command == "build" {
            cmd.arg("--out").arg(dir.path().join("out"));
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = String::from_utf8(out.stderr).unwrap();
        let line = case.lines().position(|l| l.starts_with("\"标题\" = 12")).unwrap() + 1;
        let pad = " ".repeat(line.to_string().len());
        let expected = format!(
            "case.toml:{line}:8: 错误：\"通知.标题\"应为文本，而不是整数\n{pad} |\n{line} | \"标题\" = 12\n{pad} |          ^\n"
        );
        assert!(err.contains(&expected), "{command}: {err}");
        assert!(!dir.path().join("out").exists(), "nothing written");
    }
}
