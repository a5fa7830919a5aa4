// Autosave of the primary-data form. Each block saves itself shortly after typing stops; until the server
// confirms, the block's text is also kept in localStorage, so a reload or a lost connection loses nothing.
(function () {
  "use strict";
  var form = document.getElementById("mechanism-form");
  if (!form) return;
  var gettext = window.gettext || function (s) { return s; };
  var interpolate = window.interpolate || function (s, a) { return s.replace("%s", a[0]); };
  var storageKey = form.dataset.storageKey;
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var DELAY = 1200, RETRY = 10000;
  var pending = {};

  function fields(block) {
    var data = {};
    block.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.dataset.field;
      if (name === "version") return;
      data[name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return data;
  }

  function setFields(block, data) {
    block.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.dataset.field;
      if (!(name in data) || name === "version") return;
      if (el.type === "checkbox") el.checked = !!data[name]; else el.value = data[name];
    });
  }

  function key(block) { return storageKey + ":" + block.dataset.code; }

  function remember(block) {
    try {
      localStorage.setItem(key(block), JSON.stringify({ base: block.dataset.version, fields: fields(block) }));
    } catch (e) { /* storage full or disabled: the server save still runs */ }
  }

  function forget(block, sent) {
    try {
      var stored = JSON.parse(localStorage.getItem(key(block)) || "null");
      if (stored && JSON.stringify(stored.fields) === JSON.stringify(sent)) localStorage.removeItem(key(block));
    } catch (e) { localStorage.removeItem(key(block)); }
  }

  function state(block, text, tone) {
    var el = block.querySelector("[data-save-state]");
    if (!el) return;
    el.textContent = text;
    el.className = "small save-state " + (tone ? "text-" + tone : "text-body-secondary");
  }

  function showError(block, message) {
    var el = block.querySelector("[data-block-error]");
    if (!el) return;
    el.textContent = message || "";
    el.classList.toggle("d-none", !message);
  }

  function setVersion(block, version) {
    block.dataset.version = version;
    var hidden = block.querySelector("[data-field=version]");
    if (hidden) hidden.value = version;
  }

  function setBar(bar, percent) {
    if (!bar) return;
    bar.className = bar.className.replace(/\bpct-\d+\b/, "pct-" + percent);
    bar.classList.toggle("bg-success", percent === 100);
    bar.parentElement.setAttribute("aria-valuenow", percent);
  }

  // A saved block's link list may grow while the keyboard is already further down the page: keep the
  // focused element where the person sees it instead of letting the new lines push it off screen.
  function keepingFocusInPlace(change) {
    var active = document.activeElement;
    var before = active && active !== document.body ? active.getBoundingClientRect() : null;
    change();
    if (!before || before.bottom < 0 || before.top > window.innerHeight || !active.isConnected) return;
    var shift = active.getBoundingClientRect().top - before.top;
    if (shift) window.scrollBy({ top: shift, behavior: "instant" });
  }

  function render(block, body) {
    keepingFocusInPlace(function () { show(block, body); });
  }

  function show(block, body) {
    var badge = block.querySelector("[data-block-state]");
    if (badge && "complete" in body) {
      badge.textContent = body.complete ? gettext("complete") : gettext("in progress");
      badge.className = "badge block-state " + (body.complete ? "text-bg-success" : "text-bg-light");
    }
    var list = block.querySelector("[data-link-list]");
    if (list && body.links) {
      list.textContent = "";
      body.links.forEach(function (link) {
        var li = document.createElement("li");
        li.className = "text-break";
        var span = document.createElement("span");
        span.className = "badge link-state link-" + link.state;
        span.textContent = link.label;
        var a = document.createElement("a");
        a.href = link.url; a.rel = "noopener noreferrer"; a.target = "_blank"; a.textContent = link.url;
        li.appendChild(span); li.appendChild(document.createTextNode(" ")); li.appendChild(a);
        if (link.off_site) {  // the same warning the page shows (templates/includes/off_site.html)
          var warning = document.createElement("div");
          warning.className = "small text-warning-emphasis link-off-site";
          warning.dataset.offSite = "";
          warning.textContent = link.warning;
          li.appendChild(warning);
        }
        list.appendChild(li);
      });
    }
    if (body.progress) {
      document.querySelectorAll("[data-progress-text]").forEach(function (el) {
        el.textContent = body.progress.done + " / " + body.progress.total;
      });
      setBar(document.querySelector(".form-nav .card [data-progress-bar]"), body.progress.percent);
    }
    if (body.mechanism) {
      var count = document.querySelector("[data-mechanism-count]");
      if (count) {
        count.textContent = body.mechanism.done + "/" + body.mechanism.total;
        setBar(count.closest("a").querySelector("[data-progress-bar]"), body.mechanism.percent);
      }
    }
  }

  function save(block) {
    clearTimeout(pending[block.dataset.code]);
    delete pending[block.dataset.code];
    var sent = fields(block);
    var data = new FormData();
    Object.keys(sent).forEach(function (name) {
      if (typeof sent[name] === "boolean") { if (sent[name]) data.append(name, "on"); } else data.append(name, sent[name]);
    });
    data.append("version", block.dataset.version);
    state(block, gettext("Saving…"));
    block.dataset.saving = "1";
    fetch(block.dataset.saveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      delete block.dataset.saving;
      var body = result.body;
      if (result.status === 200 && body.ok) {
        setVersion(block, body.version);
        forget(block, sent);
        showError(block, "");
        block.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
        state(block, interpolate(gettext("saved at %s"), [body.saved_at]), "success");
        render(block, body);
        if (JSON.stringify(fields(block)) !== JSON.stringify(sent)) schedule(block);
      } else if (result.status === 409) {
        setVersion(block, body.version);
        setFields(block, body);
        forget(block, sent);
        showError(block, body.error);
        state(block, gettext("changed by someone else"), "danger");
      } else {
        showError(block, body.error || gettext("The block was not saved."));
        (body.fields || []).forEach(function (name) {
          var el = block.querySelector("[data-field=" + name + "]");
          if (el) el.classList.add("is-invalid");
        });
        if (body.fields && body.fields.indexOf("complete") >= 0) {
          var box = block.querySelector("[data-field=complete]");
          if (box) box.checked = false;
        }
        state(block, gettext("not saved"), "danger");
      }
    }).catch(function () {
      delete block.dataset.saving;
      state(block, gettext("No connection: the draft is kept on this device and will be sent again."), "warning");
      pending[block.dataset.code] = setTimeout(function () { save(block); }, RETRY);
    });
  }

  function schedule(block) {
    remember(block);
    state(block, gettext("unsaved changes…"));
    clearTimeout(pending[block.dataset.code]);
    pending[block.dataset.code] = setTimeout(function () { save(block); }, DELAY);
  }

  var blocks = form.querySelectorAll("[data-save-url]");
  blocks.forEach(function (block) {
    block.addEventListener("input", function () { schedule(block); });
    block.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") { remember(block); save(block); }
    });
    try {
      var stored = JSON.parse(localStorage.getItem(key(block)) || "null");
      if (stored && JSON.stringify(stored.fields) !== JSON.stringify(fields(block))) {
        if (String(stored.base) === String(block.dataset.version)) {
          setFields(block, stored.fields);
          state(block, gettext("An unsaved draft from this device was restored; saving…"), "warning");
          save(block);
        } else {
          showError(block, gettext("This block was changed elsewhere since your unsaved draft; the saved version is shown."));
          localStorage.removeItem(key(block));
        }
      }
    } catch (e) { localStorage.removeItem(key(block)); }
  });

  window.addEventListener("online", function () {
    blocks.forEach(function (block) { if (pending[block.dataset.code]) save(block); });
  });
  window.addEventListener("beforeunload", function (event) {
    var busy = Object.keys(pending).length || form.querySelector("[data-saving]");
    if (busy) { event.preventDefault(); event.returnValue = ""; }
  });
  var hint = document.querySelector("[data-autosave-hint]");
  if (hint) hint.classList.add("autosave-on");
})();
