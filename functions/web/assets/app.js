// The browser client of serverless-chat-rs: plain JavaScript on the API of docs/API.md, from the
// same origin. Token mode signs in for a token pair; none mode picks a user. New messages, task
// ends and memberships come over the WebSocket (docs/API.md, "Live push") while it is open, and
// through long polling (unseen?wait=20) while it is not; a send shows pending until its task ends.
"use strict";

const mode = document.body.dataset.authMode === "token" ? "token" : "none";
const websocketUrl = document.body.dataset.websocketUrl || "";
const $ = (id) => document.getElementById(id);
const state = {
  me: null, tokens: null, rooms: new Map(), room: null, older: null,
  // Long polling: on or off, and the generation of the loop that may run.
  pollOn: false, polling: 0,
  // The WebSocket, whether it is open, task ends it pushed (by task id) for follow() to pick
  // up, the wait before the next try to connect, and the pending moves of read positions.
  socket: null, live: false, ended: new Map(), retry: 1000, reads: new Map(),
};

// ---------------------------------------------------------------- the API

class ApiError extends Error {
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

async function api(method, path, body, retried) {
  const headers = {};
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
    return api(method, path, body, true);
  }
  if (!response.ok) throw new ApiError(response.status, errorText(response.status, json));
  return { json, link: response.headers.get("link") };
}

// A new access token from the refresh token; false when that is no longer possible.
async function refresh() {
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
function nextLink(link) {
  const m = link && link.match(/<([^>]+)>;\s*rel="next"/);
  return m ? m[1] : null;
}

// In token mode the token names the user; none mode names them in the request.
const asMe = (path) => (mode === "none" ? `${path}${path.includes("?") ? "&" : "?"}user_id=${state.me.id}` : path);
const fromMe = (body) => (mode === "none" ? { ...body, from: state.me.id } : body);

// ---------------------------------------------------------------- errors

function showError(e) {
  const box = $("error");
  box.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
}

// Runs a form's action, showing any error; the form's button stays busy meanwhile.
function onSubmit(form, action) {
  $(form).addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    clearError();
    try { await action(event.target); } catch (e) { showError(e); } finally { button.disabled = false; }
  });
}

// ---------------------------------------------------------------- signing in

async function start() {
  $("sign-in-token").hidden = mode !== "token";
  $("pick-user").hidden = mode !== "none";
  const saved = sessionStorage.getItem("session");
  if (saved) {
    const session = JSON.parse(saved);
    state.tokens = JSON.parse(sessionStorage.getItem("tokens") || "null");
    return enter(session);
  }
  if (mode === "none") await loadUsers("/users/?limit=100");
}

async function loadUsers(path) {
  const { json, link } = await api("GET", path);
  for (const user of json) {
    const option = document.createElement("option");
    option.value = JSON.stringify({ id: user.id, username: user.username });
    option.textContent = user.username;
    $("pick-select").append(option);
  }
  const next = nextLink(link);
  $("pick-more").hidden = !next;
  $("pick-more").onclick = () => loadUsers(next).catch(showError);
}

onSubmit("pick-form", async () => enter(JSON.parse($("pick-select").value)));

onSubmit("sign-in-form", async () => {
  await signIn($("sign-in-username").value, $("sign-in-password").value);
});

async function signIn(username, password) {
  const { json } = await api("POST", "/auth/token/", { username, password });
  state.tokens = { access: json.access, refresh: json.refresh };
  sessionStorage.setItem("tokens", JSON.stringify(state.tokens));
  const me = JSON.parse(atob(json.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  await enter({ id: me.user_id, username });
}

onSubmit("sign-up-form", async () => {
  const username = $("sign-up-username").value, password = $("sign-up-password").value;
  const { json } = await api("POST", "/users/", { username, password, profile: {} });
  if (mode === "token") return signIn(username, password);
  return enter({ id: json.id, username: json.username });
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.clear();
  location.reload();
});

async function enter(me) {
  state.me = me;
  sessionStorage.setItem("session", JSON.stringify(me));
  $("me").textContent = `Signed in as ${me.username}`;
  $("whoami").hidden = false;
  $("welcome").hidden = true;
  $("chat").hidden = false;
  await loadRooms();
  transport(false);
  connect();
}

// ---------------------------------------------------------------- rooms

async function loadRooms() {
  state.rooms.clear();
  $("rooms").replaceChildren();
  await loadRoomPage(asMe("/chat/chatroom/"));
}

async function loadRoomPage(path) {
  const { json, link } = await api("GET", path);
  for (const room of json.data) addRoom(room);
  const next = nextLink(link);
  $("rooms-more").hidden = !next;
  $("rooms-more").onclick = () => loadRoomPage(next).catch(showError);
}

function roomLabel(room) {
  return room.room_name;
}

function addRoom(room) {
  const known = state.rooms.get(room.id);
  if (known) {
    Object.assign(known.room, room);
    known.name.textContent = roomLabel(known.room);
    return known;
  }
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.room = room.id;
  const name = document.createElement("span");
  name.textContent = roomLabel(room);
  const count = document.createElement("span");
  count.className = "count";
  count.hidden = true;
  button.append(name, count);
  button.addEventListener("click", () => openRoom(room.id).catch(showError));
  item.append(button);
  $("rooms").append(item);
  const entry = { room, button, name, count, unseen: new Set() };
  state.rooms.set(room.id, entry);
  return entry;
}

// Counts a room's unseen messages by id: until the read position has moved (asynchronously),
// the next poll may answer the same messages again.
function setUnseen(entry, ids) {
  entry.unseen = new Set(ids);
  const n = entry.unseen.size;
  entry.count.textContent = String(n);
  entry.count.hidden = n === 0;
  entry.button.setAttribute("aria-label", n ? `${entry.room.room_name}, ${n} unseen` : entry.room.room_name);
}

async function openRoom(id) {
  const entry = state.rooms.get(id);
  state.room = id;
  for (const other of state.rooms.values()) other.button.setAttribute("aria-current", String(other.room.id === id));
  setUnseen(entry, []);
  $("messages").replaceChildren();
  const { json } = await api("GET", asMe(`/chat/messages/${id}/?limit=20`));
  if (state.room !== id) return;
  showRoom(json.data);
  for (const m of json.data.messages) showMessage(m);
  setOlder(json.data.next_before);
  scrollDown();
}

function showRoom(room) {
  $("room-title").textContent = room.room_name;
  $("room-members").textContent = `Members: ${(room.room_member || []).map((m) => m.username).join(", ")}`;
  $("room-head").hidden = false;
  $("no-room").hidden = true;
  $("send-form").hidden = false;
}

function setOlder(before) {
  state.older = before ?? null;
  $("older").hidden = state.older === null;
}

$("older").addEventListener("click", async () => {
  clearError();
  try {
    const id = state.room;
    const { json } = await api("GET", asMe(`/chat/messages/${id}/?limit=20&before=${state.older}`));
    if (state.room !== id) return;
    const first = $("messages").firstChild;
    for (const m of json.data.messages) $("messages").insertBefore(messageItem(m), first);
    setOlder(json.data.next_before);
  } catch (e) {
    showError(e);
  }
});

onSubmit("create-form", async () => {
  const members = $("create-members").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (!members.includes(state.me.username)) members.unshift(state.me.username);
  const body = { room_name: $("create-name").value.trim(), room_member: members.map((username) => ({ username })) };
  const { json } = await api("POST", "/chat/chatroom/", body);
  addRoom(json.data);
  $("create-form").reset();
  await openRoom(json.data.id);
});

onSubmit("join-form", async () => {
  const id = Number($("join-id").value.trim());
  if (!Number.isInteger(id) || id < 1) throw new Error("A room id is a positive whole number.");
  await api("PUT", asMe(`/chat/chatroom/${id}/`));
  const { json } = await api("GET", asMe(`/chat/chatroom/${id}/`));
  addRoom(json.data);
  $("join-form").reset();
  await openRoom(id);
});

$("leave").addEventListener("click", async () => {
  clearError();
  try {
    const id = state.room;
    await api("DELETE", asMe(`/chat/chatroom/${id}/`));
    dropRoom(id);
  } catch (e) {
    showError(e);
  }
});

function closeRoom() {
  state.room = null;
  $("messages").replaceChildren();
  $("room-head").hidden = true;
  $("send-form").hidden = true;
  $("older").hidden = true;
  $("no-room").hidden = false;
}

// ---------------------------------------------------------------- messages

function messageItem(m, pending) {
  const item = document.createElement("li");
  if (m.id !== undefined) item.dataset.id = m.id;
  const mine = m.msg_from ? m.msg_from.id === state.me.id : true;
  item.className = mine ? "mine" : "";
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = m.msg_from ? m.msg_from.username : state.me.username;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = m.text;
  item.append(who, text);
  const when = document.createElement("span");
  when.className = pending ? "state" : "when";
  when.textContent = pending ? "sending…" : new Date(m.sent_at).toLocaleTimeString();
  item.append(when);
  if (pending) item.classList.add("pending");
  return item;
}

function shown(id) {
  return Boolean($("messages").querySelector(`li[data-id="${CSS.escape(String(id))}"]`));
}

// Shows a stored message in the open room once.
function showMessage(m) {
  if (!shown(m.id)) $("messages").append(messageItem(m));
}

function scrollDown() {
  const list = $("messages");
  if (list.lastChild) list.lastChild.scrollIntoView({ block: "nearest" });
}

onSubmit("send-form", async () => {
  const room = state.room, text = $("send-text").value;
  const { json } = await api("POST", `/chat/group/${room}/`, fromMe({ text }));
  $("send-form").reset();
  follow(json.data, room, text);
});

onSubmit("direct-form", async () => {
  const username = $("direct-user").value.trim(), text = $("direct-text").value;
  const { json: found } = await api("GET", `/users/?username=${encodeURIComponent(username)}`);
  if (!found.length) throw new Error(`There is no user ${username}.`);
  const { json } = await api("POST", `/chat/user/${found[0].id}/`, fromMe({ text }));
  $("direct-form").reset();
  follow(json.data, null, text);
});

// Shows a sent message as pending and follows its task until it ends: SUCCESS puts the stored
// message in its place, FAILURE shows the reason.
async function follow(task, room, text) {
  const item = messageItem({ text }, true);
  if (room !== null && state.room === room) {
    $("messages").append(item);
    scrollDown();
  }
  for (let delay = 150; ; delay = Math.min(delay * 1.5, 2000)) {
    await new Promise((r) => setTimeout(r, delay));
    // Live, the task's end is pushed: ask task_state only if it is late (a push is a hint).
    let task_state = await pushedEnd(task, state.live ? 5000 : 0);
    if (!task_state) {
      try {
        ({ json: task_state } = await api("GET", `/chat/task_state/${task}`));
      } catch (e) {
        if (e.status === 0 || e.status >= 500) continue;
        item.remove();
        return showError(e);
      }
    }
    if (task_state.state === "SUCCESS") {
      const m = task_state.result;
      addRoom(m.room);
      if (item.isConnected && shown(m.id)) item.remove(); // pushed meanwhile
      else if (item.isConnected) item.replaceWith(messageItem(m));
      else if (state.room === m.room.id) showMessage(m);
      else if (room === null) await openRoom(m.room.id);
      return;
    }
    if (task_state.state === "FAILURE") {
      item.classList.remove("pending");
      item.classList.add("failed");
      item.querySelector(".state").textContent = `not sent: ${task_state.result && task_state.result.error}`;
      if (!item.isConnected) showError(new Error(`Not sent: ${task_state.result && task_state.result.error}`));
      return;
    }
  }
}

// ---------------------------------------------------------------- new messages

// A message that arrived (pushed, or answered by a long poll): the open room shows it, another
// room counts it as unseen (one's own messages from other tabs are not unseen).
function arrived(entry, m) {
  if (state.room === entry.room.id) {
    showMessage(m);
    scrollDown();
    if (state.live) markRead(entry.room.id);
  } else if (!m.msg_from || m.msg_from.id !== state.me.id) {
    setUnseen(entry, [...entry.unseen, m.id]);
  }
}

// A pushed message was seen in the open room: a one-message page of its history moves the read
// position past it (as unseen would have), at most once a second per room.
function markRead(room) {
  if (state.reads.has(room)) return;
  state.reads.set(room, setTimeout(() => {
    state.reads.delete(room);
    api("GET", asMe(`/chat/messages/${room}/?limit=1`)).catch(() => {});
  }, 1000));
}

// Long polling on (while the WebSocket is not open) or off.
function polling(on) {
  if (on === state.pollOn) return;
  state.pollOn = on;
  if (on) poll();
  else state.polling += 1; // the running loop ends after its request
}

// One long poll after another.
async function poll() {
  const generation = ++state.polling;
  let failures = 0;
  while (generation === state.polling) {
    try {
      await catchUp(20);
      failures = 0;
    } catch (e) {
      if (e.status === 401) return showError(new Error("Your session has ended; sign in again."));
      failures += 1;
      if (failures === 3) showError(e);
      await new Promise((r) => setTimeout(r, Math.min(1000 * failures, 10000)));
    }
  }
}

// What is unseen (waiting up to `wait` seconds for something): also what a WebSocket that just
// opened may have missed.
async function catchUp(wait) {
  const { json } = await api("GET", asMe(`/chat/messages/unseen/?wait=${wait}`));
  for (const room of json.data) {
    const entry = addRoom(room);
    for (const m of room.messages) arrived(entry, m);
  }
}

// ---------------------------------------------------------------- live push

function transport(live) {
  state.live = live;
  $("transport").textContent = live ? "live" : "polling";
  $("transport").dataset.live = String(live);
}

// Opens the WebSocket; while it is closed, long polling carries on and it is tried again, a
// little later each time (up to a minute).
function connect() {
  if (!websocketUrl || !window.WebSocket) return polling(true);
  const who = mode === "token" ? `token=${encodeURIComponent(state.tokens.access)}` : `user_id=${state.me.id}`;
  let socket;
  try {
    socket = new WebSocket(`${websocketUrl}${websocketUrl.includes("?") ? "&" : "?"}${who}`);
  } catch (e) {
    return polling(true);
  }
  state.socket = socket;
  polling(!state.live);
  let pinger = null;
  socket.onopen = () => {
    state.retry = 1000;
    polling(false);
    transport(true);
    // API Gateway closes a connection idle for 10 minutes.
    pinger = setInterval(() => socket.send(JSON.stringify({ action: "ping" })), 5 * 60 * 1000);
    catchUp(0).catch(() => {});
  };
  socket.onmessage = (event) => {
    try { pushed(JSON.parse(event.data)); } catch (e) { /* not a frame of ours */ }
  };
  socket.onclose = async () => {
    clearInterval(pinger);
    if (state.socket !== socket) return;
    transport(false);
    polling(true);
    // An expired access token is refused at connect: a fresh one first.
    if (mode === "token" && !(await refresh())) return;
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 60000);
  };
}

async function pushed(frame) {
  if (frame.type === "message") {
    const m = frame.data;
    let entry = state.rooms.get(m.room);
    if (!entry) entry = await roomById(m.room);
    if (entry) arrived(entry, m);
  } else if (frame.type === "task") {
    const waiter = state.ended.get(frame.data.task_id);
    state.ended.set(frame.data.task_id, frame.data);
    if (typeof waiter === "function") waiter(frame.data);
  } else if (frame.type === "membership") {
    if (frame.data.joined) await roomById(frame.data.room);
    else dropRoom(frame.data.room);
  }
}

// A room the list does not show yet, read and added.
async function roomById(id) {
  try {
    const { json } = await api("GET", asMe(`/chat/chatroom/${id}/`));
    return addRoom(json.data);
  } catch (e) {
    return null;
  }
}

// A room N is no member of any more leaves the list (and the view, if open).
function dropRoom(id) {
  const entry = state.rooms.get(id);
  if (!entry) return;
  entry.button.parentElement.remove();
  state.rooms.delete(id);
  if (state.room === id) closeRoom();
}

// The pushed end of a task, waiting up to `ms` for it; null if it did not come.
function pushedEnd(task, ms) {
  const known = state.ended.get(task);
  if (known && typeof known !== "function") {
    state.ended.delete(task);
    return Promise.resolve({ state: known.state, result: known.result });
  }
  if (!ms) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { state.ended.delete(task); resolve(null); }, ms);
    state.ended.set(task, (data) => {
      clearTimeout(timer);
      state.ended.delete(task);
      resolve({ state: data.state, result: data.result });
    });
  });
}

start().catch(showError);
