import { randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../domain/crypto.js';

/**
 * Client secrets are made here, 256 random bits, never chosen by people, so a SHA-256
 * hash is as strong as a slow hash would be and keeps the token endpoint fast.
 */
export const generateClientSecret = (): string => randomBytes(32).toString('base64url');
export const hashClientSecret = (secret: string): string => `sha256$${sha256(secret)}`;
export const verifyClientSecret = (secret: string, stored: string): boolean => constantTimeEqual(hashClientSecret(secret), stored);
