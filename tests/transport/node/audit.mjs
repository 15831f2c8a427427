// Runs every GraphQL-over-HTTP server audit of graphql-http against a server and prints
// the results as one JSON array. Usage: node audit.mjs URL
import { serverAudits } from "graphql-http";

const [url] = process.argv.slice(2);
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const response = result.response;
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.reason,
    response: response && {
      status: response.status,
      contentType: response.headers.get("content-type"),
    },
  });
}
console.log(JSON.stringify(results));
