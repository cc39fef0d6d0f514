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
