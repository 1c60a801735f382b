/**
 * The reference for the resource server: a bare Koa handler that verifies the bearer token
 * with jose's jwtVerify on every request (keys from the JWKS), and nothing else.
 * `node bare-jose-resource.js <port> <jwks url> <issuer> <audience>`
 */
import Koa from 'koa';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [port, jwksUrl, issuer, audience] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl));
const app = new Koa();
app.use(async (ctx) => {
  try {
    const token = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] });
    ctx.body = { sub: payload.sub };
  } catch {
    ctx.status = 401;
  }
});
app.listen(Number(port), '127.0.0.1', () => console.log('ready'));
