import { clientAssertionDecider } from '../../src/domain/client-assertion.js';
import { InvalidClient } from '../../src/domain/oauth-errors.js';

describe('a client assertion', () => {
  const command = { kind: 'AcceptClientAssertion' as const, clientId: 'pk', jti: 'j-1', expiresAt: new Date('2026-11-22T10:02:00Z') };

  it('is accepted once, on record with its client, jti and expiry', () => {
    expect(clientAssertionDecider.decide(command, clientAssertionDecider.initialState)).toEqual([
      { type: 'ClientAssertionAccepted', data: { clientId: 'pk', jti: 'j-1', expiresAt: '2026-11-22T10:02:00.000Z' } },
    ]);
  });

  it('is refused with invalid_client once its stream holds the first use', () => {
    const [accepted] = clientAssertionDecider.decide(command, clientAssertionDecider.initialState);
    const used = clientAssertionDecider.evolve(clientAssertionDecider.initialState, accepted);
    expect(() => clientAssertionDecider.decide(command, used)).toThrow(InvalidClient);
  });
});
