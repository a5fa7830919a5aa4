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
