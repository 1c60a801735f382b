/**
 * EventStoreDB / KurrentDB connection strings, as @eventstore/db-client 6.2 and its successor
 * @kurrent/kurrentdb-client parse them: `scheme://[user:password@]host[:port][,host[:port]...][/][?key=value&...]`.
 * A list of hosts (gossip seeds) is not a URL that `new URL` takes, so the grammar is checked here.
 */
const GRAMMAR = /^(?<scheme>esdb|kurrentdb)(?<discover>\+discover)?:\/\/(?:[^:@/?]+:[^@/?]+@)?(?<hosts>[^$+!?*'(),;[\]{}|"%~#<>=&/@]+(?:,[^$+!?*'(),;[\]{}|"%~#<>=&/@]+)*)\/?(?:\?(?<query>.*))?$/i;

/** The options both clients know, compared as they compare them: case and `-`/`_` ignored. */
const KEYS = ['userCertFile', 'userKeyFile', 'maxDiscoverAttempts', 'connectionName', 'defaultDeadline', 'discoveryInterval', 'gossipTimeout', 'nodePreference', 'tls', 'tlsVerifyCert', 'tlsCAFile', 'throwOnAppendFailure', 'keepAliveInterval', 'keepAliveTimeout'];
const BOOLEAN_KEYS = ['tls', 'tlsverifycert', 'throwonappendfailure'];
const flat = (key: string) => key.trim().toLowerCase().replace(/[_-]/g, '');

/** What is wrong with a connection string, in words, or undefined when the client will take it. */
export function connectionStringProblem(raw: string): string | undefined {
  const match = GRAMMAR.exec(raw.trim());
  if (!match?.groups) return 'must be esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover:// followed by [user:password@]host[:port][,host[:port]...][?key=value&...]';
  for (const host of match.groups.hosts.split(',')) {
    const [, port, ...rest] = host.split(':');
    if (rest.length > 0 || (port !== undefined && !/^\d{1,5}$/.test(port))) return `has a host "${host}" whose port is not a number`;
  }
  for (const pair of match.groups.query ? match.groups.query.split('&') : []) {
    const [key, value, ...rest] = pair.split('=');
    if (!key || !value || rest.length > 0) return `has "${pair}" where key=value belongs`;
    if (!KEYS.some((known) => flat(known) === flat(key))) return `has an option "${key}" that the client does not know (it would ignore it)`;
    if (BOOLEAN_KEYS.includes(flat(key)) && value !== 'true' && value !== 'false') return `has ${key}=${value}, which must be true or false`;
  }
  return undefined;
}

/**
 * @eventstore/db-client 6.2 knows only `esdb://` and `esdb+discover://`; its successor also
 * takes `kurrentdb://` and `kurrentdb+discover://` with the same grammar after the scheme,
 * so those are the same connection under the old name.
 */
export function forClient62(connectionString: string): string {
  return connectionString.trim().replace(/^kurrentdb(\+discover)?:\/\//i, (_, discover: string | undefined) => `esdb${discover ?? ''}://`);
}

/** The hosts, for a start-up line: never the credentials or the options. */
export function hostsOf(connectionString: string): string {
  return GRAMMAR.exec(connectionString.trim())?.groups?.hosts ?? '(unparsed connection string)';
}
