// The member list of the open group room (docs/API.md, "Rooms with owners"), a dialog from the
// room's head: each member with their role (Owner, Admin) and what the reader may do with them:
// Make admin or Remove admin (the owner), Kick and Ban (admins; an admin only by the owner; the
// owner by nobody), Block or Unblock (anyone, for themselves); adding someone by username (any
// member of a public room, admins of a private one); the bans with Unban (admins). A green dot
// marks who holds a live connection now (`online` in the room's member view, "Live room state"),
// as of the list's last load.
import { $, api, asMe, avatar, clearError, onSubmit, roleOf, showError, state, userId } from "./api.js";
import { addRoom } from "./rooms.js";
import { isBlocked, loadBlocks, setBlocked } from "./blocks.js";

const box = $("members-dialog");
let roomId = null, bans = [];

const current = () => state.rooms.get(roomId);
const base = () => `/chat/chatroom/${roomId}`;
const say = (text) => { $("members-status").textContent = text; };

$("members-button").addEventListener("click", () => {
  roomId = state.room;
  if (!current()) return;
  box.dataset.room = roomId;
  bans = [];
  $("invite-form").reset();
  $("ban-form").reset();
  $("members-error").hidden = true;
  say("");
  paint();
  box.showModal();
  $("member-list").setAttribute("aria-busy", "true");
  refresh().catch(showError).finally(() => $("member-list").removeAttribute("aria-busy"));
});

box.querySelector(".cancel").addEventListener("click", () => box.close());
box.addEventListener("close", () => {
  delete box.dataset.room;
  const back = $("members-button");
  if (!back.hidden && !$("room-head").hidden) back.focus();
});

// The room (members, owner, admins), the reader's blocks and, for admins, the bans: fresh.
async function refresh() {
  const [{ json }] = await Promise.all([api("GET", asMe(`${base()}/`)), loadBlocks().catch(() => {})]);
  if (!box.open) return;
  addRoom(json.data);
  if (roleOf(current().room, state.me.username)) await loadBans();
  paint();
}

async function loadBans() {
  const { json } = await api("GET", asMe(`${base()}/bans/?limit=200`));
  bans = json.data;
  for (const u of bans) state.ids.set(u.username, u.id);
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A button of a person's row: its words, and the person in its accessible name.
function action(act, text, username, className) {
  const b = el("button", className, text);
  b.type = "button";
  b.dataset.act = act;
  b.dataset.user = username;
  b.setAttribute("aria-label", `${text} ${username}`);
  return b;
}

// The dot says "online" to a screen reader and, as a tooltip, to the pointer.
function onlineDot() {
  const dot = el("span", "online");
  dot.setAttribute("role", "img");
  dot.setAttribute("aria-label", "online");
  dot.title = "online";
  return dot;
}

const RANK = { owner: 0, admin: 1 };
const ROLE = { owner: "Owner", admin: "Admin" };

function paint() {
  const entry = current();
  if (!entry) return;
  const room = entry.room, me = state.me.username, mine = roleOf(room, me);
  const members = (room.room_member || []).map((m) => m.username);
  const online = new Set((room.room_member || []).filter((m) => m.online === true).map((m) => m.username));
  $("members-heading").textContent = `Members of ${entry.info.label} (${members.length})`;
  $("invite-form").hidden = room.visibility === "private" && !mine;
  members.sort((a, b) => (RANK[roleOf(room, a)] ?? 2) - (RANK[roleOf(room, b)] ?? 2) || a.localeCompare(b));
  $("member-list").replaceChildren(...members.map((name) => {
    const role = roleOf(room, name);
    const item = el("li", "person");
    const who = el("span", "who");
    who.append(el("span", "name", name));
    if (online.has(name)) who.append(onlineDot());
    if (name === me) who.append(el("span", "hint", " (you)"));
    if (role) who.append(" ", el("span", `role ${role}`, ROLE[role]));
    item.append(avatar(name), who);
    const acts = el("span", "acts");
    if (name !== me) {
      if (mine === "owner" && role !== "owner") {
        acts.append(role === "admin" ? action("unadmin", "Remove admin", name) : action("admin", "Make admin", name));
      }
      if (mine && role !== "owner" && (role !== "admin" || mine === "owner")) {
        acts.append(action("kick", "Kick", name), action("ban", "Ban", name, "danger"));
      }
      acts.append(isBlocked(name) ? action("unblock", "Unblock", name) : action("block", "Block", name));
    }
    item.append(acts);
    return item;
  }));
  $("bans-section").hidden = !mine;
  $("ban-list").replaceChildren(...bans.map((u) => {
    const item = el("li", "person"), who = el("span", "who"), unban = action("unban", "Unban", u.username);
    who.append(el("span", "name", u.username));
    unban.dataset.id = u.id;
    item.append(avatar(u.username), who, unban);
    return item;
  }));
  $("bans-empty").hidden = bans.length > 0;
}

// What a row's button does, then the list again (focus on the same button if it is still there).
const DONE = {
  admin: (u) => `${u} is now an admin.`, unadmin: (u) => `${u} is no longer an admin.`,
  kick: (u) => `${u} was removed from the room.`, ban: (u) => `${u} was banned from the room.`,
  unban: (u) => `${u} may join again.`,
};

async function act(kind, username, id) {
  if (kind === "block" || kind === "unblock") return setBlocked(username, kind === "block");
  id = id || await userId(username);
  const path = {
    admin: ["PUT", "admins"], unadmin: ["DELETE", "admins"], kick: ["DELETE", "members"],
    ban: ["PUT", "bans"], unban: ["DELETE", "bans"],
  }[kind];
  await api(path[0], asMe(`${base()}/${path[1]}/${id}/`));
  say(DONE[kind](username));
  if (kind === "ban" || kind === "unban") await loadBans();
  const { json } = await api("GET", asMe(`${base()}/`));
  addRoom(json.data);
}

for (const list of [$("member-list"), $("ban-list")]) {
  list.addEventListener("click", async (event) => {
    const b = event.target.closest("button[data-act]");
    if (!b || b.disabled) return;
    const { act: kind, user, id } = b.dataset;
    clearError();
    b.disabled = true;
    try {
      await act(kind, user, id ? Number(id) : null);
    } catch (e) {
      showError(e);
    } finally {
      b.disabled = false;
    }
    if (!box.open) return;
    paint();
    const again = box.querySelector(`button[data-act][data-user="${CSS.escape(user)}"]`);
    (again || $("members-heading")).focus();
  });
}

// Adding someone by username: 201 the room; 400 a member already, 404 no such user, 403 banned
// or not allowed, 409 full (the API's words shown).
onSubmit("invite-form", async () => {
  const username = $("invite-user").value.trim();
  const { json } = await api("POST", asMe(`${base()}/members/`), { username });
  addRoom(json.data);
  $("invite-form").reset();
  say(`${username} was added to the room.`);
  paint();
  $("invite-user").focus();
});

// Banning someone by username (a member or not).
onSubmit("ban-form", async () => {
  const username = $("ban-user").value.trim();
  await act("ban", username);
  $("ban-form").reset();
  paint();
  $("ban-user").focus();
});
