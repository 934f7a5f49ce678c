/* Reading: copy buttons for citations and share links (no inline scripts: CSP). */
(function () {
  "use strict";
  if (window.jalaReading) { return; }  // loaded twice (base.html and a page): act once
  window.jalaReading = true;

  function reveal(root) {
    (root || document).querySelectorAll("button.copy-button[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function statusFor(button) {
    var box = button.closest(".copy-box, .share-box, .actions, p");
    return box ? box.querySelector(".copy-status") : null;
  }

  function say(button, text) {
    var status = statusFor(button);
    if (status) { status.textContent = text; }
    button.classList.add("copied");
    window.setTimeout(function () { button.classList.remove("copied"); }, 2000);
  }

  // The fallback when the Clipboard API is missing or refused: select the text, try the old
  // copy command, and otherwise leave it selected for the reader to copy.
  function fallback(button, field, text) {
    var helper = field;
    if (!helper) {
      helper = document.createElement("textarea");
      helper.value = text;
      helper.setAttribute("readonly", "");
      helper.className = "copy-helper";
      button.after(helper);
    }
    helper.focus();
    helper.select();
    helper.setSelectionRange(0, text.length);
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    say(button, done ? button.dataset.copied : (button.dataset.select || ""));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy-button");
    if (!button) { return; }
    var field = button.dataset.copy ? document.getElementById(button.dataset.copy) : null;
    var text = field ? field.value : (button.dataset.copyText || "");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        say(button, button.dataset.copied);
      }, function () { fallback(button, field, text); });
    } else {
      fallback(button, field, text);
    }
  });

  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  } else {
    reveal(document);
  }
}());
