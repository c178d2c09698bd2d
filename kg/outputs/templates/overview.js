{% raw %}
(() => {
const table = document.getElementById("overview"), body = table.tBodies[0];
const filter = document.getElementById("overview-filter");
const count = document.getElementById("overview-count");
const show = () => {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  let n = 0;
  for (const row of body.rows) {
    const text = (row.cells[0].textContent + " " + row.cells[1].textContent).toLowerCase();
    row.hidden = !words.every(w => text.includes(w));
    if (!row.hidden) n++;
  }
  count.textContent = n + " of " + body.rows.length + " models";
};
table.tHead.addEventListener("click", e => {
  const th = e.target.closest("th"); if (!th) return;
  const i = th.cellIndex, down = th.dataset.sort !== "up";
  for (const h of table.tHead.rows[0].cells) delete h.dataset.sort;
  th.dataset.sort = down ? "up" : "down";
  const rows = [...body.rows].sort((a, b) =>
    a.cells[i].textContent.localeCompare(b.cells[i].textContent, undefined, {numeric: true}));
  if (!down) rows.reverse();
  body.append(...rows);
});
filter.addEventListener("input", show);
show();
})();
{% endraw %}
