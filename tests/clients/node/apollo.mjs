// An Apollo Client (Node) scenario against a running Fidus, with the same operation
// documents graphql-codegen types: login (mutation), myPortfolios (query), createPortfolio
// (mutation) over HTTP, then the ticks subscription over graphql-ws. Prints JSON lines.
// Usage: node apollo.mjs BASE_URL TENANT EMAIL PASSWORD
import { readFileSync } from "node:fs";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [baseUrl, tenant, email, password] = process.argv.slice(2);
const operation = (name) =>
  gql(readFileSync(new URL(`operations/${name}.graphql`, import.meta.url), "utf8"));
const print = (value) => console.log(JSON.stringify(value));
const timer = setTimeout(() => { console.error("timeout"); process.exit(3); }, 30000);

function apollo(token) {
  const http = new HttpLink({
    uri: `${baseUrl}/graphql`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const ws = new GraphQLWsLink(
    createClient({
      url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    }),
  );
  const isSubscription = ({ query }) => {
    const definition = getMainDefinition(query);
    return definition.kind === "OperationDefinition" && definition.operation === "subscription";
  };
  return new ApolloClient({
    link: ApolloLink.split(isSubscription, ws, http),
    cache: new InMemoryCache(),
  });
}

process.on("uncaughtException", (error) => fail(error));
process.on("unhandledRejection", (error) => fail(error));
function fail(error) {
  const codes = (error?.errors ?? []).map((e) => e.extensions?.code);
  print({ error: String(error?.message ?? error), codes });
  process.exit(2);
}

const anonymous = apollo(null);
const login = await anonymous.mutate({
  mutation: operation("login"),
  variables: { tenant, email, password },
});
print({ login: { role: login.data.login.user.role, email: login.data.login.user.email } });

const client = apollo(login.data.login.accessToken);
const created = await client.mutate({
  mutation: operation("createPortfolio"),
  variables: { name: "Apollo scenario", baseCurrency: "EUR" },
});
print({ createPortfolio: created.data.createPortfolio });

const portfolios = await client.query({ query: operation("myPortfolios"), fetchPolicy: "network-only" });
print({ myPortfolios: portfolios.data.myPortfolios });

client
  .subscribe({ query: operation("ticks"), variables: { symbols: ["XAUUSD"] } })
  .subscribe({
    next: (result) => {
      if (result.error) fail(result.error);
      print({ tick: result.data.ticks });
      clearTimeout(timer);
      process.exit(0);
    },
    error: fail,
  });
print({ subscribed: true });
