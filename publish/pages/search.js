// The search box of the published pages: finds codes by code (as stored or
// written, A77.41 or A7741) or by words of their description. Served by
// codeset serve it asks the search API; on any static host it reads the
// compact search index of the release (search.tsv: code TAB description).
(function () {
  var form = document.getElementById("search");
  if (!form) { return; }
  var box = form.querySelector("input[type=search]");
  var out = document.getElementById("hits");
  var sys = form.dataset.system, indexURL = form.dataset.index, api = form.dataset.api || "/api/v1/";
  var dot = parseInt(form.dataset.dot || "0", 10);
  var codePage = form.dataset.codePage || "", release = form.dataset.release || "";
  var codes = null, loading = null, mode = null;
  function written(c) { return dot > 0 && c.length > dot ? c.slice(0, dot) + "." + c.slice(dot) : c; }
  function norm(s) { return s.toUpperCase().replace(/[.\s-]/g, ""); }
  function loadIndex() {
    if (!loading) {
      loading = fetch(indexURL).then(function (r) {
        if (!r.ok) { throw new Error(indexURL + ": " + r.status); }
        return r.text();
      }).then(function (text) {
        codes = text.split("\n").filter(function (l) { return l && l[0] !== "#"; }).map(function (l) {
          var i = l.indexOf("\t");
          var d = l.slice(i + 1);
          return { code: l.slice(0, i), description: d, lower: d.toLowerCase() };
        });
        return codes;
      });
    }
    return loading;
  }
  function local(q) {
    return loadIndex().then(function (all) {
      var words = q.toLowerCase().split(/\s+/).filter(Boolean), c = norm(q), hits = [];
      for (var i = 0; i < all.length && hits.length < 50; i++) {
        var e = all[i];
        if ((c.length >= 2 && e.code.indexOf(c) === 0) || words.every(function (w) { return e.lower.indexOf(w) >= 0; })) { hits.push(e); }
      }
      return hits;
    });
  }
  function remote(q) {
    var calls = [fetch(api + sys + "/search?q=" + encodeURIComponent(q)).then(function (r) {
      return r.ok ? r.json() : { results: [] };
    }).then(function (j) { return j.results || []; }, function () { return []; })];
    if (/^[A-Za-z0-9.]{3,8}$/.test(q.trim())) {
      calls.push(fetch(api + sys + "/codes/" + encodeURIComponent(norm(q)) + "?release=latest").then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (j) { return j && j.record ? [{ code: j.code, description: j.record.long || j.record.short || j.record.medium || "" }] : []; }, function () { return []; }));
    }
    return Promise.all(calls).then(function (lists) {
      var seen = {}, hits = [];
      (lists[1] || []).concat(lists[0]).forEach(function (h) { if (!seen[h.code]) { seen[h.code] = true; hits.push(h); } });
      return hits;
    });
  }
  // The API is there when the server answers a search of its system.
  var apiThere = null;
  function probe() {
    if (apiThere === null) {
      apiThere = location.protocol === "file:" ? Promise.resolve(false) :
        fetch(api + sys + "/search?q=a&limit=1").then(function (r) { return r.ok; }, function () { return false; });
    }
    return apiThere;
  }
  function find(q) {
    return probe().then(function (ok) {
      if (!ok) { mode = "index"; return local(q); }
      return remote(q).then(function (hits) {
        if (hits.length) { mode = "api"; return hits; }
        mode = "index";
        return local(q);
      });
    });
  }
  var seq = 0;
  function run() {
    var q = box.value.trim(), my = ++seq;
    if (q.length < 2) { out.innerHTML = ""; out.dataset.count = "0"; return; }
    find(q).then(function (hits) {
      if (my !== seq) { return; }
      out.innerHTML = "";
      hits.forEach(function (h) {
        var li = document.createElement("li"), code = document.createElement("code");
        li.dataset.code = h.code;
        code.textContent = written(h.code);
        if (codePage) {
          // Each hit leads to its code page.
          var a = document.createElement("a");
          a.href = codePage + "?code=" + encodeURIComponent(h.code) + (release ? "&release=" + encodeURIComponent(release) : "");
          a.appendChild(code);
          li.appendChild(a);
        } else {
          li.appendChild(code);
        }
        li.appendChild(document.createTextNode(" " + h.description));
        out.appendChild(li);
      });
      if (!hits.length) { out.innerHTML = "<li>No code found.</li>"; }
      out.dataset.count = String(hits.length);
      out.dataset.source = mode;
    }, function (err) { out.textContent = String(err); });
  }
  box.addEventListener("input", run);
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { box.value = q; run(); }
})();
