// Progressive enhancement of the new-contract form: add/remove item rows, live line
// amounts, total and its Chinese capitals. Money is computed in integer fen (BigInt),
// never in floating point. The server recomputes everything; this is only a preview.
(function () {
  const form = document.getElementById("contract-form");
  if (!form) return;
  const body = form.querySelector("#items tbody");
  const DIGITS = "零壹贰叁肆伍陆柒捌玖";

  function parse(text, places) {             // as people type it: 1,250.50, full width, ¥
    let s = (text || "").normalize("NFKC").trim().replace(/^¥/, "").replace(/元$/, "").trim();
    if (/^\d{1,3}(?:[, ]\d{3})+(?:\.\d*)?$/.test(s)) s = s.replace(/[, ]/g, "");
    const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
    if (!m || (m[2] || "").length > places) return null;
    return BigInt(m[1] + (m[2] || "").padEnd(places, "0"));
  }
  function fen(quantity, price) {            // quantity (3 places) × price (2 places)
    const q = parse(quantity, 3), p = parse(price, 2);
    if (q === null || p === null) return null;
    const milli = q * p;                       // in 1/1000 fen
    return (milli + 500n) / 1000n;             // half up to whole fen
  }
  function figures(f) {
    const s = f.toString().padStart(3, "0");
    const yuan = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return yuan + "." + s.slice(-2);
  }
  function upper(f) {                          // 人民币大写
    if (f === 0n) return "零元整";
    const units = ["", "拾", "佰", "仟"], big = ["", "万", "亿", "万亿"];
    let yuan = f / 100n, out = "", group = 0, lower = null;
    while (yuan > 0n) {
      const value = Number(yuan % 10000n);
      let chunk = value, part = "", z = false;
      for (let i = 0; i < 4; i++) {
        const d = chunk % 10; chunk = Math.floor(chunk / 10);
        if (d === 0) { if (part) z = true; }
        else { part = DIGITS[d] + units[i] + (z ? "零" : "") + part; z = false; }
      }
      const gap = out && !out.startsWith("零") && lower !== null && lower < 1000 ? "零" : "";
      if (part) out = part + big[group] + gap + out;
      else if (out && !out.startsWith("零")) out = "零" + out;
      lower = value; yuan /= 10000n; group++;
    }
    if (out) out += "元";
    const jiao = Number((f / 10n) % 10n), fen_ = Number(f % 10n);
    if (!jiao && !fen_) return out + "整";
    if (jiao) out += DIGITS[jiao] + "角";
    else if (out) out += "零";
    if (fen_) out += DIGITS[fen_] + "分";
    return out;
  }
  function renumber() {
    body.querySelectorAll("tr.item").forEach((row, i) => {
      row.querySelectorAll("input").forEach((input) => {
        input.name = "items." + i + "." + input.dataset.field;
      });
    });
  }
  function recompute() {
    let total = 0n, ok = true;
    body.querySelectorAll("tr.item").forEach((row) => {
      const q = row.querySelector('[data-field="quantity"]').value;
      const p = row.querySelector('[data-field="unit_price"]').value;
      const cell = row.querySelector(".amount");
      if (!q && !p) { cell.textContent = ""; return; }
      const f = fen(q, p);
      cell.textContent = f === null ? "?" : figures(f);
      if (f === null) ok = false; else total += f;
    });
    form.querySelector("#total").textContent = ok ? "¥" + figures(total) : "";
    form.querySelector("#total-upper").textContent = ok ? "合计人民币（大写）：" + upper(total) : "";
  }
  form.querySelector("#add-item").hidden = false;
  body.querySelectorAll(".remove").forEach((b) => (b.hidden = false));
  form.querySelector("#add-item").addEventListener("click", () => {
    const row = body.querySelector("tr.item").cloneNode(true);
    row.querySelectorAll("input").forEach((i) => (i.value = ""));
    row.querySelectorAll(".err").forEach((e) => e.remove());
    row.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
    body.appendChild(row); renumber(); recompute();
  });
  body.addEventListener("click", (event) => {
    if (event.target.classList.contains("remove") && body.querySelectorAll("tr.item").length > 1) {
      event.target.closest("tr").remove(); renumber(); recompute();
    }
  });
  body.addEventListener("input", recompute);
  recompute();
})();
