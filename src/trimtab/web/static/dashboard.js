// trimtab dashboard: live refresh of server-rendered fragments and the token-protected actions.
// No framework and nothing fetched from elsewhere; the token stays in this tab's sessionStorage and
// travels only in the X-Trimtab-Token header (never in a cookie or a URL).
(function () {
  "use strict";
  var TOKEN_KEY = "trimtab.token";

  function token() {
    var field = document.getElementById("token");
    var value = field && field.value ? field.value.trim() : "";
    if (value) { sessionStorage.setItem(TOKEN_KEY, value); return value; }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function say(text, isError) {
    var box = document.getElementById("action-result");
    if (!box) { return; }
    box.textContent = text;
    box.className = isError ? "error" : "";
  }

  function refresh(container) {
    return fetch(container.getAttribute("data-refresh"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        container.innerHTML = html;
        container.setAttribute("data-updated", new Date().toISOString());
      })
      .catch(function (error) { container.setAttribute("data-error", String(error)); });
  }

  function refreshAll() {
    var live = document.querySelectorAll("[data-refresh]");
    return Promise.all(Array.prototype.map.call(live, refresh));
  }

  function act(button) {
    var confirmText = button.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) { return; }
    var secret = token();
    if (!secret) { say("Enter the access token first.", true); return; }
    button.disabled = true;
    fetch(button.getAttribute("data-action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Trimtab-Token": secret },
      body: "{}"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          say((body && body.detail) || ("refused: HTTP " + response.status), true);
          if (response.status === 403) { sessionStorage.removeItem(TOKEN_KEY); }
          return;
        }
        say(body.mode ? ("Loop is now " + body.mode + ".") : ("Plan " + body.id + " " + body.status + "."), false);
        document.body.setAttribute("data-last-action", button.getAttribute("data-action"));
        return refreshAll();
      });
    }).catch(function (error) { say(String(error), true); })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.action") : null;
    if (button) { event.preventDefault(); act(button); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var field = document.getElementById("token");
    if (field) { field.value = sessionStorage.getItem(TOKEN_KEY) || ""; }
    var live = document.getElementById("live");
    var seconds = live ? parseFloat(live.getAttribute("data-interval") || "0") : 0;
    if (seconds > 0) { window.setInterval(refreshAll, seconds * 1000); }
    var login = document.getElementById("login-form");
    if (login) {
      login.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = document.getElementById("login-token").value.trim();
        fetch("/api/session", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: value })
        }).then(function (response) {
          var box = document.getElementById("login-result");
          if (response.ok) { sessionStorage.setItem(TOKEN_KEY, value); window.location.href = "/"; }
          else { box.textContent = "Wrong token."; box.className = "error"; }
        });
      });
    }
  });
}());
