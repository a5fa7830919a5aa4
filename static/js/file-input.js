// File inputs in the page's language. Chromium draws its own «Choose File» / «No file chosen» in the language of the
// browser, whatever the page's lang: so each file input is wrapped in a label that looks like Bootstrap's file control
// — a button and the chosen file's name (or «Files chosen: 3»), in the texts this script's tag carries (data-choose,
// data-none, data-many).
// The input itself stays in the page, visually hidden but focusable (Bootstrap's .btn-check, like the toggle buttons):
// Tab reaches it, Space or Enter opens the chooser, a click anywhere on the label does too, a file dropped on the label
// lands in it; screen readers hear its own label and the chosen file's name as its description. Without JavaScript
// the browser's own control is left as it is.
(function () {
  "use strict";
  var script = document.currentScript;
  var texts = (script && script.dataset) || {};
  var CHOOSE = texts.choose || "Choose a file";
  var NONE = texts.none || "No file chosen";
  var MANY = texts.many || "Files chosen:";
  var counter = 0;

  function chosen(input) {
    var files = input.files || [];
    if (!files.length) return NONE;
    if (files.length === 1) return files[0].name;
    return MANY + " " + files.length;
  }

  function enhance(input) {
    if (input.dataset.filePicker) return;
    input.dataset.filePicker = "1";
    counter += 1;
    if (!input.id) input.id = "file-picker-" + counter;
    var label = document.createElement("label");
    label.className = "file-picker form-control";
    ["form-control-sm", "form-control-lg", "is-invalid", "is-valid"].forEach(function (name) {
      if (input.classList.contains(name)) label.classList.add(name);
    });
    if (input.disabled) label.classList.add("file-picker-disabled");
    label.htmlFor = input.id;
    var button = document.createElement("span");
    button.className = "file-picker-button";
    button.setAttribute("aria-hidden", "true");
    button.textContent = CHOOSE;
    var name = document.createElement("span");
    name.className = "file-picker-name";
    name.id = input.id + "-chosen";
    name.setAttribute("aria-hidden", "true");  // read as the input's description, not twice as label text
    name.textContent = chosen(input);
    input.parentNode.insertBefore(label, input);
    label.appendChild(input);
    label.appendChild(button);
    label.appendChild(name);
    input.classList.add("btn-check", "file-picker-input");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(name.id);
    input.setAttribute("aria-describedby", described.join(" "));
    input.addEventListener("change", function () {
      name.textContent = chosen(input);
      label.classList.toggle("file-picker-chosen", !!(input.files && input.files.length));
    });
    if (input.form) {
      input.form.addEventListener("reset", function () {
        window.setTimeout(function () { name.textContent = chosen(input); label.classList.remove("file-picker-chosen"); }, 0);
      });
    }
    label.addEventListener("dragover", function (event) { event.preventDefault(); label.classList.add("file-picker-over"); });
    label.addEventListener("dragleave", function () { label.classList.remove("file-picker-over"); });
    label.addEventListener("drop", function (event) {
      event.preventDefault();
      label.classList.remove("file-picker-over");
      if (event.dataTransfer && event.dataTransfer.files.length && !input.disabled) {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[type=file]").forEach(enhance);
  }

  enhanceAll(document);
  // Inputs added later (a form part loaded or cloned by another script) are enhanced too.
  if (window.MutationObserver) {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        m.addedNodes.forEach(function (node) {
          if (node.nodeType !== 1) return;
          if (node.matches && node.matches("input[type=file]")) enhance(node);
          else if (node.querySelectorAll) enhanceAll(node);
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
