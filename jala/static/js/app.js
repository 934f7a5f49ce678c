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

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js").catch(function () { /* the site works without it */ });
    });
  }
}());
