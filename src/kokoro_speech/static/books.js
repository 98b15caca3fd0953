"use strict";
// The playground's Books tab: uploads a book to POST /v1/audio/jobs, follows the job's events (progress by
// chapter), then plays the audiobook with its chapters as a table of contents and offers it as a download.
// Requests (the key, the API's errors, the event stream) go through api.js.

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    tabSpeech: $("tab-speech"), tabBooks: $("tab-books"), speech: $("speech"), speechStatus: $("status"),
    readAlong: $("read-along"), books: $("books"), file: $("book-file"), voice: $("book-voice"),
    format: $("book-format"), start: $("book-start"), cancel: $("book-cancel"), status: $("book-status"),
    progress: $("book-progress"), summary: $("book-summary"), chapters: $("book-chapters"),
    audio: $("book-audio"), download: $("book-download"), error: $("error"), voices: $("voice"),
  };
  let current = null;  // the job being followed: {id, controller}

  function fail(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function select(books) {
    ui.tabSpeech.setAttribute("aria-selected", String(!books));
    ui.tabBooks.setAttribute("aria-selected", String(books));
    for (const element of [ui.speech, ui.speechStatus]) element.hidden = books;
    if (books) ui.readAlong.hidden = true;
    ui.books.hidden = !books;
    if (books && ui.voice.options.length <= 1) {  // the Speech tab's voice list, once it has loaded
      for (const child of ui.voices.children) {
        if (child.value !== "") ui.voice.append(child.cloneNode(true));
      }
    }
  }

  const seconds = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

  function render(job) {
    const p = job.progress;
    ui.status.hidden = false;
    ui.status.dataset.status = job.status;
    ui.progress.value = p.characters_total ? p.characters_done / p.characters_total : 0;
    const eta = p.eta_seconds != null ? `, about ${seconds(p.eta_seconds)} left` : "";
    ui.summary.textContent = `${job.status}: ${p.chapters_done} of ${p.chapters_total} chapters, `
      + `${p.characters_done.toLocaleString()} of ${p.characters_total.toLocaleString()} characters, `
      + `${seconds(p.audio_seconds)} of audio${eta}` + (job.error ? ` (${job.error})` : "");
    ui.chapters.replaceChildren(...job.chapters.map((chapter) => {
      const item = document.createElement("li");
      item.dataset.status = chapter.status;
      if (chapter.start != null) {  // the finished book: each chapter seeks the player
        const jump = document.createElement("button");
        jump.type = "button";
        jump.className = "small chapter";
        jump.textContent = `${chapter.title} (${seconds(chapter.start)})`;
        jump.addEventListener("click", () => {
          ui.audio.currentTime = chapter.start;
          ui.audio.play().catch(() => {});
        });
        item.append(jump);
      } else {
        item.textContent = `${chapter.title}: ${chapter.status}`
          + (chapter.audio_seconds ? `, ${seconds(chapter.audio_seconds)}` : "");
      }
      return item;
    }));
  }

  async function fetchBook(job) {
    const res = await api.request(`/v1/audio/jobs/${job.id}/content`);
    const url = URL.createObjectURL(await res.blob());
    ui.audio.src = url;
    ui.audio.hidden = false;
    ui.download.href = url;
    ui.download.download = `${(job.name || "audiobook").replace(/\.[^.]+$/, "")}.${job.response_format}`;
    ui.download.hidden = false;
  }

  /** The job's server-sent events (fetch, so that the key goes in a header), until it has finished. */
  async function follow(id, signal) {
    let last = null;
    await api.events(await api.request(`/v1/audio/jobs/${id}/events`, { signal }), (job) => render(last = job));
    return last;
  }

  async function start(event) {
    event.preventDefault();
    ui.error.hidden = true;
    const file = ui.file.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    if (ui.voice.value) form.append("voice", ui.voice.value);
    form.append("response_format", ui.format.value);
    ui.audio.hidden = ui.download.hidden = true;
    ui.start.disabled = true;
    try {
      const job = await (await api.request("/v1/audio/jobs", { method: "POST", body: form })).json();
      render(job);
      current = { id: job.id, controller: new AbortController() };
      ui.cancel.disabled = false;
      const last = await follow(job.id, current.controller.signal);
      if (last && last.status === "succeeded") await fetchBook(last);
    } catch (exc) {
      if (exc.name !== "AbortError") fail(exc.message);
    } finally {
      ui.start.disabled = false;
      ui.cancel.disabled = true;
    }
  }

  async function cancel() {
    if (!current) return;
    render(await (await api.request(`/v1/audio/jobs/${current.id}`, { method: "DELETE" })).json());
    current.controller.abort();
  }

  ui.tabSpeech.addEventListener("click", () => select(false));
  ui.tabBooks.addEventListener("click", () => select(true));
  ui.books.addEventListener("submit", start);
  ui.cancel.addEventListener("click", () => cancel().catch((exc) => fail(exc.message)));
})();
