#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { subscribe } from './subscribe.js';

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    durable: { type: 'string', default: 'token-events-printer' },
    subject: { type: 'string', default: 'oauth.grant.>' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('oauth-subscribe [--nats <url>] [--durable <name>] [--subject oauth.grant.>]\nPrints token lifecycle events as JSON lines; resumes after a restart.');
  process.exit(0);
}
const subscriber = await subscribe({ natsUrl: values.nats!, durable: values.durable!, subject: values.subject!, print: (line) => console.log(line) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void subscriber.stop().then(() => process.exit(0)));
}
