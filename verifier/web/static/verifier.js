/* The verifier page: camera scan, photo upload, pasted text, and the QR deep link (#1C…).
 * The payload in the URL fragment never reaches a server log: this script posts it to the
 * verifier API in a request body. Decoding of photos happens on the server (zxing-cpp); camera
 * frames are decoded here (BarcodeDetector when the browser has it, else the bundled jsQR). */
(function () {
  "use strict";

  var root = document.getElementById("verifier");
  var api = root.getAttribute("data-api");
  var resultBox = document.getElementById("result");
  var verdictBox = document.getElementById("verdict");
  var busy = document.getElementById("busy");
  var problem = document.getElementById("problem");

  // verdict -> [colour class, icon, title, sentence]. The sentence is plain words for someone
  // who has never heard of a credential: no format, suite or DID names here ("{body}", "{from}"
  // and "{until}" are filled in from the certificate).
  var VERDICTS = {
    VALID: ["good", "good", "Valid certificate",
      "Genuine: issued by {body}, current, and neither suspended nor withdrawn."],
    SUSPENDED: ["warn", "pause", "Suspended",
      "{body} has suspended this certification: it is not valid now."],
    REVOKED: ["bad", "bad", "Withdrawn",
      "{body} has withdrawn this certification: it is no longer valid."],
    SUPERSEDED: ["warn", "clock", "Replaced by a newer certificate",
      "{body} replaced this certificate with a newer one{number} on {replaced}: this one is " +
      "no longer valid; ask the holder for the current one."],
    EXPIRED: ["warn", "clock", "Expired",
      "This certification expired on {until}: it is no longer valid."],
    NOT_YET_VALID: ["warn", "clock", "Not yet valid",
      "This certification only becomes valid on {from}."],
    INVALID_SIGNATURE: ["bad", "bad", "Not genuine",
      "This certificate was altered, or was not issued by the body it names. Do not rely on it."],
    UNTRUSTED_ISSUER: ["bad", "alert", "Not vouched for",
      "The signature is intact, but no certification body known to this verifier signed it " +
      "(it names {claimed} as its issuer). Do not rely on it."],
    ISSUER_UNAVAILABLE: ["unknown", "unknown", "Cannot be checked right now",
      "The issuing body could not be reached. This says nothing against the certificate: " +
      "try again later."],
    UNSUPPORTED_PROOF: ["unknown", "unknown", "Cannot be checked here",
      "It is signed with a method this verifier does not check. This says nothing against " +
      "the certificate: check it with a verifier its issuer names."],
    STATUS_UNAVAILABLE: ["unknown", "unknown", "Status unknown",
      "Whether it is still valid could not be checked. Do not rely on it yet; try again later."],
    UNREADABLE: ["unknown", "camera", "No QR code found",
      "Hold the camera closer, in better light, or choose a sharper photo."],
    MALFORMED: ["bad", "bad", "Not a readable certificate",
      "This is not a certificate this verifier can read."]
  };
  // The accreditation has lapsed: the body is known, but vouches for nothing now.
  var NOT_CURRENT = "Signed by {body}, whose accreditation is not current: it does not vouch " +
    "for this certificate now.";
  var MARKS = { passed: "passed", failed: "FAILED", skipped: "skipped" };

  function day(stamp) {  // "2029-05-21T12:00:00Z" -> "2029-05-21" (the time adds nothing here)
    return typeof stamp === "string" && /^\d{4}-\d{2}-\d{2}T/.test(stamp) ? stamp.slice(0, 10) : stamp;
  }

  function setText(element, text) { element.textContent = text == null ? "\u2014" : text; }

  function showProblem(text) {
    problem.hidden = !text;
    problem.textContent = text || "";
  }

  function check(data, name) {
    return (data.checks || []).filter(function (c) { return c.check === name; })[0] || {};
  }

  function ago(seconds) {
    if (seconds < 5) { return "just now"; }
    if (seconds < 60) { return seconds + " s ago"; }
    if (seconds < 3600) { return Math.round(seconds / 60) + " min ago"; }
    if (seconds < 172800) { return Math.round(seconds / 3600) + " h ago"; }
    return Math.round(seconds / 86400) + " days ago";
  }

  function freshnessText(status) {
    if (!status) { return ""; }
    var age = status.ageSeconds || 0;
    if (status.source === "offline-cache") {
      return "Offline: status from a list saved " + ago(age) + ".";
    }
    if (status.source === "cache") {
      return "Status from a list fetched " + ago(age) + ".";
    }
    return "Status checked " + ago(age) + ".";
  }

  function render(data) {
    var name = data.verdict in VERDICTS ? data.verdict : "MALFORMED";
    var verdict = VERDICTS[name];
    var credential = data.credential || {};
    var body = credential.body || {};
    var vouched = check(data, "trust").status === "passed";
    var bodyName = (vouched && body.trustedAs) || body.name || "the issuing body";
    var sentence = verdict[3];
    if (name === "UNTRUSTED_ISSUER" && check(data, "trust").code === "accreditation_not_current") {
      sentence = NOT_CURRENT;
    }
    sentence = sentence.replace("{body}", bodyName)
      .replace("{claimed}", body.name || "a certification body")
      .replace("{from}", day(credential.validFrom) || "its start date")
      .replace("{until}", day(credential.validUntil) || "its expiry date");
    var replaced = data.replacedBy || {};
    sentence = sentence.replace("{number}", replaced.number ? " (number " + replaced.number + ")" : "")
      .replace("{replaced}", day(replaced.validFrom) || "a later date");

    verdictBox.className = "verdict " + verdict[0];
    verdictBox.setAttribute("data-verdict", name);
    verdictBox.querySelector(".verdict-icon use").setAttribute("href", "#icon-" + verdict[1]);
    verdictBox.querySelector(".verdict-title").textContent = verdict[2];
    verdictBox.querySelector(".verdict-text").textContent = sentence;

    var bodyText = bodyName === "the issuing body" ? null : bodyName;
    if (bodyText && vouched && body.accreditation) {
      var plain = /accredit/i.test(body.accreditation);  // the body's own words already say so
      bodyText += " \u2014 " + (plain ? "" : "accredited ") + body.accreditation;
    } else if (bodyText && name === "UNTRUSTED_ISSUER") {
      bodyText += " (as it claims)";
    }
    var fields = {
      person: credential.person,
      certification: credential.certification,
      scope: credential.scope ? credential.scope.replace(/^Scope:\s*/i, "") : null,
      certificateNumber: credential.certificateNumber,
      body: bodyText,
      validFrom: day(credential.validFrom),
      validUntil: day(credential.validUntil)
    };
    Array.prototype.forEach.call(document.querySelectorAll("#details [data-field]"), function (dd) {
      setText(dd, fields[dd.getAttribute("data-field")]);
    });
    var known = Object.keys(credential).length > 0;
    document.getElementById("details").hidden = !known;
    // only a signature that did not verify leaves the stated content unconfirmed
    document.getElementById("unverified-note").hidden =
      !known || check(data, "proof").status === "passed";

    var signer = document.getElementById("signer");
    signer.hidden = name !== "UNTRUSTED_ISSUER" || !body.id;
    signer.textContent = signer.hidden ? "" : "Signed by " + body.id +
      (body.name ? ", not by " + body.name + "." : ".");

    var freshness = document.getElementById("freshness");
    freshness.textContent = freshnessText(data.status);
    freshness.hidden = !freshness.textContent;

    var list = document.getElementById("checks");
    list.textContent = "";
    (data.checks || []).forEach(function (item) {
      var entry = document.createElement("li");
      entry.className = item.status;
      var mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = MARKS[item.status] || item.status;
      entry.appendChild(mark);
      entry.appendChild(document.createTextNode(
        " " + item.check + ": " + (item.code ? item.code + " \u2014 " : "") + item.message));
      list.appendChild(entry);
    });
    document.getElementById("how").hidden = !(data.checks || []).length || name === "UNREADABLE";
    resultBox.hidden = false;
    resultBox.scrollIntoView({ block: "start" });
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
