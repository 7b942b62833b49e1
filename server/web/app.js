// mmrag's web page: ask (streamed, with follow-ups and search by image), see the sources,
// add and remove documents. Every text from the server goes into the page as text nodes,
// never as HTML: a knowledge base is untrusted input.
"use strict";

const $ = (id) => document.getElementById(id);

// the page in English or Simplified Chinese: the browser's language, or the switch
const STRINGS = {
  en: { collection: "Collection", answerWith: "Answer with", apiKey: "API key",
    empty: "Ask a question about your documents. Add documents in the Documents panel (or with",
    askPlaceholder: "Ask a question (paste or drop an image to search by it)", image: "Image",
    ask: "Ask", chats: "Chats", newChat: "New chat", sources: "Sources", documents: "Documents",
    drop: "Drop files or a folder here, or", pickFiles: "pick files", aFolder: "a folder",
    add: "Add", findDocument: "Find a document", needsKey: "This server needs an API key.",
    useKey: "Use this key", cancel: "Cancel", delete: "Delete", rename: "Rename", why: "why",
    theme: "Theme: {0}", auto: "auto", dark: "dark", light: "light", switchTo: "中文",
    answered: "answered from {0} source{1}", refused: "not in these documents",
    bar: "score {0} against a bar of {1} ({2} rule)", byImage: "(search by image)",
    withPicture: "(with a picture)", yourPicture: "your picture", noDocuments:
    "No documents yet: add some above.", keyRefused: "That key was refused: check it and enter it again.",
    confirmDelete: "Delete {0}? {1}", deleteDoc: "Its passages and pictures leave this collection; uploading the file again brings them back.",
    deleteChat: "It is kept only in this browser.", nothing: "Nothing in collection \"{0}\" matched {1}. Try other words, another collection, or add the documents that hold the answer.",
    thePicture: "the picture", error: "Error: {0}" },
  zh: { collection: "知识库", answerWith: "回答方式", apiKey: "API 密钥",
    empty: "就你的文档提问。在“文档”面板中添加文档（或使用", askPlaceholder: "输入问题（粘贴或拖入图片可以图搜图）",
    image: "图片", ask: "提问", chats: "对话", newChat: "新对话", sources: "来源", documents: "文档",
    drop: "把文件或文件夹拖到这里，或", pickFiles: "选择文件", aFolder: "选择文件夹", add: "添加",
    findDocument: "查找文档", needsKey: "此服务器需要 API 密钥。", useKey: "使用此密钥", cancel: "取消",
    delete: "删除", rename: "重命名", why: "原因", theme: "主题：{0}", auto: "自动", dark: "深色",
    light: "浅色", switchTo: "English", answered: "根据 {0} 个来源回答", refused: "这些文档中没有答案",
    bar: "得分 {0}，门槛 {1}（{2} 规则）", byImage: "（以图搜索）", withPicture: "（附图片）",
    yourPicture: "你的图片", noDocuments: "还没有文档：请在上方添加。", keyRefused: "此密钥被拒绝：请检查后重新输入。",
    confirmDelete: "删除 {0}？{1}", deleteDoc: "其段落和图片将从此知识库中移除；重新上传该文件即可恢复。",
    deleteChat: "对话只保存在此浏览器中。", nothing: "知识库“{0}”中没有与 {1} 相符的内容。请换个说法、换个知识库，或添加包含答案的文档。",
    thePicture: "这张图片", error: "出错：{0}" },
};
let lang = localStorage.getItem("mmrag-lang") || (/^zh/i.test(navigator.language || "") ? "zh" : "en");
function t(key, ...args) {
  return (STRINGS[lang][key] ?? STRINGS.en[key]).replace(/\{(\d)\}/g, (_, i) => String(args[i] ?? ""));
}
function translatePage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  const other = $("lang");
  other.textContent = t("switchTo");
  other.lang = lang === "zh" ? "en" : "zh";
}
const state = { key: localStorage.getItem("mmrag-key") || "" };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (state.key) headers.set("Authorization", `Bearer ${state.key}`);
  const r = await fetch(path, { ...options, headers });
  if (r.status === 401) {
    askForKey(state.key ? t("keyRefused") : "");
    throw new Error(state.key ? "the API key was refused" : "this server needs an API key");
  }
  if (!r.ok && r.headers.get("content-type")?.includes("json")) {
    const body = await r.json();
    throw new Error(body.error?.message || `HTTP ${r.status}`);
  }
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r;
}

function askForKey(problem = "") {
  $("key-button").hidden = false;
  $("key-error").textContent = problem;
  $("key-error").hidden = !problem;
  const dialog = $("key-dialog");
  if (!dialog.open) dialog.showModal();
}

$("key-form").addEventListener("submit", () => {
  state.key = $("key").value.trim();
  localStorage.setItem("mmrag-key", state.key);
  load();
});
$("key-button").addEventListener("click", () => askForKey());

// the colour theme: the system's (prefers-color-scheme) unless the person picks one
const THEMES = ["auto", "dark", "light"];
let theme = localStorage.getItem("mmrag-theme") || "auto";
function applyTheme() {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  $("theme").textContent = t("theme", t(theme));
}
translatePage();
applyTheme();
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("mmrag-lang", lang);
  translatePage();
  applyTheme();
  chats.show(chats.id);  // the turns' own words again, in the new language
  documents().catch(() => {});
});
$("theme").addEventListener("click", () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem("mmrag-theme", theme);
  applyTheme();
});

// asks before a delete; resolves true when the person confirms
function confirmDelete(name, consequence = t("deleteDoc")) {
  return new Promise((resolve) => {
    const dialog = $("confirm-dialog");
    $("confirm-text").textContent = t("confirmDelete", name, consequence);
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

async function load() {
  chats.open();  // this key's conversations (another key has its own)
  try {
    const models = await (await api("/v1/models")).json();
    $("model").replaceChildren(...models.data.map((m) => el("option", { value: m.id, text: m.id })));
    const cols = await (await api("/v1/collections")).json();
    $("collection").replaceChildren(
      ...cols.collections.map((c) => el("option", { value: c, text: c })));
    if (cols.default) $("collection").value = cols.default;
    await documents();
  } catch (e) {
    $("upload-status").textContent = e.message;
  }
}

function collection() { return $("collection").value || undefined; }

// -- asking ---------------------------------------------------------------------------
function fileAsDataUri(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function withCitationLinks(text, citations) {
  // the answer as text nodes, each [n] a link to its source
  const byN = new Map(citations.map((c) => [c.n, c]));
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    out.push(document.createTextNode(text.slice(last, m.index)));
    const c = byN.get(Number(m[1]));
    if (c) {
      const a = el("a", { href: c.url || "#", class: "cite", target: "_blank", rel: "noopener",
                          title: c.source, text: m[0] });
      a.addEventListener("mouseenter", () => highlight(c.n));
      out.push(a);
    } else out.push(document.createTextNode(m[0]));
    last = m.index + m[0].length;
  }
  out.push(document.createTextNode(text.slice(last)));
  return out;
}

// Markdown as a model writes it (paragraphs, lists, tables, code, **bold**, `code`), built as
// DOM nodes from text: nothing in an answer is ever parsed as HTML, so markup in it shows as
// the characters it is. [n] stays a link to its source.
function markdown(text, citations) {
  const lines = text.split("\n");
  const out = [];
  let i = 0;
  const inline = (s) => {
    const nodes = [];
    let last = 0;
    for (const m of s.matchAll(/`([^`]+)`|\*\*([^*]+)\*\*/g)) {
      nodes.push(...withCitationLinks(s.slice(last, m.index), citations));
      nodes.push(m[1] !== undefined ? el("code", { text: m[1] })
                                    : el("strong", {}, ...withCitationLinks(m[2], citations)));
      last = m.index + m[0].length;
    }
    nodes.push(...withCitationLinks(s.slice(last), citations));
    return nodes;
  };
  const cells = (row) => row.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*```/.test(line)) {  // a fenced code block, to its closing fence
      const code = [];
      for (i += 1; i < lines.length && !/^\s*```/.test(lines[i]); i += 1) code.push(lines[i]);
      out.push(el("pre", {}, el("code", { text: code.join("\n") })));
      i += 1;
    } else if (/^\s*\|/.test(line)) {  // a table: rows of | cells |, a --- rule under the head
      const rows = [];
      for (; i < lines.length && /^\s*\|/.test(lines[i]); i += 1) rows.push(lines[i]);
      const body = rows.filter((r) => !/^\s*\|?[\s:|-]+\|?\s*$/.test(r));
      const head = rows.length > 1 && /^\s*\|?[\s:|-]+\|?\s*$/.test(rows[1]) ? body.shift() : null;
      const table = el("table");
      if (head) table.append(el("thead", {}, el("tr", {}, ...cells(head).map((c) => el("th", {}, ...inline(c))))));
      table.append(el("tbody", {}, ...body.map((r) => el("tr", {}, ...cells(r).map((c) => el("td", {}, ...inline(c)))))));
      out.push(table);
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {  // a list
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul");
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i += 1) {
        list.append(el("li", {}, ...inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))));
      }
      out.push(list);
    } else if (/^#{1,6}\s/.test(line)) {
      out.push(el("p", {}, el("strong", {}, ...inline(line.replace(/^#+\s*/, "")))));
      i += 1;
    } else if (!line.trim()) {
      i += 1;
    } else {  // a paragraph: lines up to a blank one or another block
      const para = [];
      for (; i < lines.length && lines[i].trim() && !/^\s*(```|\||([-*+]|\d+[.)])\s|#{1,6}\s)/.test(lines[i]); i += 1) {
        para.push(lines[i]);
      }
      const p = el("p");
      para.forEach((l, k) => { if (k) p.append(el("br")); p.append(...inline(l)); });
      out.push(p);
    }
  }
  return out;
}

function highlight(n) {
  for (const li of $("source-list").children) li.classList.toggle("active", li.dataset.n === String(n));
}

function showSources(citations) {
  const shown = citations.filter((c) => c.cited).length ? citations.filter((c) => c.cited) : citations;
  $("source-list").replaceChildren(...shown.map((c) => {
    const where = [c.modality, c.location].filter(Boolean).join(", ");
    const li = el("li", { "data-n": String(c.n) },
      el("a", { href: c.url || "#", target: "_blank", rel: "noopener", text: `[${c.n}] ${c.source}` }),
      el("div", { class: "meta", text: `${where} · score ${c.score.toFixed(2)}` }));
    if (c.snippet) li.append(el("div", {}, el("mark", { text: c.snippet })));
    if (c.modality === "image" && c.url) li.append(el("img", { src: c.url, alt: c.source }));
    // why: how it was found, and its scores in its own space and calibrated
    const how = { text: "text (question to passages)", image: "CLIP (question to pictures)",
                  image_query: "CLIP (your picture to pictures)", exact: "the identical picture",
                  ocr: "text read in the picture (OCR)", caption: "the picture's caption" };
    li.append(el("details", { class: "why" }, el("summary", { text: t("why") }),
      el("div", { text: `found by ${how[c.channel] || c.channel}` }),
      el("div", { text: `cosine ${c.raw_score.toFixed(3)} · calibrated ${c.calibrated_score.toFixed(2)} · fused ${c.score.toFixed(3)}` })));
    return li;
  }));
}

function showQuestion(question, pictureSrc) {
  const bubble = el("li", { class: "question", text: question || t("byImage") });
  if (pictureSrc) bubble.append(el("img", { src: pictureSrc, alt: t("yourPicture") }));
  $("turns").append(bubble);
}

async function ask(question, imageFile) {
  $("empty").hidden = true;
  const chat = chats.current();
  const content = imageFile
    ? [{ type: "text", text: question }, { type: "image_url", image_url: { url: await fileAsDataUri(imageFile) } }]
    : question;
  const history = [...chat.history, { role: "user", content }];
  // the person's own picture, shown from memory (no request)
  showQuestion(question, imageFile ? URL.createObjectURL(imageFile) : "");
  const answer = el("li", { class: "answer", "aria-live": "polite" });
  $("turns").append(answer);
  let text = "";
  let citations = [];
  let notes = [];
  let verdict = null;
  let found = false;
  const asked = performance.now();
  try {
    const r = await api("/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: $("model").value || "mmrag", stream: true, messages: history,
                             collection: collection(), sources_footer: false }),
    });
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const line = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 2);
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const event = JSON.parse(line.slice(6));
        if (event.error) throw new Error(event.error.message);
        const delta = event.choices?.[0]?.delta || {};
        if (delta.content) {
          if (!text) answer.dataset.firstTokenMs = String(Math.round(performance.now() - asked));
          text += delta.content;
          answer.textContent = text;
        }
        if (event.citations) citations = event.citations;
        if (event.mmrag?.notes) notes = event.mmrag.notes;
        if (event.mmrag) {
          found = Boolean(event.mmrag.found);
          verdict = event.mmrag.answerability || null;
        }
      }
    }
  } catch (e) {
    answer.textContent = t("error", e.message);
    answer.dataset.done = "error";
    return;
  }
  const done = { text, citations, notes, found, verdict, question };
  showAnswer(answer, done);
  // kept for follow-ups and reloads: text only (pictures are not stored in the browser)
  chat.history.push({ role: "user", content: question }, { role: "assistant", content: text });
  chat.turns.push({ question, picture: Boolean(imageFile), answer: done });
  chats.save();
}

function showAnswer(answer, { text, citations, notes, found, verdict, question }) {
  answer.replaceChildren(...markdown(text, citations));
  for (const c of citations.filter((c) => c.cited && c.modality === "image" && c.url)) {
    answer.append(el("img", { src: c.url, alt: `${c.source} (source ${c.n})` }));
  }
  if (notes.length) answer.append(el("div", { class: "notes", text: notes.join(" · ") }));
  if (!citations.length) {
    answer.append(el("div", { class: "notes",
      text: t("nothing", collection() || "default", question ? `"${question}"` : t("thePicture")) }));
  }
  answer.append(verdictLine(found, citations, verdict));
  // each answer keeps its sources: selecting it shows them again
  answer.tabIndex = 0;
  answer.title = "show this answer's sources";
  const select = () => showSources(citations);
  answer.addEventListener("click", (event) => { if (!event.target.closest("a, summary")) select(); });
  answer.addEventListener("keydown", (event) => { if (event.key === "Enter") select(); });
  showSources(citations);
  answer.dataset.done = "ok";
}

// -- conversations, kept in this browser per server and key --------------------------------
const chats = {
  all: [],  // newest first: {id, title, history: [messages], turns: [{question, picture, answer}]}
  id: null,
  place() {  // the storage slot: this server and a digest of the key, never the key itself
    let h = 5381;
    for (const ch of state.key) h = ((h * 33) ^ ch.charCodeAt(0)) >>> 0;
    return `mmrag-chats:${location.host}:${state.key ? h.toString(36) : "no-key"}`;
  },
  open() {
    try { this.all = JSON.parse(localStorage.getItem(this.place()) || "[]"); } catch { this.all = []; }
    if (!this.all.length) this.start(false);
    const last = localStorage.getItem(`${this.place()}:open`);
    this.show(this.all.some((c) => c.id === last) ? last : this.all[0].id);
  },
  save() {
    const chat = this.current();
    if (chat && !chat.title && chat.turns.length) chat.title = chat.turns[0].question.slice(0, 60) || "(picture)";
    try { localStorage.setItem(this.place(), JSON.stringify(this.all)); } catch { /* full: kept for this visit */ }
    this.list();
  },
  current() { return this.all.find((c) => c.id === this.id); },
  start(show = true) {
    const chat = { id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
                   title: "", history: [], turns: [] };
    this.all.unshift(chat);
    if (show) this.show(chat.id);
    return chat;
  },
  show(id) {
    this.id = id;
    localStorage.setItem(`${this.place()}:open`, id);  // the chat a reload reopens
    const chat = this.current();
    $("turns").replaceChildren();
    $("source-list").replaceChildren();
    $("empty").hidden = chat.turns.length > 0;
    for (const turn of chat.turns) {
      showQuestion(turn.picture ? `${turn.question} ${t("withPicture")}`.trim() : turn.question, "");
      const answer = el("li", { class: "answer" });
      $("turns").append(answer);
      showAnswer(answer, turn.answer);
    }
    this.list();
  },
  list() {
    $("chat-list").replaceChildren(...this.all.filter((c) => c.turns.length || c.id === this.id).map((c) => {
      const open = el("button", { type: "button", class: "chat-title", text: c.title || t("newChat"),
                                  "aria-current": c.id === this.id ? "true" : "false" });
      open.addEventListener("click", () => this.show(c.id));
      const rename = el("button", { type: "button", text: t("rename"), "aria-label": `rename ${c.title || "this chat"}` });
      rename.addEventListener("click", () => this.rename(c, li));
      const remove = el("button", { type: "button", text: t("delete"), "aria-label": `delete chat ${c.title || ""}`.trim() });
      remove.addEventListener("click", async () => {
        if (!(await confirmDelete(`"${c.title || t("newChat")}"`, t("deleteChat")))) return;
        this.all = this.all.filter((x) => x !== c);
        if (!this.all.length) this.start(false);
        if (c.id === this.id) this.show(this.all[0].id); else this.save();
      });
      const li = el("li", {}, open, rename, remove);
      return li;
    }));
  },
  rename(chat, li) {
    const input = el("input", { type: "text", value: chat.title, "aria-label": "chat name" });
    input.value = chat.title;
    const done = () => { chat.title = input.value.trim() || chat.title; this.save(); };
    input.addEventListener("keydown", (event) => { if (event.key === "Enter") done(); if (event.key === "Escape") this.list(); });
    input.addEventListener("blur", done);
    li.replaceChildren(input);
    input.focus();
  },
};
$("new-chat").addEventListener("click", () => chats.start());

// whether the collection answered, in words, with the score that decided in "why"
function verdictLine(found, citations, verdict) {
  const n = new Set(citations.filter((c) => c.cited).map((c) => c.source)).size ||
            new Set(citations.map((c) => c.source)).size;
  const words = found ? t("answered", n, n === 1 ? "" : "s") : t("refused");
  const line = el("div", { class: `verdict ${found ? "answered" : "refused"}`, text: words });
  if (verdict && typeof verdict.score === "number") {
    line.append(el("details", { class: "why" }, el("summary", { text: t("why") }),
      el("div", { text: t("bar", verdict.score, verdict.threshold, verdict.rule) })));
  }
  return line;
}

let pasted = null;  // an image pasted into the question box
$("question").addEventListener("paste", (event) => {
  const item = [...(event.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
  if (!item) return;
  event.preventDefault();
  pasted = item.getAsFile();
  $("question").placeholder = "Image pasted: ask about it, or press Ask to search by it";
});

// an image dropped on the conversation is a picture to search by, like a pasted one
const chat = $("chat");
chat.addEventListener("dragover", (event) => event.preventDefault());
chat.addEventListener("drop", (event) => {
  const file = [...(event.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/"));
  if (!file) return;
  event.preventDefault();
  pasted = file;
  $("question").placeholder = `${file.name} added: ask about it, or press Ask to search by it`;
});

$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  const image = $("image").files[0] || pasted;
  if (!question && !image) return;
  $("question").value = "";
  $("image").value = "";
  pasted = null;
  ask(question, image);
});

// -- documents --------------------------------------------------------------------------
async function documents() {
  const c = collection();
  const body = await (await api(`/v1/documents${c ? `?collection=${encodeURIComponent(c)}` : ""}`)).json();
  const find = $("filter").value.trim().toLowerCase();
  const shown = body.documents.filter((d) => !find || d.source.split(/[\\/]/).pop().toLowerCase().includes(find));
  $("documents").replaceChildren(...shown.map((d) => {
    const remove = el("button", { type: "button", text: t("delete"),
                                  "aria-label": `delete ${d.source.split(/[\\/]/).pop()}` });
    remove.addEventListener("click", async () => {
      if (!(await confirmDelete(d.source.split(/[\\/]/).pop()))) return;
      await api(`/v1/documents/${encodeURIComponent(d.id)}?collection=${encodeURIComponent(body.collection)}`,
                { method: "DELETE" });
      documents();
    });
    const when = d.ingested_at ? d.ingested_at.slice(0, 16).replace("T", " ") : "";
    const name = d.source.split(/[\\/]/).pop();  // the file's name, not a path on the server
    return el("li", {}, el("span", { text: `${name} (${d.chunks} chunks, ${d.images} images, ${when})` }), remove);
  }));
  if (!body.documents.length) {
    $("documents").replaceChildren(el("li", { class: "hint", text: t("noDocuments") }));
  }
}

const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  upload(await droppedFiles(event.dataTransfer));
});

async function droppedFiles(transfer) {
  // files, and the files inside dropped folders (where the browser gives entries)
  const entries = [...transfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...transfer.files];
  const out = [];
  async function walk(entry) {
    if (entry.isFile) out.push(await new Promise((ok, fail) => entry.file(ok, fail)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  }
  for (const e of entries) await walk(e);
  return out;
}

$("upload").addEventListener("submit", (event) => {
  event.preventDefault();
  upload([...$("files").files, ...$("folder").files]);
});
$("filter").addEventListener("input", documents);

async function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  form.append("background", "true");
  if (collection()) form.append("collection", collection());
  const status = $("upload-status");
  try {
    const job = await (await api("/v1/ingest", { method: "POST", body: form })).json();
    for (;;) {
      const j = await (await api(`/v1/jobs/${job.job_id}`)).json();
      status.textContent = `${j.status}: ${j.files_done} of ${j.files_total} files` +
        (j.current_file ? ` (reading ${j.current_file})` : "");
      if (j.status === "done" || j.status === "failed") {
        const problems = (j.errors || []).map((e) => `${e.source}: ${e.reason}`);
        if (problems.length) status.textContent += ` · skipped ${problems.join("; ")}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    $("files").value = "";
    $("folder").value = "";
    documents();
  } catch (e) {
    status.textContent = e.message;
  }
}
$("collection").addEventListener("change", documents);

load();
