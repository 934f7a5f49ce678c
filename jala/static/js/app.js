/* The app shell: confirmation before what cannot be undone, and the service worker that
   shows the offline page. No inline scripts: CSP. */
(function () {
  "use strict";
  if (window.jalaApp) { return; }
  window.jalaApp = true;

  // <form data-confirm="…">: ask first; a "no" stops the submit before HTMX or the browser
  // sends it (this listener runs in the capture phase, before the form's own).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <div data-filter-list>: typing in its [data-filter-input] hides the items whose
  // data-filter-text does not contain what was typed (a long list of universities).
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-filter-input")) { return; }
    var list = input.closest("[data-filter-list]");
    var typed = input.value.trim().toLowerCase();
    list.querySelectorAll("[data-filter-text]").forEach(function (item) {
      item.hidden = typed !== "" && item.getAttribute("data-filter-text").toLowerCase().indexOf(typed) < 0;
    });
  });

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* the site works without it */ });
    });
  }
}());
