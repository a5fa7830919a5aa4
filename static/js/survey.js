// The survey page: dependent questions appear only when the earlier answer calls for them, an
// "exclusive" option clears the others, answers are saved shortly after each change, and a form is sent once.
(function () {
  "use strict";
  document.querySelectorAll("form[data-once]").forEach(function (f) {
    f.addEventListener("submit", function () {
      setTimeout(function () { f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });
  var form = document.getElementById("survey-form");
  if (!form) return;
  var gettext = window.gettext || function (s) { return s; };
  var state = form.querySelector("[data-save-state]");
  var timer = null;

  function values(code) {
    return Array.prototype.map.call(
      form.querySelectorAll("[name='q-" + code + "']:checked, input[type=number][name='q-" + code + "'], textarea[name='q-" + code + "']"),
      function (el) { return el.value; }
    ).filter(function (v) { return v !== ""; });
  }

  function hasQuestion(code) { return !!form.querySelector("[name='q-" + code + "']"); }

  function refreshDependencies() {
    form.querySelectorAll("[data-depends-on]").forEach(function (box) {
      var parent = box.dataset.dependsOn;
      if (!hasQuestion(parent)) return; // on an earlier page: the server decided
      var wanted = box.dataset.dependsValues.split("|");
      var parentBox = document.getElementById("q-" + parent);
      var parentShown = !parentBox || !parentBox.classList.contains("d-none");
      var show = parentShown && values(parent).some(function (v) { return wanted.indexOf(v) >= 0; });
      box.classList.toggle("d-none", !show);
      box.querySelectorAll("input, textarea").forEach(function (el) { el.disabled = !show; });
      var hint = box.querySelector(".depends-hint");
      if (hint) hint.classList.add("d-none");
    });
  }

  function exclusive(event) {
    var el = event.target;
    if (el.type !== "checkbox" || !el.checked) return;
    var siblings = form.querySelectorAll("[name='" + el.name + "']");
    siblings.forEach(function (other) {
      if (other === el) return;
      if (el.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive")) other.checked = false;
    });
  }

  function say(text, tone) {
    if (!state) return;
    state.textContent = text;
    state.className = "small " + (tone ? "text-" + tone : "text-body-secondary");
  }

  function save() {
    var data = new FormData(form);
    data.delete("action");
    say(gettext("Saving…"));
    fetch(form.dataset.autosave, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) {
        if (r.ok) {
          say(gettext("Saved"), "success");
          var text = document.querySelector("[data-progress-text]");
          if (text && window.interpolate) {
            text.textContent = interpolate(gettext("%s of %s answered"), [r.body.answered, r.body.total]);
          }
          var bar = document.querySelector("[data-progress-bar]");
          if (bar && r.body.total) {
            var pct = Math.round(100 * r.body.answered / r.body.total);
            bar.className = bar.className.replace(/pct-\d+/, "pct-" + pct);
          }
        } else {
          say(r.body.error || gettext("Not saved"), "danger");
        }
      })
      .catch(function () { say(gettext("No connection: the answers will be saved when you go to the next section."), "warning"); });
  }

  form.addEventListener("change", function (event) {
    exclusive(event);
    refreshDependencies();
    clearTimeout(timer);
    timer = setTimeout(save, 600);
  });
  form.addEventListener("input", function (event) {
    if (event.target.tagName !== "TEXTAREA" && event.target.type !== "number") return;
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  });
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    // The clicked button's value must still be sent: disable the buttons only after this event.
    setTimeout(function () { form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; }); }, 0);
  });
  refreshDependencies();
})();
