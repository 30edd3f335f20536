/*
 * The admin studio's NLU inbox, FAQ candidates and intent health pages (issue 16).
 * One script for the three pages; the container's data-page says which one this is.
 * Every reader text is put in the page with textContent (RicConsole.el), never as HTML.
 */
(function () {
  "use strict";
  var C = window.RicConsole;
  var el = C.el;
  var REASONS = {
    fallback: "fell back",
    low_confidence: "low confidence",
    rephrased: "reader rephrased",
    handoff_after_answer: "handoff after answer",
    low_rating: "low rating",
  };

  function chips(reasons) {
    return el("span", { className: "reason-chips" }, reasons.map(function (r) {
      return el("span", { className: "chip chip-" + r, text: REASONS[r] || r });
    }));
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : Math.round(value * 100) + "%";
  }

  function fillLabels(labels) {
    var list = document.getElementById("studio-labels");
    if (!list) return;
    list.replaceChildren.apply(list, labels.map(function (l) { return el("option", { value: l.name }); }));
  }

  function isNewTopic(name, labels) {
    return labels.every(function (l) { return l.name !== name; });
  }

  // ------------------------------------------------------------------ inbox
  function inboxPage(root) {
    var groupsBox = document.getElementById("inbox-groups");
    var summary = document.getElementById("inbox-summary");
    var labels = [];

    function topGuess(group) {
      var counts = {};
      group.items.forEach(function (i) {
        if (i.predicted_intent && i.predicted_intent !== "faq") counts[i.predicted_intent] = (counts[i.predicted_intent] || 0) + 1;
      });
      var best = "";
      Object.keys(counts).forEach(function (k) { if (!best || counts[k] > counts[best]) best = k; });
      return best;
    }

    function decide(group, section, decision) {
      var ticked = Array.prototype.slice.call(section.querySelectorAll("input.pick:checked"))
        .map(function (box) { return Number(box.value); });
      var body = { message_ids: ticked.length ? ticked : group.message_ids, decision: decision };
      if (decision === "assigned") {
        body.label = section.querySelector("input.label-input").value.trim();
        var answer = section.querySelector("textarea.answer-input");
        if (answer && !answer.hidden && answer.value.trim()) body.answer = answer.value.trim();
      }
      C.clearError();
      section.setAttribute("aria-busy", "true");
      return C.api("POST", "/api/studio/inbox/decisions", body).then(function (reply) {
        var what = decision === "assigned" ? "Assigned to " + reply.label
          : decision === "out_of_scope" ? "Marked out of scope" : "Dismissed";
        var note = what + ": " + reply.decided + " message(s)";
        if (reply.added.length) note += ", " + reply.added.length + " example(s) written to " + reply.files.join(", ");
        summary.textContent = note + ".";
        return load();
      }).catch(function (error) {
        section.removeAttribute("aria-busy");
        C.showError(error);
      });
    }

    function groupSection(group, index) {
      var id = "group-" + index;
      var labelInput = el("input", {
        className: "label-input", id: id + "-label", list: "studio-labels", value: topGuess(group),
        placeholder: "intent or faq/topic", autocomplete: "off",
      });
      var answer = el("textarea", {
        className: "answer-input", id: id + "-answer", rows: "2", hidden: true,
        placeholder: "Answer of the new FAQ topic", "aria-label": "Answer of the new FAQ topic",
      });
      function toggleAnswer() {
        var name = labelInput.value.trim();
        answer.hidden = !(name.indexOf("faq/") === 0 && isNewTopic(name, labels));
      }
      labelInput.addEventListener("input", toggleAnswer);
      toggleAnswer();
      var section = el("section", { className: "inbox-group", "aria-labelledby": id + "-title", dataset: { key: group.key } });
      var rows = group.items.map(function (item) {
        return el("tr", {}, [
          el("td", {}, [el("input", { type: "checkbox", className: "pick", value: item.message_id, "aria-label": "Pick this message" })]),
          el("td", { className: "msg-text", text: item.text }),
          el("td", { text: item.channel }),
          el("td", {}, [C.timeEl(item.sent_at)]),
          el("td", { text: (item.predicted_intent || "?") + " " + percent(item.confidence) }),
          el("td", {}, [chips(item.reasons)]),
        ]);
      });
      section.append(
        el("h2", { id: id + "-title" }, [
          el("span", { className: "group-size", text: String(group.size) }), " ",
          el("span", { className: "group-label", text: group.label }),
          group.cluster_id ? el("span", { className: "muted", text: " (nightly cluster)" }) : null,
        ]),
        chips(group.reasons),
        el("div", { className: "group-actions" }, [
          el("label", { for: id + "-label", text: "Assign to" }), labelInput,
          el("button", { type: "button", className: "assign", text: "Assign", onclick: function () { decide(group, section, "assigned"); } }),
          el("button", { type: "button", className: "out-of-scope", text: "Out of scope", onclick: function () { decide(group, section, "out_of_scope"); } }),
          el("button", { type: "button", className: "dismiss link-button", text: "Dismiss", onclick: function () { decide(group, section, "dismissed"); } }),
        ]),
        answer,
        el("table", { className: "inbox-items" }, [
          el("thead", {}, [el("tr", {}, ["", "Message", "Channel", "Date", "Predicted", "Why"].map(function (h) {
            return el("th", { scope: "col", text: h });
          }))]),
          el("tbody", {}, rows),
        ]),
        el("p", { className: "muted small", text: "Actions apply to the ticked messages, or to the whole group when none is ticked." })
      );
      return section;
    }

    function load() {
      return C.api("GET", "/api/studio/inbox").then(function (reply) {
        labels = reply.labels;
        fillLabels(labels);
        var total = reply.groups.reduce(function (n, g) { return n + g.size; }, 0);
        if (!summary.textContent || summary.textContent === "Loading…") {
          summary.textContent = total + " message(s) in " + reply.groups.length + " group(s), last " + reply.window_days + " days.";
        }
        groupsBox.replaceChildren.apply(groupsBox, reply.groups.length
          ? reply.groups.map(groupSection)
          : [el("p", { className: "empty", text: "Nothing to review: the inbox is empty." })]);
        root.dataset.loaded = "true";
      }).catch(C.showError);
    }
    load();
  }

  // ------------------------------------------------------------------ candidates
  function slug(text) {
    var words = (text.toLowerCase().match(/[a-z0-9]+/g) || []).filter(function (w) { return w.length > 2; });
    return "faq/" + (words.slice(0, 3).join("_") || "new_topic");
  }

  function candidatesPage(root) {
    var list = document.getElementById("candidate-list");
    var summary = document.getElementById("candidate-summary");
    var status = document.getElementById("candidate-status");
    var labels = [];

    function card(c) {
      var id = "candidate-" + c.id;
      var pending = c.status === "pending";
      var topic = el("input", { id: id + "-topic", className: "topic-input", list: "studio-labels",
        value: c.topic || c.suggested_label || slug(c.question), disabled: !pending, autocomplete: "off" });
      var question = el("textarea", { id: id + "-question", className: "question-input", rows: "2", disabled: !pending });
      question.value = c.question;
      var answer = el("textarea", { id: id + "-answer", className: "answer-input", rows: "4", disabled: !pending });
      answer.value = c.answer;
      var li = el("li", { className: "candidate status-" + c.status, dataset: { id: String(c.id) } });
      var proposal = c.kind === "extend"
        ? "New example for " + c.suggested_label + " (the assistant matched it at " + percent(c.suggested_score) + ")"
        : "New FAQ topic";
      function act(verb) {
        var body = verb === "accept"
          ? { topic: topic.value.trim(), question: question.value.trim(), answer: answer.value.trim() }
          : {};
        C.clearError();
        return C.api("POST", "/api/studio/candidates/" + c.id + "/" + verb, body).then(function (reply) {
          summary.textContent = verb === "accept"
            ? "Accepted into " + reply.candidate.topic + (reply.files && reply.files.length ? " (" + reply.files.join(", ") + ")" : "") + "."
            : "Rejected.";
          return load(true);
        }).catch(C.showError);
      }
      var parts = [
        el("h2", { id: id + "-title" }, [el("span", { text: proposal })]),
        el("p", { className: "muted" }, [
          C.timeEl(c.created_at), " · ",
          el("a", { href: c.conversation_url, text: "Source conversation" }),
          c.status !== "pending" ? " · " + c.status + (c.topic ? " into " + c.topic : "") + (c.decided_by ? " by " + c.decided_by : "") : "",
        ]),
        el("label", { for: id + "-question", text: "Reader's question" }), question,
        el("label", { for: id + "-answer", text: "Librarian's answer (the topic's response when it is new)" }), answer,
        el("label", { for: id + "-topic", text: "Topic" }), topic,
        pending ? el("div", { className: "group-actions" }, [
          el("button", { type: "button", className: "accept", text: "Accept", onclick: function () { act("accept"); } }),
          el("button", { type: "button", className: "reject link-button", text: "Reject", onclick: function () { act("reject"); } }),
        ]) : null,
      ];
      li.append.apply(li, parts.filter(Boolean));
      return li;
    }

    function load(keepSummary) {
      var query = status.value ? "?status=" + encodeURIComponent(status.value) : "";
      return C.api("GET", "/api/studio/candidates" + query).then(function (reply) {
        labels = reply.labels;
        fillLabels(labels);
        if (!keepSummary) summary.textContent = reply.items.length + " candidate(s).";
        list.replaceChildren.apply(list, reply.items.length ? reply.items.map(card)
          : [el("li", { className: "empty", text: "No candidates here." })]);
        root.dataset.loaded = "true";
      }).catch(C.showError);
    }
    status.addEventListener("change", function () { load(false); });
    load(false);
  }

  // ------------------------------------------------------------------ health
  function table(headers, rows) {
    if (!rows.length) return el("p", { className: "empty", text: "None." });
    return el("table", { className: "health-table" }, [
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows.map(function (cells) {
        return el("tr", {}, cells.map(function (c) { return el("td", { text: String(c) }); }));
      })),
    ]);
  }

  function healthPage(root) {
    C.api("GET", "/api/studio/health").then(function (r) {
      if (r && r.error === "computing") {
        // The first report after a start encodes every example: ask again shortly.
        document.getElementById("health-summary").textContent = r.message;
        setTimeout(function () { healthPage(root); }, 3000);
        return;
      }
      document.getElementById("health-summary").textContent = r.labels + " intents and FAQ topics, " + r.examples +
        " examples. Similarity threshold " + r.similarity + "; fewer than " + r.min_examples + " examples is too few; FAQ hits over the last " + r.window_days + " days.";
      document.getElementById("health-confusable").replaceChildren(table(
        ["First", "Second", "Similar example pairs", "Closest", "Example"],
        r.confusable.map(function (p) { return [p.first, p.second, p.pairs, p.similarity, p.example.join("  ↔  ")]; })));
      document.getElementById("health-confusions").replaceChildren(r.confusions_from
        ? table(["Truth", "Predicted", "Count"], r.confusions.map(function (c) { return [c.truth, c.predicted, c.count]; }))
        : el("p", { className: "empty", text: "No evaluated model yet (train one on the Models tab)." }));
      document.getElementById("health-thin").replaceChildren(table(["Intent or topic", "Examples"],
        r.too_few.map(function (t) { return [t.label, t.examples]; })));
      document.getElementById("health-unused").replaceChildren(table(["FAQ topic"],
        r.never_hit.map(function (t) { return [t]; })));
      document.getElementById("health-conflicts").replaceChildren(table(["Text", "Filed under"],
        r.conflicts.map(function (c) { return [c.text, c.labels.join(", ")]; })));
      root.dataset.loaded = "true";
    }).catch(C.showError);
  }

  var pages = { inbox: inboxPage, candidates: candidatesPage, health: healthPage };
  var root = document.querySelector("[data-page]");
  if (root && pages[root.dataset.page]) pages[root.dataset.page](root);
})();
