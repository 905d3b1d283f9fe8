// Carbone 3.8.2 as the rendering peer of bench/render.py: the same contract, converted to PDF
// by Carbone's own pool of LibreOffice processes ("factories").
//
//   node render.js TEMPLATE.docx DATA.json FACTORIES CALLERS DOCS TEMP_DIR
//
// Prints one JSON line: {"factories", "callers", "docs", "seconds", "docs_per_s"}. The first
// 2 × FACTORIES documents (start-up and warm-up) are not counted. TEMP_DIR holds Carbone's
// work files and LibreOffice profiles; the caller removes it once this process has ended.
'use strict';

const fs = require('fs');
const carbone = require('carbone');

function renderOne(template, data) {
  return new Promise((resolve, reject) => {
    carbone.render(template, data, { convertTo: 'pdf' }, (err, result) => {
      if (err) {
        reject(err);
      } else if (!result.slice(0, 4).equals(Buffer.from('%PDF'))) {
        reject(new Error('Carbone did not return a PDF'));
      } else {
        resolve(result.length);
      }
    });
  });
}

async function callers(count, docs, work) {
  let left = docs;
  const one = async () => {
    while (left > 0) {
      left -= 1;
      await work();
    }
  };
  await Promise.all(Array.from({ length: count }, one));
}

async function main() {
  const [template, dataFile, factories, callerCount, docs, temp] = process.argv.slice(2);
  const data = JSON.parse(fs.readFileSync(dataFile, 'utf8'));
  carbone.set({ factories: Number(factories), startFactory: true, tempPath: temp });
  const work = () => renderOne(template, data);
  // Start every factory and let each convert once before the clock starts.
  await callers(Number(factories), Number(factories) * 2, work);
  const start = process.hrtime.bigint();
  await callers(Number(callerCount), Number(docs), work);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({
    factories: Number(factories), callers: Number(callerCount), docs: Number(docs), seconds,
    docs_per_s: Number(docs) / seconds,
  }));
  process.exit(0); // ends the factories (Carbone kills its LibreOffice processes on exit)
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
