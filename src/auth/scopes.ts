export const SCOPES = [
  'followups:read',
  'followups:write',
  'debts:read',
  'debts:write',
  'payments:read',
  'payments:write',
  'webhooks:read',
  'webhooks:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** What each scope allows, as the published document shows it. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'followups:read': 'Read followups, their lists, history and tracking events',
  'followups:write': 'Create and update followups, their tracking links and provider events',
  'debts:read': 'Read debts and their lists',
  'debts:write': 'Create, update and delete debts',
  'payments:read': 'Read payments',
  'payments:write': 'Record payments',
  'webhooks:read': 'Read webhook subscriptions and their delivery log',
  'webhooks:write': 'Create, change, delete and test webhook subscriptions, rotate their secrets, redeliver events',
};
