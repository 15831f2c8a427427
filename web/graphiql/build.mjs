// Bundles src/main.jsx (GraphiQL, React, graphql-ws) into ../../app/static/graphiql, or into
// the directory given as the first argument (the Dockerfile's Node stage, the tests).
// Run by scripts/node-setup (npm ci first) when the lockfile or the sources changed; the
// output is committed (package data of the wheel), so it must be reproducible: the same
// lockfile and sources give the same bytes wherever and from whichever directory it runs
// (paths are resolved from this directory, no timestamps, no source maps).
import { build } from "esbuild";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const outdir = resolve(process.argv[2] ?? resolve(here, "../../app/static/graphiql"));

await build({
  absWorkingDir: here,
  entryPoints: { graphiql: "src/main.jsx" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "dataurl", ".woff": "dataurl", ".svg": "dataurl" },
  legalComments: "linked",
  sourcemap: false,
  charset: "ascii",
  outdir,
  logLevel: "warning",
});
console.log(`GraphiQL built into ${outdir}`);
