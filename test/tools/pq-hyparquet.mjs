// pq-hyparquet.mjs: read Parquet files with hyparquet (pure JS, a second independent reader) and print,
// per file, one JSON line {file, num_rows, columns, rows} with BIGINT as strings and timestamps as
// ISO strings. Exit status 1 when a file cannot be read.
//   node pq-hyparquet.mjs FILE.parquet [FILE …]
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
// ES modules ignore NODE_PATH: resolve the packages installed in test/node explicitly
const req = createRequire(new URL('../node/package.json', import.meta.url));
const load = (name) => import(pathToFileURL(req.resolve(name)).href);
const { asyncBufferFromFile, parquetReadObjects, parquetMetadataAsync } = await load('hyparquet');
const { compressors } = await load('hyparquet-compressors');
const enc = (k, v) => typeof v === 'bigint' ? v.toString() : (v instanceof Date ? v.toISOString() : v);
for (const f of process.argv.slice(2)) {
  try {
    const file = await asyncBufferFromFile(f);
    const md = await parquetMetadataAsync(file);
    const rows = await parquetReadObjects({ file, compressors });
    console.log(JSON.stringify({ file: f, num_rows: Number(md.num_rows), columns: md.schema.slice(1).map(s => s.name), rows }, enc));
  } catch (e) {
    console.error(`hyparquet error on ${f}: ${e.message}`);
    process.exit(1);
  }
}
