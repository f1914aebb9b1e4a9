// 进场/离场登记: waits for the office reader's next card read and shows it in the form.
//
// Long-polls the project's card reads (the API's long poll, served under /console so the
// session cookie authenticates it). When a read arrives, the server renders the page for that
// read (labels, masking and checks are the server's) and the read's part of the page replaces
// this one's, keeping whatever the manager has typed or picked meanwhile. Without this script,
// or when polling fails, the page's "读取 / Read" button asks the server for the latest read.
"use strict";

(function () {
  const root = document.getElementById("registration");
  if (!root || !window.fetch) {
    return;
  }
  const reads = root.dataset.reads;
  const pageUrl = root.dataset.page;
  let after = Number(root.dataset.after || "0");

  function typed(container) {
    const kept = {};
    container.querySelectorAll("form[method=post] [name]").forEach(function (field) {
      if (!["csrf", "read", "id_number"].includes(field.name)) {
        kept[field.form.id + "/" + field.name] = field.value;
      }
    });
    return kept;
  }

  function restore(container, kept) {
    container.querySelectorAll("form[method=post] [name]").forEach(function (field) {
      const value = kept[field.form.id + "/" + field.name];
      if (value !== undefined) {
        field.value = value;
      }
    });
  }

  async function show(number) {
    const answer = await fetch(pageUrl + "?read=" + number, { credentials: "same-origin" });
    if (!answer.ok) {
      throw new Error("page " + answer.status);
    }
    const next = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = next.getElementById("registration");
    const current = document.getElementById("registration");
    if (!fresh || !current) {
      return;
    }
    const kept = typed(current);
    current.replaceWith(fresh);
    restore(fresh, kept);
  }

  function failed() {
    const state = document.getElementById("poll-state");
    if (state) {
      state.textContent = state.dataset.failed;
    }
  }

  async function poll() {
    for (;;) {
      try {
        const answer = await fetch(reads + "?after=" + after + "&wait_s=25", {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (!answer.ok) {
          throw new Error("card reads " + answer.status);
        }
        const body = await answer.json();
        after = body.last;
        if (body.items.length > 0) {
          await show(body.items[body.items.length - 1].number);
        }
      } catch (err) {
        failed();
        await new Promise(function (resolve) {
          setTimeout(resolve, 5000);
        });
      }
    }
  }

  poll();
})();
