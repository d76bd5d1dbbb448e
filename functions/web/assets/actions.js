// What one does with a shown message (docs/API.md, "Message lifecycle"): reply (a quote bar
// above the composer), react (a palette; a chip toggles one's reaction), edit in place (Enter
// saves, Escape cancels), delete (after a confirmation dialog); a quote shows the message it
// quotes. And the same changes made elsewhere, as live push tells them.
import { $, api, asMe, before, onSubmit, showError, state } from "./api.js";
import { closePalette, findItem, palette, setReaction, setReactions, update } from "./message.js";
import { loadOlder } from "./conversation.js";
import { lastChanged, setUnseen } from "./rooms.js";

const list = $("messages");
const touch = matchMedia("(hover: none)");
const path = (item, tail = "") => asMe(`/chat/messages/${state.room}/${item.message.id}/${tail}`);

list.addEventListener("click", (event) => {
  const b = event.target.closest("button[data-act]");
  const item = event.target.closest("li.msg");
  if (!item) return;
  if (!b) {
    // A tap shows (or hides) a message's actions where nothing hovers.
    if (touch.matches && !event.target.closest("textarea, form")) toggleTools(item);
    return;
  }
  const act = b.dataset.act;
  if (act === "reply") startReply(item);
  else if (act === "react") palette(item).querySelector("button").focus();
  else if (act === "unpick") unpick(item);
  else if (act === "pick") { unpick(item); toggle(item, b.dataset.emoji); }
  else if (act === "chip") toggle(item, b.dataset.emoji);
  else if (act === "edit") startEdit(item);
  else if (act === "delete") askDelete(item, b);
  else if (act === "quote") jumpTo(b.dataset.target).catch(showError);
});

function toggleTools(item) {
  const open = !item.classList.contains("tools-open");
  for (const other of list.querySelectorAll("li.tools-open")) {
    if (!closePalette(other)) other.classList.remove("tools-open");
  }
  item.classList.toggle("tools-open", open);
}

function unpick(item) {
  closePalette(item);
  const react = item.querySelector("[data-act=react]");
  if (react) react.focus();
}

// A toolbar is one tab stop: the arrow keys, Home and End move along it, Escape closes the palette.
list.addEventListener("keydown", (event) => {
  const bar = event.target.closest(".tools");
  if (!bar) return;
  const all = [...bar.querySelectorAll("button")].filter((b) => !b.closest("[hidden]"));
  const at = all.indexOf(event.target);
  let to = null;
  if (event.key === "ArrowRight" || event.key === "ArrowDown") to = all[(at + 1) % all.length];
  else if (event.key === "ArrowLeft" || event.key === "ArrowUp") to = all[(at - 1 + all.length) % all.length];
  else if (event.key === "Home") to = all[0];
  else if (event.key === "End") to = all[all.length - 1];
  else if (event.key === "Escape" && bar.querySelector(".palette")) unpick(event.target.closest("li.msg"));
  else return;
  event.preventDefault();
  if (to) to.focus();
});

list.addEventListener("focusin", (event) => {
  const bar = event.target.closest(".tools");
  if (!bar) return;
  for (const b of bar.querySelectorAll("button")) b.tabIndex = b === event.target ? 0 : -1;
});

// The palette closes when focus leaves its toolbar (looked at once the focus has settled: a
// toolbar painted again moves it to its new copy).
list.addEventListener("focusout", (event) => {
  const item = event.target.closest(".tools") && event.target.closest("li.msg");
  if (!item) return;
  setTimeout(() => {
    const bar = item.querySelector(".tools");
    if (bar && bar.querySelector(".palette") && !bar.contains(document.activeElement)) closePalette(item);
  });
});

// ---------------------------------------------------------------- reactions

const busy = new Set();

// Adds one's reaction with this emoji, or takes it back if there is one.
async function toggle(item, emoji) {
  const key = `${item.message.id} ${emoji}`;
  if (busy.has(key)) return;
  busy.add(key);
  const tail = `reactions/${encodeURIComponent(emoji)}/`;
  try {
    const had = (item.message.reactions || []).some((r) => r.emoji === emoji && r.me);
    if (had) {
      await api("DELETE", path(item, tail));
      // Unless the push of this very change came first.
      const r = (item.message.reactions || []).find((x) => x.emoji === emoji);
      if (r && r.me) setReaction(item, emoji, r.count - 1, false);
    } else {
      const { json } = await api("PUT", path(item, tail));
      setReactions(item, json.data);
    }
  } catch (e) {
    showError(e);
  } finally {
    busy.delete(key);
  }
}

// ---------------------------------------------------------------- replies

let reply = null;

function startReply(item) {
  const m = item.message;
  reply = { room: state.room, quote: { id: m.id, msg_from: m.msg_from, text: m.text.slice(0, 100), deleted: false } };
  $("reply-who").textContent = m.msg_from.username;
  $("reply-quote").textContent = m.text;
  $("reply-bar").hidden = false;
  $("send-text").setAttribute("aria-describedby", "reply-text send-help");
  $("send-text").focus();
}

// The quote the next send replies to, in this room.
export function replyingTo(room) {
  return reply && reply.room === room ? reply.quote : null;
}

export function clearReply() {
  reply = null;
  $("reply-bar").hidden = true;
  $("send-text").setAttribute("aria-describedby", "send-help");
}

$("reply-cancel").addEventListener("click", () => {
  clearReply();
  $("send-text").focus();
});
$("send-text").addEventListener("keydown", (event) => {
  if (event.key === "Escape" && reply) clearReply();
});

// Scrolls to the quoted message (older pages loaded for it, a few at most) and lights it up.
async function jumpTo(id) {
  let target = findItem(id);
  for (let i = 0; !target && i < 5 && state.older !== null; i++) {
    const first = list.querySelector("li.msg[data-id]");
    if (first && !before(id, first.dataset.id)) break;
    await loadOlder();
    target = findItem(id);
  }
  if (!target) return showError(new Error("The quoted message is no longer in this room's history."));
  target.tabIndex = -1;
  target.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
  target.classList.remove("flash");
  void target.offsetWidth; // the animation starts again
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 2000);
}

// ---------------------------------------------------------------- edits

let edits = 0;

function startEdit(item) {
  const text = item.querySelector(".body > .text");
  if (!text || item.classList.contains("editing")) return;
  const form = document.createElement("form");
  form.className = "edit";
  const area = document.createElement("textarea");
  area.value = item.message.text;
  area.required = true;
  area.maxLength = 1024;
  area.rows = Math.min(6, area.value.split("\n").length + 1);
  area.setAttribute("aria-label", "Edit the message");
  const hint = document.createElement("span");
  hint.className = "hint";
  hint.id = `edit-hint-${++edits}`;
  hint.textContent = "Enter saves, Escape cancels";
  area.setAttribute("aria-describedby", hint.id);
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = "Save";
  const row = document.createElement("div");
  row.className = "edit-actions";
  row.append(hint, cancel, save);
  form.append(area, row);
  text.replaceWith(form);
  item.classList.add("editing");
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);

  const end = () => {
    item.classList.remove("editing");
    update(item, item.message, true);
    const again = item.querySelector("[data-act=edit]");
    if (again) again.focus();
  };
  cancel.addEventListener("click", end);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      end();
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (area.value === item.message.text) return end();
    save.disabled = true;
    try {
      const { json } = await api("PATCH", path(item), { text: area.value });
      item.message = json.data;
      end();
    } catch (e) {
      showError(e);
    } finally {
      save.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- deletion

let deleting = null;

function askDelete(item, opener) {
  deleting = { item, opener, done: false };
  const m = item.message;
  $("delete-preview").textContent = m.text || (m.attachments || []).map((a) => a.filename).join(", ");
  $("delete-error").hidden = true;
  $("delete-dialog").showModal();
}

onSubmit("delete-form", async () => {
  const { item } = deleting;
  await api("DELETE", path(item));
  deleting.done = true;
  $("delete-dialog").close();
  removed({ room: state.room, id: item.message.id });
});

$("delete-dialog").querySelector(".cancel").addEventListener("click", () => $("delete-dialog").close());
$("delete-dialog").addEventListener("close", () => {
  if (!deleting) return;
  const { opener, done } = deleting;
  deleting = null;
  if (!done && opener.isConnected) opener.focus();
  else if (done) $("scroller").focus();
});

// ---------------------------------------------------------------- changes made elsewhere

const here = (room) => state.room !== null && String(state.room) === String(room);

export function edited(m) {
  lastChanged(m.room, m);
  const item = here(m.room) && findItem(m.id);
  if (item) update(item, m, false);
}

// A deleted message: a tombstone in its place, "message deleted" in quotes of it; it no longer
// counts as unseen, and a reply to it being written is dropped.
export function removed({ room, id }) {
  lastChanged(room, { id, deleted: true });
  const entry = state.rooms.get(room);
  if (entry && [...entry.unseen].some((u) => String(u) === String(id))) {
    setUnseen(entry, [...entry.unseen].filter((u) => String(u) !== String(id)));
  }
  if (reply && reply.room === room && String(reply.quote.id) === String(id)) clearReply();
  if (!here(room)) return;
  const item = findItem(id);
  if (item) update(item, { ...item.message, deleted: true, text: "", reactions: [] }, true);
  for (const q of list.querySelectorAll(`.quote[data-target="${CSS.escape(String(id))}"]`)) {
    const quoting = q.closest("li.msg");
    const m = quoting.message;
    update(quoting, { ...m, reply_to: { ...m.reply_to, text: "", deleted: true } }, true);
  }
}

// A reaction added or taken back: that emoji's count now; one's own part when it is one's own.
export function reacted({ room, id, emoji, user, added, count }) {
  const item = here(room) && findItem(id);
  if (!item || item.message.deleted) return;
  setReaction(item, emoji, count, user && user.id === state.me.id ? added : undefined);
}
