// Small behaviours of ipplan's pages, kept out of inline handlers so the Content-Security-Policy can forbid them.
document.addEventListener("click", function (event) {
  var field = event.target.closest && event.target.closest("[data-select-on-click]");
  if (field) field.select();
});
