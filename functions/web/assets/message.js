// One message as the conversation shows it: avatar, sender and time, the quote of the message
// it replies to, its text with "(edited)" (or the mark of a deleted one) and its @mentions
// highlighted (the reader's more), its files (files.js), its reactions as chips, and a toolbar
// of what one may do with it (shown on hover, on focus and on a tap; actions.js does what its
// buttons say). A shown message is painted again in place when it changes. And "Seen by" under
// the newest of the reader's messages that others have read.
import { $, avatar, before, state } from "./api.js";
import { filesOf } from "./files.js";

// The reaction palette.
export const EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

const time = (d) => d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(act, text, className) {
  const b = el("button", className, text);
  b.type = "button";
  b.dataset.act = act;
  return b;
}

// The shown message of this id in the open room, if any.
export function findItem(id) {
  return $("messages").querySelector(`li.msg[data-id="${CSS.escape(String(id))}"]`);
}

// The list item of a stored message, or of one being sent (pending: no id, no actions yet).
export function messageItem(m, pending) {
  const item = el("li", "msg");
  if (m.id !== undefined) item.dataset.id = m.id;
  const from = m.msg_from || { id: state.me.id, username: state.me.username };
  const when = pending ? new Date() : new Date(m.sent_at);
  item.dataset.from = from.id;
  item.dataset.at = when.getTime();
  if (from.id === state.me.id) item.classList.add("mine");
  if (pending) item.classList.add("pending");
  item.message = { ...m, msg_from: from };
  item.append(avatar(from.username), el("div", "body"));
  paint(item);
  return item;
}

function paint(item) {
  const m = item.message, pending = item.classList.contains("pending");
  const when = new Date(Number(item.dataset.at));
  const meta = el("p", "meta");
  const stamp = el("time", "when", time(when));
  stamp.dateTime = when.toISOString();
  stamp.title = when.toLocaleString();
  meta.append(el("span", "who", m.msg_from.username), " ", stamp);
  const parts = [meta];
  if (m.reply_to) parts.push(quote(m.reply_to));
  item.classList.toggle("deleted", Boolean(m.deleted));
  if (m.deleted) {
    parts.push(el("p", "tombstone", "message deleted"));
  } else {
    const text = withMentions(m);
    if (m.edited_at) {
      const mark = el("span", "edited", " (edited)");
      mark.title = `Edited ${new Date(m.edited_at).toLocaleString()}`;
      text.append(mark);
    }
    parts.push(text);
    if (m.attachments && m.attachments.length) parts.push(filesOf(m.attachments));
    if (m.reactions && m.reactions.length) parts.push(chips(m.reactions));
  }
  if (pending) parts.push(el("p", "state", "sending…"));
  item.querySelector(".body").replaceChildren(...parts);
  const old = item.querySelector(".tools");
  if (old) old.remove();
  if (!pending && !m.deleted && m.id !== undefined) item.append(tools(m));
}

// A character a username may hold (letters, digits and @ . + - _), as the API reads mentions.
const IN_NAME = /^[\p{L}\p{N}@.+\-_]$/u;
const inName = (c) => c !== undefined && IN_NAME.test(c);

// The text, each `@username` of the message's `mentions` marked where the API found it: an `@`
// after no username character, then the longest such name that no username character follows
// (a final "." aside). Mentions of the reader are marked more strongly.
function withMentions(m) {
  const p = el("p", "text");
  const text = String(m.text), mentioned = [...(m.mentions || [])].sort((a, b) => b.username.length - a.username.length);
  if (!mentioned.length) {
    p.textContent = text;
    return p;
  }
  let plain = 0, previous;
  for (let at = 0; at < text.length;) {
    const c = String.fromCodePoint(text.codePointAt(at));
    const user = c === "@" && !inName(previous) && mentioned.find((u) => {
      if (!text.startsWith(u.username, at + 1)) return false;
      const after = [...text.slice(at + 1 + u.username.length).slice(0, 4)]; // two characters
      return after[0] === "." ? !inName(after[1]) : !inName(after[0]);
    });
    if (!user) {
      previous = c;
      at += c.length;
      continue;
    }
    const me = user.id === state.me.id;
    const mark = el("span", me ? "mention to-me" : "mention", `@${user.username}`);
    if (me) mark.title = "Mentions you";
    p.append(text.slice(plain, at), mark);
    at += 1 + user.username.length;
    plain = at;
    previous = [...user.username].pop();
  }
  p.append(text.slice(plain));
  return p;
}

// The quoted message above the text: its sender and first words, or that it was deleted. A
// button: it shows the quoted message (actions.js).
function quote(r) {
  const b = button("quote", undefined, "quote");
  b.dataset.target = r.id;
  b.title = "Show the message replied to";
  const who = r.msg_from ? r.msg_from.username : "someone";
  b.append(el("span", "sr-only", "In reply to "), el("span", "quote-who", who), el("span", "sr-only", ": "),
    r.deleted ? el("span", "quote-text gone", "message deleted") : el("span", "quote-text", r.text));
  return b;
}

// One chip per emoji with its count; one's own reaction pressed. A click takes it back or adds it.
function chips(reactions) {
  const group = el("div", "reactions");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Reactions");
  for (const r of reactions) {
    const chip = button("chip", undefined, "chip");
    chip.dataset.emoji = r.emoji;
    chip.setAttribute("aria-pressed", String(Boolean(r.me)));
    chip.setAttribute("aria-label", `${r.emoji} ${r.count}${r.me ? ", you reacted" : ""}`);
    chip.title = r.me ? "Take your reaction back" : `React with ${r.emoji} too`;
    chip.append(el("span", "emoji", r.emoji), el("span", "n", String(r.count)));
    group.append(chip);
  }
  return group;
}

// Reply and React for every message; Edit for one's own; Delete for one's own, or any as an
// admin of the room. One tab stop: the arrow keys move along (actions.js).
function tools(m) {
  const bar = el("div", "tools");
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", `Message from ${m.msg_from.username}`);
  const mine = m.msg_from.id === state.me.id;
  const acts = el("span", "acts");
  acts.append(button("reply", "Reply"), button("react", "React"));
  if (mine) acts.append(button("edit", "Edit"));
  if (mine || admin()) acts.append(button("delete", "Delete"));
  for (const [i, b] of [...acts.children].entries()) b.tabIndex = i === 0 ? 0 : -1;
  bar.append(acts);
  return bar;
}

function admin() {
  const entry = state.rooms.get(state.room), room = entry ? entry.room : {};
  const me = state.me.id;
  return (room.owner && room.owner.id === me) || (room.admins || []).some((a) => a.id === me);
}

// The reaction palette in the toolbar, in place of its actions; `me` pressed.
export function palette(item) {
  const bar = item.querySelector(".tools");
  const mine = new Set((item.message.reactions || []).filter((r) => r.me).map((r) => r.emoji));
  const pick = el("span", "palette");
  for (const emoji of EMOJI) {
    const b = button("pick", emoji, "emoji");
    b.dataset.emoji = emoji;
    b.tabIndex = -1;
    b.setAttribute("aria-label", mine.has(emoji) ? `${emoji}, take your reaction back` : `React with ${emoji}`);
    b.setAttribute("aria-pressed", String(mine.has(emoji)));
    pick.append(b);
  }
  const close = button("unpick", "×", "close");
  close.tabIndex = -1;
  close.setAttribute("aria-label", "Close the reactions");
  pick.append(close);
  bar.querySelector(".acts").hidden = true;
  bar.append(pick);
  item.classList.add("tools-open");
  return pick;
}

export function closePalette(item) {
  const pick = item.querySelector(".palette");
  if (!pick) return false;
  pick.remove();
  item.querySelector(".acts").hidden = false;
  item.classList.remove("tools-open");
  return true;
}

// A newer copy of a shown message (an edit's answer, a pushed edit or deletion). Pushed copies
// say `me: false` for every reaction (readerView false): what this reader did is kept.
export function update(item, m, readerView) {
  if (!readerView) {
    const mine = new Set((item.message.reactions || []).filter((r) => r.me).map((r) => r.emoji));
    m = { ...m, reactions: (m.reactions || []).map((r) => ({ ...r, me: mine.has(r.emoji) })) };
  }
  item.message = { ...m, msg_from: m.msg_from || item.message.msg_from };
  // An edit under way is not swept away by an edit from elsewhere (its Cancel shows it).
  if (item.classList.contains("editing") && !m.deleted) return;
  item.classList.remove("editing");
  repaint(item);
}

// One emoji's count (and this reader's part in it, when known): a chip with count 0 goes.
export function setReaction(item, emoji, count, me) {
  const list = (item.message.reactions || []).map((r) => ({ ...r }));
  let r = list.find((x) => x.emoji === emoji);
  if (!r) list.push(r = { emoji, count, me: false });
  r.count = count;
  if (me !== undefined) r.me = me;
  item.message.reactions = list.filter((x) => x.count > 0);
  repaint(item);
}

export function setReactions(item, reactions) {
  item.message.reactions = reactions;
  repaint(item);
}

// Painted again, focus kept on the same control (or the toolbar, or the messages).
function repaint(item) {
  const focused = item.contains(document.activeElement) ? document.activeElement : null;
  if (item.classList.contains("editing")) return;
  const act = focused && focused.dataset.act, emoji = focused && focused.dataset.emoji;
  const picking = Boolean(item.querySelector(".palette"));
  paint(item);
  if (picking && item.querySelector(".tools")) palette(item);
  if (!focused) return;
  const same = act && item.querySelector(emoji
    ? `[data-act="${act}"][data-emoji="${CSS.escape(emoji)}"]`
    : `[data-act="${act}"]`);
  const next = same || item.querySelector(".tools [tabindex='0']");
  if (next) next.focus();
  else $("scroller").focus();
}

// ---------------------------------------------------------------- seen by

// "Seen by ann, bob" (or "Seen by 5 people", beyond three) under the newest of the reader's
// messages in the open room that another member has read (their read_to at or past it), as
// chat apps show it: one line, moved on as others read on.
export function paintSeen() {
  const list = $("messages"), entry = state.rooms.get(state.room);
  const reads = entry ? [...entry.reads].filter(([name]) => name !== state.me.username) : [];
  let target = null, names = [];
  for (const item of [...list.querySelectorAll("li.msg.mine[data-id]")].reverse()) {
    names = reads.filter(([, to]) => !before(to, item.dataset.id)).map(([name]) => name);
    if (names.length) { target = item; break; }
  }
  for (const old of list.querySelectorAll("li.msg > .seen")) if (old.parentNode !== target) old.remove();
  if (!target) return;
  let line = target.querySelector(":scope > .seen");
  if (!line) target.append(line = el("p", "seen"));
  const text = names.length > 3 ? `Seen by ${names.length} people` : `Seen by ${names.join(", ")}`;
  if (line.textContent !== text) line.textContent = text;
}
