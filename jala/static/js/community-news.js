/* News editor: "Insert into the text" puts a picture's snippet at the cursor of the body
   (no inline scripts: CSP). Without JS the snippet stays shown, to copy by hand. */
(function () {
  "use strict";
  if (window.jalaNewsEditor) { return; }
  window.jalaNewsEditor = true;

  function reveal(root) {
    (root || document).querySelectorAll("button.news-insert[hidden]").forEach(function (button) {
      button.hidden = false;
      var copy = button.parentNode.querySelector(".news-snippet");
      if (copy) { copy.hidden = true; }
    });
  }

  function insert(button) {
    var field = document.getElementById(button.getAttribute("data-target"));
    var snippet = button.getAttribute("data-snippet");
    if (!field || !snippet) { return; }
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : start;
    var before = field.value.slice(0, start);
    var after = field.value.slice(end);
    // a picture stands on its own line
    var lead = before && !/\n$/.test(before) ? "\n" : "";
    var tail = after && !/^\n/.test(after) ? "\n" : "";
    field.value = before + lead + snippet + tail + after;
    var cursor = (before + lead + snippet).length;
    field.focus();
    field.setSelectionRange(cursor, cursor);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.news-insert");
    if (button) {
      event.preventDefault();
      insert(button);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSettle", function () { reveal(document); });
})();
