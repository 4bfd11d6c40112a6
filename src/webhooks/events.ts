/** Events a webhook can subscribe to (SPEC §9). */
export const WEBHOOK_EVENTS = [
  'followup.created', 'followup.updated', 'followup.completed', 'followup.failed', 'followup.recording_ready',
  'debt.created', 'debt.updated', 'payment.received',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
