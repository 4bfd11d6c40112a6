import pg from 'pg';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { clientState, type ClientState } from './clients-repository.js';

const CHANNEL = 'relance_api_clients';
const MAX_ENTRIES = 10_000;
const RECONNECT_MS = 1_000;

/**
 * What each API process knows of its clients' state (disabled, scopes, token epoch, revoked
 * tokens, rate-limit budgets), so that checking a token costs no database round trip: a client
 * is read at most once per `ttlMs` per process. Every change of a client is announced by a
 * trigger (migration 0008) and drops that client's entry at commit, so a disabled client's
 * tokens stop (and a new budget applies) within milliseconds; should the announcement be missed
 * (the listening connection lost), an entry is never older than `ttlMs`, and a reconnect drops
 * them all.
 */
export class ClientStates {
  private readonly entries = new Map<number, { state: ClientState | undefined; expires: number }>();
  private readonly loading = new Map<number, Promise<ClientState | undefined>>();
  /** Raised by every forget: a read that was under way when a change came in is not kept. */
  private version = 0;
  private listener: pg.Client | undefined;
  private closed = false;
  private reconnect: NodeJS.Timeout | undefined;

  constructor(private readonly pool: Pool, private readonly ttlMs: number, private readonly log: Logger) {}

  /** The client's current state (undefined: no such client), from memory when fresh enough. */
  async get(clientRowId: number): Promise<ClientState | undefined> {
    const cached = this.entries.get(clientRowId);
    if (cached && cached.expires > Date.now()) return cached.state;
    // Concurrent requests of one client share one read.
    const pending = this.loading.get(clientRowId);
    if (pending) return pending;
    const version = this.version;
    const load = clientState(clientRowId, this.pool)
      .then((state) => {
        if (this.version === version) this.remember(clientRowId, state);
        return state;
      })
      .finally(() => this.loading.delete(clientRowId));
    this.loading.set(clientRowId, load);
    return load;
  }

  forget(clientRowId: number): void {
    this.entries.delete(clientRowId);
    this.version++;
  }

  private remember(clientRowId: number, state: ClientState | undefined): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(clientRowId, { state, expires: Date.now() + this.ttlMs });
  }

  /** Starts listening for announced changes; resolves once listening (or after one failed try). */
  async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ ...this.pool.options });
    client.on('notification', (message) => {
      const id = Number(message.payload);
      if (Number.isSafeInteger(id)) this.forget(id);
    });
    const lost = (error?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.entries.clear();
      this.version++;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log.warn({ err: error }, 'lost the client-change listener: client state is cached for at most its TTL until it is back');
      this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS).unref();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      // Changes made while nobody listened are unknown: start afresh.
      this.entries.clear();
      this.version++;
    } catch (error) {
      lost(error as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => {});
  }
}
