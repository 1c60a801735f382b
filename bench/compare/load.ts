/**
 * The load generator, in a process of its own so it takes no CPU from the server measured:
 * `node load.js '<autocannon options as JSON>'` prints one JSON line with the figures.
 */
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]) as autocannon.Options;
const result = await autocannon({ ...options, workers: undefined });
const statuses = Object.fromEntries(Object.entries(result).filter(([k]) => /^\d{3}$/.test(k) || k === 'non2xx'));
console.log(JSON.stringify({ requestsPerSecond: result.requests.average, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, statuses }));
