import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { recentAuthorizationsOf, recentAuthorizationsProjection } from '../../projections/recent-authorizations.projection.js';
import { AuthorizationLimit, TooManyAuthorizations } from '../../src/commands/authorization-limit.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { anEvent } from '../support/events.js';
import { liveAndRebuilt } from '../support/projections.js';

const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);
let position = 0;
function decided(type: 'ConsentGranted' | 'ConsentDenied', userId: string, clientId: string, seconds: number): RecordedEvent {
  position += 1;
  return { ...anEvent(type, { grantId: `g${position}`, userId, clientId, scopes: ['profile'] }), time: at(seconds).toISOString(), stream: `grant-g${position}`, revision: 2, position, hash: '' };
}

describe('recent authorizations (the authorization limit\'s count, from the record)', () => {
  it('keeps each user\'s decisions of the last ten minutes, granted or denied, and comes out the same rebuilt', async () => {
    const events = [
      decided('ConsentGranted', 'u1', 'web', 0),
      decided('ConsentDenied', 'u1', 'spa', 60),
      decided('ConsentGranted', 'u2', 'web', 120),
      decided('ConsentGranted', 'u1', 'web', 650),
    ];
    const store = new MemoryProjectionStore();
    new ProjectionRunner([recentAuthorizationsProjection], store).apply(events);
    // The first fell out of the window when the fourth came (650 s after it).
    expect(recentAuthorizationsOf(store, 'u1', at(0))).toEqual([{ clientId: 'spa', at: at(60).toISOString() }, { clientId: 'web', at: at(650).toISOString() }]);
    expect(recentAuthorizationsOf(store, 'u1', at(100))).toEqual([{ clientId: 'web', at: at(650).toISOString() }]);
    expect(recentAuthorizationsOf(store, 'nobody', at(0))).toEqual([]);
    const { live, rebuilt } = await liveAndRebuilt(recentAuthorizationsProjection, events);
    expect(rebuilt).toEqual(live);
  });

  it('refuses at the per-client limit and at the per-user limit, until the oldest counted leaves the window', () => {
    const recent = [
      { clientId: 'web', at: at(0).toISOString() },
      { clientId: 'web', at: at(30).toISOString() },
      { clientId: 'spa', at: at(60).toISOString() },
    ];
    const limit = new AuthorizationLimit({ recentAuthorizationsOf: (_userId, since) => recent.filter((a) => a.at > since.toISOString()) }, 2, 3);
    let refusal: unknown;
    try {
      limit.check('u1', 'web', at(90));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(TooManyAuthorizations);
    // Two for web: the older of them leaves the window 600 s after it was made; the user's
    // three in all hold until the first leaves too.
    expect((refusal as TooManyAuthorizations).retryAfterSeconds).toBe(600 - 90);
    expect((refusal as TooManyAuthorizations).code).toBe('temporarily_unavailable');
    expect(() => limit.check('u1', 'other', at(90))).toThrow(TooManyAuthorizations);
    expect(() => limit.check('u1', 'other', at(601))).not.toThrow();
    expect(() => limit.check('u1', 'web', at(631))).not.toThrow();
  });
});
