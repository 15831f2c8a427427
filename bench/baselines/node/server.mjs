// The plain Node peer of the tick fan-out benchmark: a graphql-js schema served over
// graphql-ws (graphql-transport-ws) on a `ws` WebSocketServer, fed by Redis pub/sub
// through ioredis. One Redis subscription per channel for the process; each message is
// parsed once and pushed to the async iterator of every subscriber of that channel, and
// graphql-js executes each subscriber's own selection per event. No auth, no limits.
//
// Environment: PORT, REDIS_URL, CHANNEL_PREFIX (`<namespace>:ticks:<tenant_id>:`).
// GET /health/ready answers 200 once Redis is connected.

import http from 'node:http';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { TickFeed } from './feed.mjs';

const port = Number(process.env.PORT ?? 4000);
const prefix = process.env.CHANNEL_PREFIX ?? 'fidus:ticks:';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const feed = new TickFeed(redis, prefix);

const schema = buildSchema(`
  type Tick {
    symbol: String!
    time: String!
    bid: Float!
    ask: Float!
    last: Float
    volume: Float
    flags: Int!
  }
  type Query { health: String! }
  type Subscription { ticks(symbols: [String!]!): Tick! }
`);

// Ticks arrive as TickPayload JSON; `time` is rendered from its milliseconds.
schema.getType('Tick').getFields().time.resolve = (tick) => new Date(tick.time_msc).toISOString();
const ticks = schema.getSubscriptionType().getFields().ticks;
ticks.subscribe = (_root, { symbols }) => feed.iterate(symbols);
ticks.resolve = (tick) => tick;

const server = http.createServer((request, response) => {
  const ready = request.url === '/health/ready' && redis.status === 'ready';
  response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ status: ready ? 'ready' : 'starting' }));
});
const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
useServer({ schema }, wss);
server.listen(port, '127.0.0.1');

const stop = () => {
  wss.close();
  server.close();
  redis.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
