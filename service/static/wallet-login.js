// Login by QR: follow the login's status (server-sent events) and continue by itself when the
// wallet has answered. Without JavaScript the "continue" button does the same.
(function () {
  "use strict";
  var root = document.getElementById("wallet-login");
  if (!root || !window.EventSource) {
    return;
  }
  var statusLine = document.getElementById("wallet-status");
  var form = document.getElementById("wallet-continue");
  var pairing = document.getElementById("wallet-pairing");
  var pairingCode = document.getElementById("pairing-code");
  var source = new EventSource(root.getAttribute("data-events"));
  source.addEventListener("status", function (event) {
    var state = JSON.parse(event.data);
    var status = state.status;
    var text = root.getAttribute("data-status-" + status);
    if (text) {
      statusLine.textContent = text;
    }
    // the Kluis wallet on the phone asks for the code this screen shows
    pairingCode.textContent = state.pairing_code || "";
    pairing.hidden = !state.pairing_code;
    if (status === "done") {
      source.close();
      form.submit();
    } else if (status === "expired" || status === "cancelled" || status === "used") {
      source.close();
    }
  });
})();
