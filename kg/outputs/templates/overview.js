{% raw %}
// The home page's table in the browser: search, filters, sorting and paging over every model
// (overview.json beside the page), and the other finds of the search (search.json). The page's
// HTML is the first page (or the server's answer to the query string), so this only takes
// over once the data is here. Rows are built with textContent and checked links only.
(() => {
const PAGE = 100;
const table = document.getElementById("overview"), body = table.tBodies[0];
const form = document.getElementById("overview-form");
const box = document.getElementById("overview-search");
const count = document.getElementById("overview-count");
const pager = document.getElementById("overview-pager");
const found = document.getElementById("search-results");
const selects = [...form.querySelectorAll("select[data-filter]")];
const compare = table.dataset.compare === "1";
const chosen = new Set();
let models = null, entries = null, kept = [], page = 1, sortBy = null, down = true;
const safe = href => typeof href === "string" && (/^https?:\/\//i.test(href) ||
  !/^[a-z][a-z0-9+.-]*:/i.test(href.trim()) && !href.trim().startsWith("//"));
const link = (text, href) => {
  if (!safe(href)) { const c = document.createElement("code"); c.textContent = text; return c; }
  const a = document.createElement("a"); a.href = href; a.textContent = text; return a;
};
const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
const words = () => box.value.toLowerCase().split(/\s+/).filter(Boolean);
let sources = [], colours = {}, definitions = [];
// A model's cells as the table shows them: the values the sources state (each once), the
// first one's colour, and which source says what.
const cells = m => m.c.map(said => {
  const values = [...new Set(said.map(([, v]) => v))];
  return [values.join(" / "), colours[values[0]] || "#fff",
    said.map(([s, v]) => sources[s] + ": " + v).join("; ")];
});
// What the filters select on (as kg.outputs.overview.ModelRow.facets does on the server).
const facets = m => m.facets || (m.facets = {
  developer: m.f.developer, year: m.f.year, kind: m.f.kind,
  source: m.f.source.map(i => sources[i]),
  level: [...new Set(m.c.flatMap(said => said.map(([, v]) => v)))],
  verdict: m.v.flatMap((vs, i) => vs.map(v => definitions[i] + ": " + v)),
});
const matches = (m, ws, filters) => {
  const hay = [m.n, ...m.a, m.d].join(" ").toLowerCase();
  if (!ws.every(w => hay.includes(w))) return false;
  const f = facets(m);
  return filters.every(([name, value]) => (f[name] || []).includes(value));
};
const key = (m, i) => {
  const base = compare ? 1 : 0;
  if (i === base) return m.n; if (i === base + 1) return m.d; if (i === base + 2) return m.y;
  const c = i - base - 3;
  return c < m.c.length ? cells(m)[c][0] : (m.v[c - m.c.length] || []).join(", ");
};
const row = m => {
  const tr = document.createElement("tr");
  if (compare) {
    const td = document.createElement("td"); td.className = "pick";
    const box = document.createElement("input");
    box.type = "checkbox"; box.name = "model"; box.value = m.k;
    box.setAttribute("form", "overview-compare"); box.checked = chosen.has(m.k);
    box.setAttribute("aria-label", "compare " + m.n);
    td.append(box); tr.append(td);
  }
  const name = document.createElement("td"); name.append(link(m.n, m.h)); tr.append(name);
  tr.append(cell(m.d), cell(m.y));
  for (const [value, colour, title] of cells(m)) {
    const td = cell(value); td.className = "level"; td.title = title;
    if (/^#[0-9a-f]{3,6}$/i.test(colour)) td.style.background = colour;
    tr.append(td);
  }
  for (const vs of m.v) tr.append(cell(vs.join(", ")));
  return tr;
};
const state = () => {
  const p = new URLSearchParams();
  if (box.value.trim()) p.set("q", box.value.trim());
  for (const s of selects) if (s.value) p.set(s.dataset.filter, s.value);
  if (page > 1) p.set("page", page);
  const q = p.toString();
  history.replaceState(null, "", q ? "?" + q : location.pathname);
};
const pagerLink = (text, to) => {
  const a = document.createElement("a"); a.href = "#"; a.textContent = text;
  a.id = to < page ? "overview-prev" : "overview-next";
  a.addEventListener("click", e => { e.preventDefault(); page = to; draw(); });
  return a;
};
const draw = () => {
  const last = Math.max(1, Math.ceil(kept.length / PAGE));
  page = Math.min(Math.max(1, page), last);
  body.replaceChildren(...kept.slice((page - 1) * PAGE, page * PAGE).map(row));
  count.textContent = kept.length + " of " + models.length + " models";
  const where = document.createElement("span");
  where.append("page ");
  const at = document.createElement("span"); at.id = "overview-page"; at.textContent = page;
  const of = document.createElement("span"); of.id = "overview-pages"; of.textContent = last;
  where.append(at, " of ", of);
  pager.replaceChildren(...(page > 1 ? [pagerLink("previous", page - 1), " "] : []), where,
    ...(page < last ? [" ", pagerLink("next", page + 1)] : []));
  state();
};
const apply = () => {
  const ws = words(), filters = selects.filter(s => s.value).map(s => [s.dataset.filter, s.value]);
  kept = models.filter(m => matches(m, ws, filters));
  if (sortBy !== null) sort();
  draw();
};
const sort = () => {
  kept.sort((a, b) => String(key(a, sortBy)).localeCompare(String(key(b, sortBy)), undefined,
    {numeric: true}));
  if (!down) kept.reverse();
};
const showFound = () => {
  const ws = words();
  if (!entries || !ws.length) { found.replaceChildren(); return; }
  const text = box.value.trim().toLowerCase();
  const hits = entries.filter(e => {
    const hay = [e[0], ...e[3]].join(" ").toLowerCase();
    return ws.every(w => hay.includes(w));
  }).map(e => [e[0].toLowerCase().startsWith(text) ? 0 : 1, e[0].toLowerCase(), e]);
  hits.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  found.replaceChildren(...hits.slice(0, 20).map(([, , e]) => {
    const li = document.createElement("li");
    li.append(e[2] + ": ", link(e[0], e[1]));
    if (e[3].length) {
      const s = document.createElement("span"); s.className = "graph";
      s.textContent = " (" + e[3].join(", ") + ")"; li.append(s);
    }
    return li;
  }));
};
const load = (name) => fetch(name).then(r => {
  if (!r.ok) throw new Error(name + ": " + r.status); return r.json();
});
const compareForm = document.getElementById("overview-compare");
if (compareForm) compareForm.addEventListener("submit", e => {
  // the models ticked on every page, not only on the one shown, in the order they were ticked
  e.preventDefault();
  const p = new URLSearchParams();
  for (const m of chosen) p.append("model", m);
  location.href = compareForm.getAttribute("action") + "?" + p.toString();
});
table.addEventListener("change", e => {
  const b = e.target;
  if (b.name === "model") { if (b.checked) chosen.add(b.value); else chosen.delete(b.value); }
});
load("overview.json").then(data => {
  models = data.models;
  sources = data.sources; colours = data.colours; definitions = data.definitions;
  page = Number(new URLSearchParams(location.search).get("page")) || 1;
  apply();
  form.addEventListener("submit", e => { e.preventDefault(); page = 1; apply(); showFound(); });
  box.addEventListener("input", () => { page = 1; apply(); showFound(); });
  for (const s of selects) s.addEventListener("change", () => { page = 1; apply(); });
  table.tHead.addEventListener("click", e => {
    const th = e.target.closest("th"); if (!th || th.classList.contains("pick")) return;
    down = sortBy === th.cellIndex ? !down : true; sortBy = th.cellIndex;
    for (const h of table.tHead.rows[0].cells) delete h.dataset.sort;
    th.dataset.sort = down ? "up" : "down";
    sort(); draw();
  });
  table.dataset.ready = "1";
}).catch(err => { count.textContent += " (" + err.message + ")"; });
load("search.json").then(data => { entries = data; showFound(); }).catch(() => {});
})();
{% endraw %}
