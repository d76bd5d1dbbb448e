// The API of docs/API.md from the same origin, the client's shared state, and errors shown in a
// role=alert element (the page's, or the open dialog's).

export const mode = document.body.dataset.authMode === "token" ? "token" : "none";
export const websocketUrl = document.body.dataset.websocketUrl || "";
export const $ = (id) => document.getElementById(id);

export const state = {
  me: null, tokens: null, rooms: new Map(), room: null, older: null, loadingOlder: false,
  // Long polling: on or off, and the generation of the loop that may run.
  pollOn: false, polling: 0,
  // The WebSocket, whether it is open, task ends it pushed (by task id) for follow() to pick
  // up, the wait before the next try to connect, and the pending moves of read positions.
  socket: null, live: false, ended: new Map(), retry: 1000, reads: new Map(),
  // User ids by username (room members are listed by name), and the reader's blocks (by name).
  ids: new Map(), blocked: null,
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// The readable message of an error answer: the chat envelope's msg, DRF's detail, a field map.
function errorText(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.msg === "string") return body.msg;
    if (typeof body.detail === "string") return body.detail;
    const fields = Object.entries(body).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`);
    if (fields.length) return fields.join("; ");
  }
  return `The server answered ${status}.`;
}

export async function api(method, path, body, extra = {}, retried = false) {
  const headers = { ...extra };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (state.tokens) headers.authorization = `Bearer ${state.tokens.access}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "The server cannot be reached; check your connection.");
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (response.status === 401 && state.tokens && !retried && await refresh()) {
    return api(method, path, body, extra, true);
  }
  if (!response.ok) {
    const error = new ApiError(response.status, errorText(response.status, json));
    error.retryAfter = response.headers.get("retry-after");
    throw error;
  }
  return { json, link: response.headers.get("link") };
}

// A send (POST /chat/group/{id}/ or /chat/user/{id}/) with an Idempotency-Key, one per message:
// the tries after a network error (or a server that could not answer), and the same message sent
// again after a failure, reuse it, so the server stores the message once however many tries
// reached it. A different message, or the same text once sent, gets a new key.
let unsent = null;
export async function send(path, body) {
  const what = `${path} ${JSON.stringify(body)}`;
  if (!unsent || unsent.what !== what) unsent = { what, key: newKey() };
  const { key } = unsent;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await api("POST", path, body, { "idempotency-key": key });
      if (unsent && unsent.key === key) unsent = null;
      return answer;
    } catch (e) {
      if (e.status === 429) throw tooFast(e);
      const unsure = e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504;
      if (!unsure || attempt === 3) throw e;
      await sleep(400 * attempt * attempt);
    }
  }
}

// A send over the send limit (docs/API.md, "Send limits"): nothing was queued; when to try again.
function tooFast(e) {
  const seconds = Number(e.retryAfter);
  const when = e.retryAfter && Number.isFinite(seconds) ? `try again in ${Math.max(1, Math.ceil(seconds))} s` : "try again in a moment";
  const text = `You are sending too fast; ${when}.`;
  // The API's own words too, unless they say the same.
  return new ApiError(429, /too fast/i.test(e.message) && e.retryAfter ? text : `${text} (${e.message})`);
}

// 1-64 characters of A-Z a-z 0-9 _ - (a UUID; 32 hex digits where randomUUID is missing).
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// A new access token from the refresh token; false when that is no longer possible.
export async function refresh() {
  try {
    const r = await fetch("/auth/token/refresh/", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh: state.tokens.refresh }),
    });
    if (!r.ok) return false;
    state.tokens.access = (await r.json()).access;
    sessionStorage.setItem("tokens", JSON.stringify(state.tokens));
    return true;
  } catch (e) {
    return false;
  }
}

// The target of a `Link: <...>; rel="next"` header.
export function nextLink(link) {
  const m = link && link.match(/<([^>]+)>;\s*rel="next"/);
  return m ? m[1] : null;
}

// In token mode the token names the user; none mode names them in the request.
export const asMe = (path) => (mode === "none" ? `${path}${path.includes("?") ? "&" : "?"}user_id=${state.me.id}` : path);
export const fromMe = (body) => (mode === "none" ? { ...body, from: state.me.id } : body);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Message ids sort in acceptance order within a room: numbers as numbers, strings as strings.
export function before(a, b) {
  const x = Number(a), y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x < y : String(a) < String(b);
}

// ---------------------------------------------------------------- errors

// The alert of the open dialog (the page behind a modal dialog is inert), else the page's.
function errorBox() {
  const open = document.querySelector("dialog[open]");
  return (open && open.querySelector("[role=alert]")) || $("error");
}

export function showError(e) {
  const box = errorBox();
  const text = box.querySelector(".error-text") || box;
  text.textContent = e instanceof Error ? e.message : String(e);
  box.hidden = false;
}

$("error-close").addEventListener("click", () => { $("error").hidden = true; });

// A passing word (someone removed you, a block done): a polite status, until dismissed (or for
// `ms` milliseconds).
let noticeTimer = null;
export function notice(text, ms) {
  clearTimeout(noticeTimer);
  $("notice-text").textContent = text;
  $("notice").classList.toggle("idle", !text);
  $("notice-close").hidden = !text;
  if (text && ms) noticeTimer = setTimeout(() => notice(""), ms);
}
$("notice-close").addEventListener("click", () => notice(""));

export function clearError() {
  for (const box of document.querySelectorAll("[role=alert]")) box.hidden = true;
}

// Runs a form's action, showing any error; the form's submit button stays busy meanwhile.
export function onSubmit(form, action) {
  $(form).addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    clearError();
    try { await action(event.target); } catch (e) { showError(e); } finally { button.disabled = false; }
  });
}

// ---------------------------------------------------------------- names and avatars

// Up to two initials: "ann_lee" gives "AL", "user_12" gives "U1", "bob" gives "BO".
export function initials(name) {
  const parts = String(name).split(/[\s_.@+-]+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : String(name).slice(0, 2);
  return letters.toUpperCase() || "?";
}

// A colour per name, each dark enough for white initials (contrast 4.5:1 and more).
const HUES = ["#b42318", "#175cd3", "#067647", "#6941c6", "#b54708", "#0e7090", "#c11574", "#475467"];
export function avatar(name, group) {
  const span = document.createElement("span");
  span.className = group ? "avatar group" : "avatar";
  span.setAttribute("aria-hidden", "true");
  let h = 0;
  for (const c of String(name)) h = (h * 31 + c.codePointAt(0)) >>> 0;
  span.style.setProperty("--hue", HUES[h % HUES.length]);
  span.textContent = group ? "#" : initials(name);
  return span;
}

// A padlock, for private rooms (the words are the caller's).
export function lockIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 16 16", width: "12", height: "12", "aria-hidden": "true", focusable: "false", class: "lock" })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z");
  svg.append(path);
  return svg;
}

// ---------------------------------------------------------------- users and roles

// A user's id by username (room members are listed by name): asked once, then remembered.
export async function userId(username) {
  if (state.ids.has(username)) return state.ids.get(username);
  const { json } = await api("GET", `/users/?username=${encodeURIComponent(username)}`);
  if (!json.length) throw new ApiError(404, `There is no user ${username}.`);
  state.ids.set(username, json[0].id);
  return json[0].id;
}

// "owner", "admin" or null: a user's role in a room (by username, as members are listed).
export function roleOf(room, username) {
  if (room.owner && room.owner.username === username) return "owner";
  return (room.admins || []).some((a) => a.username === username) ? "admin" : null;
}

// What a room says of its owner and admins, their ids remembered.
export function learnIds(room) {
  for (const u of [room.owner, ...(room.admins || [])]) if (u && u.username) state.ids.set(u.username, u.id);
}
