// MuJun report: map recolouring and per-enterprise lookup. Vanilla JS, no network.
// Data come from the JSON script blocks (type application/json) and are only ever written
// with textContent (never innerHTML), so input text cannot become markup.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function num(v, d) {
    if (v === null || v === undefined) { return "–"; }
    return Number(v).toLocaleString("zh-CN", { maximumFractionDigits: d === undefined ? 2 : d });
  }
  function row(cells, numeric) {
    var tr = el("tr");
    cells.forEach(function (c, i) { tr.appendChild(el(i === 0 ? "th" : "td", c, i > 0 && numeric ? "num" : "")); });
    return tr;
  }
  function table(head, rows, numeric) {
    var t = el("table"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", h)); });
    t.appendChild(tr);
    rows.forEach(function (r) { t.appendChild(row(r, numeric)); });
    return t;
  }

  // ---- map: colour parcels by change of the chosen variant and resource
  var map = data("map-data");
  function recolour() {
    if (!map) { return; }
    var v = document.getElementById("map-variant"), r = document.getElementById("map-resource");
    var classes = map.classes[v.value + "|" + r.value] || "";
    var shapes = document.querySelectorAll("#map-panels [data-i]");
    for (var k = 0; k < shapes.length; k++) {
      var i = Number(shapes[k].getAttribute("data-i"));
      shapes[k].setAttribute("class", "c" + (classes.charAt(i) || "7"));
    }
  }
  ["map-variant", "map-resource"].forEach(function (id) {
    var s = document.getElementById(id);
    if (s) { s.addEventListener("change", recolour); }
  });

  // ---- lookup
  var L = data("lookup-data");
  var q = document.getElementById("lookup-q"), hits = document.getElementById("lookup-hits");
  var detail = document.getElementById("lookup-detail");
  var index = {};
  if (L && L.n) { L.id.forEach(function (id, i) { index[id] = i; }); }

  function show(i) {
    detail.textContent = "";
    var title = el("h3", L.name[i] + " (" + L.id[i] + ")");
    detail.appendChild(title);
    var facts = "开发区 zone: " + L.zone[i] + " · 等级 grade: " + (L.grade[i] || "–") +
      " · 综合得分 score: " + num(L.score[i]);
    if (L.group && L.group.length) { facts += " · 评价分组 group: " + L.group[i]; }
    detail.appendChild(el("p", facts));
    if (L.reason && L.reason[i]) { detail.appendChild(el("p", "说明 reason: " + L.reason[i], "note")); }
    if (L.indicators && L.indicators.length) {
      detail.appendChild(table(["指标 indicator", "值 value", "基准 benchmark", "得分 points"],
        L.indicators.map(function (k) {
          var t = L.ind[k];
          return [L.indicatorLabels[k] + " / " + k, num(t[0][i], 4), num(t[1][i], 4), num(t[2][i])];
        }), true));
    }
    var head = ["配额 quota", "现状 today"].concat(L.variants.map(function (v) { return v.name; }));
    var rows = [["生产规模 scale", "1"].concat(L.variants.map(function (v) { return v.missing ? "–" : num(v.scale[i], 4); }))];
    L.resources.forEach(function (r) {
      rows.push([L.resourceLabels[r] + " / " + r, num(L.before[r][i], 3)].concat(
        L.variants.map(function (v) { return v.missing ? "–" : num(v.after[r][i], 3); })));
    });
    rows.push(["增加值 value added (万元)", num(L.valueBefore[i])].concat(
      L.variants.map(function (v) { return v.missing ? "–" : num(v.valueAfter[i]); })));
    detail.appendChild(table(head, rows, true));
    detail.appendChild(table(["方案 variant", "约束原因 binding reason"], L.variants.map(function (v) {
      return [v.name, v.missing ? ("无结果 " + v.status) : v.bindingText[v.binding[i]]];
    }), false));
  }

  function search() {
    hits.textContent = "";
    var s = q.value.trim().toLowerCase();
    if (!L || !L.n || !s) { return; }
    var found = 0, first = -1;
    for (var i = 0; i < L.n && found < 30; i++) {
      if (L.id[i].toLowerCase().indexOf(s) >= 0 || L.name[i].toLowerCase().indexOf(s) >= 0) {
        var b = el("button", L.id[i] + " " + L.name[i]);
        b.type = "button";
        b.addEventListener("click", show.bind(null, i));
        hits.appendChild(b);
        if (first < 0) { first = i; }
        found++;
      }
    }
    if (!found) { hits.appendChild(el("span", "未找到 no match", "note")); }
    if (index[q.value.trim()] !== undefined) { show(index[q.value.trim()]); }
    else if (found === 1) { show(first); }
  }
  if (q) {
    q.addEventListener("input", search);
    // report.html#q=<id or name> opens the report on that enterprise (links in e-mails, tests)
    if (location.hash.indexOf("#q=") === 0) {
      q.value = decodeURIComponent(location.hash.slice(3));
      search();
    }
  }

  var svgMap = document.getElementById("map-panels");
  if (svgMap && map) {
    svgMap.addEventListener("click", function (ev) {
      var i = ev.target.getAttribute("data-i");
      var id = i === null ? null : map.ids[Number(i)];
      if (id !== null && index[id] !== undefined && q) {
        q.value = id; search(); show(index[id]);
        document.getElementById("lookup").scrollIntoView();
      }
    });
  }
})();
