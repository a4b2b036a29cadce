/* The portal's shell: navigation toggle, menus, error summary focus. No inline script (CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }

  /* A menu whose items load when opened (the tenant switcher: data-menu-url) asks for them
     on each opening until they have come; a failed answer says so and is asked again. */
  function loadMenu(menu) {
    var url = menu.getAttribute("data-menu-url");
    var items = menu.querySelector("[data-menu-items]");
    if (!url || !items || menu.hasAttribute("data-loaded") || !window.htmx) return;
    items.innerHTML = '<p class="muted">Loading\u2026</p>';
    function done() {
      if (items.querySelector("[data-menu-loaded]")) menu.setAttribute("data-loaded", "");
      else items.innerHTML = '<p class="muted">Could not load the list. Open the menu again, or use All tenants.</p>';
    }
    window.htmx.ajax("GET", url, { target: items, swap: "innerHTML" }).then(done, done);
  }

  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        document.body.classList.toggle("nav-open", open);
      });
    }
    document.querySelectorAll("details.menu").forEach(function (menu) {
      menu.addEventListener("toggle", function () {
        if (!menu.open) return;
        closeMenus(menu);
        loadMenu(menu);
      });
    });
    focusErrorSummary(document);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest("details.menu")) closeMenus(null);
  });

  /* One field checked by htmx (HX-Trigger-Name) never brings the form's error summary. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var headers = event.detail.requestConfig && event.detail.requestConfig.headers;
    if (!headers || !headers["HX-Trigger-Name"] || !event.detail.serverResponse) return;
    var template = document.createElement("template");
    template.innerHTML = event.detail.serverResponse;
    var summary = template.content.querySelector("[data-error-summary]");
    if (summary) {
      summary.remove();
      event.detail.serverResponse = template.innerHTML;
    }
  });

  /* The side panel (a modal <dialog>): a link with data-opens-panel loads its content
     there (htmx) and opens it; Escape, a data-close-panel button or a click beside it
     closes it, and focus goes back to the link. Without JavaScript the link is a page. */
  var panelOpener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.hasAttribute("data-opens-panel")) panelOpener = event.detail.elt;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var body = event.detail.target;
    if (!body || body.id !== "side-panel-body") return;
    var dialog = body.closest("dialog");
    if (!dialog.open) dialog.showModal();
    var first = body.querySelector("[aria-invalid=true], input:checked, input, button");
    if (first) first.focus();
  });
  document.addEventListener("click", function (event) {
    var dialog = event.target.closest("dialog.side-panel-dialog") || event.target;
    if (event.target.closest("[data-close-panel]") || event.target.matches("dialog.side-panel-dialog")) {
      dialog.close();
    }
  });
  document.addEventListener("close", function (event) {
    if (!event.target.matches || !event.target.matches("dialog.side-panel-dialog")) return;
    event.target.querySelector("#side-panel-body").innerHTML = "";
    if (panelOpener) panelOpener.focus();
  }, true);

  /* A whole form swapped in with errors: focus its summary. */
  document.addEventListener("htmx:afterSettle", function (event) {
    focusErrorSummary(event.detail.elt.parentNode || document);
  });
})();
