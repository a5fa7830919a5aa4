// The level bands of the page's methodology, given by the server (templates/includes/level_bands.html puts
// them in the page as JSON): the one place the running totals and the what-if read them from. No threshold is
// copied here: the methodology is data.
window.Levels = (function () {
  "use strict";
  var node = document.getElementById("level-bands");
  var bands = (node ? JSON.parse(node.textContent) : []).map(function (row) {
    return { start: parseFloat(row[0]), code: row[1], label: row[2] };
  }).sort(function (a, b) { return a.start - b.start; });

  // The band points / max falls in (as assessment/scoring.py: a zero maximum is the lowest band).
  function of(points, max) {
    var share = max ? points / max : 0, found = bands[0];
    bands.forEach(function (band) { if (share >= band.start - 1e-9) found = band; });
    return found;
  }

  // The share in per cent with one decimal, as the server shows it.
  function percent(points, max, decimal) {
    return (max ? 100 * points / max : 0).toFixed(1).replace(".", decimal || ",") + "\u00a0%";
  }

  return { of: of, percent: percent };
})();
