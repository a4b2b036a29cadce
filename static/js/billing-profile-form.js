// The billing profile form: when the country changes, say so if it is billed in another
// currency (announced: the warning's box is aria-live) and call the tax id by that country's
// name. Every word comes from the server, on the chosen <option> (billing/forms.py
// CountrySelect); htmx may swap the country field meanwhile, hence one listener on the page.
(function () {
  "use strict";

  function show(select) {
    var option = select.options[select.selectedIndex];
    var data = option ? option.dataset : {};
    var box = document.getElementById(select.dataset.currencyWarningIn);
    if (box) {
      var shown = box.querySelector(".message");
      var text = data.currencyWarning || "";
      if ((shown ? shown.textContent : "") !== text) {
        box.textContent = "";
        if (text) {
          var message = document.createElement("p");
          message.className = "message message-warning";
          message.textContent = text;
          box.appendChild(message);
        }
      }
    }
    var taxId = select.dataset.taxIdField;
    var label = taxId && document.querySelector('label[for="' + taxId + '"]');
    if (label && data.taxIdLabel && label.children.length === 0) label.textContent = data.taxIdLabel;
    var hint = taxId && document.getElementById(taxId + "_helptext");
    if (hint && data.taxIdHint) hint.textContent = data.taxIdHint;
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.dataset.currencyWarningIn) show(select);
  });
})();
