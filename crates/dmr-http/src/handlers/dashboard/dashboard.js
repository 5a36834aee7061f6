// The live dashboard: polls the stats every 2 s (not while the tab is hidden) and draws
// rates from the difference of two answers. Every field of the answer is optional here:
// a missing or null one shows as "–", it never stops the page.
"use strict";

(() => {
  const STATS = "/api/models/stats";
  const HEALTH = "/health";
  const INDEX = "/";
  const POLL_MS = 2000;
  const POINTS = 60; // two minutes of sparkline
  const KEY_ITEM = "dmr-dashboard-admin-key";
  const SVG = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const body = document.body;

  /** `obj.a.b.c`, or undefined wherever the path breaks. */
  const at = (obj, path) =>
    path.split(".").reduce((o, k) => (o !== null && typeof o === "object" ? o[k] : undefined), obj);
  /** A finite number, else null. */
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const put = (id, text) => {
    const el = $(id);
    if (el) el.textContent = text;
  };

  const fmt = {
    count(v) {
      v = num(v);
      if (v === null) return "–";
      if (Math.abs(v) >= 1e9) return (v / 1e9).toFixed(1) + "G";
      if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
      if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + "k";
      return String(Math.round(v));
    },
    rate(v) {
      v = num(v);
      if (v === null) return "–";
      return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
    },
    ms(v) {
      v = num(v);
      if (v === null) return "–";
      return v >= 100 ? String(Math.round(v)) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
    },
    percent(v) {
      v = num(v);
      if (v === null) return "–";
      const p = v * 100;
      return (p === 0 || p === 100 ? String(p) : p >= 99.95 || p < 10 ? p.toFixed(2) : p.toFixed(1)) + "%";
    },
    duration(seconds) {
      seconds = num(seconds);
      if (seconds === null) return "?";
      const s = Math.floor(seconds);
      const d = Math.floor(s / 86400);
      const h = Math.floor((s % 86400) / 3600);
      const m = Math.floor((s % 3600) / 60);
      if (d > 0) return `${d}d ${h}h`;
      if (h > 0) return `${h}h ${m}m`;
      if (m > 0) return `${m}m ${s % 60}s`;
      return `${s}s`;
    },
  };

  /** A pill's text and colour class (good, warn, bad or none). */
  const pill = (id, text, tone) => {
    const el = $(id);
    if (!el) return;
    el.textContent = text;
    el.classList.remove("good", "warn", "bad");
    if (tone) el.classList.add(tone);
  };

  /** Sparklines: the last POINTS values of each series, drawn as SVG polylines. */
  const series = { rate: [], p50: [], p99: [], errors: [], l1: [] };
  const push = (name, value) => {
    const s = series[name];
    s.push(num(value));
    if (s.length > POINTS) s.shift();
  };
  const draw = (id, lists, floorMax) => {
    const svg = $(id);
    if (!svg) return;
    const values = lists.flat().filter((v) => v !== null);
    const max = Math.max(floorMax, ...values);
    // The longest history without its leading gaps (no answer yet to take a rate from)
    // sets the spacing; the lines end together at the right edge.
    const length = Math.max(...lists.map((list) => list.length - Math.max(0, list.findIndex((v) => v !== null))));
    lists.forEach((list, i) => {
      let line = svg.children[i];
      if (!line) {
        line = document.createElementNS(SVG, "polyline");
        if (i > 0) line.setAttribute("class", "second");
        svg.appendChild(line);
      }
      // Spread over the whole width until the history is full, then one point a poll.
      const step = 120 / Math.max(1, length - 1);
      const offset = length - list.length;
      const points = [];
      list.forEach((v, j) => {
        if (v === null) return;
        const x = (offset + j) * step;
        const y = 31 - (max > 0 ? (v / max) * 30 : 0);
        points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      });
      line.setAttribute("points", points.join(" "));
    });
  };

  // What the previous answer said, for rates; dropped when the tab comes back.
  let previous = null;
  let server = { uptime: null, at: 0 };
  let key = sessionStorage.getItem(KEY_ITEM);
  let timer = null;
  // The poll under way, aborted when the tab is hidden: a hidden tab renders nothing.
  let inFlight = null;
  let waitingForKey = false;
  let polls = 0;

  const setState = (state, label, tone) => {
    body.dataset.state = state;
    pill("state", label, tone);
  };

  const banner = (text, tone) => {
    const el = $("banner");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("bad", tone === "bad");
  };

  const askForKey = (reason) => {
    waitingForKey = true;
    previous = null;
    setState("key", "admin key needed", "warn");
    put("key-reason", reason);
    banner("");
    $("key-form").hidden = false;
    $("key-input").focus();
  };

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = $("key-input").value.trim();
    if (!typed) return;
    key = typed;
    sessionStorage.setItem(KEY_ITEM, key);
    $("key-input").value = "";
    $("key-form").hidden = true;
    waitingForKey = false;
    setState("loading", "connecting", null);
    schedule(0);
  });

  const schedule = (delay) => {
    clearTimeout(timer);
    timer = null;
    if (waitingForKey || document.visibilityState === "hidden") return;
    timer = setTimeout(poll, delay);
  };

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      clearTimeout(timer);
      timer = null;
      if (inFlight) inFlight.abort();
      if (!waitingForKey) setState("paused", "paused", null);
    } else {
      // Rates over the hidden stretch would be an average of it: start afresh.
      previous = null;
      schedule(0);
    }
  });

  /** Version and uptime: public, read once (and again after a restart). */
  const readServer = async () => {
    try {
      const [index, health] = await Promise.all([
        fetch(INDEX, { cache: "no-store" }).then((r) => (r.ok ? r.json() : null)),
        fetch(HEALTH, { cache: "no-store" }).then((r) => (r.ok ? r.json() : null)),
      ]);
      const version = at(index, "version");
      if (typeof version === "string") put("version", version);
      server = { uptime: num(at(health, "uptime")), at: performance.now() };
      return at(health, "authentication");
    } catch (_) {
      return undefined;
    }
  };

  const poll = async () => {
    timer = null;
    const controller = new AbortController();
    inFlight = controller;
    try {
      await pollOnce(controller.signal);
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  };

  const pollOnce = async (signal) => {
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    let response;
    try {
      response = await fetch(STATS, { headers, cache: "no-store", signal });
    } catch (_) {
      if (signal.aborted) return;
      setState("error", "unreachable", "bad");
      banner("The server does not answer; retrying every 2 s.", "bad");
      previous = null;
      schedule(POLL_MS);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(KEY_ITEM);
      const refused = key !== null;
      key = null;
      askForKey(
        response.status === 403
          ? "That key is not the admin key (403): the statistics need the admin key."
          : refused
            ? "The key was refused (401). Type the admin key."
            : "The statistics need the admin key.",
      );
      return;
    }
    if (!response.ok) {
      setState("error", `stats ${response.status}`, "bad");
      banner(`The stats answered ${response.status}; retrying every 2 s.`, "bad");
      schedule(POLL_MS);
      return;
    }
    let stats;
    try {
      stats = await response.json();
    } catch (_) {
      if (signal.aborted) return;
      setState("error", "bad answer", "bad");
      banner("The stats answer is not JSON; retrying every 2 s.", "bad");
      schedule(POLL_MS);
      return;
    }
    if (signal.aborted) return;
    banner("");
    render(stats, performance.now());
    polls += 1;
    body.dataset.polls = String(polls);
    setState("live", "live", "good");
    schedule(POLL_MS);
  };

  const sum = (obj) =>
    obj && typeof obj === "object" ? Object.values(obj).reduce((a, v) => a + (num(v) ?? 0), 0) : null;

  /** The share `part / whole` of the difference since the previous answer. */
  const share = (part, whole) => (whole !== null && whole > 0 && part !== null ? part / whole : null);
  const delta = (now, before) => (num(now) !== null && num(before) !== null && now >= before ? now - before : null);

  const hitShare = (hits, misses) => (hits !== null && misses !== null ? share(hits, hits + misses) : null);

  const render = (stats, now) => {
    const http = at(stats, "http") || {};
    const total = num(http.total);
    const byStatus = at(http, "byStatus");
    const answered = sum(byStatus);
    const server5xx = num(at(byStatus, "5xx"));
    const l1Hits = num(at(stats, "cache.l1.hits"));
    const l1Misses = num(at(stats, "cache.l1.misses"));
    const l2Hits = num(at(stats, "cache.l2.hits"));
    const l2Misses = num(at(stats, "cache.l2.misses"));
    const sample = { now, total, answered, server5xx, l1Hits, l1Misses, l2Hits, l2Misses };

    // A counter that went backwards: the server restarted.
    if (previous && total !== null && previous.total !== null && total < previous.total) {
      previous = null;
      readServer();
    }
    let rate = null;
    let errorShare = null;
    let l1Share = null;
    let l2Share = null;
    if (previous) {
      const seconds = (now - previous.now) / 1000;
      const requests = delta(total, previous.total);
      if (requests !== null && seconds > 0) rate = requests / seconds;
      const responses = delta(answered, previous.answered);
      errorShare = share(delta(server5xx, previous.server5xx), responses);
      if (responses === 0) errorShare = 0;
      l1Share = hitShare(delta(l1Hits, previous.l1Hits), delta(l1Misses, previous.l1Misses));
      l2Share = hitShare(delta(l2Hits, previous.l2Hits), delta(l2Misses, previous.l2Misses));
    }
    previous = sample;

    // Requests.
    put("rate", fmt.rate(rate));
    put("total", fmt.count(total));
    put("in-flight", fmt.count(http.inFlight));
    push("rate", rate);
    draw("spark-rate", [series.rate], 1);

    // Latency over the server's window (up to a minute).
    const p50 = num(at(http, "latency.p50Ms"));
    const p99 = num(at(http, "latency.p99Ms"));
    const windowSeconds = num(at(http, "latency.windowSeconds"));
    put("p50", fmt.ms(p50));
    put("p99", fmt.ms(p99));
    put("latency-window", windowSeconds !== null && windowSeconds < 59 ? `last ${Math.max(1, Math.round(windowSeconds))} s` : "last minute");
    push("p50", p50);
    push("p99", p99);
    draw("spark-latency", [series.p99, series.p50], 1);

    // Errors: the 5xx share of the responses since the previous answer.
    put("error-rate", fmt.percent(errorShare));
    put("count-4xx", fmt.count(at(byStatus, "4xx")));
    put("count-5xx", fmt.count(server5xx));
    push("errors", errorShare === null ? null : errorShare * 100);
    draw("spark-errors", [series.errors], 1);

    // L1: the hit share of the lookups since the previous answer (since start below, and
    // instead when there were none).
    put("l1-ratio", fmt.percent(l1Share ?? hitShare(l1Hits, l1Misses)));
    const l1Size = num(at(stats, "cache.l1.size"));
    const l1Max = num(at(stats, "cache.l1.maxSize"));
    put("l1-size", l1Max !== null ? `${fmt.count(l1Size)} / ${fmt.count(l1Max)}` : fmt.count(l1Size));
    put("l1-total", fmt.percent(hitShare(l1Hits, l1Misses)));
    push("l1", l1Share === null ? null : l1Share * 100);
    draw("spark-l1", [series.l1], 100);

    renderL2(at(stats, "cache.l2") || {}, l2Share ?? hitShare(l2Hits, l2Misses));
    renderBackplane(at(stats, "backplane") || {});
    renderConnections(at(stats, "connections") || {});
    renderTenants(at(http, "topTenants"));

    const backend = at(stats, "registry.backend");
    put("backend", typeof backend === "string" ? backend : "store ?");
    if (server.uptime !== null) {
      put("uptime", fmt.duration(server.uptime + (now - server.at) / 1000));
    }
    put("updated", new Date().toLocaleTimeString());
  };

  const renderL2 = (l2, l2Share) => {
    const status = typeof l2.status === "string" ? l2.status : null;
    const enabled = l2.enabled === true;
    const statusTone = { healthy: "good", degraded: "warn", unhealthy: "bad" }[status] || null;
    pill("l2-status", status || (enabled ? "?" : "off"), statusTone);
    const breaker = typeof l2.breaker === "string" ? l2.breaker : enabled ? "?" : "n/a";
    pill("breaker", breaker, breaker === "closed" ? "good" : breaker === "open" ? "bad" : breaker === "n/a" ? null : "warn");
    if (!enabled) {
      put("l2-ratio", "off");
      put("l2-keys", "–");
      put("l2-detail", "No REDIS_URL: L1 and the store only.");
      return;
    }
    put("l2-ratio", fmt.percent(l2Share));
    const keys = num(l2.keyCount);
    const keyError = typeof l2.keyCountError === "string" ? l2.keyCountError : null;
    put("l2-keys", keys !== null ? fmt.count(keys) + (l2.keyCountCapped === true ? "+" : "") : keyError ? "unknown" : "–");
    const detail = [];
    if (l2.connected === true) detail.push("connected");
    else if (l2.connected === false) detail.push("not connected");
    if (num(l2.hits) !== null) detail.push(`hits ${fmt.count(l2.hits)} · misses ${fmt.count(l2.misses)}`);
    if (num(l2.errors) !== null) detail.push(`errors ${fmt.count(l2.errors)}`);
    if (num(l2.latencyAvgMs) !== null) detail.push(`avg ${fmt.ms(l2.latencyAvgMs)} ms`);
    if (keyError) detail.push(`keys: ${keyError}`);
    put("l2-detail", detail.join(" · "));
  };

  const renderBackplane = (backplane) => {
    const enabled = backplane.enabled === true;
    let state = "off";
    let tone = null;
    if (enabled) {
      // `subscribed` (up now) where the server reports it, else "ever subscribed".
      const up = typeof backplane.subscribed === "boolean" ? backplane.subscribed : num(backplane.subscriptions) > 0;
      state = up ? "subscribed" : "down";
      tone = up ? "good" : "bad";
    }
    pill("backplane-state", state, tone);
    put("backplane-applied", enabled ? fmt.count(backplane.applied) : "–");
    put("backplane-sent", fmt.count(backplane.sent));
    put("backplane-received", fmt.count(backplane.received));
    put("backplane-subscriptions", fmt.count(backplane.subscriptions));
  };

  const renderConnections = (connections) => {
    const open = num(connections.totalConnections);
    const max = num(connections.maxOpen);
    put("tenants-open", fmt.count(open));
    put("tenants-max", fmt.count(max));
    $("tenants-bar").style.width = open !== null && max ? `${Math.min(100, (open / max) * 100)}%` : "0";
    // The shared pool (MongoDB's client), else the sum of each tenant's (SQLite's).
    let pool = connections.pool && typeof connections.pool === "object" ? connections.pool : null;
    if (!pool && Array.isArray(connections.connections)) {
      pool = connections.connections.reduce(
        (acc, c) => {
          acc.inUse += num(at(c, "pool.inUse")) ?? 0;
          acc.idle += num(at(c, "pool.idle")) ?? 0;
          acc.maxSize += num(at(c, "pool.maxSize")) ?? 0;
          return acc;
        },
        { inUse: 0, idle: 0, maxSize: 0 },
      );
    }
    put("pool-in-use", fmt.count(at(pool, "inUse")));
    put("pool-idle", fmt.count(at(pool, "idle")));
    put("pool-max", fmt.count(at(pool, "maxSize")));
  };

  const renderTenants = (top) => {
    const list = $("top-tenants");
    const rows = Array.isArray(top) ? top.filter((t) => t && typeof t.tenantId === "string") : [];
    const most = Math.max(1, ...rows.map((t) => num(t.requests) ?? 0));
    list.replaceChildren(
      ...rows.map((t) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = t.tenantId;
        name.title = t.tenantId;
        const count = document.createElement("span");
        count.textContent = fmt.count(t.requests);
        const meter = document.createElement("div");
        meter.className = "meter";
        const fill = document.createElement("div");
        fill.className = "fill";
        fill.style.width = `${((num(t.requests) ?? 0) / most) * 100}%`;
        meter.appendChild(fill);
        item.append(name, count, meter);
        return item;
      }),
    );
    $("top-tenants-empty").hidden = rows.length > 0;
  };

  const start = async () => {
    const authentication = await readServer();
    if (authentication === "enabled" && !key) {
      askForKey("The statistics need the admin key.");
      return;
    }
    schedule(0);
  };

  start();
})();
