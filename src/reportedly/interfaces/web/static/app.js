// Links the highlighted text and the side panel: hovering a span or an entry marks the
// attribution's source, cue and content together and shows who said it. No framework.
(function () {
  "use strict";
  const tip = document.getElementById("tip");

  function idsOf(el) {
    return (el.getAttribute("data-att") || "").split(" ").filter(Boolean);
  }

  function partsOf(id) {
    return document.querySelectorAll(
      '.article-text .hl[data-att~="' + id + '"], li.att[data-att="' + id + '"]'
    );
  }

  function mark(ids, on) {
    ids.forEach(function (id) {
      partsOf(id).forEach(function (el) { el.classList.toggle("linked", on); });
    });
  }

  function showTip(el, x, y) {
    const id = idsOf(el)[0];
    const entry = id && document.getElementById("att-" + id);
    if (!entry || !tip) return;
    const name = entry.querySelector(".name").textContent;
    const tag = entry.querySelector(".tag").textContent;
    const chain = entry.querySelector(".chain").textContent;
    const kind = entry.querySelector(".kind").textContent;
    const certainty = entry.querySelector(".certainty");
    tip.replaceChildren();
    const who = document.createElement("div");
    who.className = "who";
    who.textContent = "Said by " + name;
    const facts = document.createElement("div");
    facts.textContent = tag + " · " + kind + (certainty ? " · " + certainty.firstChild.textContent.trim() : "");
    const relay = document.createElement("div");
    relay.className = "chain";
    relay.textContent = chain;
    tip.append(who, facts, relay);
    tip.hidden = false;
    placeTip(x, y);
  }

  function placeTip(x, y) {
    const pad = 14;
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.min(x + pad, window.innerWidth - w - 8) + "px";
    tip.style.top = (y + pad + h > window.innerHeight ? y - h - pad : y + pad) + "px";
  }

  const text = document.querySelector(".article-text");
  if (text) {
    text.addEventListener("mouseover", function (ev) {
      const el = ev.target.closest(".hl[data-att]");
      if (!el) return;
      mark(idsOf(el), true);
      if (el.classList.contains("content") || el.classList.contains("source") || el.classList.contains("cue")) {
        showTip(el, ev.clientX, ev.clientY);
      }
    });
    text.addEventListener("mousemove", function (ev) {
      if (tip && !tip.hidden) placeTip(ev.clientX, ev.clientY);
    });
    text.addEventListener("mouseout", function (ev) {
      const el = ev.target.closest(".hl[data-att]");
      if (!el) return;
      mark(idsOf(el), false);
      if (tip) tip.hidden = true;
    });
  }

  document.querySelectorAll("li.att").forEach(function (li) {
    li.addEventListener("mouseenter", function () { mark(idsOf(li), true); });
    li.addEventListener("mouseleave", function () { mark(idsOf(li), false); });
    li.addEventListener("click", function () {
      const first = document.querySelector('.article-text .hl.cue[data-att~="' + li.dataset.att + '"]');
      if (first) first.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });

  // Refuse an oversized file before uploading it; the server would answer 413 anyway.
  const form = document.getElementById("analyze-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      const file = form.querySelector("#file").files[0];
      const max = Number(form.dataset.maxBody);
      if (file && max && file.size > max) {
        ev.preventDefault();
        let err = document.getElementById("form-error");
        if (!err) {
          err = document.createElement("p");
          err.id = "form-error";
          err.className = "error";
          err.setAttribute("role", "alert");
          form.before(err);
        }
        err.textContent = file.name + " is " + file.size.toLocaleString() + " bytes, over the " +
          max.toLocaleString() + "-byte limit";
      }
    });
  }
})();
