// Carousel's dashboard: the keys (anomalous first, searchable), and for the chosen key a live
// chart of its values, the forecast made for each event with its interval, the flagged anomalies
// and the model versions. Everything comes from the query API of the instance that served this
// page (which forwards to the instance holding the key); it polls, so it needs nothing but HTTP.
(function () {
  "use strict";

  const POLL_MS = 1000;
  const KEYS_MS = 3000;
  const MAX_POINTS = 2000;

  const $ = (id) => document.getElementById(id);
  let keys = [];
  let selected = null;
  let series = empty();
  let models = [];
  let current = null;
  let plot = null;
  let busy = false;

  function empty() {
    return { t: [], value: [], forecast: [], lower: [], upper: [], anomaly: [] };
  }

  function fmt(v, digits) {
    return v === null || v === undefined ? "–" : Number(v).toFixed(digits === undefined ? 2 : digits);
  }

  function time(ms) {
    return ms === null || ms === undefined ? "–" : new Date(ms).toISOString().replace("T", " ").replace(".000Z", "Z");
  }

  async function get(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      throw new Error(r.status + " " + (body.error || r.statusText));
    }
    return r.json();
  }

  async function post(path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem("carousel-token");
    if (token) headers["Authorization"] = "Bearer " + token;
    let r = await fetch(path, { method: "POST", headers, body: JSON.stringify(body || {}) });
    if (r.status === 401) {
      const t = window.prompt("This Carousel needs its http.token for writes:");
      if (!t) return r;
      sessionStorage.setItem("carousel-token", t);
      headers["Authorization"] = "Bearer " + t;
      r = await fetch(path, { method: "POST", headers, body: JSON.stringify(body || {}) });
    }
    return r;
  }

  function status(text, bad) {
    const s = $("status");
    s.textContent = text;
    s.style.color = bad ? "#ff9b8f" : "";
  }

  // ---- the list of keys

  async function loadKeys() {
    try {
      const all = [];
      let after = null;
      for (let page = 0; page < 10; page++) {
        const q = "/keys?limit=1000" + (after ? "&after=" + encodeURIComponent(after) : "");
        const r = await get(q);
        all.push(...r.keys);
        if (!r.next) break;
        after = r.next;
      }
      keys = all;
      status(keys.length + " keys · " + new Date().toLocaleTimeString());
      renderKeys();
      if (!selected && location.hash.startsWith("#key=")) {
        select(decodeURIComponent(location.hash.substring(5)));
      }
    } catch (e) {
      status("keys: " + e.message, true);
    }
  }

  function renderKeys() {
    const term = $("search").value.trim().toLowerCase();
    const shown = keys.filter((k) => k.key.toLowerCase().includes(term));
    shown.sort((a, b) => (b.anomalous - a.anomalous) || ((b.lastAnomaly || 0) - (a.lastAnomaly || 0)) || (a.key < b.key ? -1 : 1));
    const ul = $("keys");
    ul.replaceChildren(...shown.map((k) => {
      const li = document.createElement("li");
      li.dataset.key = k.key;
      li.className = (k.anomalous ? "anomalous" : "") + (k.key === selected ? " selected" : "");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = k.key;
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = fmt(k.value);
      li.append(name, value);
      li.addEventListener("click", () => select(k.key));
      return li;
    }));
    $("key-count").textContent = shown.length + " of " + keys.length + " keys, anomalous first";
  }

  // ---- the chosen key

  function select(key) {
    if (key === selected) return;
    selected = key;
    history.replaceState(null, "", "#key=" + encodeURIComponent(key));
    series = empty();
    models = [];
    current = null;
    if (plot) {
      plot.destroy();
      plot = null;
    }
    $("empty").hidden = true;
    $("key-view").hidden = false;
    $("key-title").textContent = key;
    $("chart").dataset.key = key;
    $("action-result").textContent = "";
    renderKeys();
    refresh().then(loadModels);
  }

  async function refresh() {
    if (!selected || busy) return;
    busy = true;
    const key = selected;
    const path = "/keys/" + encodeURIComponent(key);
    try {
      const since = series.t.length ? series.t[series.t.length - 1] : null;
      const s = await get(path + "/series" + (since !== null ? "?since=" + since : ""));
      const k = await get(path);
      if (key !== selected) return;
      for (const c of Object.keys(series)) series[c].push(...s[c]);
      const extra = series.t.length - MAX_POINTS;
      if (extra > 0) for (const c of Object.keys(series)) series[c].splice(0, extra);
      current = k;
      renderFacts();
      renderChart();
      renderAnomalies();
    } catch (e) {
      status(key + ": " + e.message, true);
    } finally {
      busy = false;
    }
  }

  async function loadModels() {
    if (!selected) return;
    try {
      const m = await get("/models/" + encodeURIComponent(selected));
      models = m.versions;
      renderVersions(m);
      if (plot) plot.redraw();
    } catch (e) {
      models = [];
      renderVersions(null);
    }
  }

  function renderFacts() {
    const k = current;
    const facts = [
      ["value", fmt(k.value)],
      ["at", time(k.timestamp)],
      ["next forecast", fmt(k.forecast.value) + " [" + fmt(k.forecast.lower) + ", " + fmt(k.forecast.upper) + "]"],
      ["anomaly score", fmt(k.score, 4)],
      ["threshold", fmt(k.threshold, 6)],
      ["events", k.events],
      ["anomalies", k.anomalies],
      ["model", "v" + k.modelVersion + " (" + k.source + ")"],
      ["warm", k.warm ? "yes" : "no"],
      ["feedback", k.feedback.falsePositives + " false, " + k.feedback.missedAnomalies + " missed"],
    ];
    $("facts").replaceChildren(...facts.map(([n, v]) => {
      const d = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = n;
      const dd = document.createElement("dd");
      dd.textContent = v;
      d.append(dt, dd);
      return d;
    }));
  }

  // columns for uPlot: x in seconds; the next forecast appended as one more point
  function columns() {
    const x = series.t.map((t) => t / 1000);
    const value = series.value.slice();
    const forecast = series.forecast.slice();
    const lower = series.lower.slice();
    const upper = series.upper.slice();
    const anomaly = series.value.map((v, i) => (series.anomaly[i] ? v : null));
    const next = series.value.map(() => null);
    if (current && current.forecast.timestamp !== null && current.forecast.value !== null) {
      x.push(current.forecast.timestamp / 1000);
      value.push(null);
      forecast.push(current.forecast.value);
      lower.push(current.forecast.lower);
      upper.push(current.forecast.upper);
      anomaly.push(null);
      next.push(current.forecast.value);
    }
    return [x, value, forecast, lower, upper, anomaly, next];
  }

  function versionLines(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.strokeStyle = "#7a4fd0";
    ctx.fillStyle = "#7a4fd0";
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.font = (11 * devicePixelRatio) + "px system-ui, sans-serif";
    for (const v of models) {
      if (v.trainedAt === null) continue;
      const x = u.valToPos(v.trainedAt / 1000, "x", true);
      if (x < left || x > left + width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillText("v" + v.version, x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }

  function renderChart() {
    const data = columns();
    const el = $("chart");
    el.dataset.points = String(series.t.length);
    el.dataset.anomalies = String(series.anomaly.filter(Boolean).length);
    el.dataset.first = series.t.length ? String(series.t[0]) : "";
    el.dataset.last = series.t.length ? String(series.t[series.t.length - 1]) : "";
    if (plot) {
      plot.setData(data);
      return;
    }
    const width = Math.max(400, el.clientWidth - 12);
    plot = new uPlot({
      width,
      height: 360,
      scales: { x: { time: true } },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      series: [
        {},
        { label: "value", stroke: "#1d2430", width: 1.5 },
        { label: "forecast", stroke: "#2d6cdf", width: 1.2, dash: [6, 3] },
        { label: "lower", stroke: "rgba(45,108,223,0.25)", width: 1 },
        { label: "upper", stroke: "rgba(45,108,223,0.25)", width: 1 },
        { label: "anomaly", stroke: "#d43a2f", fill: "#d43a2f", width: 0, paths: () => null,
          points: { show: true, size: 10, stroke: "#d43a2f", fill: "#d43a2f" } },
        { label: "next", stroke: "#2d6cdf", width: 0, paths: () => null,
          points: { show: true, size: 9, stroke: "#2d6cdf", fill: "#fff" } },
      ],
      bands: [{ series: [4, 3], fill: "rgba(45,108,223,0.12)" }],
      hooks: { draw: [versionLines] },
    }, data, el);
  }

  function renderAnomalies() {
    const ul = $("anomaly-list");
    const items = [];
    for (let i = series.t.length - 1; i >= 0 && items.length < 50; i--) {
      if (!series.anomaly[i]) continue;
      const li = document.createElement("li");
      li.dataset.ts = String(series.t[i]);
      li.textContent = time(series.t[i]) + "  value " + fmt(series.value[i]) + ", expected " + fmt(series.forecast[i])
        + " [" + fmt(series.lower[i]) + ", " + fmt(series.upper[i]) + "]";
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "not an anomaly";
      const ts = series.t[i];
      b.addEventListener("click", () => feedback(ts));
      li.append(b);
      items.push(li);
    }
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "none in the shown history";
      items.push(li);
    }
    ul.replaceChildren(...items);
  }

  function renderVersions(m) {
    const tbody = $("versions").querySelector("tbody");
    if (!m || !m.versions.length) {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td colspan=6 class=muted>untrained: forecasting by persistence until the first model is accepted</td>";
      tbody.replaceChildren(tr);
      return;
    }
    tbody.replaceChildren(...m.versions.slice().reverse().map((v) => {
      const tr = document.createElement("tr");
      tr.className = v.serving ? "serving" : "";
      const cells = ["v" + v.version, time(v.trainedAt), v.dataSpan.events + " events",
        fmt(v.loss.validation, 4), fmt(v.loss.previousValidation, 4),
        v.serving ? "serving" : (v.rolledBackAt !== null ? "rolled back" : "")];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = c;
        tr.append(td);
      }
      return tr;
    }));
  }

  async function feedback(ts) {
    const r = await post("/keys/" + encodeURIComponent(selected) + "/feedback", { timestamp: ts, anomaly: false });
    const body = await r.json().catch(() => ({}));
    $("action-result").textContent = r.ok ? "marked " + time(ts) + " as a false positive; threshold now "
      + fmt(body.state ? body.state.threshold : null, 6) : "feedback: " + (body.error || r.status);
    series = empty();
    await refresh();
  }

  async function rollback() {
    const r = await post("/models/" + encodeURIComponent(selected) + "/rollback", {});
    const body = await r.json().catch(() => ({}));
    $("action-result").textContent = r.ok ? "rolled back from v" + body.from + " to v" + body.to : "rollback: " + (body.error || r.status);
    loadModels();
  }

  $("search").addEventListener("input", renderKeys);
  $("rollback").addEventListener("click", rollback);
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#key=")) select(decodeURIComponent(location.hash.substring(5)));
  });
  loadKeys();
  setInterval(loadKeys, KEYS_MS);
  setInterval(refresh, POLL_MS);
  setInterval(loadModels, 5 * POLL_MS);
})();
