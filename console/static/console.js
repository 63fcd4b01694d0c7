// console.js keeps a wims console page live. The page names its event
// stream in <body data-stream>; every snapshot the server sends is written
// into the page as text (textContent, never innerHTML), so nothing the
// server relays can become markup. New rows are clones of a <template>;
// an order's trace is drawn as SVG elements made one by one, whose
// attributes are the numbers and class names the server worked out.
"use strict";

(function () {
  const url = document.body.dataset.stream;
  if (!url || !window.EventSource) {
    return;
  }
  const live = document.getElementById("live");

  function setLive(text, state) {
    if (live) {
      live.textContent = text;
      live.dataset.state = state;
    }
  }

  function setText(el, text) {
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  // setStatus writes a status badge: its text and its colour class.
  function setStatus(el, status) {
    if (!el) {
      return;
    }
    setText(el, status);
    el.className = "status status-" + status;
  }

  function updateOverview(o) {
    for (const [status, n] of Object.entries(o.counts || {})) {
      const capped = o.capped && o.capped[status];
      setText(document.getElementById("count-" + status), String(n) + (capped ? "+" : ""));
    }
    setText(document.getElementById("count-items"), String(o.items));
    setText(document.getElementById("count-low"), String(o.lowStock));
  }

  // rowsByID maps order id to the page's elements for that order.
  function rowsByID() {
    const m = new Map();
    for (const el of document.querySelectorAll("[data-order-id]")) {
      m.set(el.dataset.orderId, el);
    }
    return m;
  }

  function field(el, name) {
    return el.querySelector('[data-field="' + name + '"]');
  }

  function newRow(o) {
    const tpl = document.getElementById("order-row");
    const row = tpl.content.firstElementChild.cloneNode(true);
    row.dataset.orderId = o.id;
    const link = field(row, "link");
    link.href = o.href;
    link.textContent = o.id;
    setText(field(row, "created"), o.created);
    setText(field(row, "sku"), o.sku);
    setText(field(row, "quantity"), o.quantity.toLocaleString("en-US")); // grouped as on the server
    setText(field(row, "customer"), o.customer);
    return row;
  }

  function updateOrders(orders, newest) {
    const rows = rowsByID();
    const table = document.getElementById("orders");
    if (newest && table && table.hasAttribute("data-newest")) {
      // Add the newest orders the page lacks, in the server's order
      // (newest at the top). Rows already shown stay: a person reading
      // the page should not see rows vanish under the pointer.
      const byID = new Map(orders.map((o) => [o.id, o]));
      const body = table.tBodies[0];
      let before = body.firstElementChild;
      for (const id of newest) {
        let row = rows.get(id);
        if (!row) {
          row = newRow(byID.get(id));
          body.insertBefore(row, before);
          rows.set(id, row);
        }
        before = row.nextElementSibling;
      }
      const empty = document.getElementById("orders-empty");
      if (empty) {
        empty.hidden = body.rows.length > 0;
      }
    }
    for (const o of orders) {
      const el = rows.get(o.id);
      if (!el) {
        continue;
      }
      setStatus(field(el, "status"), o.status);
      setText(field(el, "reason"), o.reason || "—");
      setText(field(el, "updated"), o.updated);
    }
    // The order page's Cancel form goes once the order is past cancelling
    // (the statuses wims.Order.Cancel accepts), which would answer 409.
    const cancel = document.getElementById("order-cancel");
    const o = cancel && orders.find((x) => x.id === cancel.dataset.order);
    if (o) {
      cancel.hidden = !["PENDING", "RESERVED", "PAID"].includes(o.status);
    }
  }

  // appendRows adds to a table the entries it does not show yet: the
  // history and the payment attempts only ever grow. fill writes one
  // entry into a clone of the template row.
  function appendRows(tableID, templateID, entries, fill) {
    const table = document.getElementById(tableID);
    const tpl = document.getElementById(templateID);
    if (!table || !tpl || !entries) {
      return;
    }
    const body = table.tBodies[0];
    for (let i = body.rows.length; i < entries.length; i++) {
      const row = tpl.content.firstElementChild.cloneNode(true);
      fill(row, entries[i]);
      body.appendChild(row);
    }
    table.hidden = body.rows.length === 0;
    const empty = document.getElementById(tableID + "-empty");
    if (empty) {
      empty.hidden = body.rows.length > 0;
    }
  }

  function fillHistory(row, h) {
    setStatus(field(row, "status"), h.status);
    setText(field(row, "at"), h.at);
    setText(field(row, "reason"), h.reason || "");
  }

  function fillPayment(row, p) {
    setText(field(row, "attempt"), String(p.attempt));
    setText(field(row, "at"), p.at);
    setText(field(row, "outcome"), p.outcome);
    setText(field(row, "code"), p.code);
    setText(field(row, "duration"), p.duration);
    setText(field(row, "error"), p.error || "");
  }

  // showNote shows a note's text, or hides it when there is none.
  function showNote(id, text) {
    const el = document.getElementById(id);
    if (el) {
      setText(el, text || "");
      el.hidden = !text;
    }
  }

  // updateJourney redraws the order's journey: the stream sends it only
  // when it changed, and an entry may come between two shown (events are
  // logged a little after what they tell), so the rows are rebuilt.
  function updateJourney(j) {
    const table = document.getElementById("journey");
    const tpl = document.getElementById("journey-row");
    if (!j || !table || !tpl) {
      return;
    }
    const rows = [];
    for (const e of j.entries || []) {
      const row = tpl.content.firstElementChild.cloneNode(true);
      row.className = "journey-" + e.kind;
      setText(field(row, "at"), e.at);
      const kind = field(row, "kind");
      setText(kind, e.kindText);
      kind.className = "kind kind-" + e.kind;
      const what = field(row, "what");
      if (e.href && e.href.startsWith("/ui/")) {
        const link = document.createElement("a");
        link.href = e.href;
        link.textContent = e.label;
        what.appendChild(link);
      } else if (e.status) {
        const badge = document.createElement("span");
        setStatus(badge, e.status);
        what.appendChild(badge);
      } else {
        setText(what, e.label);
      }
      setText(field(row, "detail"), e.detail || "");
      rows.push(row);
    }
    table.tBodies[0].replaceChildren(...rows);
    showNote("journey-events-note", j.eventsNote);
    showNote("trace-note", j.traceNote);
    drawWaterfall(j.trace);
  }

  const svgNS = "http://www.w3.org/2000/svg";

  // svg makes an SVG element with attributes and, if given, text.
  function svg(name, attrs, text) {
    const el = document.createElementNS(svgNS, name);
    for (const [k, v] of Object.entries(attrs)) {
      el.setAttribute(k, String(v));
    }
    if (text !== undefined) {
      el.textContent = text;
    }
    return el;
  }

  // drawWaterfall draws the trace as the server does (order.html): the
  // server computed every bar's place, so this only makes the elements.
  function drawWaterfall(w) {
    const box = document.getElementById("trace");
    const figure = document.getElementById("waterfall");
    if (!box || !figure) {
      return;
    }
    if (!w) {
      box.hidden = true;
      return;
    }
    const axis = svg("g", { class: "wf-axis" });
    for (const t of w.ticks || []) {
      axis.appendChild(svg("line", { class: "wf-grid", x1: t.x, x2: t.x, y1: t.y1, y2: t.y2 }));
      axis.appendChild(svg("text", { class: "wf-tick", x: t.x, y: t.labelY, "text-anchor": "middle" }, t.label));
    }
    const bars = svg("g", { class: "wf-bars" });
    for (const b of w.bars || []) {
      const row = svg("g", { class: "wf-row" });
      row.appendChild(svg("text", { class: "wf-name", x: b.labelX, y: b.textY }, b.name));
      const rect = svg("rect", { class: b.class, x: b.x, y: b.y, width: b.w, height: b.h, rx: 2 });
      rect.appendChild(svg("title", {}, b.title));
      row.appendChild(rect);
      row.appendChild(svg("text", { class: "wf-dur", x: b.durX, y: b.textY }, b.dur));
      bars.appendChild(row);
    }
    figure.setAttribute("viewBox", "0 0 " + w.width + " " + w.height);
    figure.replaceChildren(axis, bars);
    setText(field(box, "trace-id"), w.traceId);
    setText(field(box, "trace-summary"), w.summary);
    box.hidden = false;
  }

  // addEvent puts an event logged while the events page is open at the
  // top of its table, once.
  function addEvent(ev) {
    const table = document.getElementById("events");
    const tpl = document.getElementById("event-row");
    if (!table || !tpl || !table.hasAttribute("data-live")) {
      return;
    }
    for (const el of table.querySelectorAll("tr[data-event-id]")) {
      if (el.dataset.eventId === ev.id) {
        return;
      }
    }
    const row = tpl.content.firstElementChild.cloneNode(true);
    row.dataset.eventId = ev.id;
    setText(field(row, "time"), ev.time);
    setText(field(row, "source"), ev.source);
    setText(field(row, "detailType"), ev.detailType);
    const link = field(row, "link");
    if (ev.href) {
      link.href = ev.href;
      link.textContent = ev.id;
    } else {
      link.replaceWith(document.createTextNode("—"));
    }
    const body = table.tBodies[0];
    body.insertBefore(row, body.firstElementChild);
    const empty = document.getElementById("events-empty");
    if (empty) {
      empty.hidden = true;
    }
  }

  // updateLive writes the overview's live figures, backlogs and plots, and
  // the inventory's stock plots. Plots are SVG polylines: the server
  // computes their points, the script only sets the attribute.
  function updateLive(l) {
    if (!l) {
      return;
    }
    for (const [id, text] of Object.entries(l.figures || {})) {
      setText(document.getElementById("fig-" + id), text);
    }
    for (const [id, points] of Object.entries(l.plots || {})) {
      const el = document.getElementById("plot-" + id);
      if (el) {
        el.setAttribute("points", points);
      }
    }
    for (const [sku, points] of Object.entries(l.stock || {})) {
      const el = document.querySelector('tr[data-sku="' + CSS.escape(sku) + '"] polyline');
      if (el) {
        el.setAttribute("points", points);
      }
    }
    for (const [sku, q] of Object.entries(l.quantities || {})) {
      const row = document.querySelector('tr[data-sku="' + CSS.escape(sku) + '"]');
      if (row) {
        setText(field(row, "quantity"), q);
      }
    }
    const table = document.getElementById("backlogs");
    const tpl = document.getElementById("backlog-row");
    if (table && tpl) {
      const body = table.tBodies[0];
      const rows = new Map();
      for (const el of body.querySelectorAll("tr[data-consumer]")) {
        rows.set(el.dataset.consumer, el);
      }
      for (const b of l.backlogs || []) {
        let row = rows.get(b.consumer);
        if (!row) {
          row = tpl.content.firstElementChild.cloneNode(true);
          row.dataset.consumer = b.consumer;
          setText(field(row, "consumer"), b.consumer);
          body.appendChild(row);
        }
        setText(field(row, "pending"), b.pending);
        setText(field(row, "ackPending"), b.ackPending);
        setText(field(row, "oldestAge"), b.oldestAge);
      }
    }
  }

  const source = new EventSource(url);
  source.addEventListener("open", () => setLive("Live", "live"));
  source.addEventListener("error", () => {
    // EventSource retries by itself, unless the server refused the stream
    // (the session ended, or the server is shutting down).
    if (source.readyState === EventSource.CLOSED) {
      setLive("Disconnected · reload the page", "down");
    } else {
      setLive("Reconnecting…", "down");
    }
  });
  source.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    updateOverview(snap.overview);
    updateOrders(snap.orders || [], snap.newest);
    appendRows("history", "history-row", snap.history, fillHistory);
    appendRows("payments", "payment-row", snap.payments, fillPayment);
    updateJourney(snap.journey);
    updateLive(snap.live);
    setLive("Live · updated " + new Date(snap.overview.at).toLocaleTimeString(), "live");
  });
  source.addEventListener("event", (e) => {
    addEvent(JSON.parse(e.data));
    setLive("Live · last event " + new Date().toLocaleTimeString(), "live");
  });
})();

// A replay's page follows the replay's progress on its own stream
// (data-replay-stream) until the replay ends; every value is written as
// text, or as a number into the <progress> bar.
(function () {
  const section = document.getElementById("replay");
  const url = section && section.dataset.replayStream;
  if (!url || !window.EventSource) {
    return;
  }
  function field(name) {
    return section.querySelector('[data-field="' + name + '"]');
  }
  function setText(name, text) {
    const el = field(name);
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }
  const source = new EventSource(url);
  source.addEventListener("open", () => setText("live", "Live"));
  source.addEventListener("error", () => {
    setText("live", source.readyState === EventSource.CLOSED ? "Disconnected · reload the page" : "Reconnecting…");
  });
  source.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    setText("state", p.state);
    setText("reason", p.reason || "");
    setText("replayed", p.replayed);
    setText("position", String(p.checkpoint) + " of " + String(p.endSeq));
    setText("lastReplayed", p.lastReplayed);
    setText("ended", p.ended);
    const bar = field("progress");
    if (bar) {
      bar.max = p.endSeq;
      bar.value = p.checkpoint;
    }
    if (p.done) {
      source.close(); // the replay will not change again
      setText("live", "Finished.");
      const cancel = document.getElementById("replay-cancel");
      if (cancel) {
        cancel.hidden = true;
      }
    } else {
      setText("live", "Live · updated " + new Date().toLocaleTimeString());
    }
  });
})();

// The theme toggle (the header's button): the choice is kept in
// localStorage and in the wims_theme cookie, which the server reads to
// render <html data-theme> so the next page paints in it at once.
(function () {
  const button = document.getElementById("theme-toggle");
  if (!button) {
    return;
  }
  const root = document.documentElement;
  const key = "wims-theme";
  const system = window.matchMedia("(prefers-color-scheme: dark)");

  function current() {
    return root.dataset.theme || (system.matches ? "dark" : "light");
  }

  function show() {
    const dark = current() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.textContent = "Dark theme";
    button.title = dark ? "Switch to the light theme" : "Switch to the dark theme";
  }

  function apply(theme) {
    root.dataset.theme = theme;
    try {
      localStorage.setItem(key, theme);
    } catch (e) {
      // Storage may be disabled; the cookie still carries the choice.
    }
    document.cookie = "wims_theme=" + theme + "; Path=/; Max-Age=31536000; SameSite=Strict";
    show();
  }

  // A choice stored before the cookie existed (or with cookies cleared).
  let stored = null;
  try {
    stored = localStorage.getItem(key);
  } catch (e) {
    stored = null;
  }
  if ((stored === "light" || stored === "dark") && stored !== root.dataset.theme) {
    apply(stored);
  }
  button.addEventListener("click", () => apply(current() === "dark" ? "light" : "dark"));
  system.addEventListener("change", show);
  button.hidden = false;
  show();
})();
