/**
 * Whom a request from this address is counted against, for limits per address: an IPv4
 * address as it is, an IPv6 one by its /64, the block a single subscriber is usually given
 * (RFC 6177): counted by address, each of the 2^64 would have a quota of its own.
 */
export function countedAs(address: string): string {
  const ip = address.replace(/%.*$/, '').toLowerCase();
  if (!ip.includes(':')) return ip;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip.slice('::ffff:'.length);
  const [left, right] = ip.includes('::') ? ip.split('::').map((part) => (part ? part.split(':') : [])) : [ip.split(':'), []];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
