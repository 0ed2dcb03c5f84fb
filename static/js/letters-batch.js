/* A letter batch's progress: read the batch's JSON every few seconds and move the bar, the counts and the
   worker hint; once the batch has finished, reload so the page shows its final state. Without JavaScript the
   page refreshes itself (a <meta> refresh inside <noscript>). No inline script, no outside library. */
(function () {
  "use strict";
  var box = document.querySelector(".letters-batch[data-status-url]");
  if (!box || !window.fetch || !window.JSON) { return; }
  if (box.getAttribute("data-finished") === "true") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var hint = box.querySelector(".batch-hint");
  var error = box.querySelector(".batch-error");
  var state = box.querySelector(".batch-state .badge");
  var every = 2000;
  var failures = 0;

  function show(name, value) {
    var el = box.querySelector("[data-field=" + name + "]");
    if (el) { el.textContent = String(value); }
  }

  function update(data) {
    bar.max = Math.max(data.total, 1);
    bar.value = data.total ? data.done : (data.finished ? 1 : 0);
    bar.textContent = data.percent + "%";
    show("done", data.done);
    show("total", data.total);
    show("created", data.created);
    show("percent", data.percent);
    if (state && data.state_label) { state.textContent = data.state_label; }
    hint.hidden = !data.stalled;
    if (data.error) { error.textContent = data.error; error.hidden = false; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        update(data);
        if (data.finished) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, every);
      })
      .catch(function () {
        failures += 1;  // the server restarting, a dropped connection: slow down, then keep trying
        window.setTimeout(poll, Math.min(every * Math.pow(2, failures), 30000));
      });
  }

  window.setTimeout(poll, every);
}());
