import fc from 'fast-check';
import { parseForm, singleValued } from '../../src/http/form.js';

const outcome = (parse: () => unknown) => {
  try {
    return { params: parse() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

describe('parseForm', () => {
  it('reads a form exactly as URLSearchParams does, repeated parameters refused alike', () => {
    const piece = fc.oneof(
      fc.constantFrom('&', '=', '+', '%', '%2', '%20', '%zz', '%C3%A9', '%E2%82', '%FF', 'grant_type', 'code', 'a', 'é', '€', ' ', '__proto__', 'constructor'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        const text = pieces.join('');
        // (URLSearchParams drops a leading "?", as for a query string; a body keeps it.)
        const reference = new URLSearchParams(text.startsWith('?') ? `?${text}` : text);
        expect(outcome(() => parseForm(text))).toEqual(outcome(() => singleValued(reference)));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes the usual token request', () => {
    expect({ ...parseForm('grant_type=authorization_code&code=g.a%2Bb&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=a+b') }).toEqual({
      grant_type: 'authorization_code', code: 'g.a+b', redirect_uri: 'https://app.example/cb', scope: 'a b',
    });
  });
});
