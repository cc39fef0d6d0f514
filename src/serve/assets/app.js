"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const editor = $("editor");
  const KEY = "gongwen.workspace";
  let id = null;
  let tab = "form";
  let textTimer = null;
  let formTimer = null;
  let dirty = new Set();
  let seq = 0;
  let saving = Promise.resolve();
  // the preview's page images by key (pages with the same key look the same)
  let shown = new Map();

  // ------------------------------------------------------------ the form
  // [path, label, kind, hint]; kinds: text, title (line breaks kept), lines
  // (one item per line), bool
  const FORM = [
    ["版头", [
      ["版头.发文机关", "发文机关", "lines", "联合行文每行一个，主办机关在前"],
      ["版头.文件", "标志后加“文件”二字", "bool"],
      ["版头.机关代字", "机关代字", "text", "如 夏法政办"],
      ["版头.年份", "年份", "text", "如 2023"],
      ["版头.序号", "序号", "text", "如 12，印作〔2023〕12号"],
      ["版头.签发人", "签发人", "lines", "上行文写签发人姓名，每行一个"],
      ["版头.份号", "份号", "text", "可不填；6 位数字"],
      ["版头.密级", "密级", "text", "可不填；如 机密"],
      ["版头.保密期限", "保密期限", "text", "可不填；如 1年"],
      ["版头.紧急程度", "紧急程度", "text", "可不填；如 特急"],
    ]],
    ["通知", [
      ["通知.标题", "标题", "title", "换行处即标题的断行处；可用 {{ 县名 }} 等变量"],
      ["通知.主送", "主送", "lines", "每行一个"],
      ["通知.正文", "正文", "lines", "每行一段"],
      ["通知.署名", "署名", "lines", "每行一个机关"],
      ["通知.成文日期", "成文日期", "text", "如 2023-08-31 或 2023年8月31日"],
      ["通知.盖章", "盖章", "bool"],
      ["通知.印章", "印章图片", "text", "案卷中的 PNG 文件名；可点“上传印章图片”"],
      ["通知.附注", "附注", "text", "可不填；印作（此件公开发布）"],
    ]],
    ["创建步骤", []],
    ["方案", [
      ["方案", "方案的标题、导语和各章（按案卷文件的写法）", "toml",
        "[\"方案\"] 下写标题、导语；每章一个 [[\"方案\".\"章\"]]，节、条、款依次为 [[\"方案\".\"章\".\"节\"]] 等"],
    ]],
    ["版记", [
      ["版记.抄送", "抄送", "lines", "每行一个"],
      ["版记.印发机关", "印发机关", "text"],
      ["版记.印发日期", "印发日期", "text", "如 2023-08-31"],
    ]],
  ];
  const STEP_KEYS = [["名称", "名称"], ["时限", "时限"], ["内容", "内容"]];

  function status(text, error) {
    $("status").textContent = text || "";
    $("status").className = error ? "error" : "";
  }

  function setId(newId) {
    id = newId;
    if (id) {
      localStorage.setItem(KEY, id);
      history.replaceState(null, "", location.pathname + location.search + "#" + id);
    } else {
      localStorage.removeItem(KEY);
      history.replaceState(null, "", location.pathname + location.search);
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

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function autosize(t) {
    t.style.height = "auto";
    t.style.height = Math.min(t.scrollHeight + 2, 600) + "px";
  }

  function fieldBox(path, label, hint) {
    const box = el("div", { class: "field", "data-field": path });
    box.appendChild(el("label", {}, label));
    if (hint) box.appendChild(el("span", { class: "hint" }, hint));
    return box;
  }

  function changed(path) {
    dirty.add(path);
    clearTimeout(formTimer);
    formTimer = setTimeout(saveForm, 600);
  }

  function buildForm() {
    const form = $("form");
    form.textContent = "";
    for (const [legend, fields] of FORM) {
      const fs = el("fieldset", { "data-field": legend === "创建步骤" ? "创建步骤" : "" });
      fs.appendChild(el("legend", {}, legend));
      if (legend === "创建步骤") {
        fs.appendChild(el("div", { id: "steps" }));
        const add = el("button", { type: "button", id: "step-add" }, "添加步骤");
        add.onclick = () => { addStep({ 名称: "", 时限: "", 内容: "" }); changed("创建步骤"); };
        fs.appendChild(add);
        fs.appendChild(el("div", { class: "field-problems" }));
      }
      for (const [path, label, kind, hint] of fields) {
        const box = fieldBox(path, label, hint);
        let input;
        if (kind === "bool") {
          input = el("input", { type: "checkbox" });
          input.onchange = () => changed(path);
          box.classList.add("bool");
          box.insertBefore(input, box.firstChild);
        } else if (kind === "text") {
          input = el("input", { type: "text" });
          input.oninput = () => changed(path);
          box.appendChild(input);
        } else {
          input = el("textarea", { rows: kind === "toml" ? 14 : 2, spellcheck: false });
          if (kind === "toml") input.className = "code";
          input.oninput = () => { autosize(input); changed(path); };
          box.appendChild(input);
        }
        input.name = path;
        input.dataset.kind = kind;
        if (path === "通知.正文") {
          const b = el("button", { type: "button", id: "import-draft" }, "从草稿导入（.docx 或 .txt）");
          b.onclick = () => pick($("draft-file"));
          box.appendChild(b);
        }
        if (path === "通知.印章") {
          const b = el("button", { type: "button", id: "upload-seal" }, "上传印章图片（.png）");
          b.onclick = () => pick($("seal-file"));
          box.appendChild(b);
        }
        box.appendChild(el("div", { class: "field-problems" }));
        fs.appendChild(box);
      }
      form.appendChild(fs);
    }
  }

  function addStep(step) {
    const list = $("steps");
    const i = list.children.length + 1;
    const row = el("div", { class: "step", "data-field": "创建步骤[" + i + "]" });
    row.appendChild(el("span", { class: "step-no" }, "第 " + i + " 步"));
    for (const [k, label] of STEP_KEYS) {
      const box = fieldBox("创建步骤[" + i + "]." + k, label);
      const input = k === "内容" ? el("textarea", { rows: 2 }) : el("input", { type: "text" });
      input.dataset.key = k;
      input.value = step[k] || "";
      input.oninput = () => { if (input.tagName === "TEXTAREA") autosize(input); changed("创建步骤"); };
      box.appendChild(input);
      box.appendChild(el("div", { class: "field-problems" }));
      row.appendChild(box);
    }
    const del = el("button", { type: "button", class: "step-del" }, "删除此步");
    del.onclick = () => { row.remove(); renumberSteps(); changed("创建步骤"); };
    row.appendChild(del);
    row.appendChild(el("div", { class: "field-problems" }));
    list.appendChild(row);
  }

  function renumberSteps() {
    Array.from($("steps").children).forEach((row, n) => {
      const i = n + 1;
      row.dataset.field = "创建步骤[" + i + "]";
      row.querySelector(".step-no").textContent = "第 " + i + " 步";
      for (const box of row.querySelectorAll(".field")) {
        box.dataset.field = "创建步骤[" + i + "]." + box.querySelector("[data-key]").dataset.key;
      }
    });
  }

  function fillForm(fields) {
    for (const input of $("form").querySelectorAll("[name]")) {
      const v = fields[input.name];
      const kind = input.dataset.kind;
      if (kind === "bool") input.checked = !!v;
      else if (kind === "lines") input.value = (v || []).join("\n");
      else input.value = v == null ? "" : v;
      if (input.tagName === "TEXTAREA") autosize(input);
    }
    $("steps").textContent = "";
    for (const s of fields["创建步骤"] || []) addStep(s);
    for (const t of $("steps").querySelectorAll("textarea")) autosize(t);
  }

  function formValue(path) {
    if (path === "创建步骤") {
      return Array.from($("steps").children).map((row) => {
        const s = {};
        for (const input of row.querySelectorAll("[data-key]")) s[input.dataset.key] = input.value;
        return s;
      });
    }
    const input = $("form").querySelector('[name="' + CSS.escape(path) + '"]');
    const kind = input.dataset.kind;
    if (kind === "bool") return input.checked;
    if (kind === "lines") return input.value.split("\n");
    return input.value;
  }

  async function loadForm() {
    const resp = await fetch(api("/form"));
    if (resp.status === 404) return notFound();
    const result = await json(resp);
    if (!resp.ok) {
      showProblems(result);
      return false;
    }
    if (!result.fields) {
      $("form").classList.add("disabled");
      $("form-note").textContent = "表单暂不可用：案卷文件有语法错误，请在“案卷文件”中改正。";
      showProblems(result);
      return false;
    }
    $("form").classList.remove("disabled");
    $("form-note").textContent = "";
    fillForm(result.fields);
    return true;
  }

  function saveForm() {
    clearTimeout(formTimer);
    if (!id || dirty.size === 0) return saving;
    const fields = {};
    for (const p of dirty) fields[p] = formValue(p);
    dirty = new Set();
    saving = saving.then(async () => {
      status("正在保存并检查……");
      const resp = await fetch(api("/form"), {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ fields: fields }),
      });
      const result = await json(resp);
      showProblems(result);
      if (!resp.ok || !result.ok) {
        status(resp.ok ? "已保存，但有问题，见各栏下方" : "未能保存，见下方", true);
        return false;
      }
      status("已保存");
      await preview();
      return true;
    });
    return saving;
  }

  // ------------------------------------------------------------ problems

  function gotoLocation(loc) {
    const m = /^case\.toml:(\d+):(\d+)/.exec(loc);
    if (!m) return;
    showTab("text");
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

  // the box of a field path, or of the nearest enclosing field shown
  function fieldProblemsBox(path) {
    let p = path;
    while (p) {
      const f = $("form").querySelector('[data-field="' + CSS.escape(p) + '"]');
      if (f) return f.querySelector(":scope > .field-problems");
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return null;
  }

  function problemItem(pr) {
    const li = el("li", { class: pr.severity === "warning" ? "warning" : "error" });
    if (pr.location) {
      const loc = el("span", { class: "loc", title: "在案卷文件中查看" }, pr.location);
      loc.onclick = () => gotoLocation(pr.location);
      li.appendChild(loc);
    }
    li.appendChild(el("span", { class: "msg" }, (pr.severity === "warning" ? "警告：" : "错误：") + pr.message));
    if (pr.hint) li.appendChild(el("span", { class: "hint" }, "提示：" + pr.hint));
    return li;
  }

  function showProblems(result, notes) {
    for (const b of document.querySelectorAll(".field-problems")) b.textContent = "";
    for (const f of document.querySelectorAll(".field.has-problem")) f.classList.remove("has-problem");
    const box = $("problems");
    box.textContent = "";
    for (const n of notes || result.notes || []) box.appendChild(el("div", { class: "note" }, n));
    const problems = result.problems || [];
    if (problems.length === 0) {
      if (result.ok) box.appendChild(el("div", { class: "ok" }, "检查通过"));
      return;
    }
    const ul = el("ul");
    for (const pr of problems) {
      const fb = pr.field ? fieldProblemsBox(pr.field) : null;
      if (fb) {
        fb.appendChild(problemItem(pr));
        fb.parentElement.classList.add("has-problem");
      } else {
        ul.appendChild(problemItem(pr));
      }
    }
    if (ul.children.length) box.appendChild(ul);
    const inForm = problems.length - ul.children.length;
    if (inForm) box.appendChild(el("div", { class: "error" }, "表单中有 " + inForm + " 个问题，已列在相应栏目下方"));
  }

  // ------------------------------------------------------------ workspace

  function requireWorkspace() {
    if (!id) {
      status("请先点“从示例开始”或上传案卷", true);
      return false;
    }
    return true;
  }

  function notFound() {
    setId(null);
    editor.value = "";
    status("工作区不存在，请点“从示例开始”新建", true);
    return false;
  }

  async function loadText() {
    const resp = await fetch(api("/case"));
    if (resp.status === 404) return notFound();
    if (!resp.ok) {
      showProblems(await json(resp));
      return false;
    }
    editor.value = await resp.text();
    return true;
  }

  async function saveText() {
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
      status("案卷有问题，见下方", true);
      return false;
    }
    status("已保存");
    return true;
  }

  // saves what is being edited (form or text)
  async function saveAll() {
    clearTimeout(textTimer);
    if (tab === "text") return saveText();
    return saveForm();
  }

  // full: ask for every page again (else the pages already shown come as
  // their key alone)
  async function preview(full) {
    if (!id) return;
    const mine = ++seq;
    status("正在排版预览……");
    const have = full ? [] : Array.from(shown.keys());
    const resp = await fetch(api("/preview"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ have: have }),
    });
    const result = await json(resp);
    if (mine !== seq) return;
    if (!resp.ok) {
      showProblems(result);
      status("无法生成预览", true);
      return;
    }
    const keys = result.keys || [];
    if (!full && result.svg.some((svg, i) => svg === null && !shown.has(keys[i]))) {
      return preview(true);
    }
    const next = new Map();
    const box = $("pages");
    box.textContent = "";
    result.svg.forEach((svg, i) => {
      const key = keys[i];
      let url = next.get(key) || shown.get(key);
      if (!url) url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      next.set(key, url);
      const img = el("img", { src: url });
      img.alt = "第 " + (i + 1) + " 页：" + ((result.texts || [])[i] || "");
      img.dataset.page = i + 1;
      box.appendChild(img);
    });
    for (const [key, url] of shown) if (!next.has(key)) URL.revokeObjectURL(url);
    shown = next;
    $("pages-info").textContent = "共 " + result.pages + " 页" +
      (result.svg.length < result.pages ? "（预览前 " + result.svg.length + " 页）" : "");
    status("预览已更新");
  }

  async function reload() {
    if (!id) return;
    await loadText();
    if (!id) return;
    if (tab === "form") await loadForm();
    if (tab === "scores") await loadScores();
    await checkAndPreview();
  }

  async function checkAndPreview() {
    status("正在检查……");
    const resp = await fetch(api("/check"), { method: "POST" });
    if (resp.status === 404) return notFound();
    const result = await json(resp);
    showProblems(result);
    if (!resp.ok || !result.ok) {
      status("案卷有问题，见下方", true);
      return;
    }
    await preview();
  }

  function showTab(name) {
    if (name === tab) return;
    const leaving = tab;
    tab = name;
    for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
    for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === "panel-" + name);
    if (!id) return;
    (async () => {
      if (leaving === "form") await saveForm();
      if (leaving === "text") { clearTimeout(textTimer); await saveText(); }
      if (name === "form") await loadForm();
      if (name === "text") await loadText();
      if (name === "scores") await loadScores();
    })();
  }

  for (const b of document.querySelectorAll(".tabs button")) b.onclick = () => showTab(b.dataset.tab);

  editor.addEventListener("input", () => {
    clearTimeout(textTimer);
    textTimer = setTimeout(async () => { if (await saveText()) await preview(); }, 800);
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
    dirty = new Set();
    $("book-report").textContent = "";
    $("scores-report").textContent = "";
    await reload();
  };

  // each file input has one fixed handler, so a file set on it by any means
  // (the dialog, a test driver) is handled the same way
  function onFile(input, then) {
    input.onchange = () => {
      const file = input.files.length ? input.files[0] : null;
      input.value = "";
      if (file && requireWorkspace()) then(file);
    };
  }

  function pick(input) {
    if (requireWorkspace()) input.click();
  }

  async function send(path, file) {
    const form = new FormData();
    form.append("file", file, file.name);
    const resp = await fetch(api(path), { method: "POST", body: form });
    return [resp, await json(resp)];
  }

  async function uploadFile(file) {
    await saveAll();
    status("正在上传 " + file.name + "……");
    const [resp, result] = await send("/upload", file);
    showProblems(result);
    if (!resp.ok) {
      status("上传未成功", true);
      return [resp, result];
    }
    if (tab === "form") await loadForm();
    await loadText();
    showProblems(result);
    if (result.ok) await preview();
    else status("已上传，但案卷有问题，见下方", true);
    return [resp, result];
  }

  async function importDraft(file) {
    await saveForm();
    status("正在导入 " + file.name + "……");
    const [resp, result] = await send("/import", file);
    if (!resp.ok) {
      showProblems(result);
      status("未能导入正文", true);
      return;
    }
    await loadForm();
    showProblems(result);
    if (result.ok) await preview();
    else status("已导入，但案卷有问题", true);
  }

  $("upload-zip").onclick = () => pick($("zip-file"));
  onFile($("zip-file"), uploadFile);
  onFile($("draft-file"), importDraft);
  onFile($("seal-file"), uploadFile);
  $("check").onclick = async () => { if (requireWorkspace()) { await saveAll(); await checkAndPreview(); } };

  // ------------------------------------------------------------ workbook job

  function table(headers, rows) {
    const t = el("table");
    const head = t.insertRow();
    for (const h of headers) head.appendChild(el("th", {}, h));
    for (const r of rows) {
      const row = t.insertRow();
      for (const c of r) row.insertCell().textContent = c;
    }
    return t;
  }

  function changesReport(box, title, changes) {
    box.appendChild(el("h3", {}, title));
    if (!changes.length) {
      box.appendChild(el("p", {}, "各项指标的责任单位没有变化"));
      return;
    }
    box.appendChild(el("p", {}, "共 " + changes.length + " 项指标的责任单位有调整"));
    box.appendChild(table(["序号", "增加", "减少"], changes.map((c) => [c.number, c.gained.join("、"), c.lost.join("、")])));
  }

  function unitsReport(box, units) {
    box.appendChild(el("h3", {}, "各单位任务清单（" + units.length + " 个单位）"));
    for (const u of units) {
      const d = el("details", { class: "unit" });
      d.appendChild(el("summary", {}, u.unit + "：牵头 " + u.lead + " 项，配合 " + u.support + " 项"));
      d.appendChild(table(["序号", "三级指标", "填报材料", "角色", "完成时限"],
        u.tasks.map((t) => [t.number, t.text, t.materials, t.role, t.deadline || ""])));
      box.appendChild(d);
    }
  }

  $("book-upload").onclick = () => pick($("book-file"));
  onFile($("book-file"), async (file) => {
    const [resp, result] = await uploadFile(file);
    const box = $("book-report");
    box.textContent = "";
    if (!resp.ok) return;
    if (result.changes) changesReport(box, "与原指标相比（" + file.name + "）", result.changes);
    if (result.units) unitsReport(box, result.units);
    if (result.ok) {
      box.appendChild(el("p", { class: "ok" }, "通知和附件已按新工作簿重新生成，可点上方“下载 PDF / DOCX / 全部”。"));
    }
  });

  $("book-diff").onclick = () => pick($("diff-file"));
  onFile($("diff-file"), async (file) => {
    status("正在对比 " + file.name + "……");
    const [resp, result] = await send("/diff", file);
    if (!resp.ok) {
      showProblems(result);
      status("无法对比", true);
      return;
    }
    const box = $("book-report");
    box.textContent = "";
    changesReport(box, "与 " + file.name + " 相比（未保存）", result.changes);
    status("对比完成");
  });

  // ------------------------------------------------------------ scores job

  function scoresReport(result) {
    const box = $("scores-report");
    box.textContent = "";
    box.appendChild(el("h3", {}, "督察结果（满分 " + result.full + " 分：" +
      result.sheets.map((s) => s.person + " " + s.full + " 分").join("，") + "）"));
    const t = table(["名次", "被督察单位", "得分", "失分情况", "打分表"], []);
    for (const r of result.results) {
      const row = t.insertRow();
      row.insertCell().textContent = r.rank;
      row.insertCell().textContent = r.unit;
      row.insertCell().textContent = r.total + (r.complete ? "" : "（未评完，" + r.unscored + " 项未评分）");
      row.insertCell().textContent = r.lost.map((l) => l.duty.slice(0, 16) + "…失 " + l.points + " 分").join("\n");
      const c = row.insertCell();
      for (const f of ["pdf", "docx"]) {
        const b = el("button", { type: "button" }, f.toUpperCase());
        b.onclick = () => downloadUrl(api("/scores/unit?format=" + f + "&name=" + encodeURIComponent(r.unit)), r.unit + "督察情况打分表." + f);
        c.appendChild(b);
      }
    }
    box.appendChild(t);
    const row = el("div", { class: "row" });
    for (const f of ["pdf", "docx"]) {
      const b = el("button", { type: "button", id: "scores-report-" + f }, "下载督察情况通报 " + f.toUpperCase());
      b.onclick = () => downloadUrl(api("/scores/report?format=" + f), "督察情况通报." + f);
      row.appendChild(b);
    }
    box.appendChild(row);
  }

  async function loadScores() {
    const resp = await fetch(api("/scores/results"));
    if (resp.ok) scoresReport(await json(resp));
    else $("scores-report").textContent = "";
  }

  $("scores-blank-pdf").onclick = () => { if (requireWorkspace()) downloadUrl(api("/scores/blank?format=pdf"), "督察情况打分表.pdf"); };
  $("scores-blank-docx").onclick = () => { if (requireWorkspace()) downloadUrl(api("/scores/blank?format=docx"), "督察情况打分表.docx"); };
  $("scores-entry").onclick = () => { if (requireWorkspace()) downloadUrl(api("/scores/entry"), "打分录入.xlsx"); };
  $("scores-upload").onclick = () => pick($("scores-file"));
  onFile($("scores-file"), async (file) => {
    status("正在读取 " + file.name + "……");
    const [resp, result] = await send("/scores", file);
    if (!resp.ok) {
      showProblems(result);
      status("打分录入表有问题，见下方", true);
      return;
    }
    showProblems({ ok: true, problems: [] }, ["已读取 " + file.name]);
    scoresReport(result);
    status("已汇总打分结果");
  });

  // ------------------------------------------------------------ downloads

  function fileName(resp, fallback) {
    const cd = resp.headers.get("Content-Disposition") || "";
    const m = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    return m ? decodeURIComponent(m[1]) : fallback;
  }

  async function downloadUrl(url, fallback) {
    status("正在生成 " + fallback + "……");
    const resp = await fetch(url);
    if (!resp.ok) {
      showProblems(await json(resp));
      status("无法生成", true);
      return;
    }
    const blob = await resp.blob();
    const href = URL.createObjectURL(blob);
    const a = el("a", { href: href });
    a.download = fileName(resp, fallback);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
    status("已下载 " + a.download);
  }

  async function download(format) {
    if (!requireWorkspace()) return;
    await saveAll();
    await downloadUrl(api("/download?format=" + format), "gongwen." + format);
  }

  $("dl-pdf").onclick = () => download("pdf");
  $("dl-docx").onclick = () => download("docx");
  $("dl-zip").onclick = () => download("zip");

  buildForm();
  (async function start() {
    const fromHash = location.hash.replace(/^#/, "");
    const stored = /^[0-9a-f]{32}$/.test(fromHash) ? fromHash : localStorage.getItem(KEY);
    if (stored && /^[0-9a-f]{32}$/.test(stored)) {
      setId(stored);
      await reload();
    } else {
      status("点“从示例开始”新建工作区，或先新建再上传案卷");
    }
  })();
})();
