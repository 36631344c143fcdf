// Run one SQL statement with DuckDB (offline: no extension install/autoload) and print the rows as JSON
// lines. BigInts print as strings so that large integers stay exact.
// Usage: node duckq.mjs "SELECT ..."   (NODE_PATH or cwd must reach test/node/node_modules)
import path from 'path';
import { createRequire } from 'module';
const require = createRequire(path.join(process.env.BF_ROOT || '.', 'test/node/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('SET autoinstall_known_extensions=false');
await con.run('SET autoload_known_extensions=false');
const reader = await con.runAndReadAll(process.argv[2]);
for (const row of reader.getRowObjectsJson()) console.log(JSON.stringify(row));
