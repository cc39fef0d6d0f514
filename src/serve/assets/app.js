"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const editor = $("editor");
  const KEY = "gongwen.workspace";
  let id = null;
  let timer = null;
  let seq = 0;
  let urls = [];

  function status(text, error) {
    $("status").textContent = text || "";
    $("status").className = error ? "error" : "";
  }

  function setId(newId) {
    id = newId;
    if (id) {
      localStorage.setItem(KEY, id);
      history.replaceState(null, "", location.pathname + "#" + id);
    } else {
      localStorage.removeItem(KEY);
      history.replaceState(null, "", location.pathname);
    }
  }

  function api(path) {
    return "api/workspaces" + (path === undefined ? "" : "/" + id + path);
  }

  async function json(resp) {
    try {
      return await resp.json();
    } catch (e) {
      return { ok: false, problems: [{ location: "", message: "服务器返回了无法读取的内容（" + resp.status + "）" }] };
    }
  }

  function gotoLocation(loc) {
    const m = /^case\.toml:(\d+):(\d+)/.exec(loc);
    if (!m) return;
    const lines = editor.value.split("\n");
    const line = Math.min(parseInt(m[1], 10), lines.length);
    let pos = 0;
    for (let i = 0; i < line - 1; i++) pos += lines[i].length + 1;
    pos += Math.min(parseInt(m[2], 10) - 1, lines[line - 1].length);
    editor.focus();
    editor.setSelectionRange(pos, pos);
    const lh = parseFloat(getComputedStyle(editor).lineHeight) || 18;
    editor.scrollTop = Math.max(0, (line - 5) * lh);
  }

  function showProblems(result, notes) {
    const box = $("problems");
    box.textContent = "";
    for (const n of notes || result.notes || []) {
      const p = document.createElement("div");
      p.textContent = n;
      box.appendChild(p);
    }
    const problems = result.problems || [];
    if (problems.length === 0) {
      if (result.ok) {
        const p = document.createElement("div");
        p.className = "ok";
        p.textContent = "检查通过";
        box.appendChild(p);
      }
      return;
    }
    const ul = document.createElement("ul");
    for (const pr of problems) {
      const li = document.createElement("li");
      li.className = pr.severity === "warning" ? "warning" : "error";
      if (pr.location) {
        const loc = document.createElement("span");
        loc.className = "loc";
        loc.textContent = pr.location;
        loc.title = "跳到此处";
        loc.onclick = () => gotoLocation(pr.location);
        li.appendChild(loc);
      }
      const msg = document.createElement("span");
      msg.className = "msg";
      msg.textContent = (pr.severity === "warning" ? "警告：" : "错误：") + pr.message;
      li.appendChild(msg);
      if (pr.hint) {
        const h = document.createElement("span");
        h.className = "hint";
        h.textContent = "提示：" + pr.hint;
        li.appendChild(h);
      }
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }

  function requireWorkspace() {
    if (!id) {
      status("请先点“从示例开始”或上传案卷", true);
      return false;
    }
    return true;
  }

  async function load() {
    const resp = await fetch(api("/case"));
    if (resp.status === 404) {
      setId(null);
      editor.value = "";
      status("工作区不存在，请点“从示例开始”新建", true);
      return false;
    }
    if (!resp.ok) {
      showProblems(await json(resp));
      return false;
    }
    editor.value = await resp.text();
    return true;
  }

  async function save() {
    if (!id) return false;
    status("正在检查……");
    const resp = await fetch(api("/case"), {
      method: "PUT",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: editor.value,
    });
    const result = await json(resp);
    showProblems(result);
    if (!resp.ok || !result.ok) {
      status("案卷有问题，见左下方", true);
      return false;
    }
    status("已保存");
    return true;
  }

  async function preview() {
    if (!id) return;
    const mine = ++seq;
    status("正在排版预览……");
    const resp = await fetch(api("/preview"), { method: "POST" });
    const result = await json(resp);
    if (mine !== seq) return;
    if (!resp.ok) {
      showProblems(result);
      status("无法生成预览", true);
      return;
    }
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    const box = $("pages");
    box.textContent = "";
    result.svg.forEach((svg, i) => {
      const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      urls.push(url);
      const img = document.createElement("img");
      img.src = url;
      img.alt = "第 " + (i + 1) + " 页";
      box.appendChild(img);
    });
    $("pages-info").textContent = "共 " + result.pages + " 页" +
      (result.svg.length < result.pages ? "（预览前 " + result.svg.length + " 页）" : "");
    status("预览已更新");
  }

  async function saveAndPreview() {
    if (await save()) await preview();
  }

  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(saveAndPreview, 800);
  });

  $("new").onclick = async () => {
    status("正在新建工作区……");
    const resp = await fetch(api(), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ from: $("from").value }),
    });
    const result = await json(resp);
    if (!resp.ok) {
      showProblems(result);
      status("无法新建工作区", true);
      return;
    }
    setId(result.id);
    if (await load()) await saveAndPreview();
  };

  function pick(input, then) {
    input.value = "";
    input.onchange = () => { if (input.files.length) then(input.files[0]); };
    input.click();
  }

  async function send(path, file) {
    const form = new FormData();
    form.append("file", file, file.name);
    const resp = await fetch(api(path), { method: "POST", body: form });
    return [resp, await json(resp)];
  }

  async function uploadFile(file) {
    status("正在上传 " + file.name + "……");
    const [resp, result] = await send("/upload", file);
    showProblems(result);
    if (!resp.ok) {
      status("上传未成功", true);
      return;
    }
    await load();
    if (result.ok) await preview();
    else status("已上传，但案卷有问题，见左下方", true);
  }

  $("upload-zip").onclick = () => { if (requireWorkspace()) pick($("zip-file"), uploadFile); };
  $("upload-book").onclick = () => { if (requireWorkspace()) pick($("book-file"), uploadFile); };

  $("diff").onclick = () => {
    if (!requireWorkspace()) return;
    pick($("diff-file"), async (file) => {
      status("正在对比 " + file.name + "……");
      const [resp, result] = await send("/diff", file);
      if (!resp.ok) {
        showProblems(result);
        status("无法对比", true);
        return;
      }
      const box = $("problems");
      box.textContent = "";
      const title = document.createElement("div");
      title.textContent = "与 " + file.name + " 相比，共 " + result.changes.length + " 项指标的责任单位有调整";
      box.appendChild(title);
      if (result.changes.length) {
        const table = document.createElement("table");
        const head = table.insertRow();
        for (const h of ["序号", "增加", "减少"]) {
          const th = document.createElement("th");
          th.textContent = h;
          head.appendChild(th);
        }
        for (const c of result.changes) {
          const row = table.insertRow();
          row.insertCell().textContent = c.number;
          row.insertCell().textContent = c.gained.join("、");
          row.insertCell().textContent = c.lost.join("、");
        }
        box.appendChild(table);
      }
      status("对比完成");
    });
  };

  $("check").onclick = () => { if (requireWorkspace()) saveAndPreview(); };

  function fileName(resp, fallback) {
    const cd = resp.headers.get("Content-Disposition") || "";
    const m = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    return m ? decodeURIComponent(m[1]) : fallback;
  }

  async function download(format) {
    if (!requireWorkspace()) return;
    clearTimeout(timer);
    if (!(await save())) return;
    status("正在生成 " + format.toUpperCase() + "……");
    const resp = await fetch(api("/download?format=" + format));
    if (!resp.ok) {
      showProblems(await json(resp));
      status("无法生成", true);
      return;
    }
    const blob = await resp.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = fileName(resp, "gongwen." + format);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status("已下载 " + a.download);
  }

  $("dl-pdf").onclick = () => download("pdf");
  $("dl-docx").onclick = () => download("docx");
  $("dl-zip").onclick = () => download("zip");

  (async function start() {
    const fromHash = location.hash.replace(/^#/, "");
    const stored = /^[0-9a-f]{32}$/.test(fromHash) ? fromHash : localStorage.getItem(KEY);
    if (stored && /^[0-9a-f]{32}$/.test(stored)) {
      setId(stored);
      if (await load()) await saveAndPreview();
    } else {
      status("点“从示例开始”新建工作区，或先新建再上传案卷");
    }
  })();
})();
