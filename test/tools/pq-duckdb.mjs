// pq-duckdb.mjs: run SQL with DuckDB offline (no extension download) and print one JSON line per query:
// an array of row objects (BIGINT as strings, timestamps as DuckDB renders them).
//   node pq-duckdb.mjs "SELECT …" ["SELECT …" …]
// Exit status 1 (with the message on stderr) when a query fails, so tests can assert on it.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
// ES modules ignore NODE_PATH: resolve the packages installed in test/node explicitly
const req = createRequire(new URL('../node/package.json', import.meta.url));
const load = (name) => import(pathToFileURL(req.resolve(name)).href);
const { DuckDBInstance } = await load('@duckdb/node-api');
const con = await (await DuckDBInstance.create(':memory:')).connect();
await con.run("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;");
for (const q of process.argv.slice(2)) {
  try {
    const r = await con.runAndReadAll(q);
    console.log(JSON.stringify(r.getRowObjectsJson()));
  } catch (e) {
    console.error(`duckdb error: ${e.message}\nquery: ${q}`);
    process.exit(1);
  }
}
