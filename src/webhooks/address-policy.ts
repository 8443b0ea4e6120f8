import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Config } from '../config.js';

export type WebhookPolicy = Pick<Config, 'WEBHOOK_ALLOW_HTTP' | 'WEBHOOK_ALLOWED_HOSTS'>;

/** A URL the service will POST to, and the address it checked, which is the one it connects to. */
export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class WebhookTargetError extends Error {
  /** The name did not resolve: maybe only for now, unlike a refused scheme or address. */
  constructor(
    message: string,
    readonly unresolved = false,
  ) {
    super(message);
  }
}

/** 2000::/3, the only block of IPv6 addresses allocated for global unicast. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Only public unicast addresses: loopback, private, link-local (the cloud metadata service at
 * 169.254.169.254 included), carrier-grade NAT, unique-local, multicast, reserved and the IPv6
 * forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are all
 * something else. An IPv6 address outside 2000::/3 is never a public one: ipaddr.js calls
 * ::7f00:1 (::127.0.0.1, IPv4-compatible) or 4000::1 'unicast', so that block is checked first.
 */
export function forbiddenRange(address: string): string | undefined {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  if (range !== 'unicast') return range;
  if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return 'reserved';
  return undefined;
}

function allowedHosts(policy: WebhookPolicy): Set<string> {
  return new Set(
    policy.WEBHOOK_ALLOWED_HOSTS.split(',')
      .map((h) => bareHost(h.trim().toLowerCase()))
      .filter(Boolean),
  );
}

/** URL.hostname keeps IPv6 literals in brackets. */
function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The checks that need no DNS: scheme, credentials, and an address written in the URL itself. */
export function checkWebhookUrl(raw: string, policy: WebhookPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.WEBHOOK_ALLOW_HTTP)) {
    throw new WebhookTargetError(
      policy.WEBHOOK_ALLOW_HTTP
        ? 'only http:// and https:// URLs'
        : 'only https:// URLs (this service does not send webhooks over plain http)',
    );
  }
  if (url.username || url.password) throw new WebhookTargetError('credentials in the URL are not accepted');
  const host = bareHost(url.hostname);
  if (isIP(host) && !allowedHosts(policy).has(host)) {
    const range = forbiddenRange(host);
    if (range) throw new WebhookTargetError(`${host} is a ${range} address; only public addresses receive webhooks`);
  }
  return url;
}

/**
 * Resolves the URL's host and checks every address it resolves to (a host with one private address
 * is refused, whichever the connection would have picked). Runs before each delivery, so a name
 * that changed to a private address since the request is caught; the caller connects to the
 * address returned here, so a second, different DNS answer cannot slip in between.
 */
export async function resolveWebhookTarget(
  raw: string,
  policy: WebhookPolicy,
  resolve: Resolver = systemResolver,
): Promise<ResolvedTarget> {
  const url = checkWebhookUrl(raw, policy);
  const host = bareHost(url.hostname);
  const exempt = allowedHosts(policy).has(host.toLowerCase());
  const addresses = isIP(host)
    ? [{ address: host, family: isIP(host) }]
    : await resolve(host).catch((err: NodeJS.ErrnoException) => {
        throw new WebhookTargetError(`${host} does not resolve (${err.code ?? err.message})`, true);
      });
  if (addresses.length === 0) throw new WebhookTargetError(`${host} does not resolve`, true);
  if (!exempt) {
    for (const { address } of addresses) {
      const range = forbiddenRange(address);
      if (range)
        throw new WebhookTargetError(
          `${host} resolves to ${address}, a ${range} address; only public addresses receive webhooks`,
        );
    }
  }
  const [first] = addresses;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
