// The staff console's script: WebAuthn ceremonies (the browser's own JSON helpers) and
// the buttons. A grant's token stays in this page's memory only.
"use strict";

const say = (text) => { document.getElementById("status").textContent = text; };

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json();
  if (!response.ok) { throw new Error(answer.error || "refused"); }
  return answer;
}

async function assert(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey });
  return JSON.stringify(credential.toJSON());
}

async function signIn(event) {
  event.preventDefault();
  const started = await post("/admin/api/sign-in/start", {
    email: document.getElementById("email").value,
    password: document.getElementById("password").value,
  });
  const assertion = await assert(started.options);
  await post("/admin/api/sign-in/finish", { pending: started.pending, assertion });
  window.location.assign("/admin/");
}

async function enroll(event) {
  event.preventDefault();
  const token = event.target.dataset.token;
  const password = document.getElementById("password").value;
  const options = await post(`/admin/api/enroll/${token}/options`, {});
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  await post(`/admin/api/enroll/${token}/finish`, {
    password, credential: JSON.stringify(credential.toJSON()),
  });
  say("Enrolled: sign in with your password and security key.");
  window.location.assign("/admin/login");
}

async function requestAccess(event) {
  event.preventDefault();
  const form = event.target;
  const scope = Array.from(form.querySelectorAll("input[name=scope]:checked"), (b) => b.value);
  await post("/admin/api/requests", {
    accountId: document.getElementById("account-id").value,
    reason: document.getElementById("reason").value,
    ticket: document.getElementById("ticket").value,
    scope,
    minutes: Number(document.getElementById("minutes").value),
  });
  window.location.reload();
}

let grantToken = null;

async function activate(requestId) {
  const options = await post(`/admin/api/requests/${requestId}/activate/options`, {});
  const assertion = await assert(options);
  const grant = await post(`/admin/api/requests/${requestId}/activate`, { assertion });
  grantToken = grant.token;
  document.getElementById("grant").hidden = false;
  say(`Access live until ${grant.expiresAt}`);
}

async function runQuery() {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${grantToken}` },
    body: JSON.stringify({ query: document.getElementById("query").value }),
  });
  document.getElementById("result").textContent = await response.text();
}

// The console's other forms (Incidents) say where they go: `data-post` is the action's
// path; each named field is sent as text, checked boxes of one name as a list, and a
// `data-list` field split at spaces and commas. `data-goto` + the answer's id is where
// to go next; otherwise the page reloads to show the change.
async function submitJson(event) {
  const form = event.target.closest("form[data-post]");
  if (!form) { return; }
  event.preventDefault();
  const body = {};
  for (const element of form.elements) {
    if (!element.name) { continue; }
    if (element.type === "checkbox") {
      body[element.name] = body[element.name] || [];
      if (element.checked) { body[element.name].push(element.value); }
    } else if (element.dataset.list !== undefined) {
      body[element.name] = element.value.split(/[\s,]+/).filter(Boolean);
    } else if (element.value !== "") {
      body[element.name] = element.value;
    }
  }
  const answer = await post(form.dataset.post, body);
  if (form.dataset.goto && answer.id) {
    window.location.assign(`${form.dataset.goto}${answer.id}`);
  } else {
    window.location.reload();
  }
}

function guarded(handler) {
  return (...args) => handler(...args).catch((error) => say(`Refused: ${error.message}`));
}

document.addEventListener("DOMContentLoaded", () => {
  const on = (id, kind, handler) => {
    const element = document.getElementById(id);
    if (element) { element.addEventListener(kind, guarded(handler)); }
  };
  on("sign-in", "submit", signIn);
  on("enroll", "submit", enroll);
  on("request-access", "submit", requestAccess);
  on("run-query", "click", runQuery);
  on("sign-out", "click", async () => {
    await post("/admin/api/sign-out", {});
    window.location.assign("/admin/login");
  });
  document.body.addEventListener("submit", guarded(submitJson));
  document.body.addEventListener("click", guarded(async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) { return; }
    if (button.dataset.action === "activate") { await activate(button.dataset.request); }
    if (button.dataset.action === "end") {
      await post(`/admin/api/grants/${button.dataset.grant}/end`, {});
      window.location.reload();
    }
  }));
});
