// newswatch review desk: keyboard triage and verdicts without reloading the queue.
// Keys: j/k move, r/i/f mark relevant/irrelevant/follow-up, u back to new, x select, n note.
// Everything shown comes from the page or is set with textContent: no HTML is built here.
(function () {
  "use strict";
  const queue = document.getElementById("nw-queue");
  if (!queue) return;
  const verdictUrl = queue.dataset.verdictUrl;
  const token = queue.dataset.csrftoken;
  const statusFilter = queue.dataset.statusFilter;
  const flash = document.getElementById("nw-flash");
  const selected = document.getElementById("nw-selected");
  const count = document.getElementById("nw-count");
  const KEYS = { r: "relevant", i: "irrelevant", f: "follow-up", u: "new" };
  let current = 0;

  const cards = () => Array.from(queue.querySelectorAll(".nw-hit"));

  function say(text, isError) {
    flash.textContent = text;
    flash.classList.toggle("nw-flash-error", Boolean(isError));
  }

  function focusCard(index) {
    const all = cards();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((card, n) => card.classList.toggle("nw-current", n === current));
    all[current].focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest" });
  }

  function showCount(hits, stories) {
    count.dataset.hits = String(Math.max(0, hits));
    count.dataset.stories = String(Math.max(0, stories));
    count.textContent =
      count.dataset.hits + (hits === 1 ? " hit in " : " hits in ") +
      count.dataset.stories + (stories === 1 ? " story" : " stories");
  }

  function countSelected() {
    selected.textContent = String(queue.querySelectorAll(".nw-select:checked").length);
  }

  function apply(result) {
    const leaving = statusFilter !== "all" && result.status && result.status !== statusFilter;
    for (const id of result.hit_ids) {
      const card = document.getElementById("hit-" + id);
      if (!card) continue;
      if (leaving) {
        const story = card.closest(".nw-story");
        card.remove();
        let stories = Number(count.dataset.stories);
        if (story && !story.querySelector(".nw-hit")) {
          story.remove();
          stories -= 1;
        }
        showCount(Number(count.dataset.hits) - 1, stories);
        continue;
      }
      if (result.status) {
        card.dataset.status = result.status;
        const badge = card.querySelector(".nw-status");
        badge.textContent = result.status;
        badge.className = "nw-status nw-status-" + result.status;
      }
      if (result.note !== null) card.querySelector(".nw-note").value = result.note;
      if (result.status) {  // a note alone is not a verdict
        const reviewed = card.querySelector(".nw-reviewed");
        reviewed.hidden = false;
        reviewed.querySelector(".nw-by").textContent = result.reviewed_by;
        reviewed.querySelector(".nw-at").textContent = result.reviewed_at.replace("T", " ").slice(0, 16);
      }
      const box = card.querySelector(".nw-select");
      if (box) box.checked = false;
    }
    countSelected();
    const what = result.status ? "marked " + result.status : "note saved";
    say(result.hit_ids.length + (result.hit_ids.length === 1 ? " hit " : " hits ") + what);
    focusCard(current);
  }

  async function send(ids, fields) {
    if (queue.dataset.canWrite !== "yes") {
      say("Log in to record verdicts.", true);
      return;
    }
    if (!ids.length) {
      say("Nothing selected.", true);
      return;
    }
    const body = new URLSearchParams();
    body.append("csrftoken", token);
    ids.forEach((id) => body.append("hit_id", id));
    for (const [key, value] of Object.entries(fields)) body.append(key, value);
    let response;
    try {
      response = await fetch(verdictUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      say("Not saved: the desk did not answer.", true);
      return;
    }
    const result = await response.json().catch(() => ({ ok: false, error: response.statusText }));
    if (!response.ok || !result.ok) {
      say("Not saved: " + (result.error || response.status), true);
      return;
    }
    apply(result);
  }

  // Forms still work without this script; with it, they save without leaving the page.
  queue.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches(".nw-actions, .nw-bulk")) return;
    event.preventDefault();
    const status = event.submitter ? event.submitter.value : "";
    if (form.matches(".nw-bulk")) {
      const ids = Array.from(queue.querySelectorAll(".nw-select:checked")).map((box) => box.value);
      send(ids, { status: status });
      return;
    }
    const card = form.closest(".nw-hit");
    current = cards().indexOf(card);
    send([card.dataset.hitId], { status: status, note: form.elements.note.value });
  });

  queue.addEventListener("change", (event) => {
    if (event.target.matches(".nw-select-story")) {
      const story = event.target.closest(".nw-story");
      story.querySelectorAll(".nw-select").forEach((box) => (box.checked = event.target.checked));
    }
    countSelected();
  });

  queue.addEventListener("click", (event) => {
    const card = event.target.closest(".nw-hit");
    if (card) {
      current = cards().indexOf(card);
      cards().forEach((other) => other.classList.toggle("nw-current", other === card));
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target.matches && target.matches("input:not([type=checkbox]), textarea, select")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const card = cards()[current];
    if (event.key === "j") focusCard(current + 1);
    else if (event.key === "k") focusCard(current - 1);
    else if (KEYS[event.key] && card) send([card.dataset.hitId], { status: KEYS[event.key] });
    else if (event.key === "x" && card) {
      const box = card.querySelector(".nw-select");
      box.checked = !box.checked;
      countSelected();
    } else if (event.key === "n" && card) card.querySelector(".nw-note").focus();
    else return;
    event.preventDefault();
  });

  countSelected();
  focusCard(0);
})();
