// The open room: its head, its messages (day separators, times, initials avatars, one sender's
// run grouped), older pages on scrolling up or with the "Load older messages" button, and the
// composer at the bottom (Enter sends, Shift+Enter a new line, a reply's quote and the files to
// send above it) with pending sends. A message itself is painted by message.js, what one does
// with it is actions.js; who is typing is live.js's; files are files.js's. Opening a room reads
// it: its news go (rooms.js).
import { $, api, asMe, avatar, before, clearError, fromMe, onSubmit, roleOf, send, showError, sleep, state, userId } from "./api.js";
import { addRoom, bump, describe, dropRoom, markCurrent, news, readAll, setUnseen } from "./rooms.js";
import { markRead, pushedEnd, showTyping, stoppedTyping, typing } from "./live.js";
import { messageItem, paintSeen } from "./message.js";
import { clearReply, replyingTo } from "./actions.js";
import { roomFiles, sent, uploaded } from "./files.js";
import { paintHeadBlock } from "./blocks.js";

const PAGE = 30;
const phone = matchMedia("(max-width: 40rem)");
const list = () => $("messages");
const scroller = () => $("scroller");

// ---------------------------------------------------------------- views

// On a phone the room list and the conversation take the whole window in turn.
export function view(which) {
  $("chat").dataset.view = which;
}

export async function openRoom(id) {
  const entry = state.rooms.get(id);
  state.room = id;
  markCurrent(id);
  readAll(entry);
  showHead(entry);
  showTyping();
  clearReply();
  roomFiles();
  list().replaceChildren();
  $("empty").hidden = true;
  setOlder(null);
  view("room");
  focusAfterOpen();
  // The room as its members see it (owner, admins, topic: who may do what) with its history.
  const [{ json }, detail] = await Promise.all([
    api("GET", asMe(`/chat/messages/${id}/?limit=${PAGE}`)),
    api("GET", asMe(`/chat/chatroom/${id}/`)).then(({ json: r }) => r.data, () => null),
  ]);
  if (state.room !== id) return;
  addRoom({ id, room_name: json.data.room_name, room_member: json.data.room_member, ...(detail || {}) });
  for (const m of json.data.messages) showMessage(m);
  // A pushed message older than this page that came meanwhile waits for its own page.
  const first = json.data.messages[0];
  if (first && json.data.next_before != null) {
    for (const item of list().querySelectorAll("li.msg[data-id]")) {
      if (before(item.dataset.id, first.id)) item.remove();
    }
    decorate();
  }
  setOlder(json.data.next_before);
  $("empty").hidden = json.data.messages.length > 0;
  scrollDown();
  fillWindow();
}

// The composer on a wide window; on a phone the title, so no keyboard pops up unasked.
function focusAfterOpen() {
  if (phone.matches) $("room-title").focus();
  else $("send-text").focus();
}

// The room's name (a padlock when private), its topic and members; Members and, for its owner
// and admins, Room settings (members.js, settings.js); Block in a direct room (blocks.js).
export function showHead(entry) {
  const info = describe(entry.room), room = entry.room;
  $("room-title").textContent = info.label;
  $("room-lock").hidden = info.direct || room.visibility !== "private";
  $("room-topic").textContent = info.direct ? "" : room.topic || "";
  $("room-topic").hidden = !$("room-topic").textContent;
  $("room-topic").title = $("room-topic").textContent;
  $("members-button").hidden = info.direct;
  $("settings-button").hidden = info.direct || !roleOf(room, state.me.username);
  $("room-avatar").replaceWith(Object.assign(avatar(info.direct ? info.person : info.label, !info.direct), { id: "room-avatar" }));
  $("room-members").textContent = info.direct
    ? "Direct messages"
    : `Room id ${entry.room.id} · ${info.members.length} member${info.members.length === 1 ? "" : "s"}: ${info.members.join(", ")}`;
  $("send-text").placeholder = info.direct ? `Message ${info.label}` : `Message #${info.label}`;
  paintHeadBlock();
  $("room-head").hidden = false;
  $("no-room").hidden = true;
  $("scroller").hidden = false;
  $("send-form").hidden = false;
}

export function closeRoom() {
  state.room = null;
  markCurrent(null);
  clearReply();
  roomFiles();
  list().replaceChildren();
  $("room-head").hidden = true;
  $("send-form").hidden = true;
  $("scroller").hidden = true;
  showTyping();
  setOlder(null);
  $("no-room").hidden = false;
  view("rooms");
}

$("back").addEventListener("click", () => {
  const entry = state.rooms.get(state.room);
  view("rooms");
  (entry ? entry.button : $("filter")).focus();
});

$("leave").addEventListener("click", async () => {
  clearError();
  try {
    const id = state.room;
    await api("DELETE", asMe(`/chat/chatroom/${id}/`));
    dropRoom(id);
    $("filter").focus();
  } catch (e) {
    showError(e);
  }
});

// ---------------------------------------------------------------- older pages

function setOlder(before) {
  state.older = before ?? null;
  $("older").hidden = state.older === null;
}

export async function loadOlder() {
  if (state.older === null || state.loadingOlder) return;
  state.loadingOlder = true;
  $("older").setAttribute("aria-busy", "true");
  clearError();
  try {
    const id = state.room;
    const { json } = await api("GET", asMe(`/chat/messages/${id}/?limit=${PAGE}&before=${state.older}`));
    if (state.room !== id) return;
    // The messages in view stay where they are on the screen.
    const box = scroller(), fromBottom = box.scrollHeight - box.scrollTop;
    const first = list().querySelector("li.msg");
    for (const m of json.data.messages) {
      if (!shown(m.id)) list().insertBefore(messageItem(m), first);
    }
    decorate();
    box.scrollTop = box.scrollHeight - fromBottom;
    setOlder(json.data.next_before);
  } catch (e) {
    showError(e);
  } finally {
    state.loadingOlder = false;
    $("older").removeAttribute("aria-busy");
  }
}

$("older").addEventListener("click", loadOlder);
// Scrolling up near the top loads the page before (not a scroll down, such as a new message's).
// Whether the newest message was in view is kept: an image loading after it showed stays so.
let lastTop = 0, atBottom = true;
$("scroller").addEventListener("scroll", () => {
  const top = scroller().scrollTop;
  if (top < lastTop && top < 150) loadOlder();
  lastTop = top;
  atBottom = nearBottom();
}, { passive: true });
$("messages").addEventListener("file-loaded", () => { if (atBottom) scrollDown(); });

// A page that does not fill the window cannot be scrolled up: older ones until it does.
async function fillWindow() {
  for (let i = 0; i < 3 && state.older !== null; i++) {
    const box = scroller();
    if (box.scrollHeight > box.clientHeight) return;
    await loadOlder();
    scrollDown();
  }
}

// ---------------------------------------------------------------- messages

const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

function dayLabel(d) {
  const today = new Date(), yesterday = new Date(Date.now() - 864e5);
  if (dayKey(d) === dayKey(today)) return "Today";
  if (dayKey(d) === dayKey(yesterday)) return "Yesterday";
  const options = { weekday: "long", month: "long", day: "numeric" };
  if (d.getFullYear() !== today.getFullYear()) options.year = "numeric";
  return d.toLocaleDateString([], options);
}

// Day separators before each day's first message; a message right after one of the same
// sender (within 5 minutes) is shown without avatar and name again.
function decorate() {
  for (const day of list().querySelectorAll("li.day")) day.remove();
  let previous = null;
  for (const item of list().querySelectorAll("li.msg")) {
    const at = new Date(Number(item.dataset.at));
    const newDay = !previous || dayKey(at) !== dayKey(new Date(Number(previous.dataset.at)));
    if (newDay) {
      const day = document.createElement("li");
      day.className = "day";
      day.textContent = dayLabel(at);
      item.before(day);
    }
    const cont = !newDay && previous.dataset.from === item.dataset.from && at - Number(previous.dataset.at) < 300000;
    item.classList.toggle("cont", cont);
    previous = item;
  }
  paintSeen();
}

function shown(id) {
  return Boolean(list().querySelector(`li[data-id="${CSS.escape(String(id))}"]`));
}

// Shows a stored message in the open room once, in its place among the stored ones.
function showMessage(m) {
  if (shown(m.id)) return;
  const item = messageItem(m);
  let next = null;
  for (const other of list().querySelectorAll("li.msg[data-id]")) {
    if (before(m.id, other.dataset.id)) { next = other; break; }
  }
  // One older than the page shown comes with the older pages, not after a gap.
  if (next && state.older !== null && next === list().querySelector("li.msg")) return;
  if (!next) next = list().querySelector("li.msg.pending");
  list().insertBefore(item, next);
  $("empty").hidden = true;
  decorate();
}

function nearBottom() {
  const box = scroller();
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollDown() {
  const box = scroller();
  box.scrollTop = box.scrollHeight;
}

// A message that arrived (pushed, or answered by a long poll): the open room shows it, another
// room counts it as unseen (one's own messages from other tabs are not unseen); either way it is
// the room's last message.
export function arrived(entry, m) {
  bump(entry);
  news(entry, m);
  // Their message is what they were typing.
  if (m.msg_from) stoppedTyping(entry.room.id, m.msg_from.id);
  if (state.room === entry.room.id) {
    const follow = nearBottom();
    showMessage(m);
    if (follow) scrollDown();
    if (state.live) markRead(entry.room.id);
  } else if (!m.msg_from || m.msg_from.id !== state.me.id) {
    setUnseen(entry, [...entry.unseen, m.id]);
  }
}

// ---------------------------------------------------------------- sending

const composer = $("send-text");

// Enter sends, Shift+Enter starts a new line (and so does Enter while an input method composes).
composer.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("send-form").requestSubmit();
  }
});

// The composer grows with its text, up to a few lines.
export function fitComposer() {
  composer.style.height = "auto";
  composer.style.height = `${Math.min(composer.scrollHeight + 2, 160)}px`;
}
composer.addEventListener("input", fitComposer);
// Others in the room see that the reader types (throttled, and not for an empty composer).
composer.addEventListener("input", () => typing(state.room, composer.value));

onSubmit("send-form", async () => {
  const room = state.room, typed = composer.value, quote = replyingTo(room);
  // Files wait for their uploads; with files, the text may be left out.
  const files = await uploaded(room), text = typed.trim() ? typed : "";
  if (!text && !files.length) return;
  // A direct room's message goes to the person (who may have blocked the sender: a 403).
  const info = state.rooms.get(room).info;
  const to = info.direct ? `/chat/user/${await userId(info.person)}/` : `/chat/group/${room}/`;
  const body = quote ? { text, reply_to: quote.id } : { text };
  if (files.length) body.attachments = files.map((u) => u.id);
  const { json } = await send(to, fromMe(body));
  $("send-form").reset();
  if (quote) clearReply();
  sent(files);
  fitComposer();
  composer.focus();
  follow(json.data, room, text, quote, files.map((u) => u.attachment));
});

// Shows a sent message as pending and follows its task until it ends: SUCCESS puts the stored
// message in its place, FAILURE shows the reason (a file whose bytes never arrived, say).
export async function follow(task, room, text, quote, files = []) {
  const item = messageItem({ text, reply_to: quote || null, attachments: files }, true);
  if (room !== null && state.room === room) {
    list().append(item);
    $("empty").hidden = true;
    decorate();
    scrollDown();
  }
  for (let delay = 150; ; delay = Math.min(delay * 1.5, 2000)) {
    await sleep(delay);
    // Live, the task's end is pushed: ask task_state only if it is late (a push is a hint).
    let taskState = await pushedEnd(task, state.live ? 5000 : 0);
    if (!taskState) {
      try {
        ({ json: taskState } = await api("GET", `/chat/task_state/${task}`));
      } catch (e) {
        if (e.status === 0 || e.status >= 500) continue;
        item.remove();
        return showError(e);
      }
    }
    if (taskState.state === "SUCCESS") return delivered(item, room, taskState.result);
    if (taskState.state === "FAILURE") {
      const reason = `Not sent: ${taskState.result && taskState.result.error}`;
      item.classList.replace("pending", "failed");
      item.querySelector(".state").textContent = reason;
      if (!item.isConnected) showError(new Error(reason));
      return;
    }
  }
}

async function delivered(item, room, m) {
  const entry = addRoom(m.room);
  bump(entry);
  news(entry, m);
  if (item.isConnected) {
    item.remove();
    showMessage(m);
    scrollDown();
  } else if (state.room === m.room.id) {
    showMessage(m);
    scrollDown();
  } else if (room === null) {
    await openRoom(m.room.id);
  }
}
