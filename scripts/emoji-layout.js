// Lays out the Twemoji images of the npm package emoji-datasource-twitter as
// one folder per category, for `make emoji`:
//
//   node scripts/emoji-layout.js <unpacked package dir> <output dir>
//
// Every image of img/twitter/64/ (skin-tone variations included) goes to
// <output dir>/<category from emoji.json>/<image name>. The output dir must
// not exist yet; it is built under a temporary name and renamed at the end,
// so an interrupted run leaves nothing half made.
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, out] = process.argv.slice(2);
if (!pkg || !out) {
  console.error("usage: node scripts/emoji-layout.js <package dir> <output dir>");
  process.exit(2);
}
if (fs.existsSync(out)) {
  console.error(`emoji-layout: ${out} exists; remove it first`);
  process.exit(1);
}
const src = path.join(pkg, "img", "twitter", "64");
const emoji = JSON.parse(fs.readFileSync(path.join(pkg, "emoji.json"), "utf8"));
const tmp = out + ".tmp";
fs.rmSync(tmp, { recursive: true, force: true });
const counts = {};
let missing = 0;
for (const e of emoji) {
  const images = [e.image, ...Object.values(e.skin_variations || {}).map((v) => v.image)];
  const dir = path.join(tmp, e.category);
  fs.mkdirSync(dir, { recursive: true });
  for (const img of images) {
    const from = path.join(src, img);
    if (!fs.existsSync(from)) {
      missing++;
      continue;
    }
    fs.copyFileSync(from, path.join(dir, img));
    counts[e.category] = (counts[e.category] || 0) + 1;
  }
}
fs.renameSync(tmp, out);
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(`emoji-layout: ${total} images in ${Object.keys(counts).length} categories under ${out}` +
  (missing ? ` (${missing} listed images absent from the package)` : ""));
