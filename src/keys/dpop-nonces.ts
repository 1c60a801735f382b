import { createHmac } from 'node:crypto';

/**
 * Server-provided DPoP nonces (RFC 9449 section 8), with no state: a nonce is a MAC of the
 * current period under a key every instance shares (the secret store's), so any instance
 * accepts what another gave. The current and the previous period's are good: a nonce
 * lives one to two periods.
 */
export class DPoPNonces {
  constructor(
    private readonly key: Buffer,
    private readonly periodSeconds = 60,
  ) {}

  private of(period: number): string {
    return createHmac('sha256', this.key).update(String(period)).digest('base64url').slice(0, 32);
  }

  current(nowMs = Date.now()): string {
    return this.of(Math.floor(nowMs / 1000 / this.periodSeconds));
  }

  isValid(nonce: string, nowMs = Date.now()): boolean {
    const period = Math.floor(nowMs / 1000 / this.periodSeconds);
    return nonce === this.of(period) || nonce === this.of(period - 1);
  }
}
