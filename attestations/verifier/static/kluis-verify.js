// Kluis verification widget. A platform's page shows a verification session with
//   <div data-kluis-session="ID" data-kluis-token="TOKEN" data-kluis-issuer="https://kluis…"></div>
//   <script src="https://kluis…/widget/kluis-verify.js" defer></script>
// It shows the QR code (or, on a phone, a link that opens the wallet app), the pairing code
// when the built-in wallet asks for it, and the live state: server-sent events, falling back
// to long-polling. When the session ends it fires `kluis-verify:done` ({session, state}) on
// the element; the platform's server then reads the result from Kluis (never the browser).
// No dependencies, no inline styles or scripts: it works under a strict CSP.
(function () {
  "use strict";
  var TEXTS = /*KLUIS_TEXTS*/{};
  var FINAL = { done: true, cancelled: true, expired: true };
  var LONG_POLL_SECONDS = 25;
  var RETRY_MS = [1000, 2000, 5000, 10000];
  var SSE_ERRORS_BEFORE_FALLBACK = 3;
  var EXPIRY_GRACE_MS = 60000; // the browser's clock may differ from Kluis's
  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, window.location.href).origin : "";

  function language(root) {
    var wanted = root.getAttribute("data-lang");
    if (!wanted) {
      var holder = root.closest("[lang]");
      wanted = holder ? holder.getAttribute("lang") : "";
    }
    wanted = (wanted || "").toLowerCase().slice(0, 2);
    return TEXTS[wanted] ? wanted : "nl";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function addStyles(issuer) {
    if (document.querySelector("link[data-kluis-verify]")) {
      return;
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = issuer + "/widget/kluis-verify.css";
    link.setAttribute("data-kluis-verify", "");
    document.head.appendChild(link);
  }

  function isPhone() {
    return !!(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
  }

  function Widget(root) {
    this.root = root;
    this.session = root.getAttribute("data-kluis-session");
    this.token = root.getAttribute("data-kluis-token") || "";
    var issuer = root.getAttribute("data-kluis-issuer") || scriptOrigin;
    this.issuer = issuer.replace(/\/+$/, "");
    this.lang = language(root);
    this.texts = TEXTS[this.lang];
    this.state = null;
    this.failures = 0;
    this.source = null;
    this.expiresAt = 0;
  }

  Widget.prototype.url = function (suffix, extra) {
    var query = "token=" + encodeURIComponent(this.token) + (extra || "");
    return this.issuer + "/widget/sessions/" + encodeURIComponent(this.session) + suffix + "?" + query;
  };

  Widget.prototype.build = function () {
    var t = this.texts;
    var root = this.root;
    root.textContent = "";
    root.classList.add("kluis-verify");
    root.setAttribute("lang", this.lang);
    var phone = isPhone();
    this.intro = element("p", "kv-intro", phone ? t.scan_other : t.scan);
    this.qrBox = element("p", "kv-qr-box");
    this.qr = element("img", "kv-qr");
    this.qr.alt = t.qr_alt;
    this.qr.width = 240;
    this.qr.height = 240;
    this.qrBox.appendChild(this.qr);
    this.linkBox = element("p", "kv-open-box");
    this.link = phone
      ? element("a", "kv-open", t.open)
      : element("a", "kv-open kv-open-plain", t.open_desktop);
    this.linkBox.appendChild(this.link);
    this.pairing = element("div", "kv-pairing");
    this.pairing.hidden = true;
    this.pairing.appendChild(element("p", "kv-pairing-intro", t.pairing));
    this.code = element("p", "kv-code");
    this.pairing.appendChild(this.code);
    this.status = element("p", "kv-status", t["status.pending"]);
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.status.setAttribute("aria-atomic", "true");
    var parts = phone
      ? [this.linkBox, this.intro, this.qrBox]
      : [this.intro, this.qrBox, this.linkBox];
    parts.push(this.pairing, this.status);
    for (var i = 0; i < parts.length; i++) {
      root.appendChild(parts[i]);
    }
    this.intro.hidden = this.qrBox.hidden = this.linkBox.hidden = true; // until the links are known
  };

  Widget.prototype.show = function (body) {
    var t = this.texts;
    if (body.expires_at) {
      this.expiresAt = Date.parse(body.expires_at) || 0;
    }
    if (body.qr_svg_url && !this.qr.getAttribute("src")) {
      this.qr.src = body.qr_svg_url;
      this.link.href = body.universal_link;
    }
    var status = body.status;
    var code = body.pairing_code || "";
    if (this.state && this.state.status === status && this.state.code === code) {
      return;
    }
    this.state = { status: status, code: code };
    var open = status === "pending" && !!this.qr.getAttribute("src");
    this.intro.hidden = this.qrBox.hidden = this.linkBox.hidden = !open || !!code;
    this.code.textContent = code;
    this.pairing.hidden = !code;
    var text = code ? t.pairing_status.replace("{code}", code) : t["status." + status] || status;
    this.status.textContent = text;
    this.root.setAttribute("data-kluis-state", status);
    this.fire("kluis-verify:status", status);
    if (FINAL[status]) {
      this.finish(status);
    }
  };

  Widget.prototype.fire = function (name, status) {
    var detail = { session: this.session, state: status };
    this.root.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  };

  Widget.prototype.finish = function (status) {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    this.fire("kluis-verify:done", status);
    var back = this.root.getAttribute("data-kluis-return"); // the hosted page only
    if (back && status === "done") {
      window.location.assign(back);
    }
  };

  Widget.prototype.unavailable = function () {
    this.status.textContent = this.texts["status.unavailable"];
    this.state = null; // show the next answer, even if it is the state from before
  };

  Widget.prototype.retry = function (then) {
    var self = this;
    if (this.expiresAt && Date.now() > this.expiresAt + EXPIRY_GRACE_MS) {
      this.show({ status: "expired" }); // Kluis no longer answers for it: it is over anyway
      return;
    }
    var delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    if (this.failures > 1) {
      this.unavailable();
    }
    window.setTimeout(function () {
      then.call(self);
    }, delay);
  };

  Widget.prototype.start = function () {
    var self = this;
    fetch(this.url("", ""), { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        self.failures = 0;
        self.show(body);
        if (!FINAL[body.status]) {
          self.follow();
        }
      })
      .catch(function () {
        self.retry(self.start);
      });
  };

  Widget.prototype.follow = function () {
    if (!window.EventSource) {
      this.poll();
      return;
    }
    var self = this;
    var errors = 0;
    var source = new EventSource(this.url("/events", ""));
    this.source = source;
    source.addEventListener("status", function (event) {
      errors = 0;
      self.show(JSON.parse(event.data));
    });
    source.onerror = function () {
      errors += 1;
      if (source.readyState === EventSource.CLOSED || errors >= SSE_ERRORS_BEFORE_FALLBACK) {
        source.close();
        self.source = null;
        if (!self.state || !FINAL[self.state.status]) {
          self.poll();
        }
      }
    };
  };

  Widget.prototype.poll = function () {
    var self = this;
    fetch(this.url("", "&wait=" + LONG_POLL_SECONDS), { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        self.failures = 0;
        self.show(body);
        if (!FINAL[body.status]) {
          self.poll();
        }
      })
      .catch(function () {
        self.retry(self.poll);
      });
  };

  function mount(root) {
    if (root.getAttribute("data-kluis-mounted") || !root.getAttribute("data-kluis-session")) {
      return;
    }
    root.setAttribute("data-kluis-mounted", "");
    var widget = new Widget(root);
    addStyles(widget.issuer);
    widget.build();
    widget.start();
  }

  function mountAll() {
    var roots = document.querySelectorAll("[data-kluis-session]");
    for (var i = 0; i < roots.length; i++) {
      mount(roots[i]);
    }
  }

  window.KluisVerify = { mount: mount };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
