/* The search contest: the countdown (a display only: the server's clock decides), and a question
   before handing in. No inline scripts: CSP. */
(function () {
  "use strict";
  if (window.jalaContest) { return; }
  window.jalaContest = true;

  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (box) {
      var seconds = parseInt(box.getAttribute("data-countdown"), 10);
      if (box.jalaFrom !== seconds) {  // a fresh page or a swapped screen: the server's count
        box.jalaFrom = seconds;
        box.jalaEnds = Date.now() + seconds * 1000;
      }
      var left = Math.max(0, Math.round((box.jalaEnds - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), rest = left % 60;
      var text = box.querySelector("[data-countdown-text]");
      if (text) { text.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest; }
      box.classList.toggle("contest-low", left <= 60);
      if (left === 0 && !box.jalaOver) {
        box.jalaOver = true;
        window.location.assign(box.getAttribute("data-over-url"));
      }
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  window.setInterval(tick, 1000);

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-contest-confirm]");
    if (button && !window.confirm(button.getAttribute("data-contest-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
}());
