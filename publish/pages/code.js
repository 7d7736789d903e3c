// The code page, SYSTEM/code.html?code=CODE&release=LABEL: the code's
// record in that release, its history across releases and its
// replacements. Served by codeset serve it asks the code API; on any static
// host it reads the release's records.tsv and the system's history.tsv.
(function () {
  var D = JSON.parse(document.getElementById("codeset-data").textContent);
  var params = new URLSearchParams(location.search);
  var status = document.getElementById("status");
  var byLabel = {};
  D.releases.forEach(function (r, i) { r.seq = i; byLabel[r.label] = r; });
  function norm(s) { return s.toUpperCase().replace(/[.\s-]/g, ""); }
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
  function codeLink(c, release) {
    var a = el("a", written(c));
    a.href = "code.html?code=" + encodeURIComponent(c) + (release ? "&release=" + encodeURIComponent(release) : "");
    a.dataset.code = c;
    return a;
  }
  var code = norm(params.get("code") || "");
  var release = params.get("release") || D.current || D.latest;
  document.getElementById("code").value = code ? written(code) : "";
  var select = document.getElementById("release");
  if (byLabel[release]) { select.value = release; }
  if (!code) { status.textContent = "Type a code to see its record and history."; return; }
  if (!byLabel[release]) { status.textContent = "No release " + release + " of " + D.name + " is published."; status.dataset.error = "release"; return; }

  // The text data files of a static host, each read once.
  var files = {};
  function text(url) {
    if (!files[url]) {
      files[url] = fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(url + ": " + r.status); }
        return r.text();
      });
    }
    return files[url];
  }
  function lines(t) { return t.split("\n").filter(function (l) { return l && l[0] !== "#"; }); }
  function object(s) {
    try { return JSON.parse(s || "{}") || {}; } catch (e) { return {}; }
  }
  // terminated returns the date the publisher ends a record, as the code
  // API gives it (YYYY-MM-DD), or "".
  function terminated(rec) {
    var v = ((rec.attributes || {}).termination_date || (rec.meta || {}).termination_date || "").trim();
    var m = /^(\d{4})(\d{2})(\d{2})$/.exec(v) || /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    return m ? m[1] + "-" + m[2] + "-" + m[3] : "";
  }
  // record reads the code's line of a release's records.tsv, or null.
  function record(label) {
    return text(label + "/records.tsv").then(function (t) {
      var ls = lines(t), prefix = code + "\t", found = null, parent = "";
      for (var i = 1; i < ls.length; i++) {
        var tab = ls[i].indexOf("\t"), c = ls[i].slice(0, tab);
        // The header above the code: the longest header row whose code
        // starts the code, as the code API finds it.
        if (c.length < code.length && c.length > parent.length && code.indexOf(c) === 0 && ls[i].slice(tab + 1, tab + 8) === "header\t") { parent = c; }
        if (ls[i].indexOf(prefix) === 0) {
          var f = ls[i].split("\t");
          found = { header: f[1] === "header", record: { category: f[2], status: f[3], short: f[4], medium: f[5], long: f[6], attributes: object(f[7]), meta: object(f[8]) } };
        }
      }
      if (found && parent) { found.parent = written(parent); }
      return found;
    });
  }
  // fromFiles builds from the static files what the code API answers.
  function fromFiles() {
    return text("history.tsv").then(function (t) {
      var h = { code: code, events: [], replaces: [], replaced_by: [], current: [] };
      var links = [];
      lines(t).forEach(function (l) {
        var f = l.split("\t");
        if (f[0] === "E" && f[1] === code) {
          var n = h.events.length;
          if (!n || h.events[n - 1].release !== f[2]) { h.events.push({ release: f[2], change: f[3], fields: {} }); n++; }
          if (f[4]) { h.events[n - 1].fields[f[4]] = { before: f[5], after: f[6] }; }
        } else if (f[0] === "L") {
          links.push({ old: f[1], "new": f[2], release: f[3], source: f[4], how: f[5] });
        }
      });
      links.forEach(function (k) {
        if (k.old === code) { h.replaced_by.push({ code: k["new"], release: k.release, source: k.source, how: k.how }); }
        if (k["new"] === code) { h.replaces.push({ code: k.old, release: k.release, source: k.source, how: k.how }); }
      });
      h.chains = chains(code, links);
      var here = byLabel[release].seq;
      // history.tsv leaves out the additions of the oldest release: a
      // code known whose first event is not an addition was there from it.
      function oldest() {
        var e0 = h.events[0];
        if (D.releases.length && (!e0 || (e0.change !== "added" && e0.change !== "reactivated"))) {
          h.events.unshift({ release: D.releases[0].label, change: "added", fields: {} });
        }
      }
      return record(release).then(function (rec) { return rec; }, function () { return "missing"; }).then(function (rec) {
        if (rec === "missing") {
          // A release published before codeset wrote records.tsv.
          if (h.events.length) { oldest(); }
          return { code: code, release: release, inRelease: false, record: null, recordFrom: release + " (no record data)", history: h, status: "unknown",
            message: release + " was published without " + release + "/records.tsv: only the history of " + written(code) + " is shown." };
        }
        // The history follows codes, not header rows.
        if ((rec && !rec.header) || h.events.length) { oldest(); }
        var first = h.events.filter(function (e) { return e.change === "added"; })[0];
        if (rec) {
          return { code: code, release: release, inRelease: true, header: rec.header, record: rec.record, history: h, parent: rec.parent,
            status: rec.record.status === "discontinued" ? "retired" : "active", retirement_date: terminated(rec.record), effective_date: first && byLabel[first.release] && byLabel[first.release].seq > 0 ? byLabel[first.release].effective : "" };
        }
        // Not in the release: deleted by an earlier one, or never there.
        var deleted = null;
        h.events.forEach(function (e) { if (e.change === "deleted" && byLabel[e.release] && byLabel[e.release].seq <= here) { deleted = e.release; } });
        if (!deleted) {
          var later = h.events.filter(function (e) { return byLabel[e.release] && byLabel[e.release].seq > here; })[0];
          throw new Error(D.name + " " + release + " has no code " + written(code) + (later ? ": it takes effect with " + later.release : ""));
        }
        var before = D.releases[byLabel[deleted].seq - 1];
        return record(before.label).catch(function () { return null; }).then(function (old) {
          var msg = written(code) + " is not in " + D.name + " " + release + ": deleted by " + deleted + " (effective " + byLabel[deleted].effective + ")";
          var repl = h.replaced_by.filter(function (k) { return k.release === deleted; }).map(function (k) { return written(k.code); });
          if (repl.length) { msg += "; replaced by " + repl.join(", "); }
          return { code: code, release: release, inRelease: false, header: false, record: old ? old.record : null, recordFrom: before.label,
            history: h, status: "deleted", retirement_date: byLabel[deleted].effective, message: msg };
        });
      });
    });
  }
  // chains follows replaced-by links from c, release by release, and
  // returns every path to a code with no replacement named after it.
  function chains(c, links) {
    var out = [];
    function walk(path, seen) {
      var last = path[path.length - 1];
      var next = links.filter(function (k) { return k.old === last.code && !seen[k["new"]]; });
      if (!next.length) { if (path.length > 1) { out.push(path); } return; }
      next.forEach(function (k) {
        var s = Object.assign({}, seen); s[k["new"]] = true;
        if (out.length < 20) { walk(path.concat([{ code: k["new"], release: k.release }]), s); }
      });
    }
    var seen = {}; seen[c] = true;
    walk([{ code: c }], seen);
    return out;
  }
  // fromAPI asks codeset serve; it rejects with "static" when the host
  // does not answer the API.
  function fromAPI() {
    var url = D.api + D.system + "/codes/" + encodeURIComponent(code) + "?release=" + encodeURIComponent(release);
    return fetch(url).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      if (ct.indexOf("application/json") !== 0) { throw "static"; }
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error(j.error || String(r.status)); }
        j.inRelease = j.status !== "deleted";
        return j;
      });
    }, function () { throw "static"; });
  }

  function show(v, source) {
    var rec = v.record || {};
    var desc = rec["long"] || rec.medium || rec["short"] || "";
    document.title = written(code) + ": " + D.name + " " + release;
    document.getElementById("crumb").textContent = written(code);
    var h1 = document.getElementById("title");
    h1.textContent = "";
    h1.appendChild(el("code", written(code)));
    if (desc) { h1.appendChild(document.createTextNode(" " + desc)); }
    status.textContent = v.message || (D.name + " " + release + (byLabel[release].effective ? ", effective " + byLabel[release].effective : ""));
    status.dataset.status = v.status;

    // The record.
    document.getElementById("record-release").textContent = v.inRelease ? release : (v.recordFrom || (v.history && v.history.last_release) || "the last release that had it");
    var badges = document.getElementById("badges");
    badges.textContent = "";
    badges.appendChild(el("span", v.status, "badge " + v.status));
    if (v.inRelease) { badges.appendChild(el("span", v.header ? "header, not billable" : "billable", "badge")); }
    var rows = document.getElementById("fields");
    rows.textContent = "";
    function row(field, name, value, isCode) {
      if (value === undefined || value === null || value === "") { return; }
      var tr = el("tr"); tr.dataset.field = field;
      tr.appendChild(el("th", name));
      var td = el("td", isCode ? null : value);
      if (isCode) { td.appendChild(el("code", value)); }
      tr.appendChild(td);
      rows.appendChild(tr);
    }
    row("code", "Code", written(code), true);
    if (written(code) !== code) { row("stored", "Stored as", code, true); }
    if (v.record) {
      row("category", label("category"), rec.category);
      row("short", label("short"), rec["short"]);
      row("medium", label("medium"), rec.medium);
      row("long", label("long"), rec["long"]);
      row("status", label("status"), rec.status);
      Object.keys(rec.attributes || {}).sort().forEach(function (k) { row(k, label(k), rec.attributes[k]); });
      Object.keys(rec.meta || {}).sort().forEach(function (k) { if (!(k in (rec.attributes || {}))) { row(k, label(k), rec.meta[k]); } });
    }
    row("header", "Kind of row", v.inRelease ? (v.header ? "header (a category above billable codes)" : "code") : "");
    if (v.parent) { row("parent", "Under header", v.parent, true); }
    row("effective_date", "Took effect", v.effective_date);
    row("retirement_date", v.status === "deleted" ? "Deleted, effective" : "Ended by the publisher", v.retirement_date);
    document.getElementById("record").hidden = false;

    // The history.
    var h = v.history;
    var story = [];
    var tbody = document.getElementById("events");
    tbody.textContent = "";
    if (h && h.events.length) {
      h.events.forEach(function (e) {
        var r = byLabel[e.release] || { effective: "" };
        var fields = Object.keys(e.fields || {}).sort();
        var verb = { added: "added in", deleted: "deleted in", revised: "revised in", cosmetic: "respaced in", reactivated: "reactivated in", discontinued: "discontinued in" }[e.change] || e.change + " in";
        story.push(verb + " " + e.release);
        (fields.length ? fields : [""]).forEach(function (f) {
          var tr = el("tr"); tr.dataset.release = e.release; tr.dataset.change = e.change;
          var td = el("td");
          if (r.changelog) { var a = el("a", e.release); a.href = r.changelog + "#" + e.change; td.appendChild(a); } else { td.textContent = e.release; }
          tr.appendChild(td);
          tr.appendChild(el("td", r.effective, "d"));
          tr.appendChild(el("td", e.change));
          tr.appendChild(el("td", f ? label(f) : ""));
          tr.appendChild(el("td", f ? e.fields[f].before : ""));
          tr.appendChild(el("td", f ? e.fields[f].after : ""));
          tbody.appendChild(tr);
        });
      });
      if (h.events.length && D.releases.length && h.events[0].release === D.releases[0].label && h.events[0].change === "added") {
        story[0] = "in " + D.name + " since " + D.releases[0].label + ", the oldest release published";
      }
      document.getElementById("story").textContent = written(code) + ": " + story.join("; ") + ".";
      document.getElementById("history").hidden = false;
    }

    // The replacements.
    var dl = document.getElementById("linklist");
    dl.textContent = "";
    function links(title, list, id) {
      if (!list || !list.length) { return; }
      var dd = el("dd"); dd.id = id;
      list.forEach(function (k, i) {
        if (i) { dd.appendChild(document.createTextNode(", ")); }
        dd.appendChild(codeLink(k.code, D.latest));
        dd.appendChild(document.createTextNode(" (" + k.release + (k.source ? ", stated in " + k.source : "") + ")"));
      });
      dl.appendChild(el("dt", title));
      dl.appendChild(dd);
    }
    if (h) {
      links("Replaced by", h.replaced_by, "replaced-by");
      links("Replaces", h.replaces, "replaces");
      if (h.chains && h.chains.length) {
        var dd = el("dd"); dd.id = "chains";
        h.chains.forEach(function (path, i) {
          if (i) { dd.appendChild(el("br")); }
          path.forEach(function (s, j) {
            if (j) { dd.appendChild(document.createTextNode(" → ")); }
            dd.appendChild(j ? codeLink(s.code, D.latest) : el("code", written(s.code)));
            if (s.release) { dd.appendChild(document.createTextNode(" (" + s.release + ")")); }
          });
        });
        dl.appendChild(el("dt", "Followed on"));
        dl.appendChild(dd);
      } else if (h.current && h.current.length && !(h.current.length === 1 && h.current[0] === code)) {
        var cur = el("dd"); cur.id = "current";
        h.current.forEach(function (c, i) {
          if (i) { cur.appendChild(document.createTextNode(", ")); }
          cur.appendChild(codeLink(c, D.latest));
        });
        dl.appendChild(el("dt", "Valid today, following the chain"));
        dl.appendChild(cur);
      }
    }
    document.getElementById("links").hidden = !dl.childNodes.length;
    document.getElementById("source").textContent = source === "api" ? "From the code API of codeset serve." : "From " + release + "/records.tsv and history.tsv.";
    document.body.dataset.source = source;
    document.body.dataset.ready = "true";
  }

  fromAPI().then(function (v) { show(v, "api"); }, function (err) {
    if (err !== "static") { throw err; }
    return fromFiles().then(function (v) { show(v, "files"); });
  }).catch(function (err) {
    status.textContent = String(err && err.message || err);
    status.dataset.error = "lookup";
    document.body.dataset.ready = "true";
  });
})();
