// The compare page, SYSTEM/compare.html?from=LABEL&to=LABEL: what changed
// between any two published releases of a system, counted by kind and
// listed a page at a time, each code linked to its code page. It asks the
// comparison API of codeset serve (GET /api/v1/compare/SYSTEM); a static
// host has none, and the page then points to the published changelogs.
(function () {
  var D = JSON.parse(document.getElementById("codeset-data").textContent);
  var params = new URLSearchParams(location.search);
  var status = document.getElementById("status");
  var labels = D.releases.map(function (r) { return r.label; });
  var n = labels.length;
  var from = params.get("from") || (n > 1 ? labels[n - 2] : labels[0]);
  var to = params.get("to") || labels[n - 1];
  var kind = params.get("kind") || "";
  var offset = parseInt(params.get("offset") || "0", 10) || 0;
  var limit = 100;
  var fromSel = document.getElementById("from"), toSel = document.getElementById("to");
  if (labels.indexOf(from) >= 0) { fromSel.value = from; }
  if (labels.indexOf(to) >= 0) { toSel.value = to; }
  function written(c) { return D.dot > 0 && c.length > D.dot ? c.slice(0, D.dot) + "." + c.slice(D.dot) : c; }
  function label(f) {
    if (D.labels[f]) { return D.labels[f]; }
    var s = f.replace(/_/g, " ");
    return s ? s[0].toUpperCase() + s.slice(1) : s;
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function here(p) {
    var q = new URLSearchParams({ from: from, to: to });
    if (p.kind) { q.set("kind", p.kind); }
    if (p.offset) { q.set("offset", String(p.offset)); }
    return "compare.html?" + q.toString();
  }
  function codeLink(c, release) {
    var a = el("a", written(c));
    a.href = "code.html?code=" + encodeURIComponent(c) + "&release=" + encodeURIComponent(release);
    a.dataset.code = c;
    return a;
  }
  function fail(msg) {
    status.textContent = msg;
    status.dataset.error = "compare";
    document.body.dataset.ready = "true";
  }
  if (n < 2) { fail("Comparing needs two published releases of " + D.name + "."); return; }
  var q = new URLSearchParams({ from: from, to: to, offset: String(offset), limit: String(limit) });
  if (kind) { q.set("kind", kind); }
  fetch(D.api + "compare/" + D.system + "?" + q.toString()).then(function (r) {
    var ct = r.headers.get("Content-Type") || "";
    if (ct.indexOf("application/json") !== 0) { throw "static"; }
    return r.json().then(function (j) {
      if (!r.ok) { throw new Error(j.error || String(r.status)); }
      return j;
    });
  }, function () { throw "static"; }).then(show, function (err) {
    if (err === "static") {
      status.textContent = "This host serves the published files only.";
      document.getElementById("static").hidden = false;
      document.body.dataset.source = "static";
      document.body.dataset.ready = "true";
      return;
    }
    fail(String(err && err.message || err));
  });

  function show(j) {
    status.textContent = D.name + " " + j.from + (j.from_effective ? " (" + j.from_effective + ")" : "") + " → " + j.to + (j.to_effective ? " (" + j.to_effective + ")" : "") +
      (j.neighbours ? "" : ": releases in between are skipped, so a code changed twice shows once");
    var counts = document.getElementById("counts");
    counts.textContent = "";
    ["added", "deleted", "revised", "cosmetic", "reactivated", "discontinued", "unchanged"].forEach(function (k) {
      var c = j.summary[k] || 0;
      if (!c && k !== "unchanged" && k !== "added" && k !== "deleted" && k !== "revised") { return; }
      var li = el("li"); li.dataset.kind = k;
      var num = el("span", String(c), "n");
      li.appendChild(num);
      if (k === "unchanged" || !c) {
        li.appendChild(el("span", k, "k"));
      } else {
        var a = el("a", k, "k"); a.href = here({ kind: k }); li.appendChild(a);
      }
      counts.appendChild(li);
    });
    var kinds = document.getElementById("kinds");
    kinds.textContent = "";
    if (j.kind) {
      kinds.appendChild(document.createTextNode("Showing " + j.kind + " codes only. "));
      var all = el("a", "Show every change"); all.href = here({}); kinds.appendChild(all);
    }
    var tbody = document.getElementById("rows");
    tbody.textContent = "";
    j.changes.forEach(function (c) {
      var tr = el("tr"); tr.dataset.kind = c.change; tr.dataset.code = c.code;
      var td = el("td", null, "code");
      td.appendChild(codeLink(c.code, c.change === "deleted" ? j.from : j.to));
      tr.appendChild(td);
      tr.appendChild(el("td", c.change));
      tr.appendChild(el("td", c.category));
      tr.appendChild(el("td", c.description));
      var f = el("td");
      Object.keys(c.fields || {}).sort().forEach(function (k, i) {
        if (i) { f.appendChild(el("br")); }
        var fc = c.fields[k];
        f.appendChild(el("strong", label(k) + ": "));
        if (fc.before) { f.appendChild(el("del", fc.before)); f.appendChild(document.createTextNode(" ")); }
        if (fc.after) { f.appendChild(el("ins", fc.after)); }
      });
      tr.appendChild(f);
      var l = el("td", null, "code");
      (c.replaced_by || []).concat(c.replaces || []).forEach(function (x, i) {
        if (i) { l.appendChild(document.createTextNode(", ")); }
        l.appendChild(codeLink(x, c.replaced_by && c.replaced_by.indexOf(x) >= 0 ? j.to : j.from));
      });
      tr.appendChild(l);
      tbody.appendChild(tr);
    });
    if (!j.changes.length) { tbody.appendChild(el("tr")).appendChild(el("td", "No codes changed.")).colSpan = 6; }
    var pager = document.getElementById("pager");
    pager.textContent = "Rows " + (j.total ? j.offset + 1 : 0) + "–" + (j.offset + j.changes.length) + " of " + j.total + ". ";
    pager.dataset.total = String(j.total);
    if (j.offset > 0) { var p = el("a", "previous"); p.href = here({ kind: j.kind, offset: Math.max(0, j.offset - j.limit) }); p.rel = "prev"; pager.appendChild(p); pager.appendChild(document.createTextNode(" ")); }
    if (j.offset + j.changes.length < j.total) { var nx = el("a", "next"); nx.href = here({ kind: j.kind, offset: j.offset + j.limit }); nx.rel = "next"; pager.appendChild(nx); }
    document.getElementById("result").hidden = false;
    document.body.dataset.source = "api";
    document.body.dataset.ready = "true";
  }
})();
