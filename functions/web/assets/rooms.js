// The room list: group rooms by name, direct rooms by the other person, a filter box, unseen
// counts, and the newest activity first. Each room's news (docs/API.md, "Live room state"): bold
// while unread, an "@3" badge for unread mentions of the reader, and its last message under its
// name; and how far its other members have read, for "Seen by" (message.js).
import { $, api, asMe, avatar, before, learnIds, lockIcon, nextLink, notice, showError, state } from "./api.js";
import { closeRoom, openRoom, showHead } from "./conversation.js";
import { paintSeen } from "./message.js";

export async function loadRooms() {
  state.rooms.clear();
  state.roomsLoaded = false;
  $("rooms").replaceChildren();
  await loadRoomPage(asMe("/chat/chatroom/"));
  state.roomsLoaded = true;
}

async function loadRoomPage(path) {
  const { json, link } = await api("GET", path);
  const later = state.roomsLoaded;
  state.roomsLoaded = false; // a page keeps the API's order, after what is listed
  for (const room of json.data) addRoom(room);
  state.roomsLoaded = later;
  const next = nextLink(link);
  $("rooms-more").hidden = !next;
  $("rooms-more").onclick = () => loadRoomPage(next).catch(showError);
  filterRooms();
}

// A direct room is named "A - B" after its pair (usernames have no spaces) and has no members
// but them: it is shown as the other one, from its members (a note to oneself has one), and
// from its name only when the other has left it.
export function describe(room) {
  const members = (room.room_member || []).map((m) => m.username);
  const pair = String(room.room_name).split(" - ");
  const direct = pair.length === 2 && members.length <= 2 && members.every((u) => pair.includes(u));
  if (!direct) return { direct: false, label: room.room_name, members };
  const me = state.me.username;
  const other = members.find((u) => u !== me) || (pair[0] === me ? pair[1] : pair[0]);
  return { direct: true, label: other === me ? `${me} (you)` : other, person: other, members };
}

export function addRoom(room) {
  learnIds(room);
  const known = state.rooms.get(room.id);
  if (known) {
    Object.assign(known.room, room);
    learnReads(known, room);
    paint(known);
    return known;
  }
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "room";
  button.dataset.room = room.id;
  const span = (className) => Object.assign(document.createElement("span"), { className });
  const name = span("name"), preview = span("snippet"), mentions = span("mention-count");
  const count = span("count");
  const kind = hiddenWords(""), unread = hiddenWords(", unread");
  const lock = lockIcon();
  const line = span("line"), texts = span("texts");
  line.append(name, lock, kind, unread);
  texts.append(line, preview);
  // "@3" says "3 unread mentions" (an image of text: its label is what is read).
  mentions.setAttribute("role", "img");
  button.append(document.createElement("span"), texts, mentions, count);
  button.addEventListener("click", () => openRoom(room.id).catch(showError));
  item.append(button);
  // The first load keeps the API's order; a room that comes later is the newest activity.
  if (state.roomsLoaded) $("rooms").prepend(item);
  else $("rooms").append(item);
  // Mentions counted here on top of the API's: of messages newer than its last message then.
  const entry = {
    room, item, button, name, lock, kind, count, unseen: new Set(), preview, mentions, unread,
    reads: new Map(), counted: new Set(), countedTo: room.last_message ? room.last_message.id : null,
  };
  state.rooms.set(room.id, entry);
  learnReads(entry, room);
  paint(entry);
  filterRooms();
  return entry;
}

// The entry's name, avatar and label from what is known of its room.
function paint(entry) {
  const info = describe(entry.room);
  entry.info = info;
  entry.name.textContent = info.label;
  entry.button.firstChild.replaceWith(avatar(info.direct ? info.person : info.label, !info.direct));
  const locked = !info.direct && entry.room.visibility === "private";
  entry.lock.classList.toggle("shown", locked);
  entry.kind.textContent = info.direct ? ", direct messages" : locked ? ", private room" : "";
  entry.button.title = info.direct ? `Direct messages with ${info.label}` : `Room ${info.label} (id ${entry.room.id})`;
  paintNews(entry);
  if (state.room === entry.room.id) showHead(entry); // a member joined, a name learnt
}

// Words for screen readers only, after the visible ones (the name read is the text shown).
function hiddenWords(text) {
  const span = document.createElement("span");
  span.className = "sr-only";
  span.textContent = text;
  return span;
}

// Counts a room's unseen messages by id: until the read position has moved (asynchronously),
// the next poll may answer the same messages again.
export function setUnseen(entry, ids) {
  entry.unseen = new Set(ids);
  const n = entry.unseen.size;
  entry.count.replaceChildren(n > 99 ? "99+" : String(n), hiddenWords(" unseen"));
  entry.count.hidden = n === 0;
  paintNews(entry);
}

// ---------------------------------------------------------------- news

// Bold while unread (the API's word, or messages pushed since), the mention badge, the preview.
function paintNews(entry) {
  const room = entry.room, unread = Boolean(room.unread) || entry.unseen.size > 0;
  entry.button.classList.toggle("unread", unread);
  entry.unread.hidden = !unread;
  const n = (room.mentions || 0) + entry.counted.size;
  entry.mentions.hidden = n === 0;
  entry.mentions.textContent = n > 99 ? "@99+" : `@${n}`;
  entry.mentions.setAttribute("aria-label", `${n > 99 ? "99+" : n} unread mention${n === 1 ? "" : "s"}`);
  entry.mentions.title = entry.mentions.getAttribute("aria-label");
  const last = room.last_message;
  entry.preview.hidden = !last;
  if (!last) return;
  const who = last.msg_from && last.msg_from.id === state.me.id ? "You" : (last.msg_from || {}).username || "someone";
  const text = last.deleted
    ? Object.assign(document.createElement("em"), { textContent: "message deleted" })
    : last.text || "attachment";
  entry.preview.replaceChildren(hiddenWords(", "), `${who}: `, text);
}

// A message that arrived: the room's last message now, and news unless the room is open (or
// the message is the reader's own, from another tab); a mention of the reader bumps the badge
// once (unless the API's count had it: a message no newer than its last message then).
export function news(entry, m) {
  const room = entry.room, last = room.last_message;
  if (!last || String(last.id) === String(m.id) || before(last.id, m.id)) {
    room.last_message = { id: m.id, msg_from: m.msg_from, text: String(m.text || "").slice(0, 100), sent_at: m.sent_at, deleted: Boolean(m.deleted) };
  }
  const mine = m.msg_from && m.msg_from.id === state.me.id;
  if (state.room !== room.id && !mine) {
    room.unread = true;
    const fresh = entry.countedTo === null || before(entry.countedTo, m.id);
    if (fresh && (m.mentions || []).some((u) => u.id === state.me.id)) entry.counted.add(String(m.id));
  }
  paintNews(entry);
}

// The room is open: read, as the server learns when the reader's position moves.
export function readAll(entry) {
  entry.room.unread = false;
  entry.room.mentions = 0;
  entry.counted.clear();
  if (entry.room.last_message) entry.countedTo = entry.room.last_message.id;
  setUnseen(entry, []);
}

// An edit or deletion of the room's last message shows in its preview; a deleted message's
// mention counted here counts no more.
export function lastChanged(room, m) {
  const entry = state.rooms.get(room);
  if (!entry) return;
  if (m.deleted) entry.counted.delete(String(m.id));
  const last = entry.room.last_message;
  if (last && String(last.id) === String(m.id)) {
    Object.assign(last, m.deleted ? { deleted: true, text: "" } : { text: String(m.text).slice(0, 100) });
  }
  paintNews(entry);
}

// How far the room's members have read, by username: as a member's view of the room says
// (`read_to` on each member: the view replaces what was known), then as `read` frames move it.
function learnReads(entry, room) {
  const members = room.room_member || [];
  if (!members.some((m) => "read_to" in m)) return;
  entry.reads = new Map(members.filter((m) => m.read_to != null).map((m) => [m.username, m.read_to]));
  if (state.room === entry.room.id) paintSeen();
}

export function readMoved({ room, user, read_to: to }) {
  const entry = state.rooms.get(room);
  if (!entry || !user || user.id === state.me.id || to == null) return;
  const had = entry.reads.get(user.username);
  if (had == null || before(had, to)) entry.reads.set(user.username, to);
  if (state.room === room) paintSeen();
}

// The room with the newest activity goes first (unless focus is in the list, where a jump
// under the keyboard would lose the place).
export function bump(entry) {
  const list = $("rooms");
  if (list.firstChild === entry.item || list.contains(document.activeElement)) return;
  list.prepend(entry.item);
}

export function markCurrent(id) {
  for (const other of state.rooms.values()) {
    if (other.room.id === id) other.button.setAttribute("aria-current", "true");
    else other.button.removeAttribute("aria-current");
  }
}

// A room N is no member of any more leaves the list (and the view, if open, and its dialogs).
// Removed by someone else (`reason`, such as "kicked"), N is told.
export function dropRoom(id, reason) {
  const entry = state.rooms.get(id);
  if (!entry) return;
  const open = state.room === id;
  entry.item.remove();
  state.rooms.delete(id);
  for (const box of document.querySelectorAll("dialog[open][data-room]")) {
    if (box.dataset.room === String(id)) box.close();
  }
  if (open) closeRoom();
  filterRooms();
  if (reason && reason !== "left") {
    notice(open ? `You were removed from this room (${entry.info.label}).` : `You were removed from ${entry.info.label}.`);
  }
}

// A room the list does not show yet, read and added.
export async function roomById(id) {
  try {
    const { json } = await api("GET", asMe(`/chat/chatroom/${id}/`));
    return addRoom(json.data);
  } catch (e) {
    return null;
  }
}

export function filterRooms() {
  const words = $("filter").value.trim().toLowerCase();
  let shown = 0;
  for (const entry of state.rooms.values()) {
    const hit = !words || entry.info.label.toLowerCase().includes(words);
    entry.item.hidden = !hit;
    if (hit) shown += 1;
  }
  $("rooms-empty").textContent = state.rooms.size === 0
    ? "No rooms yet: start one with the + button."
    : "No room matches the filter.";
  $("rooms-empty").hidden = shown > 0;
}

$("filter").addEventListener("input", filterRooms);
$("filter").addEventListener("keydown", (event) => {
  // Enter opens the first room that matches; Escape clears the filter.
  if (event.key === "Enter") {
    const first = [...state.rooms.values()].find((e) => !e.item.hidden);
    if (first) first.button.click();
  } else if (event.key === "Escape" && $("filter").value) {
    $("filter").value = "";
    filterRooms();
  }
});
