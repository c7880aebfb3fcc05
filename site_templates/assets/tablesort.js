/* Sortable tables for litsynth pages (no dependencies).
 *
 * Every <table class="ls-sortable"> gets a button in each header cell that has no
 * data-sort="none"; a click sorts the body rows by that column, a second click reverses
 * the order. A cell's sort key is its data-sort attribute, else its text. Keys that all
 * parse as numbers compare numerically, others by locale-aware string comparison; ties
 * keep the previous order (the sort is stable). The header's aria-sort tells assistive
 * technology the current order.
 */
(function () {
  "use strict";

  function key(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim() : value;
  }

  function isNumber(text) {
    return text !== "" && isFinite(Number(text));
  }

  function sortBy(table, header, index) {
    var body = table.tBodies[0];
    if (!body) return;
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (row) { return key(row, index); });
    var numeric = keys.every(isNumber);
    var order = rows.map(function (row, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b], c;
      if (numeric) {
        c = Number(x) - Number(y);
      } else {
        c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      }
      if (!ascending) c = -c;
      return c !== 0 ? c : a - b;
    });
    var fragment = document.createDocumentFragment();
    order.forEach(function (i) { fragment.appendChild(rows[i]); });
    body.appendChild(fragment);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.hasAttribute("aria-sort")) th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function enhance(table) {
    if (table.getAttribute("data-ls-sortable") === "ready" || !table.tHead) return;
    table.setAttribute("data-ls-sortable", "ready");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      if (th.getAttribute("data-sort") === "none") return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "ls-sort";
      button.title = "Sort by this column";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      if (!th.hasAttribute("aria-sort")) th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, th, index); });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.ls-sortable"), enhance);
  }

  // Material's instant navigation swaps pages without a load event; document$ emits for
  // every page it shows (including the first), so prefer it when it exists.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
