// The instance table (anywidget): shows the kernel's HTML; a header click asks to sort by that
// column, a row click chooses that instance. The kernel decides what either means.
function render({ model, el }) {
  el.classList.add("zw-grid");
  const show = () => {
    el.innerHTML = model.get("value");
  };
  el.addEventListener("click", (event) => {
    const header = event.target.closest("th[data-sort]");
    if (header) {
      model.send({ kind: "sort", column: header.dataset.sort });
      return;
    }
    const row = event.target.closest("tr[data-id]");
    if (row) model.send({ kind: "select", id: row.dataset.id });
  });
  model.on("change:value", show);
  show();
}

export default { render };
