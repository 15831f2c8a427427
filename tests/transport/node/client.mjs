// Subscribes with the npm graphql-ws client (the one the web and mobile apps use) and
// prints the first N results as JSON lines. Usage: node client.mjs URL TOKEN QUERY COUNT
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
let seen = 0;
const timer = setTimeout(() => { console.error("timeout"); process.exit(3); }, 60000);
client.subscribe(
  { query },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      seen += 1;
      if (seen >= Number(count)) { clearTimeout(timer); client.dispose(); process.exit(0); }
    },
    error: (error) => {
      console.log(JSON.stringify({ error: String(error?.reason ?? error?.message ?? error), code: error?.code }));
      process.exit(2);
    },
    complete: () => { clearTimeout(timer); process.exit(0); },
  },
);
console.log(JSON.stringify({ started: true }));
