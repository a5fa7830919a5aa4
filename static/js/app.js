// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Open the criterion named in the address (#c-1.1.3) so that a link from a form lands on its guidance.
  var hash = decodeURIComponent(window.location.hash || "");
  if (hash.indexOf("#c-") === 0) {
    var item = document.getElementById(hash.slice(1));
    var panel = item && item.querySelector(".accordion-collapse");
    if (panel && window.bootstrap) {
      new window.bootstrap.Collapse(panel, { toggle: true });
      item.scrollIntoView();
    }
  }
})();

// Demo login page: a click on an account fills the form.
document.querySelectorAll(".demo-login").forEach(function (button) {
  button.addEventListener("click", function () {
    var form = document.querySelector("form[method=post]");
    form.querySelector("[name=username]").value = button.dataset.username;
    form.querySelector("[name=password]").value = button.closest("[data-password]").dataset.password;
    form.querySelector("[type=submit]").focus();
  });
});

// A "Print" button on printable sheets (an inline onclick would break the CSP).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// A form that takes a while (a workbook checked whole, links made for every school) says it is working and
// cannot be sent twice. The button is disabled after the browser has taken its name and value.
document.querySelectorAll("form[data-busy]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var button = event.submitter || form.querySelector("[type=submit]");
    if (!button || form.dataset.sent) { if (form.dataset.sent) event.preventDefault(); return; }
    form.dataset.sent = "1";
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-1";
    spinner.setAttribute("aria-hidden", "true");
    button.replaceChildren(spinner, document.createTextNode(form.dataset.busy));
    button.setAttribute("aria-busy", "true");
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
});

// On a phone the chart's labels are too small to read: its table («The chart as a table») opens beside it.
if (window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches) {
  document.querySelectorAll("main svg[role=img]").forEach(function (chart) {
    var card = chart.closest(".card, section");
    var table = card && card.querySelector("details table");
    if (table) { table.closest("details").open = true; }
  });
}

// Paper shows every closed <details> (the scorecard's mechanisms): browsers without ::details-content in
// print open them for the printout and close them again afterwards.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details:not([open])").forEach(function (d) { d.open = true; d.dataset.printOpened = "1"; });
});
window.addEventListener("afterprint", function () {
  document.querySelectorAll("details[data-print-opened]").forEach(function (d) { d.open = false; delete d.dataset.printOpened; });
});

// A button whose action cannot be undone asks first (data-confirm holds the question, already translated).
document.querySelectorAll("button[data-confirm]").forEach(function (button) {
  button.addEventListener("click", function (event) {
    if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });
});
