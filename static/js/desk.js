/* The exchange desk: scan a voucher's QR code with the camera or type its code, show the answer, hand over.
   One answer at a time: a decoded code pauses the camera until the steward presses "Next voucher", and
   nothing is handed over until the steward presses "Hand over". Without JavaScript or a camera the manual
   field and the plain forms do the same job. No inline script; the scanner library is vendored in
   static/vendor/ and served by this site (its decoder runs in a blob: worker, fetched from nowhere). */
(function () {
  "use strict";
  var desk = document.querySelector(".desk[data-scan-url]");
  if (!desk || !window.fetch || !window.JSON) { return; }
  var result = desk.querySelector(".desk-result");
  var manual = desk.querySelector("form.desk-manual");
  var input = manual.querySelector("input[name=value]");
  var camera = desk.querySelector(".desk-camera");
  var startButton = camera.querySelector(".desk-camera-start");
  var stopButton = camera.querySelector(".desk-camera-stop");
  var videoBox = camera.querySelector(".desk-video");
  var video = videoBox.querySelector("video");
  var status = camera.querySelector(".desk-camera-status");
  var meta = document.querySelector("meta[name=csrf-token]");
  var csrf = meta ? meta.getAttribute("content") : "";

  var scanner = null;
  var scanning = false;  // the camera is on (it may be paused while an answer is shown)
  var waiting = false;   // an answer is shown or on its way: ignore further decodes
  var busy = false;      // a request is in flight
  var lastValue = "";
  var resumedAt = 0;

  function say(name) {
    status.textContent = desk.getAttribute("data-msg-" + name) || "";
  }

  function post(url, value) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ value: value, html: true })
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || type.indexOf("application/json") === -1) {
        throw new Error("unexpected answer " + response.status);
      }
      return response.json();
    });
  }

  function notice(text) {
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    return p;
  }

  function failed(keepPanel) {
    var text = desk.getAttribute("data-msg-failed");
    if (keepPanel && result.firstElementChild) {
      result.insertBefore(notice(text), result.firstElementChild);
    } else {
      result.innerHTML = "";
      result.appendChild(notice(text));
      result.appendChild(nextLink());
    }
  }

  function nextLink() {
    var a = document.createElement("a");
    a.className = "button secondary desk-next";
    a.href = window.location.pathname;
    a.textContent = desk.getAttribute("data-msg-next");
    return a;
  }

  function count(name, delta) {
    var stat = document.querySelector("[data-stat=" + name + "]");
    if (stat) { stat.textContent = String(Math.max(0, (parseInt(stat.textContent, 10) || 0) + delta)); }
  }

  function counted(data) {
    // Today's numbers below the desk follow a hand-over without reloading the page.
    var shown = desk.getAttribute("data-community");
    var voucher = data.voucher;
    if (data.reason !== "ok" || !voucher || voucher.state !== "redeemed") { return; }
    if (shown && String(voucher.community_id) !== shown) { return; }
    count("handed_over", 1);
    count("waiting", -1);
  }

  function show(data) {
    if (data.reason === "member" && data.url) {
      window.location.assign(data.url);
      return;
    }
    if (data.reason === "login" || data.reason === "forbidden") {
      window.location.reload();
      return;
    }
    if (data.html) {
      result.innerHTML = data.html;  // markup rendered by our own server
    } else {
      result.innerHTML = "";
      result.appendChild(notice(data.message || ""));
      result.appendChild(nextLink());
    }
    if (window.innerWidth < 760 && result.scrollIntoView) { result.scrollIntoView({ block: "start" }); }
    var button = result.querySelector(".desk-handover-button");
    (button || result).focus();
  }

  function lookUp(value) {
    if (busy) { return; }
    busy = true;
    waiting = true;
    if (scanning && scanner) { pause(); }
    post(desk.getAttribute("data-scan-url"), value)
      .then(show)
      .catch(function () { failed(false); })
      .then(function () { busy = false; });
  }

  function handOver(form) {
    var button = form.querySelector("button");
    if (busy || button.disabled) { return; }  // a double tap sends one request
    busy = true;
    button.disabled = true;
    post(desk.getAttribute("data-handover-url"), form.querySelector("input[name=value]").value)
      .then(function (data) { show(data); counted(data); })
      .catch(function () { button.disabled = false; failed(true); })
      .then(function () { busy = false; });
  }

  function pause() {
    scanner.pause();
    videoBox.hidden = true;  // the stream stops soon after: no black box while the answer is read
    say("paused");
  }

  function next() {
    result.innerHTML = "";
    waiting = false;
    input.value = "";
    if (scanning && scanner) {
      resumedAt = Date.now();
      videoBox.hidden = false;
      scanner.start().then(function () { say("scanning"); }, function () { say("no-camera"); });
    } else {
      input.focus();
    }
  }

  function decoded(found) {
    var value = (found && found.data) || "";
    if (!value || waiting || busy) { return; }
    // The voucher just answered may still be in front of the camera for a moment after "Next voucher".
    if (value === lastValue && Date.now() - resumedAt < 3000) { return; }
    lastValue = value;
    lookUp(value);
  }

  function startCamera() {
    if (!window.QrScanner) { say("no-camera"); return; }
    if (!scanner) {
      scanner = new window.QrScanner(video, decoded, {
        returnDetailedScanResult: true,
        preferredCamera: "environment",
        maxScansPerSecond: 8,
        onDecodeError: function () {}  // "no QR code in this frame" many times a second: not news
      });
    }
    say("starting");
    videoBox.hidden = false;
    startButton.disabled = true;
    scanner.start().then(function () {
      scanning = true;
      waiting = !!result.firstElementChild;
      if (waiting) { pause(); } else { say("scanning"); }
      startButton.hidden = true;
      stopButton.hidden = false;
    }, function () {
      // No camera, no permission or not a secure page: the manual field is always there.
      videoBox.hidden = true;
      say("no-camera");
      input.focus();
    }).then(function () { startButton.disabled = false; });
  }

  function stopCamera() {
    if (scanner) { scanner.stop(); }
    scanning = false;
    videoBox.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
    status.textContent = "";
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.QrScanner) {
    camera.hidden = false;
    startButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", stopCamera);
  }

  manual.addEventListener("submit", function (event) {
    var value = input.value.trim();
    if (!value) { return; }  // the server answers an empty field with its message
    event.preventDefault();
    lookUp(value);
  });

  result.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("desk-handover")) { return; }  // Undo posts as a page
    event.preventDefault();
    handOver(form);
  });

  result.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".desk-next") : null;
    if (!link) { return; }
    event.preventDefault();
    next();
  });
})();
