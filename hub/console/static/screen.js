// 大屏: keeps the live screen's figures current.
//
// Listens to the screen's event stream (server-sent events): on each "changed" the hub has stored
// something, so the figures are read again as JSON and written into the page; every minute too,
// whatever the stream says (a change stored by another hub instance, the hour turning). Without
// this script the page refreshes itself every 30 s (a meta refresh in <noscript>).
"use strict";

(function () {
  const root = document.getElementById("screen");
  if (!root || !window.fetch || !window.EventSource) {
    return;
  }
  let reading = false;
  let again = false;

  function text(id, value) {
    const node = document.getElementById(id);
    if (node) {
      node.textContent = String(value);
    }
  }

  function rows(id, items, cells) {
    const list = document.getElementById(id);
    if (!list) {
      return;
    }
    const fresh = items.map(function (item) {
      const li = document.createElement("li");
      if (item.kind) {
        li.dataset.kind = item.kind;
      }
      cells(item).forEach(function (cell) {
        const node = document.createElement(cell[0]);
        node.textContent = String(cell[1]);
        li.appendChild(node);
      });
      return li;
    });
    list.replaceChildren.apply(list, fresh);
  }

  function chart(svg) {
    const holder = document.getElementById("chart");
    const parsed = new DOMParser().parseFromString("<div>" + svg + "</div>", "text/html");
    holder.replaceChildren.apply(holder, Array.from(parsed.body.firstChild.childNodes));
  }

  function show(figures) {
    text("as-of", figures.as_of);
    text("on-site", figures.on_site);
    text("entries-today", figures.entries_today);
    text("lanes-online", figures.lanes_online);
    text("lanes-offline", figures.lanes_offline);
    const counted = function (row) { return [["span", row.name], ["b", row.count]]; };
    rows("by-district", figures.by_district, counted);
    rows("by-kind", figures.by_kind, counted);
    rows("alert-counts", figures.alert_counts, counted);
    rows("alerts", figures.alerts, function (row) {
      return [["span", row.what], ["span", row.where], ["time", row.at]];
    });
    chart(figures.chart);
    root.dataset.updated = String(Date.now());
  }

  function read() {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    fetch(root.dataset.figures, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(show)
      .catch(function () { /* the next change or the minute's read tries again */ })
      .finally(function () {
        reading = false;
        if (again) {
          again = false;
          read();
        }
      });
  }

  const events = new EventSource(root.dataset.events);
  events.addEventListener("changed", read);
  events.addEventListener("ready", function () { root.dataset.live = "yes"; });
  window.setInterval(read, 60000);
})();
