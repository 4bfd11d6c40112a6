/** Events a webhook can subscribe to (SPEC §9). */
export const WEBHOOK_EVENTS = [
  'followup.created', 'followup.updated', 'followup.completed', 'followup.failed', 'followup.recording_ready',
  'followup.email_opened', 'followup.email_clicked', 'debt.created', 'debt.updated', 'debt.deleted', 'payment.received',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** What an event is about: its `data` is this object as the API shows it. */
export type SubjectType = 'followup' | 'debt' | 'payment';
