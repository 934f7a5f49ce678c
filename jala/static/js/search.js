/* The search box (templates/base.html): its suggestions as a WAI-ARIA 1.2 combobox, one
   history entry per search, and paging that takes the reader to the top of the new results.
   HTMX sends the requests (the hx-* attributes say when); this file only does what they can't.
   No inline scripts: CSP. */
(function () {
  "use strict";
  if (window.jalaSearch) { return; }
  window.jalaSearch = true;

  // Looked up each time: a history restore replaces the whole body.
  function box() { return document.getElementById("site-q"); }
  function list() { return document.getElementById("site-q-list"); }
  function options() { return Array.from(list().querySelectorAll("[role=option]")); }
  function highlighted() { return list().querySelector("[aria-selected=true]"); }

  // The box's value when the reader closed the list or searched: suggestions for it that
  // arrive late must not open the list again.
  var closedFor = null;
  // Whether the current history entry shows a query that is still being typed.
  var drafting = false;

  function highlight(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", String(o === option)); });
    if (option) {
      box().setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      box().removeAttribute("aria-activedescendant");
    }
  }

  function show(open) {
    open = open && options().length > 0;
    list().hidden = !open;
    box().setAttribute("aria-expanded", String(open));
    if (!open) { highlight(null); }
  }

  function close() {
    closedFor = box().value;
    show(false);
  }

  function pick(option) {
    box().value = option.dataset.value;
    close();
    box().form.requestSubmit();
  }

  function move(step) {
    var all = options();
    if (!all.length) { return false; }
    if (list().hidden) { show(true); }
    var index = all.indexOf(highlighted());
    if (index < 0) {
      index = step > 0 ? 0 : all.length - 1;
    } else {
      index = (index + step + all.length) % all.length;  // round from the last to the first
    }
    highlight(all[index]);
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!box() || event.target !== box() || event.isComposing) { return; }
    var open = !list().hidden;
    var option = open ? highlighted() : null;
    var handled = false;
    if (event.key === "ArrowDown") {
      handled = move(1);
    } else if (event.key === "ArrowUp") {
      handled = move(-1);
    } else if (event.key === "Enter" && option) {
      pick(option);
      handled = true;
    } else if (event.key === "Escape" && open) {
      close();  // a second Escape clears the box, as the browser does for type=search
      handled = true;
    }
    if (handled) { event.preventDefault(); }
  });

  document.addEventListener("input", function (event) {
    if (event.target === box()) { closedFor = null; }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target === box()) { show(false); }
  });
  document.addEventListener("submit", function (event) {
    if (box() && event.target === box().form) { close(); }
  });

  // Tapping an option must not take the focus from the box (that would close the list first).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("#site-q-list")) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("#site-q-list [role=option]");
    if (option) { pick(option); }
  });

  function wantsSuggestions() {
    return document.activeElement === box() && box().value.trim() !== "" &&
      box().value !== closedFor;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target === list() && !wantsSuggestions()) {
      event.preventDefault();
      show(false);
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target === list()) {
      highlight(null);
      show(wantsSuggestions());
    }
  });

  // One history entry per search: the first results of a query being typed push an entry,
  // later ones (and the Enter that ends the typing) replace it; links push their own.
  function source(event) {  // the element whose request it was (detail.elt is where it fires)
    return event.detail.requestConfig ? event.detail.requestConfig.elt : null;
  }

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var from = source(event);
    var history = event.detail.history;
    if (from && from === box()) {
      history.type = drafting ? "replace" : "push";
      drafting = true;
    } else {
      if (drafting && from && from === box().form) { history.type = "replace"; }
      drafting = false;
    }
  });
  document.addEventListener("htmx:historyRestore", function () { drafting = false; });
  window.addEventListener("pageshow", function () { drafting = false; });

  // After new results: while typing, a screen reader hears the new count (the focus stays in
  // the box); after a link to the next page (hx-swap show:#results:top scrolled there), the
  // focus goes to the count above the new results, so reading starts there too.
  document.addEventListener("htmx:afterSettle", function (event) {
    var from = source(event);
    var count = document.querySelector("#results .count");
    var status = document.getElementById("results-status");
    if (!from || !box() || event.target.id !== "results") { return; }
    if (status && (from === box() || from === box().form)) {
      var text = count ? count.querySelector(".count-text").textContent : "";
      status.textContent = text.trim();
    } else if (count && from.hasAttribute("data-focus-results")) {
      count.focus({ preventScroll: true });
    }
  });
}());
