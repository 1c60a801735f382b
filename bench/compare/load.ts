/**
 * The load generator, in a process of its own so it takes no CPU from the server measured:
 * `node load.js '<autocannon options as JSON>'` prints `started` when the clock starts, then
 * one JSON line with the figures (its own CPU time among them).
 */
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]) as autocannon.Options;
console.log('started');
const cpuAtStart = process.cpuUsage();
const result = await autocannon({ ...options, workers: undefined });
const statuses = Object.fromEntries(Object.entries(result).filter(([k]) => /^\d{3}$/.test(k) || k === 'non2xx'));
const cpu = process.cpuUsage(cpuAtStart);
console.log(JSON.stringify({ requestsPerSecond: result.requests.average, operations: result.requests.total, cpuSeconds: (cpu.user + cpu.system) / 1e6, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, statuses }));
