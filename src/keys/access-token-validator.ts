import { decodeProtectedHeader, importJWK, jwtVerify, errors as joseErrors, type CryptoKey, type JWTPayload } from 'jose';
import type { TokenReadModel } from '../read-model/read-model.js';
import { InvalidDpopProof, InvalidRequest, InvalidToken } from '../domain/oauth-errors.js';
import { sha256 } from '../domain/crypto.js';
import type { PresentationProofs } from './dpop-presentation.js';
import { parseScope } from '../domain/scope.js';
import { grantIdOf } from '../domain/token-ids.js';
import { SIGNING_ALG } from './signing-keys.js';

export interface ValidatedToken {
  sub: string;
  clientId: string;
  scopes: string[];
  jti: string;
  claims: JWTPayload;
  /** The thumbprint of the key a DPoP-bound token is bound to (cnf.jkt, RFC 9449 section 6). */
  jkt?: string;
}

/** The request a token came with, as a DPoP proof must match it: the proof header, method and URL. */
export interface PresentedWith {
  dpop: string | undefined;
  htm: string;
  htu: string;
}

/** RFC 6750 section 2.1 and RFC 9449 section 7.1: `Bearer` or `DPoP`, and a b64token. */
const AUTHORIZATION = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Validates RFC 9068 access tokens locally: the key comes from the signing-key
 * projection (no call to the authorization server per request; retired keys are
 * refused), then signature, `typ`, `alg`, `iss`, `aud`, `exp` with bounded clock skew,
 * the token-status projection (the token or its grant revoked), and whether the user or
 * the client it was issued to has been disabled since (holderDisabled). The resource
 * server uses it per request; the authorization server to read tokens presented for
 * revocation and introspection.
 */
export class AccessTokenValidator {
  private readonly keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  /**
   * Tokens whose signature and claims were verified, by the token itself, until they
   * expire: a hit skips the signature check, never the checks that can change (key still
   * verifying, token and grant not revoked, expiry). Bounded: the oldest entry goes first.
   */
  private readonly verified = new Map<string, { claims: JWTPayload; kid: string; expiresAtMs: number }>();

  constructor(
    private readonly readModel: TokenReadModel,
    private readonly issuer: string,
    /** Its own resource indicator at a resource server; undefined at the authorization server, which reads its tokens for every audience. */
    private readonly audience: string | undefined,
    private readonly clockToleranceSeconds = 30,
    private readonly cacheSize = 10_000,
    /** Checks the proofs DPoP-bound tokens come with; absent: DPoP is refused. */
    private readonly proofs?: PresentationProofs,
  ) {}

  /**
   * A token as presented to a protected resource. Undefined header: no credentials at all
   * (RFC 6750 section 3.1 asks for a bare challenge). A DPoP-bound token only with the
   * DPoP scheme and a proof by its key for this request (RFC 9449 section 7); a bearer
   * token only as Bearer.
   */
  async validate(authorization: string | undefined, request?: PresentedWith): Promise<ValidatedToken> {
    if (!authorization) throw new MissingToken('no access token');
    const match = AUTHORIZATION.exec(authorization.trim());
    if (!match) throw new InvalidRequest('the Authorization header must be "Bearer <access token>" or "DPoP <access token>"');
    const dpop = match[1].toLowerCase() === 'dpop';
    const token = await this.verify(match[2]);
    if (!dpop) {
      if (token.jkt !== undefined) throw new InvalidToken('this access token is bound to a key: present it with DPoP and a proof');
      return token;
    }
    if (token.jkt === undefined) throw new InvalidToken('this access token is not DPoP-bound: present it as Bearer');
    if (!request || !this.proofs) throw new InvalidDpopProof('DPoP is not accepted here');
    await this.proofs.check(request.dpop, { htm: request.htm, htu: request.htu, accessTokenHash: sha256(match[2]), jkt: token.jkt });
    return token;
  }

  /** The token itself: signature, claims, status; not how it was presented (revocation and introspection read tokens so). */
  async verify(token: string): Promise<ValidatedToken> {

    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAtMs + this.clockToleranceSeconds * 1000 <= Date.now()) {
        this.verified.delete(token);
        throw new InvalidToken('the access token has expired');
      }
      if (!this.accessTokenKey(cached.kid)) throw new InvalidToken('the access token is signed by an unknown key');
      return this.checked(cached.claims);
    }

    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== SIGNING_ALG) throw new InvalidToken('unexpected signing algorithm');
      kid = header.kid;
    } catch (error) {
      if (error instanceof InvalidToken) throw error;
      throw new InvalidToken('the access token is malformed');
    }
    const key = kid ? this.keyFor(kid) : undefined;
    if (!key) throw new InvalidToken('the access token is signed by an unknown key');

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, await key, {
        issuer: this.issuer,
        ...(this.audience === undefined ? {} : { audience: this.audience }),
        algorithms: [SIGNING_ALG],
        typ: 'at+jwt',
        clockTolerance: this.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidToken('the access token has expired');
      if (error instanceof joseErrors.JOSEError) throw new InvalidToken('the access token is invalid');
      throw error;
    }

    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { claims, kid: kid!, expiresAtMs: Number(claims.exp) * 1000 });
    return this.checked(claims);
  }

  /** What is checked on every request, cached or not: revocations and disabled holders, from the read side. */
  private checked(claims: JWTPayload): ValidatedToken {
    const jti = String(claims.jti);
    // A jti the projection has not seen yet only means it lags: the signature vouches for the token.
    if (this.readModel.tokenRevoked(jti, grantIdOf(jti))) {
      throw new InvalidToken('the access token has been revoked');
    }
    if (this.readModel.holderDisabled(String(claims.sub), String(claims.client_id))) {
      throw new InvalidToken('the access token has been revoked: its user or client is disabled');
    }

    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
    return {
      sub: String(claims.sub),
      clientId: String(claims.client_id),
      scopes: parseScope(typeof claims.scope === 'string' ? claims.scope : undefined),
      jti,
      claims,
      ...(typeof jkt === 'string' ? { jkt } : {}),
    };
  }

  /** A key that verifies access tokens: ES256 and not retired (RS256 keys sign only ID tokens). */
  private accessTokenKey(kid: string) {
    const doc = this.readModel.verificationKey(kid);
    return doc?.alg === SIGNING_ALG ? doc : undefined;
  }

  private keyFor(kid: string): Promise<CryptoKey | Uint8Array> | undefined {
    const doc = this.accessTokenKey(kid);
    if (!doc) return undefined;
    let key = this.keys.get(kid);
    if (!key) {
      key = importJWK(doc.publicJwk, SIGNING_ALG);
      this.keys.set(kid, key);
    }
    return key;
  }
}

export class MissingToken extends InvalidToken {}
