// The side panel: what waits on which queue, what runs on which worker (with its progress), and
// the latest finished jobs — as the bot's status source reports them, pushed with the messages.

import { el } from "./render.js";

const ICONS = { music: "🎼", image: "🖼", text: "✍" };

let nameOf = () => null;

function job(item, { showWorker = false } = {}) {
  const node = el("li", { class: "job", "data-job": item.id, "data-status": item.status });
  const top = el("div", { class: "job-top" });
  top.append(el("span", { "aria-hidden": "true", text: ICONS[item.modality] || "•" }));
  top.append(el("span", { class: `state ${item.status}`, text: item.status }));
  const who = item.member || nameOf(item.user_id);
  if (who) top.append(el("span", { text: who }));
  top.append(el("span", { class: "job-id", title: item.id, text: item.short || item.id.slice(0, 8) }));
  node.append(top);
  if (item.prompt) node.append(el("div", { class: "job-prompt", title: item.prompt, text: item.prompt }));
  if (item.where) node.append(el("div", { class: "job-where", text: showWorker && item.worker ? `on ${item.worker}` : item.where }));
  if (item.status === "running") {
    const percent = Math.round((item.progress || 0) * 100);
    const bar = el("progress", { max: "100", value: String(percent), "aria-label": `Progress of job ${item.short || item.id}: ${percent}%` });
    node.append(bar);
    if (item.progress_message) node.append(el("div", { class: "job-where", text: `${percent}% · ${item.progress_message}` }));
  }
  return node;
}

export function renderPanel(container, status, names = () => null) {
  nameOf = names;
  container.replaceChildren();
  if (!status || status.available === false) {
    container.append(el("p", { class: "muted", text: status?.note || "No job queue is connected to this sandbox." }));
    return;
  }
  const queues = el("section", { "aria-label": "Queues" });
  queues.append(el("h3", { text: "Waiting" }));
  for (const queue of status.queues || []) {
    const block = el("div", { class: "queue", "data-queue": queue.name });
    block.append(el("div", { class: "small muted", text: `${queue.name} · ${queue.jobs.length} waiting` }));
    if (queue.jobs.length) {
      const list = el("ul");
      queue.jobs.forEach((item) => list.append(job(item)));
      block.append(list);
    }
    queues.append(block);
  }
  container.append(queues);

  const workers = el("section", { "aria-label": "Workers" });
  workers.append(el("h3", { text: "Workers" }));
  if (!(status.workers || []).length) workers.append(el("p", { class: "muted small", text: status.workers_note || "No worker answered." }));
  const list = el("ul");
  for (const worker of status.workers || []) {
    const node = el("li", { class: worker.running?.length ? "worker" : "worker idle", "data-worker": worker.name });
    const top = el("div", { class: "worker-top" });
    top.append(el("span", { class: "dot", "aria-hidden": "true" }), el("strong", { text: worker.name }));
    top.append(el("span", { class: "small muted", text: worker.running?.length ? "busy" : "idle" }));
    node.append(top);
    node.append(el("div", { class: "worker-queues", text: (worker.queues || []).join(", ") }));
    if (worker.running?.length) {
      const running = el("ul");
      worker.running.forEach((item) => running.append(job(item)));
      node.append(running);
    }
    list.append(node);
  }
  workers.append(list);
  container.append(workers);

  if ((status.unassigned || []).length) {
    const unassigned = el("section", { "aria-label": "Running elsewhere" });
    unassigned.append(el("h3", { text: "Running" }));
    const running = el("ul");
    status.unassigned.forEach((item) => running.append(job(item, { showWorker: true })));
    unassigned.append(running);
    container.append(unassigned);
  }

  if ((status.recent || []).length) {
    const recent = el("section", { "aria-label": "Recently finished" });
    recent.append(el("h3", { text: "Finished" }));
    const finished = el("ul");
    status.recent.forEach((item) => finished.append(job(item)));
    recent.append(finished);
    container.append(recent);
  }
}
