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
