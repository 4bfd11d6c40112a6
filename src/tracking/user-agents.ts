/** What a tracking event's user agent says of who fetched: a person's mail client or a machine. */
export interface AgentClass {
  userAgentClass: string;
  machine: boolean;
}

/**
 * Known prefetchers and link scanners, matched as lower-case substrings of the User-Agent (no
 * regular expression: the header is attacker-controlled, and substring search is linear). The
 * list is short on purpose; what it misses counts as a person.
 * - GoogleImageProxy: Gmail fetches every image through its proxy when the mail is shown or
 *   earlier, so its opens say little; YahooMailProxy likewise.
 * - "Microsoft Office" / SafeLinks: Outlook and Defender for Office 365 fetch links (Safe Links)
 *   and images before the reader does.
 * - Barracuda, Mimecast, Proofpoint: gateways that follow every link of incoming mail.
 * - bot, crawler, spider, headless: generic automata (a phone model containing "bot" is a false
 *   positive we accept).
 */
const SIGNATURES: readonly (readonly [needle: string, userAgentClass: string])[] = [
  ['googleimageproxy', 'google_image_proxy'],
  ['yahoomailproxy', 'yahoo_mail_proxy'],
  ['microsoft office', 'microsoft_scanner'],
  ['safelinks', 'microsoft_scanner'],
  ['barracuda', 'security_scanner'],
  ['mimecast', 'security_scanner'],
  ['proofpoint', 'security_scanner'],
  ['bot', 'bot'],
  ['crawler', 'bot'],
  ['spider', 'bot'],
  ['headless', 'bot'],
];

/** The longest User-Agent looked at: signatures sit near the start, and the header may be huge. */
const MAX_AGENT_LENGTH = 1024;

/**
 * Classifies a tracked request. Apple Mail Privacy Protection fetches every image of a mail,
 * read or not, through Apple's proxies with the bare User-Agent `Mozilla/5.0`; a HEAD request
 * (a link checker) and a missing User-Agent are machines too.
 */
export function classifyAgent(userAgent: string | undefined, method: string): AgentClass {
  if (method === 'HEAD') return { userAgentClass: 'head_request', machine: true };
  const agent = (userAgent ?? '').slice(0, MAX_AGENT_LENGTH).trim().toLowerCase();
  if (agent === '') return { userAgentClass: 'empty', machine: true };
  if (agent === 'mozilla/5.0') return { userAgentClass: 'apple_privacy_proxy', machine: true };
  for (const [needle, userAgentClass] of SIGNATURES) {
    if (agent.includes(needle)) return { userAgentClass, machine: true };
  }
  return { userAgentClass: 'human', machine: false };
}

/** A provider's own event: its user agent if it sent one, else the provider's word that it is a person. */
export function classifyProviderAgent(userAgent: string | undefined): AgentClass {
  return userAgent === undefined ? { userAgentClass: 'provider', machine: false } : classifyAgent(userAgent, 'GET');
}
