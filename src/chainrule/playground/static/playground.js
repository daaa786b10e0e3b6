// chainrule playground: the page. It draws what the server's training session sends and sends
// back what the user changes. No framework, no build step: plain DOM and canvas.
"use strict";

(() => {
  // ------------------------------------------------------------------ constants
  const DEFAULTS = {
    problem: "classification", dataset: "circle", classes: 2, noise: 0, samples: 500, ratio: 50,
    seed: 0, batch: 10, features: ["x1", "x2"], layers: [4, 2], activations: ["tanh", "tanh"],
    lr: 0.03, optimizer: "sgd", reg: "none", regRate: 0, stopEpochs: 0, stopLoss: 0, speed: 0,
  };
  const UI_DEFAULTS = { showTest: false, discretize: false };
  const FEATURES = [
    ["x1", "X\u2081"], ["x2", "X\u2082"], ["x1sq", "X\u2081\u00b2"], ["x2sq", "X\u2082\u00b2"],
    ["x1x2", "X\u2081X\u2082"], ["sinx1", "sin(X\u2081)"], ["sinx2", "sin(X\u2082)"],
  ];
  const FEATURE_LABEL = Object.fromEntries(FEATURES);
  const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const DATASETS = {
    classification: [["circle", "Circle"], ["xor", "Exclusive or"], ["gauss", "Gaussian"], ["spiral", "Spiral"]],
    regression: [["plane", "Plane"], ["multigauss", "Multi-Gaussian"]],
  };
  const MULTICLASS = ["gauss", "spiral"];
  const ACT_NAMES = { tanh: "Tanh", sigmoid: "Sigmoid", relu: "ReLU", leaky_relu: "Leaky ReLU", identity: "Linear" };
  const DOMAIN = 6, GRID = 100, SMALL = 25;
  const ORANGE = [245, 147, 34], WHITE = [232, 234, 235], BLUE = [8, 119, 189];
  const CLASS_COLORS = [ORANGE, BLUE, [44, 160, 44], [148, 103, 189], [214, 39, 40], [140, 86, 75], [227, 119, 194], [23, 190, 207]];
  const LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79"];

  const $ = (id) => document.getElementById(id);
  const rgb = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;
  const mix = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

  // 256-entry colour tables: orange (0) - white (127.5) - blue (255), and a discretised one.
  const LUT = new Uint8ClampedArray(256 * 4);
  const LUT_STEP = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255 * 2 - 1;
    const c = t < 0 ? mix(WHITE, ORANGE, -t) : mix(WHITE, BLUE, t);
    const d = mix(WHITE, t < 0 ? ORANGE : BLUE, 0.55);
    LUT.set([c[0], c[1], c[2], 255], i * 4);
    LUT_STEP.set([d[0], d[1], d[2], 255], i * 4);
  }

  // ------------------------------------------------------------------ state
  const parsed = parseHash();
  let config = parsed.config;
  const ui = parsed.ui;
  let session = null; // {id, limits}
  let server = null; // the last "state" message: sizes, classes, points, maps, notes
  let frame = null; // the last frame drawn: {h: header, b: {name: typed array}}
  let socket = null;
  let playing = false;
  let pending = null, pendingCount = 0, drawQueued = false;
  let hover = null; // what the mouse is over in the network drawing
  let editing = null; // the weight being edited
  let currentLabel = 1;
  let lastEpoch = -1;
  const stats = { frames: 0, received: 0, epoch: 0, drawMs: 0, connected: false, trace: null, errors: [] };
  window.__playground = {
    stats,
    get config() { return JSON.parse(JSON.stringify(config)); },
    get ui() { return { ...ui }; },
    get session() { return session && session.id; },
    get state() { return server; },
    get frame() { return frame && frame.h; },
    blob(name) { return frame && frame.b[name] ? Array.from(frame.b[name]) : null; },
    plotPixels() { return $("plot").toDataURL(); },
    // Page positions (CSS pixels) of a neuron's centre and of a link's midpoint, for tests.
    neuron(layer, unit) {
      const n = layout.nodes[layer + 1][unit], r = $("net").getBoundingClientRect();
      const f = r.width / $("net").width;
      return { x: r.left + (n.x + layout.box / 2) * f, y: r.top + (n.y + layout.box / 2) * f };
    },
    link(l, i, j) {
      const [x0, y0, x1, y1] = link(l, i, j), [x, y] = bezier(x0, y0, x1, y1, 0.5);
      const r = $("net").getBoundingClientRect(), f = r.width / $("net").width;
      return { x: r.left + x * f, y: r.top + y * f };
    },
  };

  // ------------------------------------------------------------------ URL
  function parseHash() {
    const cfg = JSON.parse(JSON.stringify(DEFAULTS));
    const opts = { ...UI_DEFAULTS };
    const params = new URLSearchParams(location.hash.slice(1));
    for (const [key, value] of params) {
      if (key in UI_DEFAULTS) opts[key] = value === "1" || value === "true";
      if (!(key in DEFAULTS)) continue;
      const d = DEFAULTS[key];
      if (Array.isArray(d)) {
        const items = value === "" ? [] : value.split(",");
        cfg[key] = key === "layers" ? items.map(Number) : items;
      } else if (typeof d === "number") {
        cfg[key] = Number(value);
      } else {
        cfg[key] = value;
      }
    }
    return { config: cfg, ui: opts };
  }

  function writeHash() {
    const params = new URLSearchParams();
    for (const key of Object.keys(DEFAULTS)) {
      const v = config[key];
      params.set(key, Array.isArray(v) ? v.join(",") : String(v));
    }
    for (const key of Object.keys(UI_DEFAULTS)) params.set(key, ui[key] ? "1" : "0");
    history.replaceState(null, "", "#" + params.toString());
  }

  // ------------------------------------------------------------------ server calls
  async function api(method, path, body, type = "application/json") {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = type;
      opts.body = type === "application/json" ? JSON.stringify(body) : body;
    }
    const res = await fetch(path, opts);
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch (e) { data = null; }
    if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
    return data;
  }
  const sessionPath = (rest) => `/api/sessions/${session.id}${rest}`;

  function status(text, isError = true) {
    const el = $("status");
    el.textContent = text || "";
    el.style.color = isError ? "#a12" : "#2a6";
    if (text && isError) stats.errors.push(text);
  }

  async function start() {
    buildControls();
    let created;
    try {
      created = await api("POST", "/api/sessions", config);
    } catch (err) {
      status(`The link's setup was refused (${err.message}); starting from the defaults.`);
      config = JSON.parse(JSON.stringify(DEFAULTS));
      created = await api("POST", "/api/sessions", config);
    }
    session = { id: created.id, limits: created.limits };
    $("downloadModel").href = sessionPath("/model");
    $("downloadCode").href = sessionPath("/code");
    applyState(created);
    connect();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${sessionPath("/ws")}`);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { stats.connected = true; sendView(); if (playing) send({ type: "play" }); };
    socket.onclose = () => {
      stats.connected = false;
      setPlaying(false);
      status("Disconnected from the server: reload the page to start a new session.");
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") { onMessage(JSON.parse(event.data)); return; }
      stats.received++;
      pending = event.data;
      pendingCount++;
      if (!drawQueued) { drawQueued = true; requestAnimationFrame(drawPending); }
    };
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function onMessage(msg) {
    if (msg.type === "state") applyState(msg);
    else if (msg.type === "stopped") { setPlaying(false); status(`Stopped at epoch ${msg.epoch}: the stop condition is met.`, false); }
    else if (msg.type === "diverged") { setPlaying(false); status(msg.error); }
    else if (msg.type === "error") status(msg.error);
  }

  async function change(partial) {
    const next = { ...config, ...partial };
    try {
      const state = await api("PUT", sessionPath("/config"), next);
      status("");
      applyState(state);
    } catch (err) {
      status(err.message);
      syncControls();
    }
  }

  async function action(method, path, body, type) {
    try {
      const state = await api(method, sessionPath(path), body, type);
      status("");
      if (state && state.type === "state") applyState(state);
      return state;
    } catch (err) {
      status(err.message);
      return null;
    }
  }

  // ------------------------------------------------------------------ frames
  function decodeFrame(buffer) {
    const view = new DataView(buffer);
    const n = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
    const base = Math.ceil((4 + n) / 8) * 8;
    const blobs = {};
    for (const [name, kind, offset, count] of header.blobs) {
      blobs[name] = kind === "u8" ? new Uint8Array(buffer, base + offset, count) : new Float32Array(buffer, base + offset, count);
    }
    return { h: header, b: blobs };
  }

  function drawPending() {
    drawQueued = false;
    if (!pending) return;
    const f = decodeFrame(pending);
    const acks = pendingCount;
    pending = null;
    pendingCount = 0;
    onFrame(f);
    const t0 = performance.now();
    render();
    stats.drawMs += performance.now() - t0;
    stats.frames++;
    send({ type: "ack", n: acks });
  }

  // A series kept at no more than `cap` points: when full, every other point goes and the
  // sampling stride doubles, so drawing costs the same at epoch 100 and at epoch 100,000.
  class Series {
    constructor(cap = 400) { this.cap = cap; this.reset(); }
    reset() { this.x = []; this.y = []; this.stride = 1; this.count = 0; this.last = null; }
    push(x, values) {
      this.last = [x, values];
      if (this.count++ % this.stride) return;
      this.x.push(x); this.y.push(values);
      if (this.x.length >= this.cap) {
        this.x = this.x.filter((_, i) => i % 2 === 0);
        this.y = this.y.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
      }
    }
    points() {
      const xs = this.x.slice(), ys = this.y.slice();
      if (this.last && (xs.length === 0 || xs[xs.length - 1] !== this.last[0])) { xs.push(this.last[0]); ys.push(this.last[1]); }
      return [xs, ys];
    }
  }
  const lossSeries = new Series();
  const gradSeries = new Series();

  function onFrame(f) {
    if (f.h.epoch < lastEpoch) { lossSeries.reset(); gradSeries.reset(); }
    lastEpoch = f.h.epoch;
    frame = f;
    stats.epoch = f.h.epoch;
    lossSeries.push(f.h.epoch, [f.h.trainLoss, f.h.testLoss]);
    gradSeries.push(f.h.epoch, f.h.gradNorms);
  }

  function render() {
    if (!frame || !server) return;
    const h = frame.h;
    setText("epoch", formatEpoch(h.epoch));
    setText("trainLoss", fmt(h.trainLoss, 3));
    setText("testLoss", h.testLoss == null ? "\u2013" : fmt(h.testLoss, 3));
    drawPlot();
    drawNetwork();
    drawLossChart();
    drawGradChart();
    drawAccuracy();
    drawWarp();
  }

  // Text is only written when it changes: every DOM write costs a style and layout pass.
  function setText(id, text) {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  }
  const fmt = (v, digits = 3) => (v == null || !isFinite(v) ? "\u2013" : Number(v).toFixed(digits));
  const formatEpoch = (e) => String(e).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const short = (v) => Number.isInteger(v) ? String(v) : (Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(2) : v.toPrecision(3));

  // ------------------------------------------------------------------ state from the server
  function applyState(st) {
    const rebuilt = !server || st.epoch === 0 || JSON.stringify(st.sizes) !== JSON.stringify(server.sizes);
    server = st;
    config = st.config;
    if (rebuilt && st.epoch === 0) {
      lossSeries.reset(); gradSeries.reset(); lastEpoch = -1;
      if (stats.trace) { stats.trace = null; $("trace").textContent = "The network changed: click a point to trace it again."; }
    }
    if (!st.classes) currentLabel = Number($("labelValue").value) || 1;
    else if (currentLabel >= st.classes || currentLabel !== Math.round(currentLabel)) currentLabel = 1;
    syncControls();
    layoutNetwork();
    drawInputAtlas();
    const notes = [...(st.notes || [])];
    if (st.custom) notes.push("The data were edited or uploaded: the URL describes the setup, not these points.");
    $("dataNote").textContent = notes.join(" ");
    writeHash();
    if (frame) render();
  }

  // ------------------------------------------------------------------ controls
  function fillSelect(el, values, label = (v) => String(v)) {
    el.innerHTML = "";
    for (const v of values) {
      const o = document.createElement("option");
      o.value = String(v);
      o.textContent = label(v);
      el.appendChild(o);
    }
  }

  function buildControls() {
    fillSelect($("lr"), LEARNING_RATES);
    fillSelect($("regRate"), REG_RATES);
    fillSelect($("classes"), [2, 3, 4, 5, 6, 7, 8]);
    $("play").onclick = () => togglePlay();
    $("step").onclick = () => { setPlaying(false); send({ type: "pause" }); send({ type: "step" }); };
    $("reset").onclick = () => action("POST", "/reset");
    $("regenerate").onclick = () => action("POST", "/regenerate");
    $("lr").onchange = (e) => change({ lr: Number(e.target.value) });
    $("regRate").onchange = (e) => change({ regRate: Number(e.target.value) });
    $("reg").onchange = (e) => change({ reg: e.target.value });
    $("optimizer").onchange = (e) => change({ optimizer: e.target.value });
    $("speed").onchange = (e) => change({ speed: Number(e.target.value) });
    $("activation").onchange = (e) => change({ activations: config.layers.map(() => e.target.value) });
    $("problem").onchange = (e) => {
      const problem = e.target.value;
      change({ problem, dataset: DATASETS[problem][0][0], classes: 2 });
    };
    $("classes").onchange = (e) => change({ classes: Number(e.target.value) });
    $("stopEpochs").onchange = (e) => change({ stopEpochs: Math.max(0, Math.round(Number(e.target.value) || 0)) });
    $("stopLoss").onchange = (e) => change({ stopLoss: Math.max(0, Number(e.target.value) || 0) });
    for (const key of ["ratio", "noise", "batch", "samples"]) {
      $(key).oninput = (e) => { $(key + "Value").textContent = sliderText(key, Number(e.target.value)); };
      $(key).onchange = (e) => change({ [key]: Number(e.target.value) });
    }
    $("upload").onchange = async (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (!file) return;
      if (file.size > session.limits.body) { status(`The file has ${file.size} bytes; the limit is ${session.limits.body}.`); return; }
      await action("POST", "/upload", await file.text(), "text/csv");
    };
    $("addLayer").onclick = () => {
      if (config.layers.length >= session.limits.layers) { status(`At most ${session.limits.layers} hidden layers.`); return; }
      const act = config.activations.length ? config.activations[config.activations.length - 1] : "tanh";
      change({ layers: [...config.layers, 2], activations: [...config.activations, act] });
    };
    $("removeLayer").onclick = () => {
      if (!config.layers.length) return;
      change({ layers: config.layers.slice(0, -1), activations: config.activations.slice(0, -1) });
    };
    $("showTest").onchange = (e) => { ui.showTest = e.target.checked; writeHash(); render(); };
    $("discretize").onchange = (e) => { ui.discretize = e.target.checked; writeHash(); render(); };
    $("copyLink").onclick = async () => {
      try { await navigator.clipboard.writeText(location.href); status("Link copied.", false); } catch (err) { status("Copy the address bar: it holds the whole setup.", false); }
    };
    $("confusionSet").onchange = () => drawAccuracy();
    $("labelValue").onchange = (e) => { currentLabel = Number(e.target.value); };
    for (const id of ["warpLayer", "warpA", "warpB"]) $(id).onchange = () => { if (id === "warpLayer") fillWarpUnits(); sendView(); render(); };
    const datasets = $("datasets");
    for (const list of Object.values(DATASETS)) {
      for (const [name, label] of list) {
        const b = document.createElement("button");
        b.dataset.name = name;
        b.title = label;
        const c = document.createElement("canvas");
        c.width = 44; c.height = 44;
        drawThumbnail(c, name);
        b.append(c, document.createTextNode(label));
        b.onclick = () => change({ dataset: name, problem: DATASETS.regression.some((d) => d[0] === name) ? "regression" : "classification", classes: MULTICLASS.includes(name) ? config.classes : 2 });
        datasets.appendChild(b);
      }
    }
    const plot = $("plot");
    plot.onclick = onPlotClick;
    plot.onmousemove = onPlotMove;
    plot.onmouseleave = () => { $("plotCaption").textContent = hoverCaption(); };
    const net = $("net");
    net.onmousemove = onNetMove;
    net.onmouseleave = () => { setHover(null); };
    net.onclick = onNetClick;
    setupChartHover($("lossChart"), $("lossTip"), lossSeries, (x, y) => `epoch ${x}: training ${fmt(y[0], 4)}, test ${fmt(y[1], 4)}`);
    setupChartHover($("gradChart"), $("gradTip"), gradSeries, (x, y) => `epoch ${x}: ` + y.map((v, i) => `L${i + 1} ${v == null ? "\u2013" : v.toExponential(2)}`).join(", "));
    const editor = $("weightEditor");
    editor.onkeydown = (e) => {
      if (e.key === "Enter") commitWeight();
      if (e.key === "Escape") { editor.hidden = true; editing = null; }
    };
    editor.onblur = () => { editor.hidden = true; editing = null; };
    document.addEventListener("keydown", (e) => {
      if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
      if (e.key === " ") { e.preventDefault(); togglePlay(); }
      if (e.key === "s") $("step").click();
      if (e.key === "r") $("reset").click();
    });
    window.addEventListener("resize", () => { layoutNetwork(); render(); });
  }

  function sliderText(key, v) {
    if (key === "ratio") return `${v}%`;
    if (key === "batch") return String(v);
    return String(v);
  }

  function syncControls() {
    const c = config;
    $("lr").value = String(c.lr);
    if ($("lr").value !== String(c.lr)) { addOption($("lr"), c.lr); $("lr").value = String(c.lr); }
    $("regRate").value = String(c.regRate);
    if ($("regRate").value !== String(c.regRate)) { addOption($("regRate"), c.regRate); $("regRate").value = String(c.regRate); }
    $("reg").value = c.reg;
    $("regRate").disabled = c.reg === "none";
    $("optimizer").value = c.optimizer;
    $("problem").value = c.problem;
    $("speed").value = String(c.speed);
    if ($("speed").value !== String(c.speed)) { addOption($("speed"), c.speed, `${c.speed} epochs/s`); $("speed").value = String(c.speed); }
    const acts = new Set(c.activations);
    $("activation").value = acts.size === 1 ? c.activations[0] : (acts.size === 0 ? "tanh" : "mixed");
    $("classes").value = String(c.classes);
    $("classesRow").style.display = c.problem === "classification" ? "" : "none";
    $("classes").disabled = !MULTICLASS.includes(c.dataset);
    $("stopEpochs").value = c.stopEpochs ? String(c.stopEpochs) : "";
    $("stopLoss").value = c.stopLoss ? String(c.stopLoss) : "";
    for (const key of ["ratio", "noise", "batch", "samples"]) {
      if (key === "batch") $("batch").max = String(Math.max(100, c.batch));
      $(key).value = String(c[key]);
      $(key + "Value").textContent = sliderText(key, c[key]);
    }
    for (const b of $("datasets").children) {
      b.classList.toggle("selected", b.dataset.name === c.dataset);
      b.disabled = !DATASETS[c.problem].some((d) => d[0] === b.dataset.name);
    }
    $("showTest").checked = ui.showTest;
    $("discretize").checked = ui.discretize;
    $("layerCount").textContent = `${c.layers.length} HIDDEN LAYER${c.layers.length === 1 ? "" : "S"}`;
    buildLabelPicker();
    fillWarpLayers();
  }

  function addOption(select, value, label) {
    const o = document.createElement("option");
    o.value = String(value);
    o.textContent = label || String(value);
    select.appendChild(o);
  }

  function buildLabelPicker() {
    const picker = $("labelPicker");
    picker.innerHTML = "";
    const k = server ? server.classes : 2;
    $("labelValue").hidden = k !== 0;
    for (let i = 0; i < k; i++) {
      const b = document.createElement("button");
      b.style.background = rgb(CLASS_COLORS[i]);
      b.title = `class ${i}`;
      b.dataset.label = String(i);
      b.classList.toggle("selected", i === currentLabel);
      b.onclick = () => { currentLabel = i; buildLabelPicker(); };
      picker.appendChild(b);
    }
  }

  function togglePlay() { setPlaying(!playing); send({ type: playing ? "play" : "pause" }); }
  function setPlaying(on) {
    playing = on;
    const b = $("play");
    b.classList.toggle("playing", on);
    b.setAttribute("aria-label", on ? "pause" : "play");
  }

  // ------------------------------------------------------------------ thumbnails
  function drawThumbnail(canvas, name) {
    const g = canvas.getContext("2d");
    let seed = 7;
    const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    const W = canvas.width;
    const px = (v) => (v + 6) / 12 * W;
    g.fillStyle = "#fafafa"; g.fillRect(0, 0, W, W);
    const dot = (x, y, c) => { g.fillStyle = rgb(c); g.fillRect(px(x) - 1, px(-y) - 1, 2.4, 2.4); };
    if (name === "plane" || name === "multigauss") {
      const img = g.createImageData(W, W);
      for (let j = 0; j < W; j++) for (let i = 0; i < W; i++) {
        const x = i / W * 12 - 6, y = 6 - j / W * 12;
        let v;
        if (name === "plane") v = (x + y) / 10;
        else {
          v = 0;
          for (const [cx, cy, s] of [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]) {
            const b = s * Math.max(0, 1 - Math.hypot(x - cx, y - cy) / 2);
            if (Math.abs(b) > Math.abs(v)) v = b;
          }
        }
        const q = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
        img.data.set(LUT.subarray(q * 4, q * 4 + 4), (j * W + i) * 4);
      }
      g.putImageData(img, 0, 0);
      return;
    }
    for (let n = 0; n < 140; n++) {
      if (name === "circle") {
        const inner = n % 2 === 0, r = inner ? rand() * 2.5 : 3.5 + rand() * 1.5, a = rand() * 2 * Math.PI;
        dot(r * Math.cos(a), r * Math.sin(a), inner ? BLUE : ORANGE);
      } else if (name === "xor") {
        const x = rand() * 10 - 5, y = rand() * 10 - 5;
        dot(x, y, x * y > 0 ? BLUE : ORANGE);
      } else if (name === "gauss") {
        const k = n % 2, c = k ? 2.2 : -2.2;
        const gx = (rand() + rand() + rand() - 1.5) * 1.6, gy = (rand() + rand() + rand() - 1.5) * 1.6;
        dot(c + gx, c + gy, k ? BLUE : ORANGE);
      } else if (name === "spiral") {
        const k = n % 2, t = rand(), r = 5 * t, a = 1.75 * 2 * Math.PI * t + Math.PI * k;
        dot(r * Math.sin(a), r * Math.cos(a), k ? BLUE : ORANGE);
      }
    }
  }

  // ------------------------------------------------------------------ the output plot
  const heat = document.createElement("canvas");
  heat.width = GRID; heat.height = GRID;
  const heatCtx = heat.getContext("2d");
  const heatImage = heatCtx.createImageData(GRID, GRID);

  function paintMap(values, discrete) {
    const data = heatImage.data;
    const lut = discrete ? LUT_STEP : LUT;
    for (let i = 0; i < values.length; i++) {
      let q = values[i];
      if (discrete) q = q >= 128 ? 255 : 0;
      data[i * 4] = lut[q * 4]; data[i * 4 + 1] = lut[q * 4 + 1]; data[i * 4 + 2] = lut[q * 4 + 2]; data[i * 4 + 3] = 255;
    }
  }

  function paintClasses(values, k, discrete) {
    const data = heatImage.data, n = GRID * GRID;
    for (let i = 0; i < n; i++) {
      let r = 0, g = 0, b = 0, best = 0, bestP = -1;
      for (let c = 0; c < k; c++) {
        const p = values[c * n + i] / 255;
        const col = CLASS_COLORS[c];
        r += p * col[0]; g += p * col[1]; b += p * col[2];
        if (p > bestP) { bestP = p; best = c; }
      }
      let col = discrete ? mix(WHITE, CLASS_COLORS[best], 0.55) : mix(WHITE, [r, g, b], Math.min(1, Math.max(0, (bestP - 1 / k) / (1 - 1 / k))) * 0.85 + 0.15);
      data[i * 4] = col[0]; data[i * 4 + 1] = col[1]; data[i * 4 + 2] = col[2]; data[i * 4 + 3] = 255;
    }
  }

  function hoverCaption() {
    if (!hover || hover.kind !== "node" || !server) return "";
    if (hover.layer < 0) return `Feature ${FEATURE_LABEL[hover.feature]}`;
    const top = server.sizes.length - 2;
    const act = server.activations[hover.layer];
    return hover.layer === top ? `Output unit ${hover.unit + 1} (${act})` : `Layer ${hover.layer + 1}, neuron ${hover.unit + 1} (${ACT_NAMES[act] || act})`;
  }

  function drawPlot() {
    const canvas = $("plot");
    const g = canvas.getContext("2d");
    const W = canvas.width;
    const k = server.classes;
    let caption = "";
    if (hover && hover.kind === "node" && hover.layer < 0) {
      const small = server.inputMaps[hover.feature];
      const up = new Uint8Array(GRID * GRID);
      const step = GRID / SMALL;
      for (let j = 0; j < GRID; j++) for (let i = 0; i < GRID; i++) up[j * GRID + i] = small[Math.floor(j / step) * SMALL + Math.floor(i / step)];
      paintMap(up, ui.discretize);
      caption = hoverCaption();
    } else if (frame.b.hover && hover && hover.kind === "node") {
      paintMap(frame.b.hover, ui.discretize);
      caption = hoverCaption();
    } else if (k > 2) {
      paintClasses(frame.b.output, k, ui.discretize);
    } else {
      paintMap(frame.b.output, ui.discretize);
    }
    $("plotCaption").textContent = caption;
    heatCtx.putImageData(heatImage, 0, 0);
    g.imageSmoothingEnabled = true;
    g.drawImage(heat, 0, 0, W, W);
    // Axes ticks.
    g.fillStyle = "rgba(0,0,0,0.45)";
    g.font = "10px sans-serif";
    for (const t of [-5, 0, 5]) {
      const p = (t + DOMAIN) / (2 * DOMAIN) * W;
      g.fillRect(p, W - 4, 1, 4);
      g.fillRect(0, p, 4, 1);
      g.fillText(String(t), p + 2, W - 5);
      g.fillText(String(-t), 6, p - 2);
    }
    drawPoints(g, W);
    if (stats.trace) { // ring the traced point
      const t = stats.trace.point;
      g.beginPath();
      g.arc((t.x + DOMAIN) / (2 * DOMAIN) * W, (DOMAIN - t.y) / (2 * DOMAIN) * W, 7, 0, 2 * Math.PI);
      g.lineWidth = 2;
      g.strokeStyle = "#000";
      g.stroke();
    }
    drawLegend();
  }

  function pointColor(label, k) {
    if (k) return CLASS_COLORS[label] || [0, 0, 0];
    const q = Math.max(0, Math.min(255, Math.round((label + 1) * 127.5)));
    return [LUT[q * 4], LUT[q * 4 + 1], LUT[q * 4 + 2]];
  }

  // The points change only with the data, so they are drawn once into a layer of their own
  // and copied onto the plot each frame.
  const pointLayer = document.createElement("canvas");
  let pointKey = "";
  function drawPoints(g, W) {
    const key = `${W}|${ui.showTest}|${server.classes}|${server.points.length}|${JSON.stringify(server.points.slice(-3))}|${server.config.seed}|${server.config.dataset}`;
    if (key !== pointKey || pointLayer.width !== W) {
      pointKey = key;
      pointLayer.width = W; pointLayer.height = W;
      const p = pointLayer.getContext("2d");
      p.clearRect(0, 0, W, W);
      const k = server.classes;
      for (const train of [1, 0]) {
        if (!train && !ui.showTest) continue;
        for (const [x, y, label, t] of server.points) {
          if (t !== train) continue;
          p.beginPath();
          p.arc((x + DOMAIN) / (2 * DOMAIN) * W, (DOMAIN - y) / (2 * DOMAIN) * W, 3.2, 0, 2 * Math.PI);
          p.fillStyle = rgb(pointColor(label, k));
          p.fill();
          p.lineWidth = 1;
          // Regression targets near 0 are drawn near white: give them a grey rim to stay visible.
          p.strokeStyle = train ? (k ? "#fff" : "#777") : "#000";
          p.stroke();
        }
      }
    }
    g.drawImage(pointLayer, 0, 0);
  }

  function drawLegend() {
    const c = $("legend"), g = c.getContext("2d");
    const k = server.classes;
    g.clearRect(0, 0, c.width, c.height);
    if (k > 2) {
      const w = c.width / k;
      for (let i = 0; i < k; i++) { g.fillStyle = rgb(CLASS_COLORS[i]); g.fillRect(i * w, 0, w - 2, c.height); }
      $("legendText").textContent = `classes 0\u2013${k - 1}`;
      return;
    }
    for (let i = 0; i < c.width; i++) {
      const q = Math.round(i / (c.width - 1) * 255);
      g.fillStyle = `rgb(${LUT[q * 4]},${LUT[q * 4 + 1]},${LUT[q * 4 + 2]})`;
      g.fillRect(i, 0, 1, c.height);
    }
    $("legendText").textContent = k === 2 ? "class 0 \u2190 p \u2192 class 1" : "\u22121 \u2190 \u0177 \u2192 1";
  }

  function plotPoint(event) {
    const canvas = $("plot");
    const r = canvas.getBoundingClientRect();
    const px = (event.clientX - r.left) * canvas.width / r.width, py = (event.clientY - r.top) * canvas.height / r.height;
    const W = canvas.width;
    return { px, py, x: px / W * 2 * DOMAIN - DOMAIN, y: DOMAIN - py / W * 2 * DOMAIN };
  }

  function nearestPoint(px, py, radius = 7) {
    const W = $("plot").width;
    let best = -1, bestD = radius;
    server.points.forEach(([x, y, , train], i) => {
      if (!train && !ui.showTest) return;
      const d = Math.hypot((x + DOMAIN) / (2 * DOMAIN) * W - px, (DOMAIN - y) / (2 * DOMAIN) * W - py);
      if (d <= bestD) { bestD = d; best = i; }
    });
    return best;
  }

  async function onPlotClick(event) {
    if (!server) return;
    const p = plotPoint(event);
    const index = nearestPoint(p.px, p.py);
    const mode = document.querySelector("input[name=mode]:checked").value;
    const label = server.classes ? currentLabel : Number($("labelValue").value);
    if (mode === "trace") {
      const body = index >= 0 ? { index } : { x: p.x, y: p.y, label };
      try {
        const result = await api("POST", sessionPath("/trace"), body);
        status("");
        stats.trace = result;
        showTrace(result);
        render();
      } catch (err) { status(err.message); }
      return;
    }
    if (index >= 0) await action("DELETE", `/points/${index}`);
    else await action("POST", "/points", { x: p.x, y: p.y, label });
  }

  function onPlotMove(event) {
    if (!server || (hover && hover.kind === "node")) return;
    const p = plotPoint(event);
    const index = nearestPoint(p.px, p.py);
    let text = `(${p.x.toFixed(2)}, ${p.y.toFixed(2)})`;
    if (index >= 0) {
      const [x, y, label, train] = server.points[index];
      text = `${train ? "training" : "test"} point (${x.toFixed(2)}, ${y.toFixed(2)}), ${server.classes ? "class " + label : "target " + label.toFixed(3)}`;
    }
    $("plotCaption").textContent = text;
  }

  // ------------------------------------------------------------------ the network drawing
  let layout = null;
  const atlas = document.createElement("canvas");
  const inputAtlas = document.createElement("canvas");

  function layoutNetwork() {
    if (!server) return;
    const canvas = $("net");
    const width = Math.max(420, canvas.clientWidth || 640);
    canvas.width = width;
    const H = canvas.height;
    const sizes = server.sizes; // [inputs, hidden..., outputs]
    const nHidden = sizes.length - 2;
    const columns = [FEATURES.length, ...sizes.slice(1)];
    const most = Math.max(...columns);
    const gap = most > 16 ? 3 : 8;
    const box = Math.max(7, Math.min(32, Math.floor((H - 16) / most) - gap));
    const left = 70, right = width - box - 30;
    const xs = columns.map((_, c) => left + (right - left) * (columns.length === 1 ? 0 : c / (columns.length - 1)));
    const nodes = columns.map((n, c) => Array.from({ length: n }, (_, j) => ({ x: xs[c], y: 8 + j * (box + gap), c, j })));
    layout = { width, H, box, xs, nodes, sizes, nHidden };
    // Controls above each hidden column.
    const controls = $("layerControls");
    controls.innerHTML = "";
    for (let l = 0; l < nHidden; l++) {
      const div = document.createElement("div");
      div.className = "layercontrol";
      div.style.left = `${(xs[l + 1] + box / 2) / width * 100}%`;
      const pm = document.createElement("div");
      pm.className = "pm";
      const plus = document.createElement("button");
      plus.className = "round tiny"; plus.textContent = "+"; plus.title = "Add a neuron";
      plus.dataset.layer = String(l); plus.dataset.op = "add";
      plus.onclick = () => {
        if (config.layers[l] >= session.limits.neurons) { status(`At most ${session.limits.neurons} neurons per layer.`); return; }
        const layers = [...config.layers]; layers[l] += 1; change({ layers });
      };
      const minus = document.createElement("button");
      minus.className = "round tiny"; minus.textContent = "\u2212"; minus.title = "Remove a neuron";
      minus.dataset.layer = String(l); minus.dataset.op = "remove";
      minus.onclick = () => { if (config.layers[l] <= 1) return; const layers = [...config.layers]; layers[l] -= 1; change({ layers }); };
      pm.append(plus, minus);
      const label = document.createElement("div");
      label.textContent = `${config.layers[l]} neuron${config.layers[l] === 1 ? "" : "s"}`;
      const sel = document.createElement("select");
      sel.title = `Activation of hidden layer ${l + 1}`;
      sel.dataset.layer = String(l);
      fillSelect(sel, Object.keys(ACT_NAMES), (a) => ACT_NAMES[a]);
      sel.value = config.activations[l];
      sel.onchange = () => { const activations = [...config.activations]; activations[l] = sel.value; change({ activations }); };
      div.append(pm, label, sel);
      controls.appendChild(div);
    }
    const out = document.createElement("div");
    out.className = "layercontrol";
    out.style.left = `${(xs[xs.length - 1] + box / 2) / width * 100}%`;
    out.innerHTML = `<div class="pm">&nbsp;</div><div>output</div><div>${server.classes > 2 ? "softmax" : server.classes ? "sigmoid" : "linear"}</div>`;
    controls.appendChild(out);
    const inp = document.createElement("div");
    inp.className = "layercontrol";
    inp.style.left = `${(xs[0] + box / 2) / width * 100}%`;
    inp.innerHTML = `<div class="pm">&nbsp;</div><div>features</div>`;
    controls.appendChild(inp);
  }

  function drawInputAtlas() {
    if (!server) return;
    inputAtlas.width = SMALL; inputAtlas.height = SMALL * FEATURES.length;
    const g = inputAtlas.getContext("2d");
    const img = g.createImageData(SMALL, SMALL * FEATURES.length);
    FEATURES.forEach(([name], f) => {
      const values = server.inputMaps[name];
      for (let i = 0; i < values.length; i++) img.data.set(LUT.subarray(values[i] * 4, values[i] * 4 + 4), (f * SMALL * SMALL + i) * 4);
    });
    g.putImageData(img, 0, 0);
  }

  function weightOffsets() {
    const sizes = server.sizes, offsets = [];
    let off = 0;
    for (let l = 0; l + 1 < sizes.length; l++) { offsets.push(off); off += (sizes[l] + 1) * sizes[l + 1]; }
    return offsets;
  }
  // Network layer l's weight from input i to unit j (i = n_in: the bias).
  function weight(l, i, j) {
    const w = frame.b.weights;
    return w[weightOffsets()[l] + i * server.sizes[l + 1] + j];
  }

  // Position of input i of network layer l: a feature node for l = 0, else a hidden node.
  function sourceNode(l, i) {
    if (l === 0) return layout.nodes[0][FEATURES.findIndex(([n]) => n === config.features[i])];
    return layout.nodes[l][i];
  }

  function link(l, i, j) {
    const a = sourceNode(l, i), b = layout.nodes[l + 1][j];
    const s = layout.box;
    return [a.x + s, a.y + s / 2, b.x, b.y + s / 2];
  }
  const bezier = (x0, y0, x1, y1, t) => {
    const mx = (x0 + x1) / 2, u = 1 - t;
    return [u * u * u * x0 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x1, u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1];
  };

  function drawNetwork() {
    if (!layout || !frame) return;
    const canvas = $("net"), g = canvas.getContext("2d");
    const { box, nodes, sizes } = layout;
    g.clearRect(0, 0, canvas.width, canvas.height);
    // Links, thin first so strong ones stay on top.
    const top = sizes.length - 2;
    const links = [];
    for (let l = 0; l <= top; l++) for (let i = 0; i < sizes[l]; i++) for (let j = 0; j < sizes[l + 1]; j++) links.push([l, i, j, weight(l, i, j)]);
    links.sort((p, q) => Math.abs(p[3]) - Math.abs(q[3]));
    for (const [l, i, j, w] of links) {
      const [x0, y0, x1, y1] = link(l, i, j);
      const mx = (x0 + x1) / 2;
      g.beginPath();
      g.moveTo(x0, y0);
      g.bezierCurveTo(mx, y0, mx, y1, x1, y1);
      const lit = hover && hover.kind === "link" && hover.l === l && hover.i === i && hover.j === j;
      g.lineWidth = lit ? Math.min(8, 0.6 + 2.2 * Math.abs(w)) + 2 : Math.min(7, 0.6 + 2.2 * Math.abs(w));
      g.strokeStyle = rgb(w >= 0 ? BLUE : ORANGE, lit ? 1 : Math.min(0.9, 0.25 + 0.5 * Math.abs(w)));
      g.stroke();
    }
    // Feature nodes.
    g.imageSmoothingEnabled = box > SMALL;
    g.font = "12px sans-serif";
    g.textAlign = "right";
    FEATURES.forEach(([name, label], f) => {
      const n = nodes[0][f];
      const on = config.features.includes(name);
      g.globalAlpha = on ? 1 : 0.3;
      g.drawImage(inputAtlas, 0, f * SMALL, SMALL, SMALL, n.x, n.y, box, box);
      g.globalAlpha = 1;
      g.strokeStyle = on ? "#555" : "#bbb";
      g.lineWidth = 1;
      g.strokeRect(n.x + 0.5, n.y + 0.5, box - 1, box - 1);
      g.fillStyle = on ? "#222" : "#999";
      g.fillText(label, n.x - 6, n.y + box / 2 + 4);
    });
    g.textAlign = "left";
    // Neuron heatmaps, painted into one atlas image per frame.
    const total = sizes.slice(1).reduce((a, b) => a + b, 0);
    atlas.width = SMALL; atlas.height = SMALL * total;
    const ag = atlas.getContext("2d");
    const img = ag.createImageData(SMALL, SMALL * total);
    const values = frame.b.neurons;
    const d = img.data;
    for (let i = 0; i < values.length; i++) {
      const q = values[i] * 4;
      d[i * 4] = LUT[q]; d[i * 4 + 1] = LUT[q + 1]; d[i * 4 + 2] = LUT[q + 2]; d[i * 4 + 3] = 255;
    }
    ag.putImageData(img, 0, 0);
    let k = 0;
    for (let l = 0; l <= top; l++) {
      for (let j = 0; j < sizes[l + 1]; j++, k++) {
        const n = nodes[l + 1][j];
        g.drawImage(atlas, 0, k * SMALL, SMALL, SMALL, n.x, n.y, box, box);
        const lit = hover && hover.kind === "node" && hover.layer === l && hover.unit === j;
        g.strokeStyle = lit ? "#000" : "#777";
        g.lineWidth = lit ? 2 : 1;
        g.strokeRect(n.x + 0.5, n.y + 0.5, box - 1, box - 1);
        // The bias: a dot at the node's lower left, coloured by sign.
        const b = weight(l, sizes[l], j);
        g.beginPath();
        g.arc(n.x - 3, n.y + box - 3, Math.max(2, Math.min(5, 1.5 + Math.abs(b))), 0, 2 * Math.PI);
        g.fillStyle = rgb(b >= 0 ? BLUE : ORANGE);
        g.fill();
        g.strokeStyle = "#fff";
        g.lineWidth = 1;
        g.stroke();
      }
    }
  }

  function netPoint(event) {
    const canvas = $("net"), r = canvas.getBoundingClientRect();
    return { x: (event.clientX - r.left) * canvas.width / r.width, y: (event.clientY - r.top) * canvas.height / r.height, cx: event.clientX - r.left, cy: event.clientY - r.top };
  }

  function hitTest(p) {
    if (!layout || !frame) return null;
    const { box, nodes, sizes } = layout;
    for (let f = 0; f < FEATURES.length; f++) {
      const n = nodes[0][f];
      if (p.x >= n.x && p.x <= n.x + box && p.y >= n.y && p.y <= n.y + box) return { kind: "node", layer: -1, feature: FEATURES[f][0] };
    }
    const top = sizes.length - 2;
    for (let l = 0; l <= top; l++) {
      for (let j = 0; j < sizes[l + 1]; j++) {
        const n = nodes[l + 1][j];
        if (Math.hypot(p.x - (n.x - 3), p.y - (n.y + box - 3)) <= 5) return { kind: "bias", l, i: sizes[l], j };
        if (p.x >= n.x && p.x <= n.x + box && p.y >= n.y && p.y <= n.y + box) return { kind: "node", layer: l, unit: j };
      }
    }
    let best = null, bestD = 4;
    for (let l = 0; l <= top; l++) {
      for (let i = 0; i < sizes[l]; i++) {
        for (let j = 0; j < sizes[l + 1]; j++) {
          const [x0, y0, x1, y1] = link(l, i, j);
          if (p.x < x0 - 4 || p.x > x1 + 4) continue;
          for (let s = 0; s <= 24; s++) {
            const [bx, by] = bezier(x0, y0, x1, y1, s / 24);
            const dd = Math.hypot(bx - p.x, by - p.y);
            if (dd < bestD) { bestD = dd; best = { kind: "link", l, i, j }; }
          }
        }
      }
    }
    return best;
  }

  function describe(h) {
    const sizes = server.sizes;
    const src = (l, i) => (l === 0 ? FEATURE_LABEL[config.features[i]] : `L${l} n${i + 1}`);
    const dst = (l, j) => (l === sizes.length - 2 ? `output ${j + 1}` : `L${l + 1} n${j + 1}`);
    if (h.kind === "link") return `weight ${src(h.l, h.i)} \u2192 ${dst(h.l, h.j)}: ${short(weight(h.l, h.i, h.j))} (click to edit)`;
    if (h.kind === "bias") return `bias of ${dst(h.l, h.j)}: ${short(weight(h.l, h.i, h.j))} (click to edit)`;
    return hoverCaption();
  }

  function setHover(h) {
    const was = JSON.stringify(hover);
    hover = h;
    const tip = $("tooltip");
    if (!h || h.kind === "node") tip.hidden = true;
    if (JSON.stringify(h) !== was) {
      sendView();
      render();
    }
  }

  function sendView() {
    const hv = hover && hover.kind === "node" && hover.layer >= 0 ? [hover.layer, hover.unit] : null;
    const wl = $("warpLayer"), wa = $("warpA"), wb = $("warpB");
    const warp = wl.value === "" || wa.value === "" || wb.value === "" ? null : [Number(wl.value), Number(wa.value), Number(wb.value)];
    send({ type: "view", hover: hv, warp });
  }

  function onNetMove(event) {
    const p = netPoint(event);
    const h = hitTest(p);
    setHover(h);
    const tip = $("tooltip");
    if (h && h.kind !== "node") {
      tip.textContent = describe(h);
      tip.style.left = `${p.cx + 12}px`;
      tip.style.top = `${p.cy + 50 + 8}px`;
      tip.hidden = false;
    }
    $("net").style.cursor = h ? "pointer" : "default";
  }

  function onNetClick(event) {
    const p = netPoint(event);
    const h = hitTest(p);
    if (!h) return;
    if (h.kind === "node" && h.layer < 0) {
      const on = config.features.includes(h.feature);
      if (on && config.features.length === 1) { status("Keep at least one feature."); return; }
      const features = on ? config.features.filter((f) => f !== h.feature) : [...config.features, h.feature];
      change({ features });
      return;
    }
    if (h.kind === "link" || h.kind === "bias") {
      editing = h;
      const editor = $("weightEditor");
      editor.value = String(weight(h.l, h.i, h.j));
      editor.style.left = `${p.cx + 8}px`;
      editor.style.top = `${p.cy + 50 - 10}px`;
      editor.hidden = false;
      editor.focus();
      editor.select();
    }
  }

  async function commitWeight() {
    const editor = $("weightEditor");
    const h = editing;
    editing = null;
    editor.hidden = true;
    if (!h) return;
    const value = Number(editor.value);
    if (!isFinite(value)) { status("Enter a number."); return; }
    try {
      await api("PUT", sessionPath("/weights"), { layer: h.l, row: h.i, col: h.j, value });
      status("");
    } catch (err) { status(err.message); }
  }

  // ------------------------------------------------------------------ charts
  function drawLossChart() {
    const c = $("lossChart"), g = c.getContext("2d");
    const W = c.width, H = c.height;
    g.clearRect(0, 0, W, H);
    const [xs, ys] = lossSeries.points();
    if (!xs.length) return;
    let max = 0;
    for (const y of ys) for (const v of y) if (v != null && isFinite(v)) max = Math.max(max, v);
    max = max || 1;
    const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
    const X = (x) => (x - x0) / (x1 - x0) * (W - 2) + 1, Y = (v) => H - 2 - v / max * (H - 6);
    for (const [s, color] of [[0, "#999"], [1, "#000"]]) {
      g.beginPath();
      let started = false;
      for (let i = 0; i < xs.length; i++) {
        const v = ys[i][s];
        if (v == null || !isFinite(v)) continue;
        if (!started) { g.moveTo(X(xs[i]), Y(v)); started = true; } else g.lineTo(X(xs[i]), Y(v));
      }
      g.strokeStyle = color;
      g.lineWidth = 1.5;
      g.stroke();
    }
    g.fillStyle = "#999"; g.font = "10px sans-serif";
    g.fillText(max.toPrecision(2), 2, 10);
  }

  function drawGradChart() {
    const c = $("gradChart"), g = c.getContext("2d");
    const W = c.width, H = c.height, pad = 30;
    g.clearRect(0, 0, W, H);
    const [xs, ys] = gradSeries.points();
    if (!xs.length) return;
    let lo = Infinity, hi = -Infinity;
    for (const y of ys) for (const v of y) if (v > 0 && isFinite(v)) { const l = Math.log10(v); lo = Math.min(lo, l); hi = Math.max(hi, l); }
    if (!isFinite(lo)) return;
    lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1);
    const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
    const X = (x) => pad + (x - x0) / (x1 - x0) * (W - pad - 4), Y = (l) => H - 14 - (l - lo) / (hi - lo) * (H - 20);
    g.strokeStyle = "#eee"; g.fillStyle = "#888"; g.font = "10px sans-serif"; g.lineWidth = 1;
    const every = Math.max(1, Math.ceil((hi - lo) / 6));
    for (let e = lo; e <= hi; e += every) {
      g.beginPath(); g.moveTo(pad, Y(e)); g.lineTo(W, Y(e)); g.stroke();
      g.fillText(`1e${e}`, 0, Y(e) + 3);
    }
    g.fillText(`epoch ${x1}`, W - 70, H - 2);
    const layers = ys[ys.length - 1].length;
    for (let l = 0; l < layers; l++) {
      g.beginPath();
      let started = false;
      for (let i = 0; i < xs.length; i++) {
        const v = ys[i][l];
        if (!(v > 0) || !isFinite(v)) continue;
        const px = X(xs[i]), py = Y(Math.log10(v));
        if (!started) { g.moveTo(px, py); started = true; } else g.lineTo(px, py);
      }
      g.strokeStyle = LAYER_COLORS[l % LAYER_COLORS.length];
      g.lineWidth = 1.5;
      g.stroke();
    }
    const legend = $("gradLegend");
    if (legend.childElementCount !== layers) {
      legend.innerHTML = "";
      for (let l = 0; l < layers; l++) {
        const s = document.createElement("span");
        s.style.setProperty("--c", LAYER_COLORS[l % LAYER_COLORS.length]);
        s.textContent = l === layers - 1 ? "output" : `layer ${l + 1}`;
        legend.appendChild(s);
      }
    }
  }

  function setupChartHover(canvas, tip, series, text) {
    canvas.onmousemove = (event) => {
      const [xs, ys] = series.points();
      if (!xs.length) return;
      const r = canvas.getBoundingClientRect();
      const fx = (event.clientX - r.left) / r.width;
      const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
      const pad = canvas.id === "gradChart" ? 30 / canvas.width : 0;
      const target = x0 + Math.max(0, (fx - pad) / (1 - pad)) * (x1 - x0);
      let best = 0;
      for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - target) < Math.abs(xs[best] - target)) best = i;
      tip.textContent = text(xs[best], ys[best]);
      tip.style.left = `${Math.min(event.clientX - r.left + 10, r.width - 150)}px`;
      tip.style.top = `${event.clientY - r.top + 12}px`;
      tip.hidden = false;
    };
    canvas.onmouseleave = () => { tip.hidden = true; };
  }

  function drawAccuracy() {
    const h = frame && frame.h;
    const k = server.classes;
    $("accuracyPanel").style.opacity = k ? 1 : 0.4;
    setText("trainAcc", h && h.trainAcc != null ? `${(h.trainAcc * 100).toFixed(1)}%` : "\u2013");
    setText("testAcc", h && h.testAcc != null ? `${(h.testAcc * 100).toFixed(1)}%` : "\u2013");
    const table = $("confusion");
    const m = h && h.confusion ? h.confusion[$("confusionSet").value] : null;
    const key = JSON.stringify(m) + k;
    if (key === table.dataset.key) return; // unchanged: leave the DOM alone
    table.dataset.key = key;
    if (!m) { table.textContent = k ? "" : "regression: no classes"; return; }
    let max = 1;
    for (const row of m) for (const v of row) max = Math.max(max, v);
    // Built with DOM calls: the content-security policy refuses style attributes in markup.
    const cell = (tag, text, color) => {
      const c = document.createElement(tag);
      c.textContent = text;
      if (color) c.style.color = color;
      return c;
    };
    const head = document.createElement("tr");
    head.appendChild(cell("th", ""));
    m.forEach((_, j) => head.appendChild(cell("th", String(j), rgb(CLASS_COLORS[j]))));
    const rows = [head];
    m.forEach((row, i) => {
      const tr = document.createElement("tr");
      tr.appendChild(cell("th", String(i), rgb(CLASS_COLORS[i])));
      row.forEach((v, j) => {
        const td = cell("td", String(v));
        td.style.background = rgb(i === j ? BLUE : ORANGE, (0.08 + 0.6 * v / max).toFixed(2));
        tr.appendChild(td);
      });
      rows.push(tr);
    });
    table.replaceChildren(...rows);
  }

  function fillWarpLayers() {
    if (!server) return;
    const sel = $("warpLayer");
    const keep = sel.value;
    const names = ["inputs", ...server.sizes.slice(1, -1).map((_, l) => `hidden ${l + 1}`), "output"];
    sel.innerHTML = "";
    names.forEach((name, l) => {
      if (server.sizes[l] < 1) return;
      addOption(sel, l, name);
    });
    const fallback = server.sizes.length > 2 ? "1" : "0";
    sel.value = keep !== "" && Number(keep) < names.length ? keep : fallback;
    fillWarpUnits();
  }

  function fillWarpUnits() {
    const l = Number($("warpLayer").value);
    const n = server.sizes[l];
    const label = (j) => (l === 0 ? FEATURE_LABEL[config.features[j]] : String(j + 1));
    for (const [id, dflt] of [["warpA", 0], ["warpB", Math.min(1, n - 1)]]) {
      const sel = $(id), keep = sel.value;
      sel.innerHTML = "";
      for (let j = 0; j < n; j++) addOption(sel, j, label(j));
      sel.value = keep !== "" && Number(keep) < n ? keep : String(dflt);
    }
    sendView();
  }

  function drawWarp() {
    const c = $("warp"), g = c.getContext("2d");
    const W = c.width, H = c.height;
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    const w = frame.b.warp;
    if (!w) return;
    const n = w.length / 2;
    const xs = w.subarray(0, n), ys = w.subarray(n);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) { x0 = Math.min(x0, xs[i]); x1 = Math.max(x1, xs[i]); y0 = Math.min(y0, ys[i]); y1 = Math.max(y1, ys[i]); }
    const dx = (x1 - x0) || 1, dy = (y1 - y0) || 1;
    const X = (v) => 8 + (v - x0) / dx * (W - 16), Y = (v) => H - 8 - (v - y0) / dy * (H - 16);
    const nPoints = server.points.length;
    const linePts = n - nPoints, per = server.warpLinePoints;
    g.strokeStyle = "rgba(0,0,0,0.18)";
    g.lineWidth = 1;
    for (let s = 0; s + per <= linePts; s += per) {
      g.beginPath();
      for (let i = 0; i < per; i++) {
        const k = nPoints + s + i;
        if (i === 0) g.moveTo(X(xs[k]), Y(ys[k])); else g.lineTo(X(xs[k]), Y(ys[k]));
      }
      g.stroke();
    }
    // The warp arrays list the points in the order of server.points. One path per colour.
    const k = server.classes;
    const groups = new Map();
    for (let i = 0; i < nPoints; i++) {
      const [, , label, train] = server.points[i];
      if (!train && !ui.showTest) continue;
      const key = `${rgb(pointColor(label, k))}|${train}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    }
    for (const [key, members] of groups) {
      const [color, train] = key.split("|");
      g.beginPath();
      for (const i of members) {
        g.moveTo(X(xs[i]) + 2.4, Y(ys[i]));
        g.arc(X(xs[i]), Y(ys[i]), 2.4, 0, 2 * Math.PI);
      }
      g.fillStyle = color;
      g.fill();
      g.strokeStyle = train === "1" ? "#fff" : "#000";
      g.stroke();
    }
  }

  // ------------------------------------------------------------------ the trace panel
  function showTrace(result) {
    const el = $("trace");
    el.innerHTML = "";
    el.appendChild(renderTrace(result));
  }

  // The trace comes from Network.trace(...).to_dict(); it is drawn generically (sections for
  // objects, tables for vectors and matrices) so every number it holds is shown, each cell
  // carrying its JSON path and full value for anyone who wants to check it.
  function renderTrace(t) {
    const root = document.createElement("div");
    const p = t.point;
    const head = document.createElement("p");
    const names = p.names.map((n, i) => `${FEATURE_LABEL[n]} = ${short(p.features[i])}`).join(", ");
    head.textContent = `Point (${p.x.toFixed(3)}, ${p.y.toFixed(3)}), target ${short(p.label)}; input x: ${names}.`;
    root.appendChild(head);
    if (t.format !== "chainrule.trace/1") { // an unknown layout: show every number it holds
      for (const [key, value] of Object.entries(t)) if (key !== "point") renderValue(root, key, value, [key], 0);
      return root;
    }
    const loss = document.createElement("div");
    loss.append(`Loss ${t.loss_name} = ${t.loss_formula}: L = `);
    loss.appendChild(numberCell("b", t.loss, ["loss"]));
    if (t.penalty) { loss.append(" (including the penalty "); loss.appendChild(numberCell("span", t.penalty, ["penalty"])); loss.append(")"); }
    loss.append(`; update with \u03b7 = ${short(t.lr)}.`);
    root.appendChild(loss);
    const out = document.createElement("div");
    out.append("\u0177 = ");
    out.appendChild(vectorTable(t.output[0], ["output", 0]));
    out.append(" y = ");
    out.appendChild(vectorTable(t.y[0], ["y", 0]));
    out.className = "inline";
    root.appendChild(out);
    const rows = [["h_prev", "h(\u2113\u22121)"], ["e", "e(\u2113)"], ["h", "h(\u2113)"], ["dL_dh", "\u2202L/\u2202h(\u2113)"], ["g_prime", "g\u2032(e)"], ["delta", "\u03b4(\u2113)"], ["dL_db", "\u2202L/\u2202b(\u2113)"]];
    const mats = [["dL_dW", "\u2202L/\u2202W(\u2113) = h(\u2113\u22121)\u1d40\u00b7\u03b4(\u2113)"], ["W", "W(\u2113)"], ["W_new", "W(\u2113) \u2212 \u03b7\u00b7\u2202L/\u2202W"]];
    t.layers.forEach((layer, i) => {
      const h4 = document.createElement("h4");
      h4.textContent = `Layer \u2113 = ${layer.layer + 1}: ${layer.shape[0]} \u2192 ${layer.shape[1]}, ${layer.activation}`;
      root.appendChild(h4);
      const table = document.createElement("table");
      for (const [key, label] of rows) {
        const value = layer[key];
        if (value == null) continue;
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.textContent = label;
        th.title = t.meanings[key] || "";
        tr.appendChild(th);
        const vector = Array.isArray(value[0]) ? value[0] : value;
        const path = Array.isArray(value[0]) ? ["layers", i, key, 0] : ["layers", i, key];
        vector.forEach((v, j) => tr.appendChild(numberCell("td", v, [...path, j])));
        table.appendChild(tr);
      }
      root.appendChild(table);
      const grid = document.createElement("div");
      grid.className = "tracemats";
      for (const [key, label] of mats) {
        const box = document.createElement("div");
        const cap = document.createElement("div");
        cap.className = "meaning";
        cap.textContent = label;
        cap.title = t.meanings[key] || "";
        box.appendChild(cap);
        const m = document.createElement("table");
        layer[key].forEach((row, r) => {
          const tr = document.createElement("tr");
          row.forEach((v, c) => tr.appendChild(numberCell("td", v, ["layers", i, key, r, c])));
          m.appendChild(tr);
        });
        box.appendChild(m);
        grid.appendChild(box);
      }
      root.appendChild(grid);
    });
    return root;
  }

  function vectorTable(values, path) {
    const table = document.createElement("table");
    const tr = document.createElement("tr");
    values.forEach((v, j) => tr.appendChild(numberCell("td", v, [...path, j])));
    table.appendChild(tr);
    return table;
  }

  const isNumber = (v) => typeof v === "number" || v === null;
  const isVector = (v) => Array.isArray(v) && v.every(isNumber);
  const isMatrix = (v) => Array.isArray(v) && v.length > 0 && v.every(isVector);

  function numberCell(tag, v, path) {
    const c = document.createElement(tag);
    c.textContent = v === null ? "\u2013" : short(v);
    c.dataset.path = JSON.stringify(path);
    c.dataset.v = String(v);
    c.title = String(v);
    return c;
  }

  function renderValue(parent, key, value, path, depth) {
    const label = document.createElement(depth === 0 ? "h4" : "div");
    label.className = depth === 0 ? "" : "meaning";
    label.textContent = key;
    if (isNumber(value)) {
      const row = document.createElement("div");
      row.append(`${key} = `);
      row.appendChild(numberCell("b", value, path));
      parent.appendChild(row);
    } else if (typeof value === "string" || typeof value === "boolean") {
      const row = document.createElement("div");
      row.textContent = `${key}: ${value}`;
      parent.appendChild(row);
    } else if (isVector(value) || isMatrix(value)) {
      parent.appendChild(label);
      const table = document.createElement("table");
      const rows = isMatrix(value) ? value : [value];
      rows.forEach((row, i) => {
        const tr = document.createElement("tr");
        row.forEach((v, j) => tr.appendChild(numberCell("td", v, isMatrix(value) ? [...path, i, j] : [...path, j])));
        table.appendChild(tr);
      });
      parent.appendChild(table);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        const title = item && typeof item === "object" && !Array.isArray(item) && ("name" in item || "layer" in item)
          ? `${key} ${item.name ?? item.layer}` : `${key} ${i}`;
        renderValue(parent, title, item, [...path, i], depth);
      });
    } else if (value && typeof value === "object") {
      parent.appendChild(label);
      const box = document.createElement("div");
      box.className = "tracegroup";
      for (const [k, v] of Object.entries(value)) renderValue(box, k, v, [...path, k], depth + 1);
      parent.appendChild(box);
    }
  }

  start().catch((err) => status(`Could not start: ${err.message}`));
})();
