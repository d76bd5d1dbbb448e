// Blocking (docs/API.md, "Rooms with owners"): the reader's blocks, loaded once; Block and
// Unblock in a direct room's head (here) and beside a member's name (members.js). The API
// refuses a direct message from someone the recipient blocked (a 403 with its reason).
import { $, api, notice, showError, state, userId } from "./api.js";

let loading = null;

// The reader's blocked users (one page of up to 200), once per page load.
export function loadBlocks() {
  if (!loading) {
    loading = api("GET", `/users/${state.me.id}/blocks/?limit=200`).then(({ json }) => {
      state.blocked = new Map(json.map((u) => [u.username, u.id]));
      for (const u of json) state.ids.set(u.username, u.id);
    }).catch((e) => {
      loading = null;
      throw e;
    });
  }
  return loading;
}

export const isBlocked = (username) => Boolean(state.blocked && state.blocked.has(username));

// Blocks (on) or unblocks a user, and says so.
export async function setBlocked(username, on) {
  const id = await userId(username);
  await api(on ? "PUT" : "DELETE", `/users/${state.me.id}/blocks/${id}/`);
  if (!state.blocked) state.blocked = new Map();
  if (on) state.blocked.set(username, id);
  else state.blocked.delete(username);
  paintHeadBlock();
  notice(on ? `You blocked ${username}: they cannot send you direct messages.` : `You unblocked ${username}.`, 6000);
}

// The person of the open direct room (not oneself), if any.
function person() {
  const entry = state.rooms.get(state.room);
  const info = entry && entry.info;
  return info && info.direct && info.person !== state.me.username ? info.person : null;
}

// The head's Block or Unblock, for the open direct room's other person.
export function paintHeadBlock() {
  const who = person(), b = $("block-button");
  b.hidden = !who;
  if (!who) return;
  if (!state.blocked) loadBlocks().then(paintHeadBlock, () => {});
  const on = isBlocked(who);
  b.textContent = on ? "Unblock" : "Block";
  b.setAttribute("aria-label", `${on ? "Unblock" : "Block"} ${who}`);
  b.title = on ? `Let ${who} send you direct messages again` : `${who} can no longer send you direct messages`;
}

$("block-button").addEventListener("click", async () => {
  const who = person(), b = $("block-button");
  if (!who) return;
  b.disabled = true;
  try {
    await loadBlocks();
    await setBlocked(who, !isBlocked(who));
  } catch (e) {
    showError(e);
  } finally {
    b.disabled = false;
  }
});
