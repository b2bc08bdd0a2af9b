// "Ask a neighbour to confirm me": while the QR code is shown, ask Kluis every few seconds
// how the request stands, and reload the page (which then says how it ended, and shows the
// button to collect the proof) as soon as anything changed. Without JavaScript, the page's
// "refresh the status" link does the same by hand.
(function () {
  "use strict";
  var root = document.getElementById("vouch-status");
  if (!root || !window.fetch || !window.JSON) {
    return;
  }
  var url = root.getAttribute("data-poll");
  var seen = [
    root.getAttribute("data-state"),
    root.getAttribute("data-count"),
    root.getAttribute("data-claim"),
  ].join("/");
  var INTERVAL_MS = 3000;
  var LIMIT_MS = 15 * 60 * 1000; // a request lives 10 minutes; then the page stops asking
  var started = Date.now();

  function changed(state) {
    var now = [state.state || "", String(state.confirmations), state.can_claim ? "yes" : "no"];
    return now.join("/") !== seen;
  }

  function poll() {
    if (Date.now() - started > LIMIT_MS) {
      return;
    }
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state && changed(state)) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        window.setTimeout(poll, 2 * INTERVAL_MS);
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
