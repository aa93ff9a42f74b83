// Tollgate admin portal: small enhancements. Every page works without this
// file; it only adds what needs a script. Loaded from /assets (the
// Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  // Copies the value of the field a button names, and says so.
  function copyFrom(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var said = button.parentNode.querySelector("[data-copy-status]");
    var report = function (text) {
      if (said) {
        said.textContent = text;
      }
    };
    var byHand = function () {
      field.focus();
      field.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (ignored) {
        copied = false;
      }
      report(copied ? "Copied." : "Selected: press Ctrl+C (\u2318C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        report("Copied.");
      }, byHand);
    } else {
      byHand();
    }
  }

  function enhance(root) {
    // Copy buttons are hidden until there is a script to press them.
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.hasAttribute("data-ready")) {
        return;
      }
      button.setAttribute("data-ready", "");
      button.hidden = false;
      button.addEventListener("click", function () {
        copyFrom(button);
      });
    });
    // Forms that htmx does not submit ask before doing what cannot be
    // undone (htmx forms ask through hx-confirm).
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.hasAttribute("data-ready")) {
        return;
      }
      form.setAttribute("data-ready", "");
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
  });
  // Content htmx swapped in is enhanced too.
  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });
})();
