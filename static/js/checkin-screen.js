/* The steward's check-in screen: fetch the current code every few seconds and swap it in when it changes.
   Also wires the member card's Print button. No inline script and no third-party code, so it runs
   under a strict Content-Security-Policy. */
(function () {
  "use strict";
  // The print button stays hidden without JavaScript (the page says to use the browser's Print).
  Array.prototype.forEach.call(document.querySelectorAll("button.print-button"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();

(function () {
  "use strict";
  var screen = document.querySelector(".screen[data-code-url]");
  if (!screen || !window.fetch) { return; }
  var qr = screen.querySelector("[data-qr]");
  var code = screen.querySelector("[data-code]");
  var countdown = screen.querySelector("[data-countdown]");
  var checkedIn = screen.querySelector("[data-checked-in]");
  var url = screen.getAttribute("data-code-url");
  var left = parseInt(screen.getAttribute("data-seconds"), 10) || 30;
  var shown = code ? code.textContent.replace(/\s/g, "") : "";
  var failures = 0;

  function show(data) {
    if (code && data.code !== shown) {
      shown = data.code;
      code.textContent = data.code.slice(0, 3) + " " + data.code.slice(3);
      if (qr) { qr.innerHTML = data.svg; }  // markup made by our own server
    }
    left = data.seconds_left;
    if (countdown) { countdown.textContent = String(left); }
    if (checkedIn) { checkedIn.textContent = String(data.checked_in); }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (data) { failures = 0; show(data); })
      .catch(function () {
        failures += 1;
        if (failures >= 3) { window.location.reload(); }  // logged out or offline: let the page say so
      });
  }

  setInterval(function () {
    left = Math.max(0, left - 1);
    if (countdown) { countdown.textContent = String(left); }
    if (left === 0) { refresh(); }
  }, 1000);
  setInterval(refresh, 5000);
})();
