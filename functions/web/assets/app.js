// The browser client of serverless-chat-rs: plain JavaScript modules on the API of
// docs/API.md, from the same origin. Token mode signs in for a token pair; none mode picks a
// user. This module starts the page: the welcome forms, then the chat (rooms.js, the room
// list; conversation.js, the open room; message.js, a message; files.js, files to send and
// files in messages; actions.js, replies, reactions, edits and deletions; live.js, push and
// polling; dialogs.js, the "+" menu; members.js, a room's members, invitations, kicks and bans;
// settings.js, a room's name, topic and visibility; blocks.js, blocking).
import { $, api, avatar, mode, nextLink, onSubmit, showError, state } from "./api.js";
import { filterRooms, loadRooms } from "./rooms.js";
import { closeRoom } from "./conversation.js";
import { connect, transport } from "./live.js";
import "./dialogs.js";
import "./members.js";
import "./settings.js";

async function start() {
  $("sign-in-token").hidden = mode !== "token";
  $("pick-user").hidden = mode !== "none";
  const saved = sessionStorage.getItem("session");
  if (saved) {
    state.tokens = JSON.parse(sessionStorage.getItem("tokens") || "null");
    return enter(JSON.parse(saved));
  }
  $("welcome").hidden = false;
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

async function enter(me) {
  state.me = me;
  sessionStorage.setItem("session", JSON.stringify(me));
  $("me").textContent = me.username;
  $("me-avatar").replaceWith(Object.assign(avatar(me.username), { id: "me-avatar" }));
  $("welcome").hidden = true;
  $("chat").hidden = false;
  document.title = `${me.username} · serverless-chat-rs`;
  closeRoom();
  transport(false);
  await loadRooms();
  filterRooms();
  connect();
}

start().catch(showError);
