// rnnkit view: the page. Plain JavaScript, no library, nothing fetched from elsewhere.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { runs: [], run: 0, view: "runs", cells: null, heat: {}, unit: null, span: null,
                metrics: {}, image: null };

function message(text) { $("message").textContent = text || ""; }

async function api(path, options) {
  const response = await fetch(path, options);
  if (!response.ok) {
    let text = response.statusText;
    try { text = (await response.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(text);
  }
  return response;
}
const post = (path, value) => api(path, { method: "POST", headers: { "content-type": "application/json" },
                                          body: JSON.stringify(value) });
async function guarded(fn) {
  message("");
  try { await fn(); } catch (e) { message("error: " + e.message); }
}
const current = () => state.runs[state.run];
const runPath = (suffix) => `/api/runs/${state.run}/${suffix}`;

// colours: blue (negative) .. white .. red (positive), v in [-1, 1]
function colour(v) {
  const a = Math.min(1, Math.abs(v));
  return v >= 0 ? `rgba(220,40,40,${a.toFixed(3)})` : `rgba(40,80,220,${a.toFixed(3)})`;
}
function rgb(v) {
  const a = Math.min(1, Math.abs(v));
  return v >= 0 ? [255, 255 - 215 * a, 255 - 215 * a] : [255 - 215 * a, 255 - 175 * a, 255 - 35 * a];
}

// ------------------------------------------------------------------------------------------------ runs
const CURVES = [["loss", ["train_loss", "val_loss"]], ["lr", ["lr"]], ["tokens/s", ["tokens_per_s"]]];
const SKIP = new Set(["step", "train_loss", "val_loss", "lr", "tokens_per_s", "grad_norm", "elapsed", "best_val_loss"]);
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

async function pollMetrics() {
  for (const run of state.runs) {
    const held = state.metrics[run.index] || (state.metrics[run.index] = []);
    try {
      const got = await (await api(`/api/runs/${run.index}/metrics?after=${held.length}`)).json();
      if (got.reset) held.length = 0;
      held.push(...got.records);
    } catch (e) { message("error: " + e.message); }
  }
  drawCharts();
}

function chartKeys() {
  const extra = new Set();
  for (const records of Object.values(state.metrics))
    for (const r of records) for (const [k, v] of Object.entries(r))
      if (!SKIP.has(k) && typeof v === "number") extra.add(k);
  return CURVES.concat([...extra].sort().map((k) => [k, [k]]));
}

function drawCharts() {
  const box = $("charts");
  box.textContent = "";
  for (const [title, keys] of chartKeys()) {
    const series = [];
    state.runs.forEach((run, i) => {
      const toggle = document.querySelector(`#run-toggles input[data-run="${run.index}"]`);
      if (toggle && !toggle.checked) return;
      for (const key of keys) {
        const points = (state.metrics[run.index] || []).filter((r) => typeof r[key] === "number").map((r) => [r.step, r[key]]);
        if (points.length) series.push({ run: run.index, key, points, colour: PALETTE[(i * keys.length + keys.indexOf(key)) % PALETTE.length],
                                         label: `${run.name} ${key}` });
      }
    });
    if (series.length) box.appendChild(chart(title, series));
  }
}

function chart(title, series) {
  const W = 420, H = 220, L = 56, B = 24;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-12);
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - 8), sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - B - 8);
  const ns = "http://www.w3.org/2000/svg";
  const div = document.createElement("div");
  div.className = "chart";
  div.id = "chart-" + title.replace(/[^a-z0-9]+/gi, "-");
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  const text = (x, y, s, anchor) => { const t = document.createElementNS(ns, "text"); t.setAttribute("x", x); t.setAttribute("y", y);
    t.setAttribute("font-size", "11"); t.setAttribute("text-anchor", anchor || "start"); t.textContent = s; svg.appendChild(t); };
  text(L, 12, title);
  text(L - 4, sy(y1) + 4, fmt(y1), "end"); text(L - 4, sy(y0), fmt(y0), "end");
  text(L, H - 6, String(x0)); text(W - 8, H - 6, `step ${x1}`, "end");
  for (const s of series) {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", s.points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", s.colour); line.setAttribute("stroke-width", "1.5");
    line.dataset.run = s.run; line.dataset.key = s.key; line.dataset.count = s.points.length;
    line.dataset.last = s.points[s.points.length - 1][1];
    svg.appendChild(line);
  }
  div.appendChild(svg);
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const s of series) { const span = document.createElement("span"); span.style.color = s.colour; span.textContent = "— " + s.label; legend.appendChild(span); }
  div.appendChild(legend);
  return div;
}
const fmt = (v) => Math.abs(v) >= 1000 ? v.toExponential(2) : Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(1) : v.toFixed(3);

// ------------------------------------------------------------------------------------------------ cells
async function readText() {
  const text = $("text").value;
  const t0 = performance.now();
  const cells = await (await post(runPath("cells"), { text })).json();
  state.cells = cells; state.heat = {}; state.unit = null; state.span = null;
  $("kind").textContent = "";
  for (const k of cells.kinds) $("kind").add(new Option(k, k));
  renderTokens($("colored"), cells.tokens, null);
  await showHeat(cells.kinds[0]);
  const ms = performance.now() - t0;
  $("cells-info").textContent = `${cells.tokens.length} tokens, read in ${ms.toFixed(0)} ms`;
  $("cells-info").dataset.ms = ms.toFixed(0);
  $("unit-label").textContent = "no unit chosen";
  $("span-label").textContent = "no span selected";
}

async function heatOf(kind) {
  if (!state.heat[kind]) {  // the page never asks twice for what it has
    const response = await api(runPath(`cells/${state.cells.id}/heat?kind=${kind}`));
    const bytes = new Uint8Array(await response.arrayBuffer());
    const scales = JSON.parse(response.headers.get("x-scales"));
    const rows = [];
    let track = 0;
    for (const part of state.cells.layout) {
      if (!part.kinds.includes(kind)) continue;
      for (let u = 0; u < part.units; u++) rows.push({ layer: part.layer, direction: part.direction, unit: u, scale: scales[track] });
      track++;
    }
    state.heat[kind] = { bytes, rows, T: state.cells.tokens.length };
  }
  return state.heat[kind];
}

function valueAt(heat, row, t) { const r = heat.rows[row]; return (heat.bytes[row * heat.T + t] - 128) / 127 * r.scale; }

async function showHeat(kind) {
  const heat = await heatOf(kind);
  const canvas = $("heat"), T = heat.T, U = heat.rows.length;
  const cw = Math.max(1, Math.min(12, Math.floor(1200 / T))), ch = Math.max(2, Math.min(10, Math.floor(400 / U)));
  canvas.width = T * cw; canvas.height = U * ch;
  canvas.dataset.kind = kind; canvas.dataset.rows = U; canvas.dataset.tokens = T;
  canvas.dataset.cw = cw; canvas.dataset.ch = ch;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(T * cw, U * ch), px = image.data;
  for (let u = 0; u < U; u++) for (let t = 0; t < T; t++) {
    const v = (heat.bytes[u * T + t] - 128) / 127, [r, g, b] = rgb(v);
    for (let dy = 0; dy < ch; dy++) for (let dx = 0; dx < cw; dx++) {
      const i = ((u * ch + dy) * T * cw + t * cw + dx) * 4;
      px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  if (state.unit !== null && state.unit < U) colourBy(state.unit);
}

function renderTokens(box, tokens, values) {
  box.textContent = "";
  const words = state.cells && state.cells.joiner === " ";
  tokens.forEach((tok, i) => {
    const span = document.createElement("span");
    span.className = "tok" + (words ? " word" : "");
    span.dataset.i = i;
    span.textContent = tok === "\n" ? "↵\n" : tok;
    if (values) { span.style.background = colour(values[i]); span.dataset.value = values[i].toFixed(4); }
    box.appendChild(span);
  });
}

function colourBy(row) {
  const kind = $("kind").value, heat = state.heat[kind], r = heat.rows[row];
  state.unit = row;
  const values = [];
  for (let t = 0; t < heat.T; t++) values.push(valueAt(heat, row, t) / r.scale);
  renderTokens($("colored"), state.cells.tokens, values);
  const label = $("unit-label");
  label.textContent = `layer ${r.layer}${r.direction === "bwd" ? " (backward)" : ""} unit ${r.unit} (${kind}); largest |${kind}| = ${r.scale.toFixed(3)}`;
  label.dataset.row = row;
  if (state.span) markSpan();
}

function heatClick(event) {
  const canvas = $("heat"), rect = canvas.getBoundingClientRect();
  const row = Math.floor((event.clientY - rect.top) * canvas.height / rect.height / Number(canvas.dataset.ch));
  if (row >= 0 && row < Number(canvas.dataset.rows)) colourBy(row);
}

function spanFromSelection() {
  const sel = window.getSelection();
  if (!sel || sel.isCollapsed || !sel.rangeCount) return;
  const spans = [...$("colored").querySelectorAll("span.tok")].filter((s) => sel.containsNode(s, true));
  if (!spans.length) return;
  const start = Number(spans[0].dataset.i), end = Number(spans[spans.length - 1].dataset.i) + 1;
  state.span = [start, end];
  markSpan();
}

function markSpan() {
  const [a, b] = state.span;
  for (const s of $("colored").querySelectorAll("span.tok")) s.classList.toggle("sel", Number(s.dataset.i) >= a && Number(s.dataset.i) < b);
  const joiner = state.cells.joiner;
  $("span-label").textContent = `span ${a}..${b}: ${JSON.stringify(state.cells.tokens.slice(a, b).join(joiner))}`;
  $("span-label").dataset.start = a; $("span-label").dataset.end = b;
}

async function rank() {
  const kind = $("kind").value, heat = await heatOf(kind);
  const got = await (await api(runPath(`cells/${state.cells.id}/rank?property=${$("property").value}&kind=${kind}`))).json();
  const list = $("ranked");
  list.textContent = "";
  for (const u of got.units) {
    const li = document.createElement("li");
    li.textContent = `layer ${u.layer}${u.direction === "bwd" ? " bwd" : ""} unit ${u.unit}: r = ${u.r >= 0 ? "+" : ""}${u.r.toFixed(3)}`;
    li.dataset.row = u.row;
    li.onclick = () => colourBy(u.row);
    list.appendChild(li);
  }
}

async function match() {
  if (!state.span) throw new Error("select a span of the text first (drag over the coloured text)");
  const kind = $("kind").value, heat = await heatOf(kind), [a, b] = state.span;
  const got = await (await api(runPath(`cells/${state.cells.id}/match?start=${a}&end=${b}&threshold=${$("threshold").value}&kind=${kind}`))).json();
  const names = got.rows.map((r) => { const x = heat.rows[r]; return `L${x.layer}${x.direction === "bwd" ? "b" : ""}:${x.unit}`; });
  $("selected-units").textContent = got.rows.length ? `${got.rows.length} unit(s) on throughout the span and off around it: ${names.join(", ")}`
                                                    : "no unit is on throughout the span and off around it at this threshold";
  $("selected-units").dataset.rows = JSON.stringify(got.rows);
  const list = $("matches");
  list.textContent = "";
  for (const m of got.matches) {
    const li = document.createElement("li");
    li.append(m.before, Object.assign(document.createElement("b"), { textContent: m.match }), m.after);
    li.dataset.start = m.start; li.dataset.end = m.end;
    li.onclick = () => { state.span = [m.start, m.end]; markSpan(); };
    list.appendChild(li);
  }
}

async function loadExamples() {
  const select = $("examples");
  select.length = 1;
  const got = await (await api(runPath("examples"))).json();
  got.examples.forEach((e, i) => select.add(new Option(e.name, i)));
  select.examples = got.examples;
  select.options[0].textContent = got.examples.length ? "pick a text…" : "nothing to pick (the run's data is gone)";
}

// ------------------------------------------------------------------------------------------------ generate
async function generate() {
  const options = { decoder: $("decoder").value };
  for (const k of ["temperature", "top_p", "repetition_penalty"]) options[k] = parseFloat($(k).value);
  for (const k of ["top_k", "beam", "no_repeat_ngram", "length", "seed"]) options[k] = parseInt($(k).value, 10);
  const body = { options };
  if (current().task === "caption") {
    if (!state.image) throw new Error("upload an image first");
    body.image = state.image;
  } else body.text = $("prime").value;
  const out = $("output");
  out.textContent = "";
  out.dataset.done = "0";
  if (current().task === "lm") out.append(Object.assign(document.createElement("span"), { textContent: $("prime").value, className: "prime" }));
  const response = await post(runPath("generate"), body);
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const event = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (event.type === "error") throw new Error(event.error);
      if (event.type === "end") { out.dataset.done = "1"; out.dataset.logProb = event.log_prob; continue; }
      const span = document.createElement("span");
      span.className = "tok gen" + (current().task === "lm" ? "" : " word");
      span.textContent = event.text;
      span.dataset.p = event.p;
      span.dataset.alternatives = JSON.stringify(event.alternatives);
      span.style.background = `rgba(40,160,80,${(0.15 + 0.6 * event.p).toFixed(3)})`;
      out.appendChild(span);
    }
  }
}

function tooltip(event) {
  const tip = $("tooltip"), span = event.target.closest && event.target.closest("span.gen");
  if (!span) { tip.style.display = "none"; return; }
  const alts = JSON.parse(span.dataset.alternatives).map(([t, p]) => `${JSON.stringify(t)}  ${(100 * p).toFixed(1)}%`);
  tip.textContent = `${JSON.stringify(span.textContent)}  p = ${(100 * Number(span.dataset.p)).toFixed(1)}%\nalternatives:\n${alts.join("\n")}`;
  tip.style.left = event.clientX + 12 + "px"; tip.style.top = event.clientY + 12 + "px"; tip.style.display = "block";
}

async function uploadImage(file, preview) {
  const response = await api(runPath("image"), { method: "POST", body: file });
  state.image = (await response.json()).image;
  if (preview) preview.src = URL.createObjectURL(file);
}

// ------------------------------------------------------------------------------------------------ alignments
async function align() {
  const task = current().task, box = $("alignment");
  box.textContent = "";
  let got;
  if (task === "speech") {
    const file = $("align-file").files[0];
    if (!file) throw new Error("choose a WAV file (8 kHz, mono, 16-bit)");
    got = await (await api(runPath("alignments"), { method: "POST", body: file })).json();
    return showSpeech(box, got);
  }
  if (task === "caption") {
    const file = $("align-file").files[0];
    if (!file) throw new Error("choose an image (JPEG or PNG)");
    await uploadImage(file, null);
    got = await (await post(runPath("alignments"), { image: state.image })).json();
    return showCaption(box, got, URL.createObjectURL(file));
  }
  got = await (await post(runPath("alignments"), { text: $("align-text").value })).json();
  return task === "translate" ? showAttention(box, got) : showTags(box, got);
}

function showAttention(box, got) {
  const table = document.createElement("table");
  table.className = "attention"; table.id = "attention";
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = "";
  for (const w of got.source) head.appendChild(Object.assign(document.createElement("th"), { textContent: w }));
  const rows = table.createTBody();
  got.target.forEach((w, t) => {
    const row = rows.insertRow();
    row.appendChild(Object.assign(document.createElement("th"), { textContent: w }));
    got.attention[t].forEach((a) => {
      const td = row.insertCell();
      td.style.background = `rgba(30,30,30,${a.toFixed(3)})`; td.style.color = a > 0.5 ? "#fff" : "#000";
      td.textContent = a.toFixed(2); td.dataset.value = a;
    });
  });
  box.append(Object.assign(document.createElement("p"), { textContent: "translation: " + got.target.join(" ") +
    (got.unknown.length ? `   (unknown words read as <unk>: ${got.unknown.join(", ")})` : "") }), table);
}

function showTags(box, got) {
  const table = document.createElement("table");
  table.id = "tags";
  const head = table.createTHead().insertRow();
  for (const h of ["word", "tag", `${got.crf ? "CRF marginals" : "softmax"}: the most probable tags`]) head.appendChild(Object.assign(document.createElement("th"), { textContent: h }));
  const rows = table.createTBody();
  got.words.forEach((w, t) => {
    const row = rows.insertRow();
    row.insertCell().textContent = w;
    const tag = row.insertCell(); tag.textContent = got.predicted[t]; tag.className = "tag";
    const cell = row.insertCell();
    const order = got.marginals[t].map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    for (const [p, k] of order) {
      const bar = Object.assign(document.createElement("span"), { className: "bar" }); bar.style.width = `${(80 * p).toFixed(0)}px`;
      cell.append(bar, ` ${got.tags[k]} ${p.toFixed(3)}  `);
    }
    cell.dataset.marginals = JSON.stringify(got.marginals[t]);
  });
  box.appendChild(table);
}

function plot(values, cellW, cellH, id) {  // values: rows of columns, drawn bottom row first
  const rows = values.length, cols = values[0].length, canvas = document.createElement("canvas");
  canvas.className = "plot"; canvas.id = id; canvas.width = cols * cellW; canvas.height = rows * cellH;
  const lo = Math.min(...values.flat()), hi = Math.max(...values.flat()), ctx = canvas.getContext("2d");
  values.forEach((row, r) => row.forEach((v, c) => {
    const g = Math.round(255 * (1 - (v - lo) / (hi - lo || 1)));
    ctx.fillStyle = `rgb(${g},${g},${g})`; ctx.fillRect(c * cellW, (rows - 1 - r) * cellH, cellW, cellH);
  }));
  return canvas;
}

function showSpeech(box, got) {
  box.append(Object.assign(document.createElement("p"), { id: "transcript", textContent: "recognised: " + got.digits.join(" ") +
    (got.probability !== undefined ? `  (p = ${got.probability.toFixed(3)})` : "") }));
  box.append(Object.assign(document.createElement("p"), { textContent: "log-mel spectrogram (frequency up, time right)" }), plot(got.features, 3, 3, "spectrogram"));
  if (got.posteriors) {
    box.append(Object.assign(document.createElement("p"), { textContent: `CTC posteriors, one row per label (bottom: ${got.labels.join(", ")}; top), one column per output frame (every ${got.stack} input frames)` }),
               plot(got.posteriors, 3 * got.stack, 8, "posteriors"));
  }
}

function showCaption(box, got, src) {
  const [gr, gc] = got.grid, S = 192;
  const caption = Object.assign(document.createElement("p"), { id: "caption" });
  const canvas = Object.assign(document.createElement("canvas"), { width: S, height: S, id: "attention-map" });
  const image = new Image();
  const draw = (t) => {
    const ctx = canvas.getContext("2d");
    ctx.drawImage(image, 0, 0, S, S);
    if (t === null) return;
    const a = got.attention[t], hi = Math.max(...a);
    for (let r = 0; r < gr; r++) for (let c = 0; c < gc; c++) {
      ctx.fillStyle = `rgba(0,0,0,${(0.85 * (1 - a[r * gc + c] / hi)).toFixed(3)})`;
      ctx.fillRect(c * S / gc, r * S / gr, S / gc, S / gr);
    }
    canvas.dataset.word = t;
  };
  image.onload = () => draw(null);
  image.src = src;
  got.words.forEach((w, t) => {
    const span = Object.assign(document.createElement("span"), { className: "tok word", textContent: w });
    span.dataset.t = t;
    span.onmouseenter = () => draw(t); span.onclick = () => draw(t);
    caption.appendChild(span);
  });
  box.append(Object.assign(document.createElement("p"), { textContent: "the caption: hover a word to see where the model looked" }), caption, canvas);
}

// ------------------------------------------------------------------------------------------------ page
function show(view) {
  state.view = view;
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.view === view);
  for (const s of document.querySelectorAll(".view")) s.classList.toggle("shown", s.id === "view-" + view);
}

function chooseRun(i) {
  state.run = i; state.cells = null; state.heat = {}; state.image = null;
  const run = current();
  $("about").textContent = run.error ? run.error : `${run.what}: ${run.task}, step ${run.step}`;
  for (const b of document.querySelectorAll("nav button")) b.disabled = !run.views.includes(b.dataset.view);
  if (!run.views.includes(state.view)) show("runs");
  $("gen-image").style.display = run.task === "caption" ? "" : "none";
  $("prime").style.display = run.task === "caption" ? "none" : "";
  $("align-text").style.display = ["translate", "tag"].includes(run.task) ? "" : "none";
  $("align-file").style.display = ["caption", "speech"].includes(run.task) ? "" : "none";
  $("align-file").accept = run.task === "speech" ? ".wav,audio/wav" : "image/*";
  if (run.views.includes("cells")) guarded(loadExamples);
}

async function start() {
  const got = await (await api("/api/runs")).json();
  state.runs = got.runs;
  got.runs.forEach((r, i) => {
    $("run").add(new Option(`${i}: ${r.name}${r.task ? " (" + r.task + ")" : ""}`, i));
    const label = document.createElement("label");
    label.innerHTML = ` <input type="checkbox" checked data-run="${r.index}"> `;
    label.append(r.name);
    label.firstElementChild.onchange = drawCharts;
    $("run-toggles").appendChild(label);
  });
  for (const p of ["quotes", "single-quotes", "parentheses", "brackets", "line-position", "indentation"]) $("property").add(new Option(p, p));
  $("run").onchange = () => chooseRun(Number($("run").value));
  for (const b of document.querySelectorAll("nav button")) b.onclick = () => show(b.dataset.view);
  $("read").onclick = () => guarded(readText);
  $("kind").onchange = () => guarded(() => showHeat($("kind").value));
  $("heat").onclick = heatClick;
  $("colored").onmouseup = spanFromSelection;
  $("rank").onclick = () => guarded(rank);
  $("match").onclick = () => guarded(match);
  $("threshold").oninput = () => { $("threshold-value").textContent = $("threshold").value; };
  $("temperature").oninput = () => { $("temperature-value").textContent = $("temperature").value; };
  $("examples").onchange = () => { const s = $("examples"); if (s.value !== "") $("text").value = s.examples[Number(s.value)].text; };
  $("generate").onclick = () => guarded(generate);
  $("gen-image").onchange = () => guarded(() => uploadImage($("gen-image").files[0], $("gen-preview")));
  $("output").onmousemove = tooltip;
  $("output").onmouseleave = () => { $("tooltip").style.display = "none"; };
  $("align").onclick = () => guarded(align);
  chooseRun(0);
  show("runs");
  await pollMetrics();
  setInterval(pollMetrics, 2000);
  document.body.dataset.ready = "1";
}
guarded(start);
