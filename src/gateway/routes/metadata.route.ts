import type Router from '@koa/router';
import { DEVICE_CODE_GRANT_TYPE } from '../../domain/events/event-schema.js';
import { ASSERTION_ALGORITHMS } from '../client-authentication.js';
import type { Gateway } from '../gateway-context.js';
import { DPOP_ALGORITHMS } from '../../domain/dpop-proof.js';

export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;

/**
 * RFC 8414 and OpenID Connect Discovery 1.0: what a client or relying party needs to know
 * to talk to this server, with nothing configured by hand.
 */
export function metadataRoute(router: Router, gateway: Gateway, scopesSupported: readonly string[]): void {
  const { issuer } = gateway.ports.config;
  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    // RFC 8628 section 4.
    device_authorization_endpoint: `${issuer}/device_authorization`,
    jwks_uri: `${issuer}/jwks.json`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    // RFC 7591 section 3 (RFC 8414 section 2): only while DYNAMIC_REGISTRATION is not off.
    ...(gateway.registration ? { registration_endpoint: `${issuer}/register` } : {}),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT_TYPE],
    token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    // RFC 9126 section 5.
    pushed_authorization_request_endpoint: `${issuer}/par`,
    require_pushed_authorization_requests: gateway.ports.config.requirePushedAuthorizationRequests,
    authorization_response_iss_parameter_supported: true,
    scopes_supported: scopesSupported,
    // OpenID Connect Discovery 1.0 section 3: the same document serves both, so the two can never disagree.
    userinfo_endpoint: `${issuer}/userinfo`,
    end_session_endpoint: `${issuer}/end_session`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'name', 'preferred_username', 'updated_at', 'email', 'email_verified'],
    claim_types_supported: ['normal'],
    acr_values_supported: ['0', '1'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
  const answer = (ctx: { body: unknown }) => {
    ctx.body = metadata;
  };
  router.get('/.well-known/oauth-authorization-server', answer);
  router.get('/.well-known/openid-configuration', answer);
}
