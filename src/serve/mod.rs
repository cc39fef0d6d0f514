//! `gongwen serve`: a web page over workspaces, each an ordinary case folder
//! under `--data`, named by an unguessable id (so `gongwen build` can build the
//! same folder).
//!
//! Builds (Typst layout is CPU-heavy) run on the blocking pool behind a
//! semaphore of two permits, each under `catch_unwind`: a panic becomes a 500
//! with a Chinese message and the server keeps serving. Fonts and Typst's
//! library are loaded once and shared by every build; after each layout job
//! (preview or download) Typst's caches keep only what the last few such jobs
//! used, so the server's memory stays flat (BENCHMARKS.md 网页服务). A preview
//! draws only the pages whose content the page does not already show (page
//! keys).
//!
//! Confinement: the server joins only a validated workspace id (32 hex
//! characters) and fixed names (`case.toml`, the indicator workbook) to the data
//! folder; everything a case names is read through [`crate::fsguard`], as by the
//! command line. Entries of an uploaded zip are checked one by one (no absolute
//! path, no `..`, no link, only case files) before anything is written.

mod form;
mod upload;

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Weak};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};
use tower_http::compression::predicate::{
    DefaultPredicate, NotForContentType, Predicate,
};
use typst::Library;
use typst::utils::LazyHash;

use crate::case::{self, CATALOGS, CaseDir};
use crate::diag::{Diagnostic, Location, Severity};
use crate::pipeline::{self, Formats, Settings};
use crate::render::typst::fonts::FontSet;

/// Largest upload (a zipped case folder or a workbook).
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;
/// Largest request body: an upload and its multipart framing.
const BODY_LIMIT: usize = UPLOAD_LIMIT + 1024 * 1024;
/// Largest case.toml accepted by `PUT …/case`.
pub const CASE_LIMIT: usize = 1024 * 1024;
/// Pages of a preview sent as SVG (a page of a wide table is near 1 MB of SVG,
/// so a long appendix is previewed in part).
pub const PREVIEW_PAGES: usize = 20;
/// Builds at the same time.
const BUILD_PERMITS: usize = 2;
/// Layout jobs whose entries in Typst's caches are kept (see
/// [`trim_typst_caches`]).
const CACHE_KEEP_BUILDS: usize = 3;
/// Name of the cookie that carries the token after the page was opened with it.
const TOKEN_COOKIE: &str = "gongwen_token";

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// What every request shares: where workspaces live, the token, the fonts and
/// Typst's library, the build permits and the workspace locks.
pub struct ServerState {
    data: PathBuf,
    token: Option<String>,
    fonts: Arc<FontSet>,
    library: Arc<LazyHash<Library>>,
    date: Option<NaiveDate>,
    builds: Semaphore,
    /// One lock per workspace in use: requests on the same workspace (a save
    /// and a build, two uploads) run one after the other. An entry lives as
    /// long as a request holds or waits for it.
    locks: std::sync::Mutex<HashMap<String, Weak<Mutex<()>>>>,
}

impl ServerState {
    /// The state of a server keeping workspaces in `data`; `date` fixes the
    /// documents' date (else today, or `SOURCE_DATE_EPOCH`, at each build).
    pub fn new(
        data: PathBuf,
        token: Option<String>,
        fonts: Arc<FontSet>,
        library: Arc<LazyHash<Library>>,
        date: Option<NaiveDate>,
    ) -> Arc<Self> {
        Arc::new(Self {
            data,
            token,
            fonts,
            library,
            date,
            builds: Semaphore::new(BUILD_PERMITS),
            locks: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Waits for workspace `id` to be free and holds it until the guard is
    /// dropped.
    async fn lock(&self, id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // entries nobody holds or waits for any more
            locks.retain(|_, l| l.strong_count() > 0);
            match locks.get(id).and_then(Weak::upgrade) {
                Some(l) => l,
                None => {
                    let l = Arc::new(Mutex::new(()));
                    locks.insert(id.to_string(), Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }

    /// How many workspaces are locked or waited for.
    pub fn locks_in_use(&self) -> usize {
        let locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.values().filter(|l| l.strong_count() > 0).count()
    }

    /// Pipeline settings for one build.
    fn settings(&self, formats: Formats) -> Settings {
        let today = chrono::Local::now().date_naive();
        let date = self
            .date
            .unwrap_or_else(|| crate::cmd::resolve_date(None, today).unwrap_or(today));
        Settings {
            fonts: self.fonts.clone(),
            library: self.library.clone(),
            templates: None,
            date,
            formats,
            emit_typst: false,
        }
    }
}

/// Whether a token may be used (it travels in a cookie and a query string).
pub fn token_is_valid(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// The router of the whole server.
pub fn router(state: Arc<ServerState>) -> Router {
    let api = Router::new()
        .route("/api/workspaces", post(create))
        .route("/api/workspaces/{id}/case", get(get_case).put(put_case))
        .route("/api/workspaces/{id}/form", get(get_form).put(put_form))
        .route("/api/workspaces/{id}/check", post(check_only))
        .route("/api/workspaces/{id}/import", post(import_body))
        .route("/api/workspaces/{id}/upload", post(upload))
        .route("/api/workspaces/{id}/scores", post(scores_upload))
        .route("/api/workspaces/{id}/scores/{what}", get(scores_download))
        .route("/api/workspaces/{id}/preview", post(preview))
        .route("/api/workspaces/{id}/download", get(download))
        .route("/api/workspaces/{id}/diff", post(diff));
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/ui-font.otf", get(ui_font))
        .merge(api)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "没有这个地址") })
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), auth))
        .layer(compression())
        .with_state(state)
}

/// Compresses answers for browsers that accept it, quickly (a preview's SVG
/// still shrinks to less than half); not the files that are compressed already
/// (PDF, DOCX, XLSX, zip, fonts), which only cost time.
fn compression() -> tower_http::compression::CompressionLayer<impl Predicate> {
    let when = DefaultPredicate::new()
        .and(NotForContentType::const_new(PDF_TYPE))
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new(
            "application/vnd.openxmlformats-officedocument.",
        ))
        .and(NotForContentType::const_new("font/"));
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(when)
}

/// Serves until the listener fails.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<ServerState>,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

/// The page's own Chinese font, for browsers without one (FandolHei, carried in
/// the binary); cached by the browser.
async fn ui_font() -> Response {
    match crate::render::typst::fonts::bundled("FandolHei-Regular.otf") {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "font/otf"),
                (header::CACHE_CONTROL, "public, max-age=604800"),
            ],
            bytes,
        )
            .into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "没有这个地址").into_response(),
    }
}

/// A page asset.
fn asset(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// A failed request: a status and its problems, sent as
/// `{"ok":false,"problems":[…]}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problems: Vec<Value>,
}

impl ApiError {
    /// One problem without a location.
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Self {
            status,
            problems: vec![
                json!({"location": "", "message": message, "hint": null, "severity": "error"}),
            ],
        }
    }

    /// A 400 with one problem.
    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 500 with one problem.
    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Adds a hint to the first problem.
    fn with_hint(mut self, hint: impl Into<String>) -> Self {
        if let Some(p) = self.problems.first_mut() {
            p["hint"] = Value::String(hint.into());
        }
        self
    }

    /// Diagnostics of a workspace.
    fn diags(status: StatusCode, shown: &Shown, ds: &[Diagnostic]) -> Self {
        Self { status, problems: shown.problems(ds) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({"ok": false, "problems": self.problems})))
            .into_response()
    }
}

/// How paths in diagnostics are shown to the page: the workspace folder (and
/// any temporary file) replaced by the names the user knows.
struct Shown {
    replace: Vec<(String, String)>,
}

impl Shown {
    /// Paths inside `folder` shown relative to it.
    fn new(folder: &FsPath) -> Self {
        let mut replace = Vec::new();
        if let Ok(canon) = std::fs::canonicalize(folder) {
            replace.push((format!("{}/", canon.display()), String::new()));
        }
        replace.push((format!("{}/", case::display_path(folder)), String::new()));
        replace.push((format!("{}/", folder.display()), String::new()));
        Self { replace }
    }

    /// Also shows `path` as `name`.
    fn with(mut self, path: &FsPath, name: &str) -> Self {
        if let Ok(canon) = std::fs::canonicalize(path) {
            self.replace.insert(0, (canon.display().to_string(), name.to_string()));
        }
        self.replace.insert(0, (case::display_path(path), name.to_string()));
        self
    }

    fn text(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (from, to) in &self.replace {
            if !from.is_empty() {
                s = s.replace(from.as_str(), to);
            }
        }
        s
    }

    /// Diagnostics as JSON problems.
    fn problems(&self, ds: &[Diagnostic]) -> Vec<Value> {
        ds.iter()
            .map(|d| {
                let location = match &d.location {
                    Location::None => String::new(),
                    l => self.text(&l.to_string()),
                };
                json!({
                    "location": location,
                    "message": self.text(&d.message),
                    "hint": d.hint.as_deref().map(|h| self.text(h)),
                    "severity": match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                })
            })
            .collect()
    }
}

/// Requires the token, when the server has one: `Authorization: Bearer T`,
/// `?token=T` (which also sets a cookie, for the page's own requests), or that
/// cookie.
async fn auth(
    State(state): State<Arc<ServerState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(req).await;
    };
    let from_query = req.uri().query().is_some_and(|q| {
        q.split('&').any(|kv| kv.strip_prefix("token=").is_some_and(|v| same(v, token)))
    });
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|v| same(v.trim(), token));
    let from_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| {
            c.trim()
                .strip_prefix(TOKEN_COOKIE)
                .and_then(|c| c.strip_prefix('='))
                .is_some_and(|v| same(v, token))
        });
    if !(from_query || from_header || from_cookie) {
        return ApiError::new(StatusCode::UNAUTHORIZED, "需要访问令牌")
            .with_hint("用启动时给出的地址（带 ?token=…）打开页面，或在请求头中写 Authorization: Bearer 令牌")
            .into_response();
    }
    let mut resp = next.run(req).await;
    if from_query
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Compares two tokens in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Turns every error response that is not yet JSON (axum's own rejections,
/// the body limit) into `{"ok":false,"problems":[…]}` with a Chinese message.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return resp;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "没有这个地址",
        StatusCode::METHOD_NOT_ALLOWED => "这个地址不接受这种请求方法",
        StatusCode::PAYLOAD_TOO_LARGE => "上传的内容太大（最多 20 MB）",
        StatusCode::UNAUTHORIZED => "需要访问令牌",
        s if s.is_client_error() => "请求的格式不对",
        _ => "服务器内部错误",
    };
    let detail = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let err = ApiError::new(status, message);
    let err = if detail.is_empty() { err } else { err.with_hint(detail) };
    err.into_response()
}

/// A new workspace id: 128 random bits from the operating system, as hex.
fn new_id() -> Result<String, ApiError> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ApiError::internal(format!("无法生成工作区编号（{e}）")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `id` has the form of a workspace id (32 lowercase hex characters).
pub fn id_is_valid(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The folder of workspace `id`; 404 for a malformed or unknown id (checked
/// before the disk is touched).
fn workspace(state: &ServerState, id: &str) -> Result<PathBuf, ApiError> {
    let not_found = || {
        ApiError::new(StatusCode::NOT_FOUND, "没有这个工作区")
            .with_hint("工作区编号有误或工作区已被删除；请点“从示例开始”新建一个")
    };
    if !id_is_valid(id) {
        return Err(not_found());
    }
    let dir = state.data.join(id);
    match dir.symlink_metadata() {
        Ok(m) if m.is_dir() => Ok(dir),
        _ => Err(not_found()),
    }
}

/// The folder of workspace `id`, held against other requests on it until the
/// guard is dropped.
async fn locked(
    state: &ServerState,
    id: &str,
) -> Result<(PathBuf, OwnedMutexGuard<()>), ApiError> {
    // an unknown id is refused before it gets a lock
    workspace(state, id)?;
    let guard = state.lock(id).await;
    Ok((workspace(state, id)?, guard))
}

/// Runs a job that lays nothing out (a check, an upload) on the blocking
/// pool, two at a time, a panic caught.
async fn blocking<T: Send + 'static>(
    state: &ServerState,
    shown: &Shown,
    job: impl FnOnce() -> Result<T, Vec<Diagnostic>> + Send + 'static,
) -> Result<T, ApiError> {
    run_job(state, shown, false, job).await
}

/// Runs a job that lays a document out with Typst (a preview, a download) as
/// [`blocking`] does; afterwards Typst's caches keep only what the last few
/// such jobs used.
async fn building<T: Send + 'static>(
    state: &ServerState,
    shown: &Shown,
    job: impl FnOnce() -> Result<T, Vec<Diagnostic>> + Send + 'static,
) -> Result<T, ApiError> {
    run_job(state, shown, true, job).await
}

async fn run_job<T: Send + 'static>(
    state: &ServerState,
    shown: &Shown,
    lays_out: bool,
    job: impl FnOnce() -> Result<T, Vec<Diagnostic>> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit =
        state.builds.acquire().await.map_err(|_| ApiError::internal("服务器正在关闭"))?;
    let joined = tokio::task::spawn_blocking(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        if lays_out {
            trim_typst_caches();
        }
        result
    })
    .await;
    match joined {
        Ok(Ok(result)) => {
            result.map_err(|ds| ApiError::diags(StatusCode::BAD_REQUEST, shown, &ds))
        }
        _ => Err(ApiError::internal("生成时程序出错（内部错误），这次请求没有完成")
            .with_hint("服务器仍在运行；请把案卷和这条消息反馈给开发者")),
    }
}

/// After each layout job: Typst remembers layouts for reuse (a warm preview),
/// and every distinct document adds megabytes; what none of the last
/// [`CACHE_KEEP_BUILDS`] layout jobs used goes, so memory stays flat however
/// many documents are built, and a user's next preview is still warm while
/// fewer than that many other builds came between.
fn trim_typst_caches() {
    typst::comemo::evict(CACHE_KEEP_BUILDS);
}

#[derive(Deserialize)]
struct CreateRequest {
    from: Option<String>,
}

/// `POST /api/workspaces` {"from": "example" | catalogue}: a new workspace.
async fn create(
    State(state): State<Arc<ServerState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: CreateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateRequest { from: None }
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad(format!("无法读取请求（{e}）")))?
    };
    let catalog = match req.from.as_deref().unwrap_or("example") {
        "example" | "示例" => None,
        name => Some(CATALOGS.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = CATALOGS.iter().map(|(n, _)| *n).collect();
            ApiError::bad(format!(
                "没有名为 {name} 的指标体系（可用：example、{}）",
                names.join("、")
            ))
        })?),
    };
    let id = new_id()?;
    let dir = state.data.join(&id);
    let failed = |e: std::io::Error| {
        ApiError::internal(format!("无法创建工作区（{}）", case::io_reason(&e)))
    };
    std::fs::create_dir(&dir).map_err(failed)?;
    for (name, text) in crate::cmd::init::example_files(catalog) {
        crate::output::write_atomic(&dir.join(name), text.as_bytes()).map_err(failed)?;
    }
    Ok(axum::Json(json!({"ok": true, "id": id})).into_response())
}

/// Reads a workspace's case.toml.
fn read_case(folder: &FsPath) -> Result<String, ApiError> {
    let shown = Shown::new(folder);
    let path = crate::fsguard::resolve(folder, case::CASE_FILE)
        .and_then(|p| crate::fsguard::read_limited(&p, case::TEXT_FILE_LIMIT))
        .map_err(|e| {
            let d = case::guard_error(Location::File(case::CASE_FILE.into()), e);
            ApiError::diags(StatusCode::NOT_FOUND, &shown, &[d])
        })?;
    String::from_utf8(path).map_err(|_| ApiError::bad("case.toml 不是 UTF-8 编码的文本"))
}

/// `GET …/case`: the case file as text.
async fn get_case(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (folder, _guard) = locked(&state, &id).await?;
    let text = read_case(&folder)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `PUT …/case`: saves the case file and returns the check.
async fn put_case(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    if body.len() > CASE_LIMIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "case.toml 太大（{}，最多 1 MB）",
                crate::fsguard::human_size(body.len() as u64)
            ),
        ));
    }
    if std::str::from_utf8(&body).is_err() {
        return Err(ApiError::bad("case.toml 不是 UTF-8 编码的文本"));
    }
    let (folder, _guard) = locked(&state, &id).await?;
    crate::output::write_atomic(&folder.join(case::CASE_FILE), &body).map_err(|e| {
        ApiError::internal(format!("无法保存 case.toml（{}）", case::io_reason(&e)))
    })?;
    Ok(axum::Json(check(&state, &folder).await?).into_response())
}

/// The check of a workspace: `{"ok": bool, "problems": […]}`.
async fn check(state: &ServerState, folder: &FsPath) -> Result<Value, ApiError> {
    let settings = state.settings(Formats { pdf: false, docx: false });
    let dir = CaseDir::Disk(folder.to_path_buf());
    let shown = Shown::new(folder);
    let ds = blocking(state, &shown, move || {
        // the problems, or the warnings of a case that passes
        Ok(pipeline::compose_dir(&dir, &settings).map_or_else(|ds| ds, |c| c.warnings))
    })
    .await?;
    let ok = !ds.iter().any(Diagnostic::is_error);
    Ok(json!({"ok": ok, "problems": keyed_problems(folder, &shown, &ds)}))
}

/// Problems as JSON, each with the form field it is about (`"field":
/// "通知.标题"`, or null for the case file's other keys and the data files).
fn keyed_problems(folder: &FsPath, shown: &Shown, ds: &[Diagnostic]) -> Vec<Value> {
    let lines = read_case(folder).map(|t| form::value_lines(&t)).unwrap_or_default();
    let mut problems = shown.problems(ds);
    for (p, d) in problems.iter_mut().zip(ds) {
        p["field"] = form::field_of(d, &lines).map_or(Value::Null, Value::String);
    }
    problems
}

/// Saves a new case.toml of a locked workspace.
fn save_case(folder: &FsPath, text: &str) -> Result<(), ApiError> {
    if text.len() > CASE_LIMIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "case.toml 太大（{}，最多 1 MB）",
                crate::fsguard::human_size(text.len() as u64)
            ),
        ));
    }
    crate::output::write_atomic(&folder.join(case::CASE_FILE), text.as_bytes()).map_err(
        |e| ApiError::internal(format!("无法保存 case.toml（{}）", case::io_reason(&e))),
    )
}

/// `POST …/check`: the check of the workspace as it is.
async fn check_only(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (folder, _guard) = locked(&state, &id).await?;
    Ok(axum::Json(check(&state, &folder).await?).into_response())
}

/// `GET …/form`: the form's fields read from case.toml (`"fields": null` and
/// the problem when the file cannot be parsed).
async fn get_form(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (folder, _guard) = locked(&state, &id).await?;
    let text = read_case(&folder)?;
    let body = match form::read(&text) {
        Ok(fields) => json!({"ok": true, "fields": fields}),
        Err(why) => json!({
            "ok": false,
            "fields": null,
            "problems": [{
                "location": "case.toml",
                "message": format!("表单无法读取案卷文件：{why}"),
                "hint": "请在“案卷文件”中改正后再用表单",
                "severity": "error",
                "field": null,
            }],
        }),
    };
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
struct FormRequest {
    fields: serde_json::Map<String, Value>,
}

/// `PUT …/form` {"fields": {"通知.标题": "…", …}}: writes the fields into
/// case.toml (comments and order kept) and returns the check, each problem
/// keyed to its field.
async fn put_form(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    if body.len() > CASE_LIMIT {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "表单内容太大（最多 1 MB）",
        ));
    }
    let req: FormRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("无法读取表单（{e}）")))?;
    let (folder, _guard) = locked(&state, &id).await?;
    let text = read_case(&folder)?;
    let new = form::apply(&text, &req.fields).map_err(ApiError::bad)?;
    save_case(&folder, &new)?;
    Ok(axum::Json(check(&state, &folder).await?).into_response())
}

/// `POST …/import` (multipart .docx or .txt): the draft's paragraphs become
/// the notice's 正文; returns the check.
async fn import_body(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    let (name, bytes) = uploaded_file(multipart).await?;
    let shown = Shown::new(&state.data);
    let paragraphs = blocking(&state, &shown, move || {
        form::draft_paragraphs(&name, &bytes)
            .map_err(|m| vec![Diagnostic::error(Location::None, m)])
    })
    .await?;
    let (folder, _guard) = locked(&state, &id).await?;
    let text = read_case(&folder)?;
    let new = form::set(&text, "通知.正文", json!(paragraphs)).map_err(ApiError::bad)?;
    save_case(&folder, &new)?;
    let mut result = check(&state, &folder).await?;
    result["notes"] = json!([format!("已导入正文 {} 段", paragraphs.len())]);
    Ok(axum::Json(result).into_response())
}

/// Most page keys a preview request may name (a page's key is 32 characters).
const PREVIEW_HAVE_LIMIT: usize = 4 * PREVIEW_PAGES;

#[derive(Deserialize)]
struct PreviewRequest {
    /// Keys of the pages the page already shows (see [`pipeline::page_key`]).
    #[serde(default)]
    have: Vec<String>,
}

/// `POST …/preview` (optional body `{"have": [key, …]}`): the first pages as
/// SVG images, each with its key; a page whose key the request names comes
/// as `null` (the page has its image already).
async fn preview(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    let req: PreviewRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PreviewRequest { have: Vec::new() }
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad(format!("无法读取预览请求（{e}）")))?
    };
    if req.have.len() > PREVIEW_HAVE_LIMIT {
        return Err(ApiError::bad(format!(
            "预览请求列出的页太多（{} 页，最多 {PREVIEW_HAVE_LIMIT} 页）",
            req.have.len()
        )));
    }
    let have: std::collections::HashSet<String> = req.have.into_iter().collect();
    let (folder, _guard) = locked(&state, &id).await?;
    let settings = state.settings(Formats { pdf: true, docx: false });
    let dir = CaseDir::Disk(folder.clone());
    let shown = Shown::new(&folder);
    let p = building(&state, &shown, move || {
        let composed = pipeline::compose_dir(&dir, &settings)?;
        pipeline::preview(&composed, &settings, PREVIEW_PAGES, &have)
    })
    .await?;
    Ok(axum::Json(json!({
        "ok": true,
        "pages": p.pages,
        "keys": p.keys,
        "svg": p.svg,
        "texts": p.texts,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct DownloadQuery {
    format: Option<String>,
    /// A unit (scores: its sheets).
    name: Option<String>,
}

/// `GET …/download?format=pdf|docx|zip`: the built file(s).
async fn download(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let (folder, _guard) = locked(&state, &id).await?;
    let format = q.format.as_deref().unwrap_or("pdf").to_ascii_lowercase();
    let formats = formats_of(&format)?;
    let settings = state.settings(formats);
    let dir = CaseDir::Disk(folder.clone());
    let shown = Shown::new(&folder);
    let (name, rendered) = building(&state, &shown, move || {
        let composed = pipeline::compose_dir(&dir, &settings)?;
        let rendered = pipeline::render(&composed, &settings)?;
        Ok((composed.name, rendered))
    })
    .await?;
    send_rendered(&name, &format, rendered)
}

const PDF_TYPE: &str = "application/pdf";
const DOCX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The rendered files of a document as a download: `pdf`, `docx`, or `zip`
/// (both).
fn send_rendered(
    name: &str,
    format: &str,
    rendered: pipeline::Rendered,
) -> Result<Response, ApiError> {
    match format {
        "pdf" => {
            send_file(&format!("{name}.pdf"), PDF_TYPE, rendered.pdf.unwrap_or_default())
        }
        "docx" => send_file(
            &format!("{name}.docx"),
            DOCX_TYPE,
            rendered.docx.unwrap_or_default(),
        ),
        _ => {
            let files = [
                (format!("{name}.pdf"), rendered.pdf.unwrap_or_default()),
                (format!("{name}.docx"), rendered.docx.unwrap_or_default()),
            ];
            let zip = upload::zip_files(&files)
                .map_err(|e| ApiError::internal(format!("无法打包（{e}）")))?;
            send_file(&format!("{name}.zip"), "application/zip", zip)
        }
    }
}

/// A file to download.
fn send_file(
    file: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Result<Response, ApiError> {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_DISPOSITION, content_disposition(file))
        .body(Body::from(bytes))
        .map_err(|e| ApiError::internal(format!("无法发送文件（{e}）")))
}

/// The formats of a download request: `pdf`, `docx` or `zip`.
fn formats_of(format: &str) -> Result<Formats, ApiError> {
    match format {
        "pdf" => Ok(Formats { pdf: true, docx: false }),
        "docx" => Ok(Formats { pdf: false, docx: true }),
        "zip" => Ok(Formats { pdf: true, docx: true }),
        other => {
            Err(ApiError::bad(format!("无法识别格式 {other}（可用：pdf、docx、zip）")))
        }
    }
}

/// `attachment` with an ASCII fallback name and the real one in RFC 5987 form.
pub fn content_disposition(file: &str) -> String {
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    let mut encoded = String::new();
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"gongwen.{ext}\"; filename*=UTF-8''{encoded}")
}

/// The one uploaded file of a multipart request: its name and bytes.
async fn uploaded_file(mut multipart: Multipart) -> Result<(String, Bytes), ApiError> {
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "上传的文件太大（最多 20 MB）")
        } else {
            ApiError::new(status, format!("无法读取上传的文件（{}）", e.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let Some(name) = field.file_name().map(str::to_string) else { continue };
        let bytes = field.bytes().await.map_err(multipart_error)?;
        if bytes.len() > UPLOAD_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "上传的文件太大（{}，最多 20 MB）",
                    crate::fsguard::human_size(bytes.len() as u64)
                ),
            ));
        }
        return Ok((name, bytes));
    }
    Err(ApiError::bad("请求中没有文件"))
}

/// `POST …/upload` (multipart): a zipped case folder replaces the workspace; a
/// workbook becomes the case's indicator file. Returns the check.
async fn upload(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    let (name, bytes) = uploaded_file(multipart).await?;
    let (folder, _guard) = locked(&state, &id).await?;
    let ext = upload::extension(&name);
    let shown = Shown::new(&folder);
    let mut notes = Vec::new();
    if ext == "zip" {
        let (data, target) = (state.data.clone(), folder.clone());
        let files =
            blocking(&state, &shown, move || upload::unpack(&bytes, &target, &data))
                .await?;
        notes.push(format!("已解压 {} 个文件", files.len()));
    } else if upload::WORKBOOKS.contains(&ext.as_str()) {
        // the new workbook against the indicators the case had: the change
        // report, and each unit's tasks with the new one
        let target = folder.clone();
        let (note, before, after) = blocking(&state, &shown, move || {
            let dir = CaseDir::Disk(target.clone());
            let before = case::load_case(&dir).ok().map(|c| c.indicators);
            let note =
                upload::save_workbook(&target, &bytes, &ext).map_err(|d| vec![d])?;
            Ok((note, before, case::load_case(&dir).ok()))
        })
        .await?;
        notes.push(note);
        let mut result = check(&state, &folder).await?;
        result["notes"] = json!(notes);
        if let Some(after) = after {
            if let Some(before) = before {
                let changes =
                    crate::compose::assign::diff_units(&before, &after.indicators);
                result["changes"] = changes_json(&changes);
            }
            result["units"] = units_json(&after.registry, &after.indicators);
        }
        return Ok(axum::Json(result).into_response());
    } else if ext == "png" {
        let target = folder.clone();
        let shown_name = name.clone();
        blocking(&state, &shown, move || {
            crate::case::preflight::check_png(&bytes, pipeline::IMAGE_PIXELS).map_err(
                |e| {
                    let mut d = case::guard_error(Location::File(shown_name), e);
                    d.message = format!("印章图片：{}", d.message);
                    vec![d.with_hint("印章请用带透明背景的 PNG 图片")]
                },
            )?;
            crate::output::write_atomic(&target.join(SEAL_FILE), &bytes).map_err(|e| {
                vec![Diagnostic::error(
                    Location::None,
                    format!("无法保存 {SEAL_FILE}（{}）", case::io_reason(&e)),
                )]
            })
        })
        .await?;
        let text = read_case(&folder)?;
        let mut fields = serde_json::Map::new();
        fields.insert("通知.印章".into(), json!(SEAL_FILE));
        fields.insert("通知.盖章".into(), json!(true));
        let new = form::apply(&text, &fields).map_err(ApiError::bad)?;
        save_case(&folder, &new)?;
        notes.push(format!("已保存印章图片 {SEAL_FILE}，通知改为盖章"));
    } else {
        return Err(ApiError::bad(format!(
            "不接受文件 {name}（只接受 .zip 案卷、.xlsx、.xlsm、.xls、.ods 工作簿或 .png 印章图片）"
        )));
    }
    let mut result = check(&state, &folder).await?;
    result["notes"] = json!(notes);
    Ok(axum::Json(result).into_response())
}

/// Name of the seal image an upload saves.
const SEAL_FILE: &str = "印章.png";

/// The change report as JSON.
fn changes_json(changes: &[crate::compose::assign::Change]) -> Value {
    changes
        .iter()
        .map(|c| {
            json!({
                "number": c.number,
                "text": c.text,
                "before": c.before,
                "after": c.after,
                "gained": c.gained,
                "lost": c.lost,
            })
        })
        .collect()
}

/// Each unit's tasks (what `gongwen units` prints) as JSON.
fn units_json(
    registry: &crate::registry::Registry,
    indicators: &[crate::model::Indicator],
) -> Value {
    use crate::compose::assign;
    use crate::registry::Role;
    assign::tasks_by_unit(registry, indicators)
        .iter()
        .map(|(unit, tasks)| {
            let lead = tasks.iter().filter(|(_, r)| *r == Role::Lead).count();
            let tasks: Vec<Value> = tasks
                .iter()
                .map(|(ind, role)| {
                    json!({
                        "number": assign::indicator_number(ind),
                        "text": ind.text.value,
                        "materials": ind.materials.value,
                        "role": if *role == Role::Lead { "牵头" } else { "配合" },
                        "deadline": ind.deadline.as_ref().map(|d| d.value.clone()),
                    })
                })
                .collect();
            json!({"unit": unit, "lead": lead, "support": tasks.len() - lead, "tasks": tasks})
        })
        .collect()
}

/// `POST …/diff` (multipart workbook): which indicators of the case would gain
/// or lose which units with this workbook.
async fn diff(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    let (name, bytes) = uploaded_file(multipart).await?;
    let ext = upload::extension(&name);
    if !upload::WORKBOOKS.contains(&ext.as_str()) && ext != "toml" {
        return Err(ApiError::bad(format!(
            "不接受文件 {name}（只接受 .xlsx、.xlsm、.xls、.ods 工作簿或 指标.toml）"
        )));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".diff-")
        .suffix(&format!(".{ext}"))
        .tempfile_in(&state.data)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, &bytes)?;
            Ok(f)
        })
        .map_err(|e| {
            ApiError::internal(format!("无法保存上传的文件（{}）", case::io_reason(&e)))
        })?;
    let (folder, _guard) = locked(&state, &id).await?;
    let shown = Shown::new(&folder).with(tmp.path(), &name);
    let dir = CaseDir::Disk(folder.clone());
    let path = tmp.path().to_path_buf();
    let changes = blocking(&state, &shown, move || {
        let before = case::load_case(&dir)?.indicators;
        let after = case::load_indicator_file(&path, None)?;
        Ok(crate::compose::assign::diff_units(&before, &after))
    })
    .await?;
    drop(tmp);
    Ok(axum::Json(json!({"ok": true, "changes": changes_json(&changes)})).into_response())
}

/// The score sheets of a workspace.
const SCORES_FILE: &str = "打分表.toml";
/// The built-in score sheets (濮治市办〔2020〕8号), copied into a workspace on
/// first use, where the user may replace them.
const SCORES_BUILTIN: &str = include_str!("../../data/scores/打分表.toml");
/// The filled score-entry workbook kept in a workspace.
const FILLED_FILE: &str = "打分录入.xlsx";

/// The score sheets of a locked workspace (written from the built-in ones when
/// the workspace has none).
fn workspace_scores(folder: &FsPath) -> Result<crate::scores::Scores, Vec<Diagnostic>> {
    let path = folder.join(SCORES_FILE);
    if path.symlink_metadata().is_err() {
        crate::output::write_atomic(&path, SCORES_BUILTIN.as_bytes()).map_err(|e| {
            vec![Diagnostic::error(
                Location::File(SCORES_FILE.into()),
                format!("无法写出打分表（{}）", case::io_reason(&e)),
            )]
        })?;
    }
    let loc = || Location::File(SCORES_FILE.into());
    let path = crate::fsguard::resolve(folder, SCORES_FILE)
        .map_err(|e| vec![case::guard_error(loc(), e)])?;
    // bounded, as every file a case reads
    crate::fsguard::read_limited(&path, case::TEXT_FILE_LIMIT)
        .map_err(|e| vec![case::guard_error(loc(), e)])?;
    crate::scores::load_scores(&path)
}

/// The results of filled scores as JSON.
fn results_json(
    scores: &crate::scores::Scores,
    filled: &[crate::scores::UnitScores],
) -> Value {
    let results: Vec<Value> = crate::compose::scores::results(scores, filled)
        .iter()
        .map(|r| {
            json!({
                "rank": r.rank,
                "unit": r.unit,
                "total": r.total.to_string(),
                "complete": r.unscored == 0,
                "unscored": r.unscored,
                "lost": r.lost.iter().map(|(duty, p)| json!({"duty": duty, "points": p.to_string()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let sheets: Vec<Value> = scores
        .sheets
        .iter()
        .map(|s| json!({"person": s.person, "full": s.full.to_string()}))
        .collect();
    let full: crate::scores::Points = scores.sheets.iter().map(|s| s.full).sum();
    json!({"ok": true, "full": full.to_string(), "sheets": sheets, "results": results})
}

/// `POST …/scores` (multipart, the filled 打分录入.xlsx): every cell checked,
/// then kept in the workspace; returns totals, ranks and lost points.
async fn scores_upload(
    State(state): State<Arc<ServerState>>,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    workspace(&state, &id)?;
    let (name, bytes) = uploaded_file(multipart).await?;
    if !upload::WORKBOOKS.contains(&upload::extension(&name).as_str()) {
        return Err(ApiError::bad(format!(
            "不接受文件 {name}（请上传填好的 打分录入.xlsx）"
        )));
    }
    let (folder, _guard) = locked(&state, &id).await?;
    let tmp = tempfile::Builder::new()
        .prefix(".scores-")
        .suffix(".xlsx")
        .tempfile_in(&folder)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, &bytes)?;
            Ok(f)
        })
        .map_err(|e| {
            ApiError::internal(format!("无法保存上传的文件（{}）", case::io_reason(&e)))
        })?;
    let shown = Shown::new(&folder).with(tmp.path(), &name);
    let target = folder.clone();
    let body = blocking(&state, &shown, move || {
        let scores = workspace_scores(&target)?;
        let filled = crate::scores::read_filled(tmp.path(), &scores)?;
        tmp.persist(target.join(FILLED_FILE)).map_err(|e| {
            vec![Diagnostic::error(
                Location::None,
                format!("无法保存 {FILLED_FILE}（{}）", case::io_reason(&e.error)),
            )]
        })?;
        Ok(results_json(&scores, &filled))
    })
    .await?;
    Ok(axum::Json(body).into_response())
}

/// `GET …/scores/{blank|entry|report|unit}`: the blank sheets (pdf/docx), the
/// score-entry workbook, the 督察情况通报, or one unit's filled sheets
/// (`?name=单位`).
async fn scores_download(
    State(state): State<Arc<ServerState>>,
    Path((id, what)): Path<(String, String)>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    if !matches!(what.as_str(), "blank" | "entry" | "report" | "unit" | "results") {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "没有这个地址"));
    }
    let (folder, _guard) = locked(&state, &id).await?;
    let format = q.format.as_deref().unwrap_or("pdf").to_ascii_lowercase();
    let formats = formats_of(&format)?;
    let settings = state.settings(formats);
    let shown = Shown::new(&folder);
    let unit = q.name.clone();
    let has_filled = folder.join(FILLED_FILE).is_file();
    if matches!(what.as_str(), "report" | "unit" | "results") && !has_filled {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "还没有上传填好的打分录入表")
            .with_hint("先下载打分录入.xlsx，填好后点“上传打分结果”"));
    }
    enum Out {
        Doc(String, Box<pipeline::Rendered>),
        Xlsx(Vec<u8>),
        Json(Value),
    }
    let out = building(&state, &shown, move || {
        let scores = workspace_scores(&folder)?;
        let filled = || -> Result<Vec<crate::scores::UnitScores>, Vec<Diagnostic>> {
            let path = crate::fsguard::resolve(&folder, FILLED_FILE).map_err(|e| {
                vec![case::guard_error(Location::File(FILLED_FILE.into()), e)]
            })?;
            crate::scores::read_filled(&path, &scores)
        };
        let doc = |name: &str, doc: crate::doc::Document| {
            pipeline::render_document(name, doc, &settings)
                .map(|(_, r)| Out::Doc(name.to_string(), Box::new(r)))
        };
        match what.as_str() {
            "blank" => {
                doc("督察情况打分表", crate::compose::scores::blank_sheets(&scores))
            }
            "entry" => crate::scores::write_entry_workbook(&scores, settings.date)
                .map(Out::Xlsx)
                .map_err(|e| {
                    vec![Diagnostic::error(
                        Location::None,
                        format!("无法生成打分录入表（{e}）"),
                    )]
                }),
            "results" => Ok(Out::Json(results_json(&scores, &filled()?))),
            "report" => {
                doc("督察情况通报", crate::compose::scores::report(&scores, &filled()?))
            }
            _ => {
                let filled = filled()?;
                let name = unit.unwrap_or_default();
                let Some(u) = filled.iter().find(|u| u.unit == name) else {
                    let names: Vec<&str> =
                        filled.iter().map(|u| u.unit.as_str()).collect();
                    return Err(vec![Diagnostic::error(
                        Location::None,
                        format!(
                            "打分录入表中没有单位\"{name}\"（有：{}）",
                            names.join("、")
                        ),
                    )]);
                };
                let file = pipeline::file_name(&format!("{}督察情况打分表", u.unit));
                doc(&file, crate::compose::scores::unit_sheets(&scores, u))
            }
        }
    })
    .await?;
    match out {
        Out::Doc(name, rendered) => send_rendered(&name, &format, *rendered),
        Out::Xlsx(bytes) => send_file(FILLED_FILE, XLSX_TYPE, bytes),
        Out::Json(v) => Ok(axum::Json(v).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server state over the temporary folder, with the bundled fonts only.
    fn test_state() -> Arc<ServerState> {
        ServerState::new(
            std::env::temp_dir(),
            None,
            FontSet::load(&crate::render::typst::fonts::FontOptions {
                paths: vec![],
                ignore_system: true,
            }),
            crate::render::typst::world::library(),
            None,
        )
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_panicking_build_is_a_500_and_frees_its_permit() {
        let state = test_state();
        let rt = runtime();
        let shown = Shown { replace: Vec::new() };
        rt.block_on(async {
            for _ in 0..=BUILD_PERMITS {
                let err = blocking(&state, &shown, || -> Result<(), Vec<Diagnostic>> {
                    panic!("a bug in a build")
                })
                .await
                .unwrap_err();
                assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
                assert!(
                    err.problems[0]["message"].as_str().unwrap().contains("内部错误")
                );
            }
            let ok = blocking(&state, &shown, || Ok(7)).await.unwrap();
            assert_eq!(ok, 7);
        });
    }

    #[test]
    fn requests_on_one_workspace_wait_for_each_other() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let state = test_state();
        let rt = runtime();
        let (a, b) =
            ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        rt.block_on(async {
            let first = state.lock(a).await;
            // another workspace is free meanwhile
            drop(state.lock(b).await);
            let got = Arc::new(AtomicBool::new(false));
            let waiter = {
                let (state, got) = (state.clone(), got.clone());
                tokio::spawn(async move {
                    let _second = state.lock(a).await;
                    got.store(true, Ordering::SeqCst);
                })
            };
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(!got.load(Ordering::SeqCst), "the second request waits");
            assert_eq!(state.locks_in_use(), 1);
            drop(first);
            waiter.await.unwrap();
            assert!(got.load(Ordering::SeqCst));
            assert_eq!(state.locks_in_use(), 0);
            // unused entries are dropped from the map
            drop(state.lock(b).await);
            assert!(state.locks.lock().unwrap().len() <= 1);
        });
    }

    #[test]
    fn ids_and_names() {
        assert!(id_is_valid("0123456789abcdef0123456789abcdef"));
        assert!(!id_is_valid("0123456789ABCDEF0123456789ABCDEF"));
        assert!(!id_is_valid("../../etc"));
        assert!(!id_is_valid(""));
        assert_eq!(
            content_disposition("方案 1.pdf"),
            "attachment; filename=\"gongwen.pdf\"; filename*=UTF-8''%E6%96%B9%E6%A1%88%201.pdf"
        );
        assert!(token_is_valid("s3cret-token"));
        assert!(!token_is_valid("a;b"));
    }
}
