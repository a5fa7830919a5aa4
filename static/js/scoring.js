// Running totals on the scoring page, recomputed as points are typed (the server computes the same).
(function () {
  "use strict";
  var form = document.getElementById("scoring-form");
  if (!form) return;
  var level = window.Levels.of; // the bands the page gives (static/js/levels.js)

  function update() {
    var total = 0, max = 0;
    form.querySelectorAll(".score-mechanism").forEach(function (section) {
      var points = 0, mmax = 0;
      section.querySelectorAll(".score-input").forEach(function (input) {
        var value = parseInt(input.value, 10), top = parseInt(input.dataset.max, 10);
        input.classList.toggle("is-invalid", input.value !== "" && (isNaN(value) || value < 0 || value > top));
        if (!isNaN(value) && value >= 0 && value <= top) points += value;
        mmax += top;
      });
      var band = level(points, mmax);
      section.querySelector("[data-mechanism-total]").textContent = points + " / " + mmax + " · " + band.label;
      total += points; max += mmax;
    });
    var overall = level(total, max);
    document.querySelector("[data-total]").textContent = total;
    document.querySelector("[data-share]").textContent = window.Levels.percent(total, max, ",");
    var badge = document.querySelector("[data-level]");
    badge.textContent = overall.label;
    badge.className = "badge level-badge level-" + overall.code;
  }

  form.addEventListener("input", update);
  update();
})();
