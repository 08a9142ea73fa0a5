// Pharma MES page behaviour. No inline scripts (the content security policy forbids them).
(function () {
  "use strict";

  // Idle time-out: warn one minute before the server ends the session, then go to log-in.
  function idleTimer() {
    var seconds = parseInt(document.body.dataset.idleTimeout || "0", 10);
    if (!seconds) return;
    var warning = document.getElementById("idle-warning");
    var warnAt = Math.max(seconds - 60, 1) * 1000;
    var warnTimer, endTimer;
    function reset() {
      clearTimeout(warnTimer); clearTimeout(endTimer);
      if (warning) warning.hidden = true;
      warnTimer = setTimeout(function () { if (warning) warning.hidden = false; }, warnAt);
      endTimer = setTimeout(function () { window.location.reload(); }, seconds * 1000 + 2000);
    }
    ["click", "keydown", "htmx:afterRequest"].forEach(function (name) {
      document.addEventListener(name, function (ev) {
        if (name === "htmx:afterRequest" && ev.detail && ev.detail.elt && ev.detail.elt.dataset.background) return;
        reset();
      });
    });
    reset();
  }

  // Keep a barcode scan field focused, so a keyboard-wedge scanner always types into it.
  function scanFocus() {
    var field = document.querySelector("[data-scan-field]");
    if (!field) return;
    field.focus();
    document.addEventListener("click", function (ev) {
      var tag = (ev.target.tagName || "").toLowerCase();
      if (["input", "select", "textarea", "button", "a", "label"].indexOf(tag) === -1) field.focus();
    });
  }

  // Ask for confirmation on buttons that carry data-confirm.
  function confirmations() {
    document.addEventListener("click", function (ev) {
      var el = ev.target.closest("[data-confirm]");
      if (el && !window.confirm(el.dataset.confirm)) { ev.preventDefault(); ev.stopPropagation(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { idleTimer(); scanFocus(); confirmations(); });
})();
