/* The answer form's safety net (templates/feedback/answer.html).
 *
 * htmx posts the form to the autosave URL a moment after typing stops; this script:
 * - keeps a copy of what is typed in localStorage (per tenant, round, criterion and person)
 *   until the server confirms it holds the same content;
 * - on load, puts back a copy that is newer than the server's version and says so;
 * - when the person was signed out (401) or the page's CSRF token went stale by signing in
 *   again elsewhere (403), keeps the copy, fetches a fresh token once signed in again and
 *   retries (every few seconds and whenever the page gets focus);
 * - on a conflict (409) stops autosaving until the person chooses a version.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.htmx) {
    return;
  }
  var key = "feedback:" + form.getAttribute("data-storage-key");
  var status = document.getElementById("save-state");
  var notice = document.getElementById("local-notice");
  var paused = false;
  var failing = false;
  var sent = null;
  var retryTimer = null;
  var RETRY_MS = 4000;

  function entries() {
    var list = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "version") {
        list.push([name, String(value)]);
      }
    });
    return list;
  }

  function serial(list) {
    return JSON.stringify(list);
  }

  function version() {
    return parseInt(form.elements.version.value, 10) || 0;
  }

  function readLocal() {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function storeLocal() {
    try {
      window.localStorage.setItem(
        key,
        JSON.stringify({ v: version(), t: Date.now(), data: entries() }),
      );
    } catch (error) {
      /* Storage full or disabled: the server copy is all there is. */
    }
  }

  function clearLocal() {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* nothing to clear */
    }
  }

  function apply(list) {
    var values = {};
    list.forEach(function (pair) {
      (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
    });
    Array.prototype.forEach.call(form.elements, function (element) {
      var name = element.name;
      if (!name || name === "csrfmiddlewaretoken" || name === "version" || element.type === "submit" || element.type === "button") {
        return;
      }
      var wanted = values[name] || [];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = wanted.indexOf(element.value) !== -1;
      } else {
        element.value = wanted.length ? wanted[0] : "";
      }
    });
  }

  function say(state, text) {
    var current = status.querySelector("[data-state]");
    if (current && current.getAttribute("data-state") === state && current.textContent === text) {
      return; /* the live region announces a change, not every keystroke */
    }
    var line = document.createElement("p");
    line.className = "save-state save-state-" + state;
    line.setAttribute("data-state", state);
    line.textContent = text;
    status.replaceChildren(line);
  }

  function showNotice(text, button) {
    notice.replaceChildren(document.createTextNode(text + " "));
    if (button) {
      notice.appendChild(button);
    }
    notice.hidden = false;
  }

  function save() {
    htmx.trigger(form, "fb-retry");
  }

  /* A fresh CSRF token from the form's own page: signing in again (in another tab) replaces
   * the token this page was served with. Resolves to false while still signed out. */
  function refreshToken() {
    return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.url.indexOf("/accounts/login/") !== -1) {
          return false;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.querySelector("#answer-form input[name=csrfmiddlewaretoken]");
          if (!fresh) {
            return false;
          }
          form.elements.csrfmiddlewaretoken.value = fresh.value;
          return true;
        });
      })
      .catch(function () {
        return false;
      });
  }

  function retrySoon() {
    failing = true;
    if (retryTimer === null) {
      retryTimer = window.setInterval(retry, RETRY_MS);
    }
  }

  function retry() {
    if (!failing || paused) {
      return;
    }
    refreshToken().then(function (signedIn) {
      if (signedIn) {
        save();
      }
    });
  }

  function recovered() {
    failing = false;
    if (retryTimer !== null) {
      window.clearInterval(retryTimer);
      retryTimer = null;
    }
  }

  var dirty = false;

  function edited() {
    storeLocal();
    dirty = true;
    if (!failing && !paused) {
      say("saving", "Saving…"); /* not "Saved" while the newest text is not on the server */
    }
  }

  form.addEventListener("input", edited);
  form.addEventListener("change", edited);

  /* Closing or leaving the tab within the autosave's delay: send what is pending now. */
  function flush() {
    if (dirty && !paused && !failing && navigator.sendBeacon) {
      navigator.sendBeacon(form.getAttribute("hx-post"), new FormData(form));
    }
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flush();
    }
  });

  form.addEventListener("htmx:configRequest", function (event) {
    if (paused) {
      event.preventDefault();
      return;
    }
    sent = serial(entries());
  });

  form.addEventListener("htmx:beforeRequest", function () {
    if (!failing) {
      say("saving", "Saving…");
    }
  });

  form.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var code = xhr ? xhr.status : 0;
    if (code === 200) {
      recovered();
      if (serial(entries()) === sent) {
        clearLocal();
        dirty = false;
      } else {
        storeLocal(); /* typed on meanwhile: keep the rest, on top of the new version */
        say("saving", "Saving…");
      }
    } else if (code === 401) {
      storeLocal();
      retrySoon();
    } else if (code === 409) {
      paused = true;
      storeLocal();
      var panel = document.getElementById("conflict");
      if (panel) {
        panel.focus();
      }
    } else if (code === 403) {
      /* The CSRF token is stale (signed in again elsewhere): fetch a fresh one and retry. */
      storeLocal();
      say("signed-out", "Not saved yet: reconnecting… What you typed is kept in this browser.");
      retrySoon();
      retry();
    } else if (code !== 400) {
      storeLocal();
      say("offline", "Not saved: the server could not be reached. What you typed is kept in this browser and will be saved when the connection is back.");
      retrySoon();
    }
  });

  form.addEventListener("htmx:sendError", function () {
    storeLocal();
    say("offline", "Not saved: no connection. What you typed is kept in this browser and will be saved when the connection is back.");
    retrySoon();
  });

  /* The conflict panel's two choices. */
  form.addEventListener("click", function (event) {
    var target = event.target.closest("[data-fb-action]");
    if (!target) {
      return;
    }
    if (target.getAttribute("data-fb-action") === "keep-mine") {
      form.elements.version.value = target.getAttribute("data-version");
      paused = false;
      document.getElementById("conflict").replaceChildren();
      save();
    } else {
      clearLocal();
      window.location.reload();
    }
  });

  window.addEventListener("focus", retry);
  window.addEventListener("online", retry);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      retry();
    }
  });

  /* On load (once htmx has set up the form): a copy kept in this browser that the server does
   * not hold yet. */
  function restoreLocal() {
    var local = readLocal();
    if (!local || !Array.isArray(local.data)) {
      return;
    }
    if (serial(local.data) === serial(entries())) {
      clearLocal();
    } else if (local.v >= version()) {
      apply(local.data);
      showNotice("What you typed here before was not saved yet: it is back in the form and is being saved now.");
      save();
    } else {
      var restore = document.createElement("button");
      restore.type = "button";
      restore.className = "button-secondary";
      restore.textContent = "Put my unsaved text back in the form";
      restore.addEventListener("click", function () {
        apply(local.data);
        form.elements.version.value = String(local.v);
        notice.hidden = true;
        save();
      });
      showNotice("This browser kept text you typed that was never saved, but the answer was changed elsewhere since then.", restore);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    window.setTimeout(restoreLocal, 0);
  });
})();
