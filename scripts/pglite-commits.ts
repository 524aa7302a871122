// N single-row commits on an embedded PGlite data directory, for counting the sync calls they
// cause (README, "Embedded store"):
//   strace -f -c -e trace=fsync,fdatasync,sync_file_range,syncfs,pwrite64 \
//     node --import tsx scripts/pglite-commits.ts /tmp/pglite-probe 1000

import { PGlite } from "@electric-sql/pglite";

const [dir, count] = [process.argv[2], Number(process.argv[3] ?? 1000)];
if (!dir) {
  process.stderr.write("usage: pglite-commits.ts <data dir> [commits]\n");
  process.exit(2);
}
const pg = await PGlite.create(dir);
await pg.exec("CREATE TABLE IF NOT EXISTS probe (id serial PRIMARY KEY, v text)");
for (let i = 0; i < count; i++) await pg.query("INSERT INTO probe (v) VALUES ($1)", [String(i)]);
process.stdout.write(`${count} commits\n`);
await pg.close();
