// Hookgate dashboard: ask before a button whose data-confirm says so, and
// make "Go back" links work without inline script.
document.addEventListener("submit", function (e) {
  var b = e.submitter;
  if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) {
    e.preventDefault();
  }
});
document.addEventListener("click", function (e) {
  var a = e.target.closest("a[data-back]");
  if (a) {
    e.preventDefault();
    history.back();
  }
});
