// <time datetime="...Z" data-local-time>: the text becomes the browser's local time; the
// title keeps UTC for hover. Runs on load and after every htmx swap.
(function () {
  "use strict";
  const format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  function localise(root) {
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = format.format(when);
    });
  }
  localise(document);
  document.body.addEventListener("htmx:afterSettle", function (event) { localise(event.target); });
})();
