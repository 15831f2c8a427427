// The GraphiQL explorer served by Fidus from its own origin (no CDN). Queries and mutations
// go over HTTP with the headers editor's headers; subscriptions go over WebSocket
// (graphql-transport-ws) with the headers editor's Authorization in connection_init.
import { GraphiQL } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { createClient } from "graphql-ws";
import { createRoot } from "react-dom/client";
import "graphiql/style.css";
import "./page.css";

const httpUrl = new URL("/graphql", window.location.href).href;
const wsUrl = httpUrl.replace(/^http/, "ws");

const DEFAULT_QUERY = `# Fidus GraphiQL (served offline by Fidus itself).
#
# 1. Log in (run this mutation), copy accessToken.
# 2. Open "Headers" below and set: {"Authorization": "Bearer <accessToken>"}
# 3. Run queries, mutations and subscriptions, e.g. { me { id email role } }
#    or subscription { ticks(symbols: ["XAUUSD"]) { symbol bid ask time } }

mutation Login {
  login(tenant: "demo", email: "admin@demo.fidus.local", password: "") {
    accessToken
    expiresAt
  }
}
`;

function authorization(headers) {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === "authorization" && typeof value === "string") return value;
  }
  return undefined;
}

function operationType(params) {
  try {
    return getOperationAST(parse(params.query), params.operationName)?.operation;
  } catch {
    return undefined; // let the server report the syntax error
  }
}

// One WebSocket per Authorization value; a new token replaces the old connection.
let socket = { key: null, client: null };
function wsClient(auth) {
  const key = auth ?? "";
  if (socket.key !== key) {
    socket.client?.dispose();
    socket = {
      key,
      client: createClient({
        url: wsUrl,
        connectionParams: auth ? { authorization: auth } : {},
        retryAttempts: 0,
        lazy: true,
      }),
    };
  }
  return socket.client;
}

async function fetcher(params, options) {
  const headers = options?.headers ?? {};
  if (operationType(params) === "subscription") {
    return wsClient(authorization(headers)).iterate(params);
  }
  const response = await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(params),
    credentials: "omit",
  });
  return response.json();
}

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    defaultHeaders={'{\n  "Authorization": "Bearer "\n}'}
    defaultEditorToolsVisibility="headers"
    isHeadersEditorEnabled
  />,
);
