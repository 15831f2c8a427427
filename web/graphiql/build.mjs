// Bundles src/main.jsx (GraphiQL, React, graphql-ws) into ../../app/static/graphiql.
// Run by scripts/node-setup (npm ci first); output is git-ignored and rebuilt when the
// lockfile or the sources change.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const outdir = fileURLToPath(new URL("../../app/static/graphiql/", import.meta.url));

await build({
  entryPoints: { graphiql: fileURLToPath(new URL("src/main.jsx", import.meta.url)) },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "dataurl", ".woff": "dataurl", ".svg": "dataurl" },
  legalComments: "linked",
  outdir,
  logLevel: "warning",
});
console.log(`GraphiQL built into ${outdir}`);
