//! The web page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against an in-process server on an ephemeral port.
//!
//! Needs `chromium` and `chromium-driver` (Debian); `.ci/run` runs it with
//! `cargo test --release --test browser -- --ignored`. Without them the test
//! fails: nothing is skipped. Screenshots of each step are written to
//! `target/browser-screenshots/`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gongwen::case::CaseDir;
use gongwen::pipeline::{self, Formats, Settings};
use gongwen::render::typst::fonts::{FontOptions, FontSet};
use gongwen::serve::ServerState;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long one step may take (a cold first build included).
const STEP: Duration = Duration::from_secs(60);

fn date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2023, 8, 31).unwrap()
}

fn fonts() -> Arc<FontSet> {
    FontSet::load(&FontOptions { paths: vec![], ignore_system: true })
}

/// The server, on 127.0.0.1:0 with its own data folder.
fn start_server(data: &Path) -> SocketAddr {
    let state = ServerState::new(
        data.to_path_buf(),
        None,
        fonts(),
        gongwen::render::typst::world::library(),
        Some(date()),
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
    rx.recv().unwrap()
}

/// One HTTP/1.1 request; the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Vec<u8>) {
    let mut s =
        TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    // chromedriver keeps the connection open: read the head, then as much
    // body as it announces
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let split = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "the connection closed before the answer's head");
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    loop {
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    if chunked {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        data = &data[end + 2..];
        if size == 0 || size > data.len() {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[(size + 2).min(data.len())..];
    }
    out
}

fn base64(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// chromedriver, started by the test and stopped with it.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_driver() -> Driver {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).is_file(),
            "{tool} is missing: install Debian's chromium and chromium-driver (.ci/run does)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
    let driver = Driver { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
    let t = Instant::now();
    loop {
        if TcpStream::connect(driver.addr).is_ok() {
            let (status, body) = http(driver.addr, "GET", "/status", None);
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if status == 200 && v["value"]["ready"] == true {
                return driver;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(30), "chromedriver did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A WebDriver session.
struct Browser {
    driver: Driver,
    session: String,
    shots: PathBuf,
}

impl Browser {
    fn open(downloads: &Path, shots: PathBuf) -> Browser {
        let driver = start_driver();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1500,1000", "--lang=zh-CN"],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                }
            }
        }}});
        let (status, body) = http(driver.addr, "POST", "/session", Some(&caps));
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 200, "cannot start Chromium: {v}");
        let session = v["value"]["sessionId"].as_str().expect("a session id").to_string();
        std::fs::create_dir_all(&shots).unwrap();
        Browser { driver, session, shots }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("/session/{}{path}", self.session);
        let (status, raw) = http(self.driver.addr, method, &url, body.as_ref());
        let v: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        assert_eq!(status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/clear"), Some(json!({})));
        self.cmd("POST", &format!("/element/{e}/value"), Some(json!({"text": text})));
    }

    fn js(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    /// Waits until `script` returns true; panics with `what` and the page's
    /// status line when it does not within a step's time.
    fn wait(&self, what: &str, script: &str) {
        let t = Instant::now();
        while self.js(script) != Value::Bool(true) {
            if t.elapsed() > STEP {
                self.screenshot("failed");
                panic!(
                    "{what}: not within {STEP:?}; status line: {}; problems: {}",
                    self.js("return document.getElementById('status').textContent"),
                    self.js("return document.getElementById('problems').textContent")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, name: &str) {
        let png = self.cmd("GET", "/screenshot", None);
        let bytes = base64(png.as_str().unwrap_or(""));
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("/session/{}", self.session);
        let _ = http(self.driver.addr, "DELETE", &url, None);
    }
}

/// Text without white space.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
#[ignore = "needs chromium and chromedriver; .ci/run runs it"]
fn the_page_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let addr = start_server(data.path());
    let b = Browser::open(downloads.path(), shots.clone());

    // 1. the page
    b.goto(&format!("http://{addr}/"));
    b.wait(
        "the page and its own font",
        "document.fonts.load('14px GongwenUI', '公文'); \
         return document.getElementById('new') !== null \
         && document.fonts.check('14px GongwenUI', '公文')",
    );
    b.screenshot("1-page");

    // 2. start from the example: the form is filled, the preview drawn
    b.click("#new");
    b.wait(
        "the example's preview",
        "return document.querySelectorAll('#pages img').length > 0 \
         && document.getElementById('status').textContent === '预览已更新'",
    );
    let title = b.js("return document.querySelector('[name=\"通知.标题\"]').value");
    assert!(title.as_str().unwrap().contains("示范县工作推进方案"), "{title}");
    b.screenshot("2-example");

    // 3. a new 标题 in the form: the preview follows
    let new_title = "关于印发《夏邑县浏览器测试工作方案》的通知";
    b.type_into("textarea[name=\"通知.标题\"]", new_title);
    b.wait(
        "the new title in the preview",
        &format!(
            "const img = document.querySelector('#pages img'); \
             return !!img && img.alt.replace(/\\s/g, '').includes('{new_title}') \
             && document.getElementById('status').textContent === '预览已更新'"
        ),
    );
    b.screenshot("3-title-changed");
    let id = b.js("return location.hash.slice(1)");
    let id = id.as_str().unwrap().to_string();
    let case = std::fs::read_to_string(data.path().join(&id).join("case.toml")).unwrap();
    assert!(
        case.contains(&format!("\"标题\" = \"{new_title}\"")),
        "saved into case.toml"
    );
    assert!(case.starts_with("# 夏邑县"), "the file's comments kept");

    // 4. the PDF: downloaded by the browser, the very document the case builds,
    //    with the new title on its first page
    b.click("#dl-pdf");
    let t = Instant::now();
    let pdf = loop {
        let done = std::fs::read_dir(downloads.path()).unwrap().find_map(|e| {
            let p = e.unwrap().path();
            (p.extension().is_some_and(|x| x == "pdf")).then_some(p)
        });
        if let Some(p) = done {
            break p;
        }
        assert!(t.elapsed() < STEP, "no PDF downloaded");
        std::thread::sleep(Duration::from_millis(100));
    };
    b.wait(
        "the download noted",
        "return document.getElementById('status').textContent.startsWith('已下载')",
    );
    b.screenshot("4-pdf-downloaded");
    assert_eq!(
        pdf.file_name().unwrap().to_string_lossy(),
        "夏邑县创建示范县工作推进方案.pdf"
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let settings = Settings {
        fonts: fonts(),
        library: gongwen::render::typst::world::library(),
        templates: None,
        date: date(),
        formats: Formats { pdf: true, docx: false },
        emit_typst: false,
    };
    let composed =
        pipeline::compose_dir(&CaseDir::Disk(data.path().join(&id)), &settings).unwrap();
    let rendered = pipeline::render(&composed, &settings).unwrap();
    assert!(rendered.pdf.as_deref() == Some(bytes.as_slice()), "the PDF is the case's");
    assert!(
        squeeze(&rendered.page_texts[0]).contains(new_title),
        "{}",
        rendered.page_texts[0]
    );

    // 5. a changed indicator workbook: the change report and each unit's tasks
    b.click("#tab-book");
    let book = root.join("tests/fixtures/plan-from-workbook/指标.xlsx");
    let input = b.find("#book-file");
    b.cmd(
        "POST",
        &format!("/element/{input}/value"),
        Some(json!({"text": book.display().to_string()})),
    );
    b.wait(
        "the change report",
        "const r = document.getElementById('book-report').textContent; \
         return r.includes('责任单位有调整') && r.includes('各单位任务清单')",
    );
    let report = b.js("return document.getElementById('book-report').textContent");
    assert!(report.as_str().unwrap().contains("牵头"), "{report}");
    b.screenshot("5-workbook-changes");
    for step in [
        "1-page",
        "2-example",
        "3-title-changed",
        "4-pdf-downloaded",
        "5-workbook-changes",
    ] {
        assert!(shots.join(format!("{step}.png")).is_file());
    }
}
