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
  // A scan field starts empty on every page show (also when the browser restores a page from its
  // back/forward cache), so a refused code is never prefixed to the next scan.
  // The field is looked up on each use: a screen answered in place (htmx) brings its own.
  function scanFocus() {
    function scanField() { return document.querySelector("[data-scan-field]"); }
    var field = scanField();
    if (!field) return;
    if (field.classList.contains("scan-field")) field.value = "";
    field.focus();
    window.addEventListener("pageshow", function (ev) {
      var f = scanField();
      if (ev.persisted && f && f.classList.contains("scan-field")) { f.value = ""; f.focus(); }
    });
    document.addEventListener("click", function (ev) {
      var tag = (ev.target.tagName || "").toLowerCase(), f = scanField();
      if (f && ["input", "select", "textarea", "button", "a", "label"].indexOf(tag) === -1) f.focus();
    });
  }

  // Ask for confirmation on buttons that carry data-confirm.
  function confirmations() {
    document.addEventListener("click", function (ev) {
      var el = ev.target.closest("[data-confirm]");
      if (el && !window.confirm(el.dataset.confirm)) { ev.preventDefault(); ev.stopPropagation(); }
    });
  }

  // A double click (or a scanner's repeated Enter) sends a page form once. The server still answers a
  // repeat of the same action as already done; this only saves the second round trip. Forms that open
  // elsewhere (target) or are sent by htmx are left alone; the guard lifts after a few seconds in case
  // the answer was a download that left the page where it was.
  function submitOnce() {
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if ((form.method || "").toLowerCase() !== "post" || form.target || form.hasAttribute("hx-post")) return;
      if (form.dataset.submitted) { ev.preventDefault(); return; }
      form.dataset.submitted = "1";
      setTimeout(function () { delete form.dataset.submitted; }, 5000);
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-submitted]").forEach(function (f) { delete f.dataset.submitted; });
    });
  }

  // Weigh & dispense booth: show the weight on the pan as material is added (polled; nothing is
  // recorded from it: only Capture takes a stable weight from the balance). Slower after an error,
  // paused while the tablet's screen is hidden.
  function liveWeight() {
    var panel = document.querySelector("[data-live-weight]");
    if (!panel || !window.fetch) return;
    var value = panel.querySelector("[data-live-value]"), stable = panel.querySelector("[data-live-stable]");
    var message = panel.querySelector("[data-live-message]"), fill = panel.querySelector("[data-live-fill]");
    function show(data) {
      panel.dataset.state = data.ok ? (data.state || "none") : "error";
      value.textContent = data.ok ? data.weight : "—";
      stable.textContent = data.ok ? (data.stable ? panel.dataset.stableText : panel.dataset.movingText) : "";
      stable.classList.toggle("is-stable", !!data.stable);
      message.textContent = data.message || "";
      fill.style.width = (data.ok ? data.fill || 0 : 0) + "%";
    }
    function poll() {
      if (document.hidden) { setTimeout(poll, 1000); return; }
      fetch(panel.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { show(data); setTimeout(poll, data.ok ? 700 : 3000); })
        .catch(function () { setTimeout(poll, 5000); });
    }
    poll();
  }

  // The step screen records a value with htmx and gets that value's block back, as stored. Then the
  // next value to record has the focus (the scanner or the keyboard types into it), or the signature
  // once every value is in; a refused value keeps the focus in its own block to be completed. An
  // answer that is not a block (the session ended, a server error) shows the screen again as a whole
  // page; a request that never reached the server says so in the block and keeps what was typed.
  function entryBlocks() {
    function firstEmpty(form) {
      var fields = form ? form.querySelectorAll("input[type=text], input[type=password]") : [];
      for (var i = 0; i < fields.length; i++) if (!fields[i].value && fields[i].offsetParent !== null) return fields[i];
      return null;
    }
    document.addEventListener("htmx:afterSettle", function (ev) {
      var old = ev.detail.target;
      if (!old || !old.classList || !old.classList.contains("entry-block")) return;
      var block = document.getElementById(old.id);
      if (block && block.querySelector("[data-testid=entry-message].msg-error")) {  // refused: complete or fix this value
        var field = firstEmpty(block.querySelector("form")) || block.querySelector("input[name=value]");
        if (field) field.focus();
        return;
      }
      // Only the latest outcome says "done": the page's own (the step started) and earlier values' go.
      document.querySelectorAll(".messages .msg-success, .entry-block [data-testid=entry-message].msg-success").forEach(function (m) {
        if (!block || !block.contains(m)) m.remove();
      });
      var next = document.querySelector(".entry-block form.entry-form") || document.querySelector("[data-testid=sign-form]");
      if (!next) return;
      next.scrollIntoView({ block: "center" });
      var value = next.querySelector("input[name=value]");
      if (value && !value.value) value.focus();
    });
    document.addEventListener("htmx:responseError", function (ev) {
      if (ev.detail.elt && ev.detail.elt.closest("form[data-unsent]")) window.location.reload();
    });
    document.addEventListener("htmx:sendError", function (ev) {
      var form = ev.detail.elt && ev.detail.elt.closest("form[data-unsent]");
      if (!form || form.querySelector("[data-unsent-message]")) return;
      var note = document.createElement("div");
      note.className = "msg msg-error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-unsent-message", "");
      note.textContent = form.dataset.unsent;
      form.insertBefore(note, form.firstChild);
    });
  }

  // A step screen answered in place (scan, sign, verify, correct: htmx puts the page's main content in
  // place): the scan field has the focus when there is one (htmx focuses [autofocus]), otherwise the
  // first value to record, so the scanner or the keyboard types on as after a page load.
  function screensInPlace() {
    document.addEventListener("htmx:afterSettle", function (ev) {
      var main = ev.target;
      if (!main || !main.matches || !main.matches("main.content") || main.querySelector("[data-scan-field]")) return;
      var value = main.querySelector(".entry-block form.entry-form input[name=value]");
      if (value && !value.value) value.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    idleTimer(); scanFocus(); confirmations(); submitOnce(); liveWeight(); entryBlocks(); screensInPlace();
  });
})();
