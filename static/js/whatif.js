// What-if: total, level and ranks recomputed at once as hypothetical points are typed. The server gives
// the same figures when the form is sent (and without JavaScript); nothing is saved either way.
(function () {
  "use strict";
  var form = document.getElementById("whatif-form");
  if (!form) return;
  var level = window.Levels.of; // the bands the page gives (static/js/levels.js)
  function numbers(text) { return text ? text.split(",").map(Number) : []; }
  var others = numbers(form.dataset.others), othersRegion = numbers(form.dataset.othersRegion);
  var decimal = (document.documentElement.lang || "ru").indexOf("ru") === 0 ? "," : ".";

  function rank(total, list) { return 1 + list.filter(function (t) { return t > total; }).length; }

  function update() {
    var total = 0, max = 0, valid = true;
    form.querySelectorAll("[data-mechanism]").forEach(function (section) {
      var points = 0, mmax = 0;
      section.querySelectorAll(".whatif-input").forEach(function (input) {
        var top = parseInt(input.dataset.max, 10);
        var value = input.value === "" ? parseInt(input.dataset.current, 10) : Number(input.value);
        var ok = Number.isInteger(value) && value >= 0 && value <= top;
        input.classList.toggle("is-invalid", !ok);
        input.setAttribute("aria-invalid", ok ? "false" : "true");
        if (ok) points += value; else valid = false;
        mmax += top;
      });
      section.querySelector("[data-mechanism-total]").textContent = points + " / " + mmax + " · " + level(points, mmax).label;
      total += points; max += mmax;
    });
    var summary = document.querySelector(".whatif-summary");
    summary.classList.toggle("opacity-50", !valid);
    if (!valid) return; // points outside 0…max: no result, as on the server
    var overall = level(total, max);
    summary.querySelector("[data-total]").textContent = total;
    summary.querySelector("[data-share]").textContent = window.Levels.percent(total, max, decimal);
    var badge = summary.querySelector("[data-level]");
    badge.textContent = overall.label;
    badge.className = "badge level-badge level-" + overall.code;
    summary.querySelector("[data-rank-country]").textContent = rank(total, others);
    summary.querySelector("[data-rank-region]").textContent = rank(total, othersRegion);
  }

  form.addEventListener("input", update);
  update();
})();
