// New messages (and their edits, deletions and reactions), task ends and memberships: over the
// WebSocket (docs/API.md, "Live push") while it is open, and through long polling
// (unseen?wait=20, new messages only) while it is not; the badge says which. Typing goes over
// the WebSocket only, both ways (docs/API.md, "Live room state"): the reader's, and the line
// saying who else types in the open room; so do `read` frames (others' read positions moved).
import { $, api, asMe, mode, refresh, showError, sleep, state, websocketUrl } from "./api.js";
import { addRoom, dropRoom, readMoved, roomById } from "./rooms.js";
import { arrived } from "./conversation.js";
import { edited, reacted, removed } from "./actions.js";

// A pushed message was seen in the open room: a one-message page of its history moves the read
// position past it (as unseen would have), at most once a second per room.
export function markRead(room) {
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
      await sleep(Math.min(1000 * failures, 10000));
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

export function transport(live) {
  state.live = live;
  const badge = $("transport");
  badge.textContent = live ? "live" : "polling";
  badge.dataset.live = String(live);
  badge.title = live
    ? "New messages arrive live over a WebSocket"
    : "New messages arrive by polling the server (the live connection is not open)";
}

// Opens the WebSocket; while it is closed, long polling carries on and it is tried again, a
// little later each time (up to a minute).
export function connect() {
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
    let frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; /* not a frame of ours */ }
    pushed(frame).catch(() => {});
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
  } else if (frame.type === "message_edited") {
    edited(frame.data);
  } else if (frame.type === "message_deleted") {
    removed(frame.data);
  } else if (frame.type === "reaction") {
    reacted(frame.data);
  } else if (frame.type === "membership") {
    // Added (a join, an invitation) or gone (a leave, or removed: `reason` "kicked").
    if (frame.data.joined) await roomById(frame.data.room);
    else dropRoom(frame.data.room, frame.data.reason);
  } else if (frame.type === "typing") {
    othersTyping(frame.data);
  } else if (frame.type === "read") {
    readMoved(frame.data);
  }
  // An `error` frame answers a typing frame the server would not take (the reader is no longer
  // a member): typing is only a hint, so nothing is shown.
}

// The pushed end of a task, waiting up to `ms` for it; null if it did not come.
export function pushedEnd(task, ms) {
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

// ---------------------------------------------------------------- typing

// The server forwards at most one typing frame per user and room every 3 s (and drops the
// rest), so the client sends no more; a name shows until 6 s after its last frame.
const TYPING_EVERY = 3000, TYPING_SHOWN = 6000;
const typingSent = new Map(); // room -> when the reader's last typing frame went
const typers = new Map(); // room -> Map(user id -> { name, timer }), in the order they started
const key = (room) => String(room);

// The reader typed in a room's composer: a typing frame while the WebSocket is open (polling
// has no way to say it), at most once every 3 s per room, none for an empty composer.
export function typing(room, text) {
  const socket = state.socket;
  if (room === null || !text.trim() || !socket || socket.readyState !== WebSocket.OPEN) return;
  const now = Date.now();
  if (now - (typingSent.get(key(room)) ?? -Infinity) < TYPING_EVERY) return;
  typingSent.set(key(room), now);
  socket.send(JSON.stringify({ action: "typing", room }));
}

// Someone else types in a room (kept per room, shown for the open one): 6 s from now, unless
// another frame or their message comes first.
function othersTyping({ room, user }) {
  if (!user || user.id === state.me.id) return;
  let inRoom = typers.get(key(room));
  if (!inRoom) typers.set(key(room), (inRoom = new Map()));
  const known = inRoom.get(user.id);
  if (known) clearTimeout(known.timer);
  inRoom.set(user.id, { name: user.username, timer: setTimeout(() => stoppedTyping(room, user.id), TYPING_SHOWN) });
  if (key(room) === key(state.room)) showTyping();
}

// Someone no longer types in a room: 6 s passed, or their message arrived.
export function stoppedTyping(room, user) {
  const inRoom = typers.get(key(room));
  const known = inRoom && inRoom.get(user);
  if (!known) return;
  clearTimeout(known.timer);
  inRoom.delete(user);
  if (!inRoom.size) typers.delete(key(room));
  if (key(room) === key(state.room)) showTyping();
}

// The open room's line above the composer (a polite live region): "ann is typing…", "ann and
// bob are typing…", "3 people are typing…", or empty; hidden with no room open.
export function showTyping() {
  const line = $("typing");
  const names = state.room === null ? [] : [...(typers.get(key(state.room)) || new Map()).values()].map((t) => t.name);
  line.hidden = state.room === null;
  if (names.length === 0) line.textContent = "";
  else if (names.length === 1) line.textContent = `${names[0]} is typing…`;
  else if (names.length === 2) line.textContent = `${names[0]} and ${names[1]} are typing…`;
  else line.textContent = `${names.length} people are typing…`;
}
