//! `gongwen serve`: the web page (see [`crate::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{Failure, FontArgs};
use crate::serve::{self, ServerState};

/// serve 的选项
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址；默认只接受本机访问
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// 存放工作区（每个工作区一个案卷文件夹）的文件夹
    #[arg(long, default_value = "gongwen-data", value_name = "DIR")]
    pub data: PathBuf,
    /// 访问令牌（字母、数字和 - _ . ~）：给出时每个请求都须带上它
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// 字体
    #[command(flatten)]
    pub fonts: FontArgs,
}

/// Runs `gongwen serve` until it is stopped.
pub fn execute(a: &ServeArgs) -> Result<(), Failure> {
    if let Some(t) = &a.token
        && !serve::token_is_valid(t)
    {
        return Err(Failure::usage("--token 只能由字母、数字和 - _ . ~ 组成"));
    }
    if !a.listen.ip().is_loopback() && a.token.is_none() {
        errln!(
            "警告：监听 {} 可从其他机器访问，但没有设置 --token，任何能连上的人都能使用和修改工作区",
            a.listen
        );
    }
    std::fs::create_dir_all(&a.data).map_err(|e| {
        Failure::problem(format!(
            "无法创建数据文件夹 {}（{}）",
            a.data.display(),
            crate::case::io_reason(&e)
        ))
    })?;
    let state = ServerState::new(
        a.data.clone(),
        a.token.clone(),
        a.fonts.load(),
        crate::render::typst::world::library(),
        None,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::problem(format!("无法启动服务（{}）", crate::case::io_reason(&e)))
        })?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen).await.map_err(|e| {
            Failure::problem(format!(
                "无法监听 {}（{}）",
                a.listen,
                crate::case::io_reason(&e)
            ))
        })?;
        let mut addr = listener.local_addr().unwrap_or(a.listen);
        if addr.ip().is_unspecified() {
            // 0.0.0.0 or [::]: this machine answers on every address
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let query = a.token.as_ref().map_or(String::new(), |t| format!("?token={t}"));
        outln!("gongwen serve：请在浏览器中打开 http://{addr}/{query}");
        outln!("工作区保存在 {}；按 Ctrl-C 退出", a.data.display());
        serve::run(listener, state).await.map_err(|e| {
            Failure::problem(format!("服务出错（{}）", crate::case::io_reason(&e)))
        })
    })
}
