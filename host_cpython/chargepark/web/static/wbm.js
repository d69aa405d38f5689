// The script of every WBM page (no build step): field visibility by the rules the form carries, the API's
// field messages placed beside their fields after an htmx answer, and the number format of the live updates.
"use strict";

// A shown number in the page's language with `digits` fraction digits: German 1.234,50, English 1,234.50
// (Intl's grouping is CLDR's, as Babel's in chargepark/web/numbers.py: a live update prints what the first
// render printed). The page scripts after this one (deferred, in document order) use it; one formatter per
// digits, made once (the dashboard formats hundreds of values a second).
var numberFormats = {};
function formatNumber(value, digits) {
  var f = numberFormats[digits] || (numberFormats[digits] = new Intl.NumberFormat(
    document.documentElement.lang || undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  return f.format(value);
}

function applyVisibility(form) {
  form.querySelectorAll("[data-shown-when]").forEach(function (div) {
    var control = form.elements[div.dataset.shownWhen];
    var value = control && control.type === "checkbox" ? (control.checked ? "on" : "off") : control && control.value;
    div.hidden = !control || div.dataset.shownValues.split(" ").indexOf(value) < 0;
  });
}

function placeFieldErrors(root) {
  document.querySelectorAll(".field .error").forEach(function (span) { span.textContent = ""; });
  root.querySelectorAll("template[data-field-error]").forEach(function (t) {
    var span = document.getElementById("error-" + t.dataset.fieldError.split(/[.[]/)[0]);
    if (span) { span.textContent = t.content.textContent.trim(); }
  });
}

document.addEventListener("change", function (e) {
  if (e.target.form) { applyVisibility(e.target.form); }
});
document.addEventListener("htmx:afterSwap", function (e) { placeFieldErrors(e.detail.target); });
document.querySelectorAll("form").forEach(applyVisibility);
// The MQTT Bridge page's info pop-up: copy the full topic for the remote broker's configuration.
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("button[data-copy]");
  if (button && navigator.clipboard) { navigator.clipboard.writeText(button.dataset.copy); }
});
