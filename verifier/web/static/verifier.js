/* The verifier page: camera scan, photo upload, pasted text, and the QR deep link (#1C…).
 * The payload in the URL fragment never reaches a server log: this script posts it to the
 * verifier API in a request body. Decoding of photos happens on the server (zxing-cpp); camera
 * frames are decoded here (BarcodeDetector when the browser has it, else the bundled jsQR). */
(function () {
  "use strict";

  var root = document.getElementById("verifier");
  var api = root.getAttribute("data-api");
  var verdictBox = document.getElementById("verdict");
  var details = document.getElementById("details");
  var busy = document.getElementById("busy");
  var problem = document.getElementById("problem");

  var VERDICTS = {
    VALID: ["good", "\u2713", "Valid certificate",
      "Genuine, issued by the body shown, current, and neither suspended nor withdrawn."],
    SUSPENDED: ["warn", "\u23F8", "Suspended",
      "The certification body has suspended this certification: it is not valid now."],
    REVOKED: ["bad", "\u2715", "Withdrawn",
      "The certification body has withdrawn this certification: it is no longer valid."],
    EXPIRED: ["warn", "\u231B", "Expired",
      "This certificate is past its expiry date."],
    NOT_YET_VALID: ["warn", "\u231B", "Not yet valid",
      "This certificate only becomes valid on its start date."],
    INVALID_SIGNATURE: ["bad", "\u2715", "Not genuine",
      "The signature does not match: the certificate was altered or not issued as shown."],
    UNTRUSTED_ISSUER: ["bad", "!", "Unknown issuer",
      "Signed correctly, but not by a certification body this verifier recognises."],
    MALFORMED: ["bad", "\u2715", "Not a readable certificate",
      "This is not a certificate this verifier can read."],
    STATUS_UNAVAILABLE: ["unknown", "?", "Status unknown",
      "Its current status could not be checked. Do not rely on it yet; try again later."]
  };
  var MARKS = { passed: "passed", failed: "FAILED", skipped: "skipped" };

  function day(stamp) {  // "2029-05-21T12:00:00Z" -> "2029-05-21" (the time adds nothing here)
    return typeof stamp === "string" && /^\d{4}-\d{2}-\d{2}T/.test(stamp) ? stamp.slice(0, 10) : stamp;
  }

  function setText(element, text) { element.textContent = text == null ? "\u2014" : text; }

  function showProblem(text) {
    problem.hidden = !text;
    problem.textContent = text || "";
  }

  function render(data) {
    var verdict = VERDICTS[data.verdict] || VERDICTS.MALFORMED;
    verdictBox.className = "verdict " + verdict[0];
    verdictBox.setAttribute("data-verdict", data.verdict || "MALFORMED");
    verdictBox.querySelector(".verdict-icon").textContent = verdict[1];
    verdictBox.querySelector(".verdict-title").textContent = verdict[2];
    verdictBox.querySelector(".verdict-text").textContent =
      data.error ? verdict[3] + " (" + data.error.message + ")" : verdict[3];
    verdictBox.hidden = false;

    var credential = data.credential || {};
    var body = credential.body || {};
    var bodyText = body.trustedAs || body.name || body.id;
    if (bodyText && body.accreditation) { bodyText += " \u2014 accredited " + body.accreditation; }
    var fields = {
      person: credential.person,
      certification: credential.certification,
      certificateNumber: credential.certificateNumber,
      body: bodyText,
      validFrom: day(credential.validFrom),
      validUntil: day(credential.validUntil)
    };
    Array.prototype.forEach.call(details.querySelectorAll("[data-field]"), function (dd) {
      setText(dd, fields[dd.getAttribute("data-field")]);
    });
    document.getElementById("unverified-note").hidden = data.verdict === "VALID";

    var list = document.getElementById("checks");
    list.textContent = "";
    (data.checks || []).forEach(function (check) {
      var item = document.createElement("li");
      item.className = check.status;
      var mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = MARKS[check.status] || check.status;
      item.appendChild(mark);
      item.appendChild(document.createTextNode(
        " " + check.check + ": " + (check.code ? check.code + " \u2014 " : "") + check.message));
      list.appendChild(item);
    });
    details.hidden = !data.credential || Object.keys(data.credential).length === 0;
    verdictBox.scrollIntoView({ block: "start" });
  }

  function send(body, contentType) {
    busy.hidden = false;
    showProblem("");
    var headers = contentType ? { "Content-Type": contentType } : {};
    return fetch(api, { method: "POST", body: body, headers: headers, credentials: "omit" })
      .then(function (response) {
        return response.json().then(function (data) { return [response.status, data]; });
      })
      .then(function (pair) {
        var status = pair[0], data = pair[1];
        if (data && data.verdict) { render(data); }
        else if (status === 429) { showProblem("Too many checks from here; wait a moment."); }
        else { showProblem((data && data.error && data.error.message) || "The check failed."); }
      })
      .catch(function () { showProblem("The verifier could not be reached."); })
      .then(function () { busy.hidden = true; });
  }

  function verifyText(text) {
    return send(JSON.stringify({ input: text }), "application/json");
  }

  // --- the deep link: https://verifier/v#1C… -------------------------------------------------
  function fromFragment() {
    var fragment = window.location.hash.replace(/^#/, "");
    if (/^[0-9][A-Z]/.test(fragment)) { verifyText(fragment); }
  }
  window.addEventListener("hashchange", fromFragment);

  // --- a photo --------------------------------------------------------------------------------
  document.getElementById("photo").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append("image", file, file.name || "qr");
    send(form, null);
  });

  // --- pasted text ----------------------------------------------------------------------------
  document.getElementById("paste").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("text").value.trim();
    if (text) { verifyText(text); }
  });

  // --- the camera -----------------------------------------------------------------------------
  var stream = null, scanning = false;
  var video = document.getElementById("video");
  var camera = document.getElementById("camera");
  var canvas = document.createElement("canvas");
  var detector = null;
  if ("BarcodeDetector" in window) {
    try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
    catch (e) { detector = null; }
  }

  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    camera.hidden = true;
  }

  function found(text) {
    stopCamera();
    verifyText(text);
  }

  function scanFrame() {
    if (!scanning) { return; }
    if (video.readyState < 2) { window.requestAnimationFrame(scanFrame); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) { found(codes[0].rawValue); } else { window.setTimeout(scanFrame, 150); }
      }).catch(function () { detector = null; window.setTimeout(scanFrame, 150); });
      return;
    }
    var width = video.videoWidth, height = video.videoHeight;
    var scale = Math.min(1, 1024 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR && window.jsQR(pixels.data, canvas.width, canvas.height,
      { inversionAttempts: "dontInvert" });
    if (code && code.data) { found(code.data); } else { window.setTimeout(scanFrame, 150); }
  }

  document.getElementById("scan").addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showProblem("This browser cannot use the camera here; choose a photo instead.");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        camera.hidden = false;
        scanning = true;
        return video.play();
      })
      .then(scanFrame)
      .catch(function () {
        stopCamera();
        showProblem("The camera is not available; choose a photo of the QR code instead.");
      });
  });
  document.getElementById("stop").addEventListener("click", stopCamera);

  fromFragment();
})();
