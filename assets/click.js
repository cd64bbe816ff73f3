// Clicks on a board cell or a token (anything carrying data-i) go to the server as {index}.
// The listener sits on the component's root, so it survives every re-render of the inner HTML.
element.addEventListener("click", (event) => {
  const target = event.target.closest("[data-i]");
  if (target && element.contains(target)) {
    trigger("click", { index: Number(target.dataset.i) });
  }
});
