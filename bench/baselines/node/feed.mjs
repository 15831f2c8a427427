// Redis pub/sub fanned out to per-subscriber async iterators: the process subscribes to a
// channel once, while it has at least one subscriber, and parses each message once.
// A subscriber's queue is unbounded, as in bench/relay.py: nothing is dropped.

export class TickFeed {
  constructor(redis, prefix) {
    this.redis = redis;
    this.prefix = prefix;
    this.listeners = new Map(); // channel -> Set of push functions
    redis.on('message', (channel, message) => {
      const listeners = this.listeners.get(channel);
      if (!listeners) return;
      const tick = JSON.parse(message);
      for (const push of listeners) push(tick);
    });
  }

  iterate(symbols) {
    const channels = symbols.map((symbol) => this.prefix + symbol);
    const queue = [];
    let waiting = null; // resolve of a pending next()
    let done = false;
    const push = (tick) => {
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: tick, done: false });
      } else {
        queue.push(tick);
      }
    };
    for (const channel of channels) {
      let listeners = this.listeners.get(channel);
      if (!listeners) {
        listeners = new Set();
        this.listeners.set(channel, listeners);
        this.redis.subscribe(channel);
      }
      listeners.add(push);
    }
    const close = () => {
      if (done) return;
      done = true;
      queue.length = 0;
      for (const channel of channels) {
        const listeners = this.listeners.get(channel);
        listeners.delete(push);
        if (listeners.size === 0) {
          this.listeners.delete(channel);
          this.redis.unsubscribe(channel);
        }
      }
      if (waiting) waiting({ value: undefined, done: true });
      waiting = null;
    };
    return {
      next() {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return() {
        close();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw(error) {
        close();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
