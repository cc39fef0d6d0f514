//! `gongwen serve`: the HTTP API, in-process on an ephemeral port, through a
//! raw HTTP/1.1 client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use gongwen::serve::ServerState;
use serde_json::Value;

use crate::common;

/// A server on 127.0.0.1:0 with its own data folder and runtime.
fn start(token: Option<&str>) -> (SocketAddr, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let state = ServerState::new(
        data.path().to_path_buf(),
        token.map(str::to_string),
        common::fonts(),
        gongwen::render::typst::world::library(),
        chrono::NaiveDate::from_ymd_opt(2023, 8, 31),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            gongwen::serve::run(listener, state).await.unwrap();
        });
    });
    (rx.recv().unwrap(), data)
}

struct Resp {
    status: u16,
    /// Header lines, lowercased names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One HTTP/1.1 request on a fresh connection.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..end]).unwrap().split(';').next().unwrap().trim(),
            16,
        )
        .unwrap();
        data = &data[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A multipart body with one file field.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "gongwen-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn create(addr: SocketAddr, from: &str, auth: &[(&str, &str)]) -> String {
    let body = format!("{{\"from\":\"{from}\"}}");
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(auth);
    let r = request(addr, "POST", "/api/workspaces", &headers, body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert!(gongwen::serve::id_is_valid(&id), "{id}");
    id
}

#[test]
fn edit_check_preview_and_download_a_workspace() {
    let (addr, data) = start(None);
    let page = request(addr, "GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("从示例开始"));

    let id = create(addr, "example", &[]);
    assert!(data.path().join(&id).join("case.toml").is_file(), "an ordinary case folder");
    let case = request(addr, "GET", &format!("/api/workspaces/{id}/case"), &[], b"");
    assert_eq!(case.status, 200);
    let good = case.text();
    assert!(good.contains("[\"版头\"]"), "{good}");

    let broken = format!("\"输出名\" = \n{good}");
    let r = request(
        addr,
        "PUT",
        &format!("/api/workspaces/{id}/case"),
        &[],
        broken.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let check = r.json();
    assert_eq!(check["ok"], false, "{check}");
    let loc = check["problems"][0]["location"].as_str().unwrap();
    assert!(loc.starts_with("case.toml:"), "{check}");

    let r =
        request(addr, "PUT", &format!("/api/workspaces/{id}/case"), &[], good.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ok"], true, "{}", r.text());

    let r = request(addr, "POST", &format!("/api/workspaces/{id}/preview"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let preview = r.json();
    assert!(preview["pages"].as_u64().unwrap() > 3);
    assert!(preview["svg"][0].as_str().unwrap().contains("<svg"));

    let pdf = request(
        addr,
        "GET",
        &format!("/api/workspaces/{id}/download?format=pdf"),
        &[],
        b"",
    );
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    assert!(pdf.body.starts_with(b"%PDF"));
    let cd = pdf.header("content-disposition").unwrap();
    assert!(cd.contains("filename*=UTF-8''") && cd.ends_with(".pdf"), "{cd}");
    let docx = request(
        addr,
        "GET",
        &format!("/api/workspaces/{id}/download?format=docx"),
        &[],
        b"",
    );
    assert_eq!(docx.status, 200);
    assert!(docx.body.starts_with(b"PK"));
    assert!(common::document_xml(&docx.body).contains("<w:body>"));
    let bad = request(
        addr,
        "GET",
        &format!("/api/workspaces/{id}/download?format=odt"),
        &[],
        b"",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["ok"], false);
}

#[test]
fn unknown_and_malformed_workspaces_are_not_found() {
    let (addr, _data) = start(None);
    for path in [
        "/api/workspaces/0123456789abcdef0123456789abcdef/case",
        "/api/workspaces/..%2F..%2Fetc/case",
        "/api/workspaces/../../etc/case",
        "/api/workspaces/0123456789ABCDEF0123456789ABCDEF/case",
        "/nothing-here",
    ] {
        let r = request(addr, "GET", path, &[], b"");
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!(v["ok"], false);
        assert!(
            v["problems"][0]["message"].as_str().unwrap().starts_with("没有这个"),
            "{v}"
        );
    }
    let r = request(
        addr,
        "POST",
        "/api/workspaces",
        &[],
        "{\"from\":\"火星2099\"}".as_bytes(),
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("火星2099"));
}

#[test]
fn uploads_are_checked_entry_by_entry() {
    let (addr, data) = start(None);
    let id = create(addr, "example", &[]);
    let url = format!("/api/workspaces/{id}/upload");
    let case = gongwen::case::EXAMPLE_FILES[0].1.as_bytes();
    let evil = zip_of(&[("case.toml", case), ("../evil.toml", b"x = 1")]);
    let (ct, body) = multipart("案卷.zip", &evil);
    let r = request(addr, "POST", &url, &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("../evil.toml"), "{}", r.text());
    assert!(!data.path().join("evil.toml").exists());

    let exe = zip_of(&[("case.toml", case), ("run.exe", b"MZ")]);
    let (ct, body) = multipart("案卷.zip", &exe);
    let r = request(addr, "POST", &url, &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("run.exe"));

    let mut link = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    link.start_file("case.toml", opts).unwrap();
    link.write_all(case).unwrap();
    link.add_symlink("指标.toml", "/etc/passwd", opts).unwrap();
    let link = link.finish().unwrap().into_inner();
    let (ct, body) = multipart("案卷.zip", &link);
    let r = request(addr, "POST", &url, &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("指标.toml") && r.text().contains("符号链接"),
        "{}",
        r.text()
    );

    // a zip of the folder itself is unpacked into the workspace
    let files: Vec<(String, &[u8])> = gongwen::case::EXAMPLE_FILES
        .iter()
        .map(|(n, t)| (format!("我的案卷/{n}"), t.as_bytes()))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let (ct, body) = multipart("我的案卷.zip", &zip_of(&files));
    let r = request(addr, "POST", &url, &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ok"], true, "{}", r.text());
    assert!(data.path().join(&id).join("指标.toml").is_file());

    let (ct, body) = multipart("说明.exe", b"MZ");
    let r = request(addr, "POST", &url, &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 400);
}

#[test]
fn a_token_guards_every_request() {
    let (addr, _data) = start(Some("s3cret-token"));
    let r = request(addr, "GET", "/", &[], b"");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["ok"], false);
    let r = request(
        addr,
        "POST",
        "/api/workspaces",
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(r.status, 401);

    let r = request(addr, "GET", "/?token=s3cret-token", &[], b"");
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let r = request(addr, "GET", "/app.js", &[("Cookie", &cookie)], b"");
    assert_eq!(r.status, 200);
    let id = create(addr, "河南2023", &[("Authorization", "Bearer s3cret-token")]);
    let r = request(addr, "GET", &format!("/api/workspaces/{id}/case"), &[], b"");
    assert_eq!(r.status, 401);
}

#[test]
fn a_workbook_becomes_the_indicators_and_can_be_compared() {
    let (addr, data) = start(None);
    let id = create(addr, "example", &[]);
    let book = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/plan-from-workbook/指标.xlsx"
    ))
    .unwrap();
    let (ct, body) = multipart("新指标.xlsx", &book);
    let r = request(
        addr,
        "POST",
        &format!("/api/workspaces/{id}/diff"),
        &[("Content-Type", &ct)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let changes = r.json()["changes"].as_array().unwrap().clone();
    assert!(!changes.is_empty());
    assert!(changes[0]["gained"].is_array());

    let (ct, body) = multipart("新指标.xlsx", &book);
    let r = request(
        addr,
        "POST",
        &format!("/api/workspaces/{id}/upload"),
        &[("Content-Type", &ct)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ok"], true, "{}", r.text());
    let folder = data.path().join(&id);
    assert!(folder.join("指标.xlsx").is_file());
    let case = std::fs::read_to_string(folder.join("case.toml")).unwrap();
    assert!(case.contains("\"指标\" = \"指标.xlsx\""));

    // a file that is no workbook: located by the name it was uploaded under
    let (ct, body) = multipart("坏.xlsx", b"not a workbook");
    let r = request(
        addr,
        "POST",
        &format!("/api/workspaces/{id}/diff"),
        &[("Content-Type", &ct)],
        &body,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["problems"][0]["location"], "坏.xlsx", "{}", r.text());
    let leftovers: Vec<_> = std::fs::read_dir(data.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the workspace remains");
}

fn put_form(addr: SocketAddr, id: &str, fields: Value) -> Resp {
    let body = serde_json::json!({ "fields": fields }).to_string();
    request(
        addr,
        "PUT",
        &format!("/api/workspaces/{id}/form"),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn upload_to(addr: SocketAddr, id: &str, path: &str, name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(name, bytes);
    request(
        addr,
        "POST",
        &format!("/api/workspaces/{id}/{path}"),
        &[("Content-Type", &ct)],
        &body,
    )
}

#[test]
fn requests_on_one_workspace_do_not_interleave() {
    let (addr, data) = start(None);
    let id = create(addr, "example", &[]);
    let good =
        request(addr, "GET", &format!("/api/workspaces/{id}/case"), &[], b"").text();
    let broken = good.replace("\"输出名\" = \"夏邑县", "\"输出名\" = \"夏邑县/");
    assert_ne!(broken, good);
    let files: Vec<(&str, &[u8])> =
        gongwen::case::EXAMPLE_FILES.iter().map(|(n, t)| (*n, t.as_bytes())).collect();
    let zip = zip_of(&files);
    // saves of a good and a broken case file, zip uploads replacing the whole
    // folder and previews, all at once: each answer is about its own request
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let (id, good, broken, zip) =
                (id.clone(), good.clone(), broken.clone(), zip.clone());
            std::thread::spawn(move || {
                let url = format!("/api/workspaces/{id}");
                match i % 4 {
                    0 => {
                        let r = request(
                            addr,
                            "PUT",
                            &format!("{url}/case"),
                            &[],
                            good.as_bytes(),
                        );
                        assert_eq!(r.status, 200, "{}", r.text());
                        assert_eq!(
                            r.json()["ok"],
                            true,
                            "a good save checked as good: {}",
                            r.text()
                        );
                    }
                    1 => {
                        let r = request(
                            addr,
                            "PUT",
                            &format!("{url}/case"),
                            &[],
                            broken.as_bytes(),
                        );
                        assert_eq!(r.status, 200, "{}", r.text());
                        let v = r.json();
                        assert_eq!(
                            v["ok"], false,
                            "a broken save checked as broken: {v}"
                        );
                        assert_eq!(v["problems"][0]["field"], "输出名", "{v}");
                    }
                    2 => {
                        let r = upload_to(addr, &id, "upload", "案卷.zip", &zip);
                        assert_eq!(r.status, 200, "{}", r.text());
                        assert_eq!(r.json()["ok"], true, "{}", r.text());
                    }
                    _ => {
                        let r = request(addr, "GET", &format!("{url}/case"), &[], b"");
                        assert_eq!(
                            r.status,
                            200,
                            "never a folder half replaced: {}",
                            r.text()
                        );
                        assert!(r.text().contains("[\"版头\"]"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let names: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [id], "no temporary folders left");
}

#[test]
fn the_form_edits_case_toml_field_by_field() {
    let (addr, data) = start(None);
    let id = create(addr, "example", &[]);
    let r = request(addr, "GET", &format!("/api/workspaces/{id}/form"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let form = r.json();
    let fields = &form["fields"];
    assert_eq!(fields["版头.机关代字"], "夏法政办");
    assert_eq!(fields["版头.年份"], "2023");
    assert_eq!(fields["通知.主送"][1], "县直各有关单位");
    assert_eq!(fields["通知.成文日期"], "2023-08-31");
    assert_eq!(fields["创建步骤"].as_array().unwrap().len(), 7);
    assert!(fields["方案"].as_str().unwrap().contains("指导思想"));
    assert_eq!(fields["版记.抄送"].as_array().unwrap().len(), 5);

    let r = put_form(
        addr,
        &id,
        serde_json::json!({"通知.标题": "关于印发《夏邑县示范创建\n工作推进方案》的通知", "通知.附注": "此件公开发布"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ok"], true, "{}", r.text());
    let case = std::fs::read_to_string(data.path().join(&id).join("case.toml")).unwrap();
    assert!(case.starts_with("# 夏邑县创建全省法治政府建设示范县"), "comments kept");
    assert!(
        case.contains("\"标题\" = \"关于印发《夏邑县示范创建\\n工作推进方案》的通知\""),
        "{case}"
    );
    assert!(case.contains("\"附注\" = \"此件公开发布\""));
    let r = request(addr, "POST", &format!("/api/workspaces/{id}/preview"), &[], b"");
    let texts: String = r.json()["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let squeezed: String = texts.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        squeezed.contains("关于印发《夏邑县示范创建工作推进方案》的通知"),
        "{squeezed}"
    );
    assert!(squeezed.contains("（此件公开发布）"));

    // problems come back keyed to their field
    let r = put_form(
        addr,
        &id,
        serde_json::json!({"版头.序号": "十二", "通知.正文": [], "创建步骤": [
            {"名称": "加压部署", "时限": "2023年13月", "内容": "召开会议。"}
        ]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["ok"], false);
    let fields: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    for f in ["版头.序号", "通知.正文", "创建步骤[1].时限"] {
        assert!(fields.contains(&f), "{f} in {v}");
    }
    // a value of the wrong shape, an unknown field: 400 with the reason
    let r = put_form(addr, &id, serde_json::json!({"通知.盖章": "是"}));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("通知.盖章"), "{}", r.text());
    let r = put_form(addr, &id, serde_json::json!({"通知.口令": "x"}));
    assert_eq!(r.status, 400);
    let r = put_form(addr, &id, serde_json::json!({"方案": "[\"版头\"]\n\"序号\" = 1"}));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("方案"), "{}", r.text());

    // the body from a draft
    let r =
        upload_to(addr, &id, "import", "草稿.txt", "第一段。\n\n第二段。\n".as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(addr, "GET", &format!("/api/workspaces/{id}/form"), &[], b"");
    assert_eq!(
        r.json()["fields"]["通知.正文"],
        serde_json::json!(["第一段。", "第二段。"])
    );
    let r = upload_to(addr, &id, "import", "草稿.doc", b"\xd0\xcf\x11\xe0");
    assert_eq!(r.status, 400);
    assert!(r.text().contains(".docx"), "{}", r.text());

    // the seal image
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sealed/印章.png"
    ))
    .unwrap();
    let r = upload_to(addr, &id, "upload", "我的章.png", &png);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(addr, "GET", &format!("/api/workspaces/{id}/form"), &[], b"");
    let f = r.json()["fields"].clone();
    assert_eq!(f["通知.盖章"], true);
    assert_eq!(f["通知.印章"], "印章.png");
    let r = upload_to(addr, &id, "upload", "假章.png", b"\x89PNG\r\n\x1a\nnot really");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("印章"), "{}", r.text());

    // a case file the form cannot read: the form says so, the text editor stays
    let r =
        request(addr, "PUT", &format!("/api/workspaces/{id}/case"), &[], b"\"a\" = [");
    assert_eq!(r.status, 200);
    let r = request(addr, "GET", &format!("/api/workspaces/{id}/form"), &[], b"");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["fields"], Value::Null);
    assert!(
        v["problems"][0]["message"].as_str().unwrap().contains("case.toml:1:"),
        "{v}"
    );
}

#[test]
fn a_new_workbook_shows_changes_and_each_units_tasks() {
    let (addr, _data) = start(None);
    let id = create(addr, "example", &[]);
    let book = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/plan-from-workbook/指标.xlsx"
    ))
    .unwrap();
    let r = upload_to(addr, &id, "upload", "新指标.xlsx", &book);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(!v["changes"].as_array().unwrap().is_empty(), "{v}");
    let units = v["units"].as_array().unwrap();
    assert!(!units.is_empty());
    let first = &units[0];
    assert!(first["unit"].as_str().is_some_and(|u| !u.is_empty()));
    let tasks = first["tasks"].as_array().unwrap();
    assert_eq!(
        first["lead"].as_u64().unwrap() + first["support"].as_u64().unwrap(),
        tasks.len() as u64
    );
    assert!(["牵头", "配合"].contains(&tasks[0]["role"].as_str().unwrap()));
}

/// A filled copy of the score-entry workbook: every task full marks, except
/// `lose` points off the first task of the first unit.
fn fill_entry(entry: &[u8], lose: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("打分录入.xlsx");
    std::fs::write(&path, entry).unwrap();
    let sheet =
        gongwen::case::workbook::read_sheet_raw(&path, "打分录入.xlsx", Some("打分录入"))
            .unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("打分录入").unwrap();
    let mut first = true;
    for (r, row) in sheet.cells.iter().enumerate() {
        let task = r > 0 && row[1].parse::<u32>().is_ok();
        for (c, v) in row.iter().enumerate() {
            let (r16, c16) = (r as u32, c as u16);
            if task && c >= 4 {
                let max: f64 = row[3].parse().unwrap();
                let got = if first && c == 4 { max - lose } else { max };
                ws.write_number(r16, c16, got).unwrap();
            } else if !v.is_empty() {
                ws.write_string(r16, c16, v).unwrap();
            }
        }
        if task {
            first = false;
        }
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn score_sheets_on_the_page() {
    let (addr, data) = start(None);
    let id = create(addr, "example", &[]);
    let url = format!("/api/workspaces/{id}/scores");
    let r = request(addr, "GET", &format!("{url}/report?format=pdf"), &[], b"");
    assert_eq!(r.status, 404, "no filled workbook yet: {}", r.text());
    assert!(r.text().contains("打分录入"));
    let blank = request(addr, "GET", &format!("{url}/blank?format=pdf"), &[], b"");
    assert_eq!(blank.status, 200, "{}", blank.text());
    assert!(blank.body.starts_with(b"%PDF"));
    assert!(
        data.path().join(&id).join("打分表.toml").is_file(),
        "an ordinary file of the folder"
    );
    let entry = request(addr, "GET", &format!("{url}/entry"), &[], b"");
    assert_eq!(entry.status, 200);
    assert!(entry.header("content-disposition").unwrap().contains(".xlsx"));

    let filled = fill_entry(&entry.body, 1.5);
    let r = upload_to(addr, &id, "scores", "打分录入.xlsx", &filled);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["full"], "200");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let last = results.last().unwrap();
    assert_eq!(last["unit"], "华龙区");
    assert_eq!(last["total"], "198.5");
    assert_eq!(last["rank"], 6);
    assert_eq!(last["lost"][0]["points"], "1.5");
    assert_eq!(results[0]["rank"], 1);
    assert_eq!(results[1]["rank"], 1, "equal totals share a rank");

    let report = request(addr, "GET", &format!("{url}/report?format=docx"), &[], b"");
    assert_eq!(report.status, 200, "{}", report.text());
    let text: String = common::docx_paragraphs(&report.body)
        .iter()
        .map(|p| common::normalize(p))
        .collect();
    assert!(text.contains("督察情况通报") && text.contains("198.5"), "{text}");
    let unit = request(
        addr,
        "GET",
        &format!("{url}/unit?format=pdf&name=%E5%8D%8E%E9%BE%99%E5%8C%BA"),
        &[],
        b"",
    );
    assert_eq!(unit.status, 200, "{}", unit.text());
    assert!(unit.body.starts_with(b"%PDF"));
    let cd = unit.header("content-disposition").unwrap();
    assert!(cd.contains(".pdf"), "{cd}");
    let r =
        request(addr, "GET", &format!("{url}/unit?name=%E7%81%AB%E6%98%9F"), &[], b"");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("华龙区"), "the units there are named: {}", r.text());

    // a cell over its task's points: located, nothing kept
    let over = fill_entry(&entry.body, -3.0);
    let r = upload_to(addr, &id, "scores", "打分录入.xlsx", &over);
    assert_eq!(r.status, 400, "{}", r.text());
    let loc = r.json()["problems"][0]["location"].as_str().unwrap().to_string();
    assert!(loc.starts_with("打分录入.xlsx › 打分录入!E"), "{loc}");
    let r = request(addr, "GET", &format!("{url}/results"), &[], b"");
    assert_eq!(r.json()["results"].as_array().unwrap().last().unwrap()["total"], "198.5");
}

/// A preview request with this JSON body.
fn post_preview(addr: SocketAddr, id: &str, body: &[u8]) -> Resp {
    request(
        addr,
        "POST",
        &format!("/api/workspaces/{id}/preview"),
        &[("Content-Type", "application/json")],
        body,
    )
}

/// A preview asked for with the keys of the pages the page shows.
fn preview_having(addr: SocketAddr, id: &str, have: &Value) -> Value {
    let body = serde_json::json!({ "have": have }).to_string();
    let r = post_preview(addr, id, body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[test]
fn a_preview_draws_only_the_pages_that_changed() {
    let (addr, _data) = start(None);
    let id = create(addr, "example", &[]);
    let first = preview_having(addr, &id, &serde_json::json!([]));
    let keys = first["keys"].as_array().unwrap().clone();
    let svg = first["svg"].as_array().unwrap();
    assert!(keys.len() > 3 && keys.len() == svg.len(), "{}", keys.len());
    assert!(svg.iter().all(|s| s.as_str().is_some_and(|s| s.contains("<svg"))));

    // nothing changed: every page is one the page has
    let again = preview_having(addr, &id, &Value::Array(keys.clone()));
    assert_eq!(again["keys"].as_array().unwrap(), &keys);
    assert!(again["svg"].as_array().unwrap().iter().all(Value::is_null), "{again}");
    assert_eq!(again["texts"], first["texts"]);

    // a new title: its page is drawn again, the pages it did not move are not
    let title = "关于印发《夏邑县预览测试工作方案》的通知";
    let r = put_form(addr, &id, serde_json::json!({"通知.标题": title}));
    assert_eq!(r.status, 200, "{}", r.text());
    let after = preview_having(addr, &id, &Value::Array(keys.clone()));
    let new_keys = after["keys"].as_array().unwrap();
    let svg = after["svg"].as_array().unwrap();
    assert_eq!(new_keys.len(), keys.len());
    assert_ne!(new_keys[0], keys[0]);
    assert!(svg[0].as_str().unwrap().contains("<svg"));
    assert!(after["texts"][0].as_str().unwrap().contains("预览测试工作方案"));
    let drawn = svg.iter().filter(|s| s.is_string()).count();
    assert!(drawn < svg.len() / 2, "{drawn} of {} pages drawn again", svg.len());
    for (key, svg) in new_keys.iter().zip(svg) {
        assert_eq!(svg.is_null(), keys.contains(key), "{key}");
    }

    // a request the server cannot read, or naming too many pages
    let bad = post_preview(addr, &id, b"{\"have\": 3}");
    assert_eq!(bad.status, 400);
    let message = bad.json()["problems"][0]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("无法读取预览请求"), "{message}");
    let many: Vec<String> = (0..1000).map(|i| format!("{i:032x}")).collect();
    let body = serde_json::json!({ "have": many }).to_string();
    let bad = post_preview(addr, &id, body.as_bytes());
    assert_eq!(bad.status, 400);
    let message = bad.json()["problems"][0]["message"].as_str().unwrap().to_string();
    assert!(message.contains("预览请求列出的页太多"), "{message}");
}

#[test]
fn answers_are_compressed_but_not_compressed_files() {
    let (addr, _data) = start(None);
    let id = create(addr, "example", &[]);
    let gzip = [("Accept-Encoding", "gzip"), ("Content-Type", "application/json")];
    let preview =
        request(addr, "POST", &format!("/api/workspaces/{id}/preview"), &gzip, b"");
    assert_eq!(preview.status, 200);
    assert_eq!(preview.header("content-encoding"), Some("gzip"));
    for format in ["pdf", "docx", "zip"] {
        let r = request(
            addr,
            "GET",
            &format!("/api/workspaces/{id}/download?format={format}"),
            &gzip,
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-encoding"), None, "{format}");
        assert!(r.body.starts_with(b"%PDF") || r.body.starts_with(b"PK"), "{format}");
    }
}
